import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { FollowUp } from '../follow-up/follow-up.entity.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { ContactMethod, ContactOutcome } from '../../../vocabulary/index.js';

export { ContactMethod, ContactOutcome };

/**
 * An attempt to reach a patient who missed a planned visit, and what came of it, as Simple.org's overdue lists record
 * calls. The outcome decides whether the patient is on the next overdue lists (src/care-rules/overdue-contact.ts);
 * MOVED and DIED set the patient's care status.
 */
@ObjectType()
@Entity()
@Index({ properties: ['patient', 'attemptedAt'] })
export class ContactAttempt extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  /** The overdue planned visit the attempt was about, when there was one. */
  @ManyToOne(() => FollowUp, { nullable: true, index: true })
  followUp?: FollowUp;

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  attemptedAt!: Date;

  @ManyToOne(() => Practitioner, { nullable: true })
  practitioner?: Practitioner;

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;

  @Field(() => ContactMethod)
  @Enum(() => ContactMethod)
  method!: ContactMethod;

  @Field(() => ContactOutcome)
  @Enum(() => ContactOutcome)
  outcome!: ContactOutcome;

  @Field(() => LocalDate, { nullable: true, description: 'REACHED: the day the patient said they will come (ISO date).' })
  @Property({ type: 'date', nullable: true })
  willComeOn?: string;

  /** The number dialled (the patient's at the time): a WRONG_NUMBER holds until the patient's number changes. */
  @Property({ nullable: true })
  phone?: string;

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  note?: string;
}
