import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { ConditionKind, ObservationKind } from '../../../fhir-mappings/codes.js';
import { GoalProgressStatus } from '../../../vocabulary/index.js';
import { countyToday } from '../../care-rules/calendar.js';
import { goalProgressOf, isMeasurable } from '../../care-rules/goal-progress.js';
import {
  ActivityCategory,
  ActivityStatus,
  CarePlan,
  CarePlanActivity,
  CarePlanGoal,
  CarePlanStatus,
  isNonMedical,
} from '../../domain/care-plan/care-plan.entity.js';
import type { ActivityInput, CarePlanInput, CarePlanUpdate, GoalInput } from '../../domain/care-plan/care-plan.service.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { SelfManagementGroup } from '../../domain/self-management-group/self-management-group.entity.js';
import type { Context } from '../context.js';
import { CLIENT_ID, createOnce } from '../client-id.js';
import { LocalDate } from '../scalars.js';

@InputType()
export class CarePlanGoalInput implements GoalInput {
  @Field()
  description!: string;

  @Field(() => ObservationKind, { nullable: true })
  measure?: ObservationKind;

  @Field(() => Float, { nullable: true, description: 'Value (or systolic) below this.' })
  targetBelow?: number;

  @Field(() => Float, { nullable: true })
  diastolicBelow?: number;

  @Field(() => LocalDate, { nullable: true })
  dueDate?: string;
}

@InputType()
export class CarePlanActivityInput implements ActivityInput {
  @Field(() => ActivityCategory)
  category!: ActivityCategory;

  @Field()
  description!: string;

  @Field(() => ActivityStatus, { nullable: true })
  status?: ActivityStatus;

  @Field({ nullable: true })
  frequency?: string;

  @Field({ nullable: true })
  medicationCode?: string;

  @Field({ nullable: true })
  medicationName?: string;

  @Field({ nullable: true })
  dosage?: string;

  @Field(() => ID, { nullable: true, description: 'SELF_MANAGEMENT_GROUP activities: the group prescribed.' })
  selfManagementGroupId?: string;
}

@InputType()
export class UpdateCarePlanActivityInput implements Partial<ActivityInput> {
  @Field(() => ActivityStatus, { nullable: true })
  status?: ActivityStatus;

  @Field({ nullable: true })
  description?: string;

  @Field({ nullable: true })
  frequency?: string;

  @Field({ nullable: true })
  dosage?: string;

  @Field(() => ID, { nullable: true, description: 'SELF_MANAGEMENT_GROUP activities: the group prescribed (null takes it off).' })
  selfManagementGroupId?: string;
}

@InputType()
export class CreateCarePlanInput implements CarePlanInput {
  @Field(() => ID, CLIENT_ID)
  id?: string;

  @Field(() => ID)
  patientId!: string;

  @Field()
  title!: string;

  @Field(() => CarePlanStatus, { nullable: true, defaultValue: CarePlanStatus.ACTIVE })
  status?: CarePlanStatus;

  @Field(() => [ConditionKind], { nullable: true })
  addresses?: ConditionKind[];

  @Field(() => LocalDate)
  periodStart!: string;

  @Field(() => LocalDate, { nullable: true })
  periodEnd?: string;

  @Field(() => ID, { nullable: true })
  authorId?: string;

  @Field(() => ID, { nullable: true })
  organizationId?: string;

  @Field({ nullable: true })
  note?: string;

  @Field(() => [CarePlanGoalInput], { nullable: true })
  goals?: CarePlanGoalInput[];

  @Field(() => [CarePlanActivityInput], { nullable: true })
  activities?: CarePlanActivityInput[];
}

@InputType()
export class UpdateCarePlanInput implements CarePlanUpdate {
  @Field({ nullable: true })
  title?: string;

  @Field(() => CarePlanStatus, { nullable: true })
  status?: CarePlanStatus;

  @Field(() => [ConditionKind], { nullable: true })
  addresses?: ConditionKind[];

  @Field(() => LocalDate, { nullable: true })
  periodStart?: string;

  @Field(() => LocalDate, { nullable: true })
  periodEnd?: string;

  @Field({ nullable: true })
  note?: string;
}

@Resolver(() => CarePlan)
export class CarePlanResolver {
  @Query(() => CarePlan)
  carePlan(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.carePlans.get(id);
  }

  @Mutation(() => CarePlan)
  createCarePlan(@Arg('input', () => CreateCarePlanInput) input: CreateCarePlanInput, @Ctx() ctx: Context) {
    return createOnce(ctx, 'createCarePlan', { id: input.id, patientId: input.patientId, args: { input } }, (services, id) => services.carePlans.create({ ...input, id }));
  }

  @Mutation(() => CarePlan)
  updateCarePlan(
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int) version: number,
    @Arg('input', () => UpdateCarePlanInput) input: UpdateCarePlanInput,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.carePlans.update(id, version, input);
  }

  @Mutation(() => CarePlanActivity)
  addCarePlanActivity(
    @Arg('carePlanId', () => ID) carePlanId: string,
    @Arg('version', () => Int, { description: "The care plan's version." }) version: number,
    @Arg('input', () => CarePlanActivityInput) input: CarePlanActivityInput,
    @Ctx() ctx: Context,
    @Arg('id', () => ID, CLIENT_ID) id?: string,
  ) {
    // A repeat is answered before the plan's version is looked at: the first send moved it.
    return createOnce(ctx, 'addCarePlanActivity', { id, args: { carePlanId, version, input } }, (services, clientId) => services.carePlans.addActivity(carePlanId, version, input, clientId));
  }

  @Mutation(() => CarePlanActivity, { description: "Changes an activity; the plan's version moves too (the answer's `carePlan { version }`)." })
  updateCarePlanActivity(
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int, { description: "The activity's version." }) version: number,
    @Arg('input', () => UpdateCarePlanActivityInput) input: UpdateCarePlanActivityInput,
    @Ctx() ctx: Context,
    @Arg('carePlanVersion', () => Int, { nullable: true, description: "The care plan's version, checked when given." }) carePlanVersion?: number,
  ) {
    return ctx.services.carePlans.updateActivity(id, version, input, carePlanVersion);
  }

  @Mutation(() => CarePlan, { description: 'Takes an activity off a plan; the answer is the plan at its new version.' })
  removeCarePlanActivity(
    @Arg('carePlanId', () => ID) carePlanId: string,
    @Arg('version', () => Int, { description: "The care plan's version." }) version: number,
    @Arg('activityId', () => ID) activityId: string,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.carePlans.removeActivity(carePlanId, version, activityId);
  }

  @FieldResolver(() => Patient)
  patient(@Root() c: CarePlan, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(c.patient.id);
  }

  @FieldResolver(() => [CarePlanGoal])
  goals(@Root() c: CarePlan, @Ctx() ctx: Context) {
    return ctx.loaders.goalsByCarePlan.load(c.id);
  }

  @FieldResolver(() => [CarePlanActivity])
  async activities(@Root() c: CarePlan, @Ctx() ctx: Context, @Arg('nonMedicalOnly', { defaultValue: false }) nonMedicalOnly: boolean = false) {
    const activities = await ctx.loaders.activitiesByCarePlan.load(c.id);
    return nonMedicalOnly ? activities.filter((a) => isNonMedical(a.category)) : activities;
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  author(@Root() c: CarePlan, @Ctx() ctx: Context) {
    return c.author ? ctx.loaders.practitioner.load(c.author.id) : null;
  }

  @FieldResolver(() => Organization, { nullable: true })
  organization(@Root() c: CarePlan, @Ctx() ctx: Context) {
    return c.organization ? ctx.loaders.organization.load(c.organization.id) : null;
  }
}

@Resolver(() => CarePlanActivity)
export class CarePlanActivityResolver {
  @FieldResolver(() => Boolean, { description: 'A non-medical prescription (diet, exercise, salt, smoking, alcohol, self-management).' })
  nonMedical(@Root() a: CarePlanActivity) {
    return isNonMedical(a.category);
  }

  @FieldResolver(() => CarePlan, { description: "The plan, as it is now: a mutation's answer carries its new version." })
  carePlan(@Root() a: CarePlanActivity, @Ctx() ctx: Context) {
    return ctx.loaders.carePlan.load(a.carePlan.id);
  }

  @FieldResolver(() => SelfManagementGroup, { nullable: true, description: 'The group a SELF_MANAGEMENT_GROUP activity prescribes (null when none, or one you do not see).' })
  selfManagementGroup(@Root() a: CarePlanActivity, @Ctx() ctx: Context) {
    return a.selfManagementGroup ? ctx.loaders.selfManagementGroup.load(a.selfManagementGroup.id) : null;
  }
}

@ObjectType({ description: "How a goal stands by the patient's readings since the plan started." })
export class GoalProgress {
  @Field(() => Observation, { nullable: true, description: "The latest counting (plausible) reading of the goal's measure since the plan started." })
  latestReading?: Observation | null;

  @Field({ description: 'The latest reading meets the target.' })
  achieved!: boolean;

  @Field(() => GoalProgressStatus)
  status!: GoalProgressStatus;
}

@Resolver(() => CarePlanGoal)
export class CarePlanGoalResolver {
  @FieldResolver(() => CarePlan, { description: "The plan, as it is now: a mutation's answer carries its new version." })
  carePlan(@Root() g: CarePlanGoal, @Ctx() ctx: Context) {
    return ctx.loaders.carePlan.load(g.carePlan.id);
  }

  @FieldResolver(() => GoalProgress, {
    nullable: true,
    description: 'Judged from the readings since the plan started (src/care-rules/goal-progress.ts); null for a goal with no measure and target to judge.',
  })
  async progress(@Root() g: CarePlanGoal, @Ctx() ctx: Context): Promise<GoalProgress | null> {
    if (!isMeasurable(g)) return null;
    // Both batched per request (loaders): a page of plans costs two queries, not two per goal.
    const plan = await ctx.loaders.carePlan.load(g.carePlan.id);
    if (!plan) return null;
    const progress = goalProgressOf(g, await ctx.loaders.goalReadings.load(plan.patient.id), { since: plan.periodStart, today: countyToday(), rules: ctx.rules });
    if (!progress) return null;
    return Object.assign(new GoalProgress(), { latestReading: progress.latestReading ?? null, status: progress.status, achieved: progress.status === GoalProgressStatus.ACHIEVED });
  }
}
