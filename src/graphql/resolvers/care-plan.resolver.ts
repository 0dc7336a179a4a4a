import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConditionKind, ObservationKind } from '../../../fhir-mappings/codes.js';
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
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import type { Context } from '../context.js';
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
}

@InputType()
export class CreateCarePlanInput implements CarePlanInput {
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
    return ctx.services.carePlans.create(input);
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
  ) {
    return ctx.services.carePlans.addActivity(carePlanId, version, input);
  }

  @Mutation(() => CarePlanActivity)
  updateCarePlanActivity(
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int) version: number,
    @Arg('input', () => UpdateCarePlanActivityInput) input: UpdateCarePlanActivityInput,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.carePlans.updateActivity(id, version, input);
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
}
