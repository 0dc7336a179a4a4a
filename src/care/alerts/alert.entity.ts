import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { AlertKind, AlertSeverity, AlertState, ConditionKind } from '../../../vocabulary/index.js';
import { BaseEntity } from '../../domain/base.entity.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';

export { AlertKind, AlertSeverity, AlertState };

/**
 * Something about a patient that needs a person: a referral the rules suggest, a referral not accepted in time, a
 * contract about to expire (docs/care-model.md, "Alerts"). Derived state (ADR 16): raised and, when its cause goes,
 * resolved by the rules (src/care/alerts/derivation.ts); a person may only acknowledge or resolve it. One row per
 * patient, kind and cause, so deriving again never raises the same alert twice.
 */
@ObjectType()
@Entity()
@Unique({ properties: ['patient', 'kind', 'causeId'] })
@Index({ properties: ['organization', 'state', 'severity'] })
export class Alert extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  /** The organisation concerned: the patient's managing organisation when the alert was raised. */
  @ManyToOne(() => Organization)
  organization!: Organization;

  @Field(() => AlertKind)
  @Enum(() => AlertKind)
  kind!: AlertKind;

  @Field(() => AlertSeverity)
  @Enum(() => AlertSeverity)
  severity!: AlertSeverity;

  @Field(() => AlertState)
  @Enum(() => AlertState)
  state!: AlertState;

  @Field(() => ConditionKind, { nullable: true, description: 'The condition the alert is about, when it is about one.' })
  @Enum({ items: () => ConditionKind, nullable: true })
  conditionKind?: ConditionKind;

  @Field({ description: 'The kind of record that caused the alert: Observation, FollowUp, Condition, Admission, Referral or Patient.' })
  @Property({ columnType: 'text' })
  causeType!: string;

  @Field({ description: 'The id of the record that caused the alert.' })
  @Property({ type: 'uuid' })
  causeId!: string;

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  raisedAt!: Date;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  acknowledgedAt?: Date;

  @ManyToOne(() => Practitioner, { nullable: true })
  acknowledgedBy?: Practitioner;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  resolvedAt?: Date;

  /** Who resolved it: the person who resolved it by hand, or the one whose act made its cause go (the referral's sender); none when the cause went by itself. */
  @ManyToOne(() => Practitioner, { nullable: true })
  resolvedBy?: Practitioner;

  @Field({ nullable: true, description: 'How it was resolved: what the person wrote, or what the rules saw.' })
  @Property({ columnType: 'text', nullable: true })
  resolution?: string;
}
