import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { CoverageStatus } from '../../../vocabulary/index.js';

export { CoverageStatus };

/** Medical-insurance membership: which insurer covers the patient, under which number, for which period. */
@ObjectType()
@Entity()
@Unique({ properties: ['insurer', 'memberNumber'] })
export class Coverage extends BaseEntity {
  @ManyToOne(() => Patient, { index: true })
  patient!: Patient;

  @ManyToOne(() => Organization, { index: true })
  insurer!: Organization;

  @Field()
  @Property()
  memberNumber!: string;

  @Field({ nullable: true, description: 'Scheme, e.g. urban-rural resident or employee basic medical insurance.' })
  @Property({ nullable: true })
  plan?: string;

  @Field(() => CoverageStatus)
  @Enum(() => CoverageStatus)
  status!: CoverageStatus;

  @Field(() => LocalDate, { description: 'ISO date.' })
  @Property({ type: 'date' })
  periodStart!: string;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date.' })
  @Property({ type: 'date', nullable: true })
  periodEnd?: string;
}
