import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConditionKind } from '../../../vocabulary/index.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { SelfManagementGroup, SelfManagementGroupMember, SelfManagementGroupSession } from '../../domain/self-management-group/self-management-group.entity.js';
import type { GroupFilter, GroupInput, GroupUpdate, SessionInput } from '../../domain/self-management-group/self-management-group.service.js';
import { Connection } from '../connection.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

export const SelfManagementGroupConnection = Connection(SelfManagementGroup, 'SelfManagementGroup');

@InputType()
class CreateSelfManagementGroupInput implements GroupInput {
  @Field()
  name!: string;

  @Field(() => ID, { nullable: true, description: 'A village clinic or township centre: yours when not given, else yours or one below it.' })
  organizationId?: string;

  @Field(() => [ConditionKind], { nullable: true })
  conditionKinds?: ConditionKind[];

  @Field(() => ID, { nullable: true, description: 'An expert patient (内行病人) who leads the group …' })
  leaderPatientId?: string;

  @Field(() => ID, { nullable: true, description: '… or a practitioner (you or a colleague). Neither given: you.' })
  leaderPractitionerId?: string;
}

@InputType()
class UpdateSelfManagementGroupInput implements GroupUpdate {
  @Field({ nullable: true })
  name?: string;

  @Field(() => [ConditionKind], { nullable: true })
  conditionKinds?: ConditionKind[];

  @Field(() => ID, { nullable: true })
  leaderPatientId?: string;

  @Field(() => ID, { nullable: true })
  leaderPractitionerId?: string;

  @Field(() => LocalDate, { nullable: true, description: 'The group stopped meeting (null reopens it).' })
  closedOn?: string;
}

@InputType()
class SelfManagementGroupFilter implements GroupFilter {
  @Field(() => ID, { nullable: true, description: 'Groups of this organisation and those below it.' })
  organizationId?: string;

  @Field(() => ConditionKind, { nullable: true })
  conditionKind?: ConditionKind;

  @Field({ nullable: true, defaultValue: false })
  includeClosed?: boolean;
}

@InputType()
class RecordSelfManagementGroupSessionInput implements SessionInput {
  @Field(() => ID)
  groupId!: string;

  @Field(() => LocalDate)
  heldOn!: string;

  @Field()
  topic!: string;

  @Field({ nullable: true })
  note?: string;

  @Field(() => [ID], { nullable: true, description: 'The members who came (each a member on heldOn).' })
  attendeePatientIds?: string[];
}

@Resolver(() => SelfManagementGroup)
export class SelfManagementGroupResolver {
  @Query(() => SelfManagementGroup)
  selfManagementGroup(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.selfManagementGroups.get(id);
  }

  @Query(() => SelfManagementGroupConnection, { description: 'The groups of your organisation and below it, oldest first.' })
  async selfManagementGroups(
    @Ctx() ctx: Context,
    @Arg('filter', () => SelfManagementGroupFilter, { nullable: true }) filter?: SelfManagementGroupFilter,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return SelfManagementGroupConnection.from(await ctx.services.selfManagementGroups.search({ ...filter }, first, after));
  }

  @Mutation(() => SelfManagementGroup)
  createSelfManagementGroup(@Arg('input', () => CreateSelfManagementGroupInput) input: CreateSelfManagementGroupInput, @Ctx() ctx: Context) {
    ctx.audit.touch(input.leaderPatientId);
    return ctx.services.selfManagementGroups.create(input);
  }

  @Mutation(() => SelfManagementGroup)
  updateSelfManagementGroup(
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int) version: number,
    @Arg('input', () => UpdateSelfManagementGroupInput) input: UpdateSelfManagementGroupInput,
    @Ctx() ctx: Context,
  ) {
    ctx.audit.touch(input.leaderPatientId);
    return ctx.services.selfManagementGroups.update(id, version, input);
  }

  @Mutation(() => SelfManagementGroupMember, { description: 'A patient joins (joinedOn: today when not given).' })
  addSelfManagementGroupMember(
    @Arg('groupId', () => ID) groupId: string,
    @Arg('patientId', () => ID) patientId: string,
    @Ctx() ctx: Context,
    @Arg('joinedOn', () => LocalDate, { nullable: true }) joinedOn?: string,
  ) {
    ctx.audit.touch(patientId);
    return ctx.services.selfManagementGroups.addMember(groupId, patientId, joinedOn);
  }

  @Mutation(() => SelfManagementGroupMember, { description: "A member leaves (leftOn: today when not given); the membership is kept, ended." })
  removeSelfManagementGroupMember(
    @Arg('groupId', () => ID) groupId: string,
    @Arg('patientId', () => ID) patientId: string,
    @Ctx() ctx: Context,
    @Arg('leftOn', () => LocalDate, { nullable: true }) leftOn?: string,
  ) {
    ctx.audit.touch(patientId);
    return ctx.services.selfManagementGroups.removeMember(groupId, patientId, leftOn);
  }

  @Mutation(() => SelfManagementGroupSession)
  recordSelfManagementGroupSession(@Arg('input', () => RecordSelfManagementGroupSessionInput) input: RecordSelfManagementGroupSessionInput, @Ctx() ctx: Context) {
    // Every patient named is in the request's audit record, refused or not.
    for (const id of input.attendeePatientIds ?? []) ctx.audit.touch(id);
    return ctx.services.selfManagementGroups.recordSession(input);
  }

  @FieldResolver(() => Organization)
  organization(@Root() g: SelfManagementGroup, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(g.organization.id);
  }

  @FieldResolver(() => Patient, { nullable: true, description: 'The expert patient (内行病人) leading the group, when one does (and you see them).' })
  leaderPatient(@Root() g: SelfManagementGroup, @Ctx() ctx: Context) {
    return g.leaderPatient ? ctx.loaders.patient.load(g.leaderPatient.id) : null;
  }

  @FieldResolver(() => Practitioner, { nullable: true, description: 'The practitioner leading the group, when one does.' })
  leaderPractitioner(@Root() g: SelfManagementGroup, @Ctx() ctx: Context) {
    return g.leaderPractitioner ? ctx.loaders.practitioner.load(g.leaderPractitioner.id) : null;
  }

  @FieldResolver(() => [SelfManagementGroupMember], { description: 'Members you see, longest-standing first; current ones only unless current: false.' })
  async members(@Root() g: SelfManagementGroup, @Ctx() ctx: Context, @Arg('current', { defaultValue: true }) current: boolean = true) {
    const members = await ctx.loaders.membersByGroup.load(g.id);
    return current ? members.filter((m) => m.leftOn == null) : members;
  }

  @FieldResolver(() => [SelfManagementGroupSession], { description: 'Newest first.' })
  sessions(@Root() g: SelfManagementGroup, @Ctx() ctx: Context) {
    return ctx.loaders.sessionsByGroup.load(g.id);
  }
}

@Resolver(() => SelfManagementGroupMember)
export class SelfManagementGroupMemberResolver {
  @FieldResolver(() => SelfManagementGroup)
  group(@Root() m: SelfManagementGroupMember, @Ctx() ctx: Context) {
    return ctx.loaders.selfManagementGroup.load(m.group.id);
  }

  @FieldResolver(() => Patient)
  patient(@Root() m: SelfManagementGroupMember, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(m.patient.id);
  }

  @FieldResolver(() => Int, { description: 'Sessions of the group the member attended while a member.' })
  sessionsAttended(@Root() m: SelfManagementGroupMember, @Ctx() ctx: Context) {
    return ctx.loaders.sessionsAttended.load(m.id);
  }
}

@Resolver(() => SelfManagementGroupSession)
export class SelfManagementGroupSessionResolver {
  @FieldResolver(() => SelfManagementGroup)
  group(@Root() s: SelfManagementGroupSession, @Ctx() ctx: Context) {
    return ctx.loaders.selfManagementGroup.load(s.group.id);
  }

  @FieldResolver(() => [Patient], { description: 'The members who came (those you see).' })
  async attendees(@Root() s: SelfManagementGroupSession, @Ctx() ctx: Context) {
    const attendance = await ctx.loaders.attendanceBySession.load(s.id);
    const patients = await ctx.loaders.patient.loadMany(attendance.map((a) => a.patient.id));
    return patients.filter((p): p is Patient => !!p && !(p instanceof Error));
  }
}

@Resolver(() => Patient)
export class PatientSelfManagementGroupsResolver {
  @FieldResolver(() => [SelfManagementGroupMember], { description: "The patient's self-management group memberships, newest first; current ones only unless current: false." })
  async selfManagementGroups(@Root() p: Patient, @Ctx() ctx: Context, @Arg('current', { defaultValue: true }) current: boolean = true) {
    const memberships = await ctx.loaders.groupMembershipsByPatient.load(p.id);
    return current ? memberships.filter((m) => m.leftOn == null) : memberships;
  }
}
