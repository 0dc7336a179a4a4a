import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../../../vocabulary/index.js';

export { ReferralDirection, ReferralStatus, ReferralUrgency, ReferralReason };

@ObjectType()
@Entity()
@Index({ properties: ['fromOrganization', 'status'] })
@Index({ properties: ['toOrganization', 'status'] })
export class Referral extends BaseEntity {
  @ManyToOne(() => Patient, { index: true })
  patient!: Patient;

  @Field(() => ReferralDirection)
  @Enum(() => ReferralDirection)
  direction!: ReferralDirection;

  @ManyToOne(() => Organization)
  fromOrganization!: Organization;

  @ManyToOne(() => Organization)
  toOrganization!: Organization;

  @ManyToOne(() => Practitioner, { nullable: true })
  fromPractitioner?: Practitioner;

  @ManyToOne(() => Practitioner, { nullable: true })
  toPractitioner?: Practitioner;

  @Field(() => ReferralReason)
  @Enum(() => ReferralReason)
  reason!: ReferralReason;

  @Field({ nullable: true, description: 'Free-text reason.' })
  @Property({ columnType: 'text', nullable: true })
  reasonText?: string;

  @Field(() => ReferralUrgency)
  @Enum(() => ReferralUrgency)
  urgency!: ReferralUrgency;

  @Field(() => ReferralStatus)
  @Enum(() => ReferralStatus)
  status!: ReferralStatus;

  @Field({ nullable: true, description: 'Clinical summary travelling with the referral.' })
  @Property({ columnType: 'text', nullable: true })
  clinicalSummary?: string;

  @Field({ nullable: true, description: 'Why the receiver rejected it, or the sender cancelled it.' })
  @Property({ columnType: 'text', nullable: true })
  statusReason?: string;

  @Field({ nullable: true, description: 'Result summary written on completion (e.g. the new regimen).' })
  @Property({ columnType: 'text', nullable: true })
  outcomeSummary?: string;

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  requestedAt!: Date;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  acceptedAt?: Date;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  rejectedAt?: Date;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  completedAt?: Date;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  cancelledAt?: Date;

  /**
   * A down-referral names the up-referral whose care it ends (the patient sent up is stable and goes back): one
   * loop of two-way referral (双向转诊). FHIR: ServiceRequest.basedOn.
   */
  @ManyToOne(() => Referral, { nullable: true, index: true, deleteRule: 'set null' })
  closes?: Referral;
}
