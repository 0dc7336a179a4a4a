import { Entity, ManyToOne, Unique } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from '../base.entity.js';
import { Condition } from '../condition/condition.entity.js';
import { Observation } from '../observation/observation.entity.js';
import { Referral } from './referral.entity.js';

/**
 * A record the receiver sent back with a referral's outcome: a reading taken or a diagnosis made at its visit
 * (FHIR: the referral Task's output naming an Observation or a Condition). Exactly one of the two is set. The
 * records are the patient's like any other; this says which of them answer the referral, so the sender sees them
 * on it. Gone with the record (a hospital's FHIR delete of the reading) or the referral.
 */
@Entity()
@Unique({ properties: ['referral', 'observation'] })
@Unique({ properties: ['referral', 'condition'] })
export class ReferralResult extends BaseEntity {
  @ManyToOne(() => Referral, { deleteRule: 'cascade' })
  referral!: Referral;

  @ManyToOne(() => Observation, { nullable: true, index: true, deleteRule: 'cascade' })
  observation?: Observation;

  @ManyToOne(() => Condition, { nullable: true, index: true, deleteRule: 'cascade' })
  condition?: Condition;
}
