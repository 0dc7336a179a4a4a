import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { ConsentDecision, ConsentPurpose } from '../../../vocabulary/index.js';

export { ConsentPurpose, ConsentDecision };

/**
 * A patient's decision about one purpose of use, for a period. The newest record for a purpose that is in
 * force wins; without one, treatment is permitted and insurer sharing follows the insurance contract.
 */
@ObjectType()
@Entity()
@Index({ properties: ['patient', 'purpose'] })
export class Consent extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field(() => ConsentPurpose)
  @Enum(() => ConsentPurpose)
  purpose!: ConsentPurpose;

  @Field(() => ConsentDecision)
  @Enum(() => ConsentDecision)
  decision!: ConsentDecision;

  @Field(() => LocalDate)
  @Property({ type: 'date' })
  periodStart!: string;

  @Field(() => LocalDate, { nullable: true })
  @Property({ type: 'date', nullable: true })
  periodEnd?: string;

  @ManyToOne(() => Practitioner, { nullable: true })
  recordedBy?: Practitioner;

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  note?: string;
}
