import { PrimaryKeyProp } from '@mikro-orm/core';
import { Entity, Enum, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { ConditionControlStatus, ConditionKind } from '../../../vocabulary/index.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';

/**
 * A managed condition's control status (ADR 16), per patient and condition kind: hypertension by the latest counting
 * blood pressure, type 2 diabetes by the worse of the latest fasting glucose and the latest HbA1c, within the
 * look-back (`control.recentDays`); NO_RECENT_READING when none counts. Derived only, by src/care/state/; worklists
 * and indicators read it in SQL.
 */
@ObjectType({ description: 'A managed condition’s control status, derived by the care rules from the readings.' })
@Entity({ tableName: 'condition_control' })
export class ConditionControl {
  [PrimaryKeyProp]?: ['patient', 'conditionKind'];

  @ManyToOne(() => Patient, { primary: true, deleteRule: 'cascade' })
  patient!: Patient;

  @Field(() => ConditionKind)
  @Enum({ items: () => ConditionKind, primary: true })
  conditionKind!: ConditionKind;

  @Field(() => ConditionControlStatus, { name: 'status' })
  @Enum({ items: () => ConditionControlStatus, index: true })
  controlStatus!: ConditionControlStatus;

  /** The reading that decided it; none for NO_RECENT_READING. */
  @ManyToOne(() => Observation, { nullable: true, deleteRule: 'set null' })
  observation?: Observation;

  @Field({ description: 'When the rules last changed this status.' })
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  decidedAt!: Date;
}
