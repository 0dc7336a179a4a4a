import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { ControlStatus } from '../../care-rules/control.js';
import { FollowUpType } from '../../../vocabulary/index.js';

export { FollowUpType };

/** A follow-up visit: planned, then done, with findings and the date the next one is due. */
@ObjectType()
@Entity()
@Index({ properties: ['patient', 'plannedDate'] })
@Index({ properties: ['nextDueDate'] })
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

  @Field(() => ControlStatus, { nullable: true, description: 'Control status assessed at this visit.' })
  @Enum({ items: () => ControlStatus, nullable: true })
  controlStatus?: ControlStatus;

  @Field({ description: 'Adverse drug reaction reported at this visit.' })
  @Property({ default: false })
  adverseReaction: boolean = false;

  @Field({ description: 'New or worsening complication found at this visit.' })
  @Property({ default: false })
  newComplication: boolean = false;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the next follow-up is due.' })
  @Property({ type: 'date', nullable: true })
  nextDueDate?: string;

  @ManyToOne(() => Practitioner, { nullable: true })
  practitioner?: Practitioner;

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;
}
