import { Entity, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { ConditionKind } from '../../../vocabulary/index.js';

/**
 * A patient self-management group (患者自我管理小组): patients with the same chronic conditions meeting at their
 * village clinic or township centre, led by an expert patient (内行病人, a trained peer) or a practitioner. Whoever
 * works at the organisation or above it sees and runs it (AccessPolicy: the organisation subtree).
 */
@ObjectType({ description: 'A patient self-management group (患者自我管理小组) of a village clinic or township centre.' })
@Entity()
export class SelfManagementGroup extends BaseEntity {
  @ManyToOne(() => Organization, { index: true })
  organization!: Organization;

  @Field()
  @Property()
  name!: string;

  @Field(() => [ConditionKind], { description: 'The conditions the group is for.' })
  @Property({ type: 'json' })
  conditionKinds: ConditionKind[] = [];

  /** An expert patient (内行病人) leads the group, or (leaderPractitioner) a practitioner: one of the two. */
  @ManyToOne(() => Patient, { nullable: true, index: true })
  leaderPatient?: Patient;

  @ManyToOne(() => Practitioner, { nullable: true })
  leaderPractitioner?: Practitioner;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the group stopped meeting; it then takes no members or sessions.' })
  @Property({ type: 'date', nullable: true })
  closedOn?: string;
}

/** A patient's membership of a group, from the day they joined to the day they left (a rejoin is a new membership). */
@ObjectType({ description: "A patient's membership of a self-management group." })
@Entity()
@Index({ properties: ['group', 'patient'] })
export class SelfManagementGroupMember extends BaseEntity {
  @ManyToOne(() => SelfManagementGroup, { deleteRule: 'cascade' })
  group!: SelfManagementGroup;

  @ManyToOne(() => Patient, { index: true })
  patient!: Patient;

  @Field(() => LocalDate, { description: 'ISO date.' })
  @Property({ type: 'date' })
  joinedOn!: string;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date; none while a member.' })
  @Property({ type: 'date', nullable: true })
  leftOn?: string;
}

/** One meeting of a group: when, what about, and (SelfManagementGroupAttendance) which members came. */
@ObjectType({ description: 'A meeting of a self-management group.' })
@Entity()
@Index({ properties: ['group', 'heldOn'] })
export class SelfManagementGroupSession extends BaseEntity {
  @ManyToOne(() => SelfManagementGroup, { deleteRule: 'cascade' })
  group!: SelfManagementGroup;

  @Field(() => LocalDate, { description: 'ISO date.' })
  @Property({ type: 'date' })
  heldOn!: string;

  @Field({ description: 'e.g. "限盐勺的使用" or "足部护理".' })
  @Property()
  topic!: string;

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  note?: string;
}

/** A member who came to a session. */
@Entity()
@Unique({ properties: ['session', 'patient'] })
export class SelfManagementGroupAttendance extends BaseEntity {
  @ManyToOne(() => SelfManagementGroupSession, { deleteRule: 'cascade' })
  session!: SelfManagementGroupSession;

  @ManyToOne(() => Patient, { index: true })
  patient!: Patient;
}
