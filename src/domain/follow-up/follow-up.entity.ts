import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { ControlStatus } from '../../care-rules/control.js';
import { DueReason, FollowUpType } from '../../../vocabulary/index.js';

export { DueReason, FollowUpType };

/**
 * A follow-up visit: planned, then done, with findings and the date the next one is due. A planned visit is a row
 * with a planned date, no done date and no cancellation (ADR 16): the care rules (src/care/state/) keep one per
 * managed patient, dated and typed by the interval rules, and recording the visit fills it in.
 */
@ObjectType()
@Entity()
@Index({ properties: ['patient', 'plannedDate'] })
@Index({ properties: ['nextDueDate'] })
// The open planned visits in date order: the overdue worklist walks them (migration 20261202150000).
@Index({
  name: 'follow_up_open_planned_index',
  expression: 'create index "follow_up_open_planned_index" on "follow_up" ("planned_date", "id") where "planned_date" is not null and "done_date" is null and "cancelled_at" is null',
})
// At most one open planned visit per patient (ADR 16; migration 20261202160000): the rules' insert gives way to it.
@Unique({
  name: 'follow_up_one_open_planned_unique',
  expression: 'create unique index "follow_up_one_open_planned_unique" on "follow_up" ("patient_id") where "planned_date" is not null and "done_date" is null and "cancelled_at" is null',
})
export class FollowUp extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field(() => FollowUpType)
  @Enum(() => FollowUpType)
  type!: FollowUpType;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the visit was planned for.' })
  @Property({ type: 'date', nullable: true })
  plannedDate?: string;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the visit took place.' })
  @Property({ type: 'date', nullable: true })
  doneDate?: string;

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  findings?: string;

  /** Derived, never typed in: the worst of the readings linked to the visit, else of the patient's readings that day (src/care/state/). */
  @Field(() => ControlStatus, { nullable: true, description: 'Control status at this visit, from its readings (linked, else that day’s); URGENT when danger signs were found. Null for a planned visit or one without readings.' })
  @Enum({ items: () => ControlStatus, nullable: true })
  controlStatus?: ControlStatus;

  @Field({ description: 'Danger signs found at this visit (besides the readings): the visit is URGENT.' })
  @Property({ default: false })
  dangerSigns: boolean = false;

  @Field({ description: 'Adverse drug reaction reported at this visit.' })
  @Property({ default: false })
  adverseReaction: boolean = false;

  @Field({ description: 'New or worsening complication found at this visit.' })
  @Property({ default: false })
  newComplication: boolean = false;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the next follow-up is due (for the latest done visit: the open planned visit’s date, by the rules).' })
  @Property({ type: 'date', nullable: true })
  nextDueDate?: string;

  @Field(() => LocalDate, { nullable: true, description: 'A date a clinician asked for at this visit: the next visit is due then when that is earlier than the rules’ date.' })
  @Property({ type: 'date', nullable: true })
  nextDueRequested?: string;

  @Field(() => DueReason, { nullable: true, description: 'For a planned visit the rules dated: why it is due on its date.' })
  @Enum({ items: () => DueReason, nullable: true })
  dueReason?: DueReason;

  @Field({ nullable: true, description: 'When a planned visit was cancelled (it will not take place).' })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  cancelledAt?: Date;

  @Field({ nullable: true, description: 'Why it was cancelled: the patient left management (DIED, MOVED_AWAY, …) or another planned visit replaced it (SUPERSEDED).' })
  @Property({ columnType: 'text', nullable: true })
  cancelReason?: string;

  @ManyToOne(() => Practitioner, { nullable: true })
  practitioner?: Practitioner;

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;
}
