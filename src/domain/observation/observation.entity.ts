import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, Float, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { FollowUp } from '../follow-up/follow-up.entity.js';
import { ControlInterpretation, ControlStatus, ObservationKind, ObservationSource, Plausibility } from '../../../vocabulary/index.js';

export { ObservationKind, ObservationSource, Plausibility };

/**
 * One measurement. A blood pressure is one observation carrying systolic and diastolic; other kinds carry
 * `value`. Values are stored in the canonical unit of their kind; the value and unit as received are kept.
 */
@ObjectType()
@Entity()
@Index({ name: 'observation_patient_kind_time_idx', properties: ['patient', 'kind', 'effectiveAt'] })
@Index({ properties: ['effectiveAt'] })
// The latest counting reading per patient and kind, index-only (src/care-rules/latest.ts; migration 20261203160000).
@Index({
  name: 'observation_latest_counting_idx',
  expression: `create index "observation_latest_counting_idx" on "observation" ("patient_id", "kind", "effective_at" desc, "id" desc) include ("systolic", "diastolic", "value", "plausibility") where "plausibility" = 'PLAUSIBLE'`,
})
@Unique({ properties: ['sourceSystem', 'sourceId'] })
export class Observation extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field({ description: 'LOINC code.' })
  @Property()
  code!: string;

  @Field()
  @Property()
  system!: string;

  @Field(() => ObservationKind)
  @Enum(() => ObservationKind)
  kind!: ObservationKind;

  @Field(() => Float, { nullable: true, description: 'Value in the canonical unit (null for blood pressure).' })
  @Property({ type: 'double', nullable: true })
  value?: number;

  @Field(() => Float, { nullable: true, description: 'Systolic, mmHg (blood pressure only).' })
  @Property({ type: 'double', nullable: true })
  systolic?: number;

  @Field(() => Float, { nullable: true, description: 'Diastolic, mmHg (blood pressure only).' })
  @Property({ type: 'double', nullable: true })
  diastolic?: number;

  @Field({ nullable: true, description: 'Canonical UCUM unit.' })
  @Property({ nullable: true })
  unit?: string;

  @Field(() => Float, { nullable: true, description: 'The value as received, before unit conversion.' })
  @Property({ type: 'double', nullable: true })
  receivedValue?: number;

  @Field({ nullable: true, description: 'The unit as received.' })
  @Property({ nullable: true })
  receivedUnit?: string;

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  effectiveAt!: Date;

  @Field(() => ObservationSource)
  @Enum(() => ObservationSource)
  source!: ObservationSource;

  @ManyToOne(() => Practitioner, { nullable: true })
  performer?: Practitioner;

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;

  /** The visit the reading was taken at (ADR 16): the visit's control status is derived from its readings. */
  @ManyToOne(() => FollowUp, { nullable: true, index: true, deleteRule: 'set null' })
  followUp?: FollowUp;

  @Field({ nullable: true, description: 'Device serial when source is DEVICE.' })
  @Property({ nullable: true })
  deviceId?: string;

  /** The sending system and its own id for this reading: makes re-sent device batches idempotent. */
  @Field({ nullable: true })
  @Property({ nullable: true })
  sourceSystem?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  sourceId?: string;

  /**
   * Whether the values and time are believable (src/care-rules/plausibility.ts). An IMPLAUSIBLE reading is kept as
   * sent, shown flagged, and counts for nothing: no control status, not a latest reading, in no indicator.
   */
  @Field(() => Plausibility)
  @Enum({ items: () => Plausibility, default: Plausibility.PLAUSIBLE })
  plausibility: Plausibility = Plausibility.PLAUSIBLE;

  @Field({ nullable: true, description: 'Why the reading is IMPLAUSIBLE (null when plausible).' })
  @Property({ type: 'text', nullable: true })
  plausibilityReason?: string;

  /**
   * This reading against the control targets, by the configured care rules when it was written
   * (`controlStatusOf`, src/care-rules/control.ts; `controlStatusSql` is the same rule in SQL). Null for kinds
   * with no target, random glucose below the urgent thresholds, and implausible readings.
   */
  @Field(() => ControlStatus, { nullable: true, description: 'This reading against the control targets (null when implausible or not judged).' })
  @Enum({ items: () => ControlStatus, nullable: true })
  controlStatus?: ControlStatus;

  /**
   * Which way the reading stands from its target, by the same rules when it was written (`controlInterpretationOf`):
   * N, H, HH or LL, null when it has no control status. What its FHIR Observation's `interpretation` says.
   */
  @Enum({ items: () => ControlInterpretation, nullable: true })
  controlInterpretation?: ControlInterpretation;
}
