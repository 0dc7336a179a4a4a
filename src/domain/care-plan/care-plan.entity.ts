import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, Float, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { SelfManagementGroup } from '../self-management-group/self-management-group.entity.js';
import { ActivityCategory, ActivityStatus, CarePlanStatus, ConditionKind, ObservationKind } from '../../../vocabulary/index.js';

export { CarePlanStatus, ActivityCategory, ActivityStatus };

export const isNonMedical = (category: ActivityCategory): boolean => category !== ActivityCategory.MEDICATION;

@ObjectType()
@Entity()
@Index({ properties: ['patient', 'status'] })
export class CarePlan extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field()
  @Property()
  title!: string;

  @Field(() => CarePlanStatus)
  @Enum(() => CarePlanStatus)
  status!: CarePlanStatus;

  @Field(() => [ConditionKind], { description: 'Conditions this plan addresses.' })
  @Property({ type: 'json' })
  addresses: ConditionKind[] = [];

  @Field(() => LocalDate, { description: 'ISO date.' })
  @Property({ type: 'date' })
  periodStart!: string;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date.' })
  @Property({ type: 'date', nullable: true })
  periodEnd?: string;

  @ManyToOne(() => Practitioner, { nullable: true })
  author?: Practitioner;

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  note?: string;
}

/** A measurable target of a care plan, e.g. BP below 140/90 or fasting glucose below 7.0 mmol/L. */
@ObjectType()
@Entity()
export class CarePlanGoal extends BaseEntity {
  @ManyToOne(() => CarePlan, { index: true, deleteRule: 'cascade' })
  carePlan!: CarePlan;

  @Field()
  @Property()
  description!: string;

  @Field(() => ObservationKind, { nullable: true })
  @Enum({ items: () => ObservationKind, nullable: true })
  measure?: ObservationKind;

  @Field(() => Float, { nullable: true, description: 'Target: value (or systolic) below this.' })
  @Property({ type: 'double', nullable: true })
  targetBelow?: number;

  @Field(() => Float, { nullable: true, description: 'Target for diastolic BP: below this.' })
  @Property({ type: 'double', nullable: true })
  diastolicBelow?: number;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date by which the target should be reached.' })
  @Property({ type: 'date', nullable: true })
  dueDate?: string;
}

@ObjectType()
@Entity()
export class CarePlanActivity extends BaseEntity {
  @ManyToOne(() => CarePlan, { index: true, deleteRule: 'cascade' })
  carePlan!: CarePlan;

  @Field(() => ActivityCategory)
  @Enum(() => ActivityCategory)
  category!: ActivityCategory;

  @Field(() => ActivityStatus)
  @Enum(() => ActivityStatus)
  status!: ActivityStatus;

  @Field({ description: 'What to do, e.g. "salt under 5 g a day" or "amlodipine 5 mg once daily".' })
  @Property({ columnType: 'text' })
  description!: string;

  @Field({ nullable: true, description: 'How often, e.g. "30 min brisk walking, 5 days a week".' })
  @Property({ nullable: true })
  frequency?: string;

  @Field({ nullable: true, description: 'Medication activities: drug code (e.g. national drug code / RxNorm).' })
  @Property({ nullable: true })
  medicationCode?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  medicationName?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  dosage?: string;

  /** The group a SELF_MANAGEMENT_GROUP activity prescribes (GraphQL `selfManagementGroup`); none for other categories. */
  @ManyToOne(() => SelfManagementGroup, { nullable: true, deleteRule: 'set null' })
  selfManagementGroup?: SelfManagementGroup;
}
