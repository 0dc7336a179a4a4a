import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../domain/base.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { ConditionKind, PathwayStep } from '../../../vocabulary/index.js';

export { PathwayStep };

/**
 * A step of the seven-step pathway a patient reached for a condition, in a cycle (1 for the first pass; each
 * re-assessment starts the next at PLAN_MADE), with the record that proves it. Derived state (ADR 16), written only
 * by src/care/pathway/derivation.ts. A step passed by without evidence (a diagnosis made without a screening) is
 * recorded `skipped`, dated when the next step was reached.
 */
@ObjectType('PathwayStepRecord')
@Entity({ tableName: 'pathway_step' })
@Unique({ properties: ['patient', 'conditionKind', 'cycle', 'step'] })
@Index({ properties: ['step', 'reachedAt'] })
export class PathwayStepRecord extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field(() => ConditionKind)
  @Enum(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => Int)
  @Property()
  cycle!: number;

  @Field(() => PathwayStep)
  @Enum(() => PathwayStep)
  step!: PathwayStep;

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  reachedAt!: Date;

  @Field({ nullable: true, description: 'The kind of record that proves the step: Observation, Condition, Assessment, CarePlan, CarePlanActivity or FollowUp; null when skipped.' })
  @Property({ columnType: 'text', nullable: true })
  evidenceType?: string;

  @Field({ nullable: true })
  @Property({ type: 'uuid', nullable: true })
  evidenceId?: string;

  @Field({ description: 'Passed by without evidence of its own (e.g. a diagnosis with no screening before it).' })
  @Property({ default: false })
  skipped: boolean = false;
}
