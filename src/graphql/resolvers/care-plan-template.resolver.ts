import { Arg, Ctx, Field, Float, ID, InputType, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { ActivityCategory, CarePlanStatus, ConditionKind, ManagementTier, ObservationKind } from '../../../vocabulary/index.js';
import { CarePlan } from '../../domain/care-plan/care-plan.entity.js';
import type { FromTemplateInput } from '../../domain/care-plan/from-template.js';
import type { CarePlanTemplate as Template } from '../../domain/care-plan/templates.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

@ObjectType({ description: 'A goal a template gives: due by the end of the plan made from it.' })
class CarePlanTemplateGoal {
  @Field()
  description!: string;

  @Field(() => ObservationKind, { nullable: true })
  measure?: ObservationKind;

  @Field(() => Float, { nullable: true })
  targetBelow?: number;

  @Field(() => Float, { nullable: true })
  diastolicBelow?: number;
}

@ObjectType({ description: 'A prescription a template gives.' })
class CarePlanTemplateActivity {
  @Field(() => ActivityCategory)
  category!: ActivityCategory;

  @Field()
  description!: string;

  @Field({ nullable: true })
  frequency?: string;

  @Field({ description: 'Prescribed only to a patient known to smoke (createCarePlanFromTemplate `smoker: true`).' })
  forSmokersOnly!: boolean;
}

@ObjectType({ description: 'The national-standard goals and non-medical prescriptions for a condition and management tier.' })
class CarePlanTemplate {
  @Field(() => ID, { description: '`<conditionKind>-<tier>`, e.g. HYPERTENSION-INTENSIVE.' })
  id!: string;

  @Field(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => ManagementTier)
  tier!: ManagementTier;

  @Field()
  title!: string;

  @Field(() => [CarePlanTemplateGoal])
  goals!: CarePlanTemplateGoal[];

  @Field(() => [CarePlanTemplateActivity])
  activities!: CarePlanTemplateActivity[];
}

@InputType()
class CreateCarePlanFromTemplateInput implements FromTemplateInput {
  @Field(() => ID)
  patientId!: string;

  @Field(() => ID, { nullable: true, description: 'A template (carePlanTemplates); or conditionKind and tier.' })
  templateId?: string;

  @Field(() => ConditionKind, { nullable: true })
  conditionKind?: ConditionKind;

  @Field(() => ManagementTier, { nullable: true, description: "The patient's management tier when not given." })
  tier?: ManagementTier;

  @Field(() => LocalDate, { nullable: true, description: 'Today (county calendar) when not given.' })
  periodStart?: string;

  @Field(() => LocalDate, { nullable: true, description: "A year on when not given; the goals' due date." })
  periodEnd?: string;

  @Field(() => CarePlanStatus, { nullable: true })
  status?: CarePlanStatus;

  @Field({ nullable: true, description: 'The patient smokes: smoking cessation is prescribed only then.' })
  smoker?: boolean;

  @Field(() => ID, { nullable: true, description: 'The group the SELF_MANAGEMENT_GROUP activity names.' })
  selfManagementGroupId?: string;

  @Field(() => ID, { nullable: true })
  authorId?: string;

  @Field(() => ID, { nullable: true })
  organizationId?: string;

  @Field({ nullable: true })
  note?: string;
}

const shown = (t: Template): CarePlanTemplate => ({
  ...t,
  goals: t.goals.map((g) => ({ description: g.description, measure: g.measure ?? undefined, targetBelow: g.targetBelow ?? undefined, diastolicBelow: g.diastolicBelow ?? undefined })),
  activities: t.activities.map((a) => ({ category: a.category, description: a.description, frequency: a.frequency ?? undefined, forSmokersOnly: !!a.forSmokersOnly })),
});

@Resolver()
export class CarePlanTemplateResolver {
  @Query(() => [CarePlanTemplate], { description: 'Care-plan templates, of a condition and/or tier (src/domain/care-plan/templates.ts).' })
  carePlanTemplates(
    @Ctx() ctx: Context,
    @Arg('conditionKind', () => ConditionKind, { nullable: true }) conditionKind?: ConditionKind,
    @Arg('tier', () => ManagementTier, { nullable: true }) tier?: ManagementTier,
  ): CarePlanTemplate[] {
    return ctx.services.carePlanTemplates.list(conditionKind, tier).map(shown);
  }

  @Mutation(() => CarePlan, { description: "A care plan with a template's goals and prescriptions, to be changed like any plan." })
  createCarePlanFromTemplate(@Arg('input', () => CreateCarePlanFromTemplateInput) input: CreateCarePlanFromTemplateInput, @Ctx() ctx: Context) {
    return ctx.services.carePlanTemplates.create(input);
  }
}
