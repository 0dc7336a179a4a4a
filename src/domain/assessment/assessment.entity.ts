import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { AssessmentKind, Complication, ConditionKind, RiskFactor, TargetOrganDamage } from '../../../vocabulary/index.js';

export { AssessmentKind, Complication, RiskFactor, TargetOrganDamage };

/**
 * A health assessment of a patient for one condition (健康评估): the pathway's step 3 (INITIAL) and its yearly
 * re-assessment, step 7 (ANNUAL). What it found is coded — risk factors, complications, target-organ damage — so
 * that indicators can count it; `note` holds the rest.
 */
@ObjectType()
@Entity()
@Index({ properties: ['patient', 'conditionKind', 'assessedOn'] })
export class Assessment extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field(() => ConditionKind)
  @Enum(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => LocalDate, { description: 'ISO date of the assessment.' })
  @Property({ type: 'date' })
  assessedOn!: string;

  @Field(() => AssessmentKind)
  @Enum(() => AssessmentKind)
  kind!: AssessmentKind;

  @Field(() => [RiskFactor])
  @Property({ type: 'json' })
  riskFactors: RiskFactor[] = [];

  @Field(() => [Complication])
  @Property({ type: 'json' })
  complications: Complication[] = [];

  @Field(() => [TargetOrganDamage])
  @Property({ type: 'json' })
  targetOrganDamage: TargetOrganDamage[] = [];

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  note?: string;

  @ManyToOne(() => Practitioner, { nullable: true })
  assessedBy?: Practitioner;

  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;
}
