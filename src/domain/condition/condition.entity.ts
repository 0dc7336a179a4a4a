import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { ClinicalStatus, ConditionKind, VerificationStatus } from '../../../vocabulary/index.js';

export { ConditionKind, ClinicalStatus, VerificationStatus };

@ObjectType()
@Entity()
@Index({ properties: ['patient', 'kind'] })
export class Condition extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field()
  @Property()
  code!: string;

  @Field({ description: 'Code system URI (SNOMED CT, ICD-10, …).' })
  @Property()
  system!: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  display?: string;

  @Field(() => ConditionKind, { description: 'Normalised kind derived from code and system.' })
  @Enum(() => ConditionKind)
  kind!: ConditionKind;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date of onset.' })
  @Property({ type: 'date', nullable: true })
  onsetDate?: string;

  @Field(() => ClinicalStatus)
  @Enum(() => ClinicalStatus)
  clinicalStatus!: ClinicalStatus;

  @Field(() => VerificationStatus)
  @Enum(() => VerificationStatus)
  verificationStatus!: VerificationStatus;

  @ManyToOne(() => Organization, { nullable: true })
  confirmedBy?: Organization;

  @Field({ nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  confirmedAt?: Date;
}
