import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { PathwayStepRecord } from '../../care/pathway/pathway-step.entity.js';
import type { PathwayFilter, PathwayPosition } from '../../care/pathway/pathway.service.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { ConditionKind, PathwayStep, VerificationStatus } from '../../../vocabulary/index.js';
import { Connection } from '../connection.js';
import type { Context } from '../context.js';

@ObjectType({ description: 'Where a patient is on the seven-step pathway of one condition (docs/care-model.md).' })
export class PathwayState implements PathwayPosition {
  patient!: { id: string };

  @Field(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => PathwayStep, { description: 'The step reached last.' })
  step!: PathwayStep;

  @Field(() => Int, { description: '1 for the first pass; each re-assessment starts the next cycle at PLAN_MADE.' })
  cycle!: number;

  @Field({ description: 'When the step was reached.' })
  since!: Date;

  @Field(() => Int, { description: 'Whole days at the step (county calendar).' })
  daysAtStep!: number;

  @Field({ description: "Waiting at the step longer than the care rules' days for it (pathway.stuckDays)." })
  stuck!: boolean;

  steps?: PathwayStepRecord[];
}

export const PathwayConnection = Connection(PathwayState, 'PathwayState');

@InputType()
export class PathwayFilterInput implements PathwayFilter {
  @Field(() => ID, { nullable: true, description: 'Patients managed by this organisation or one below it.' })
  organizationId?: string;

  @Field(() => [ConditionKind], { nullable: true })
  conditionKinds?: ConditionKind[];

  @Field(() => [PathwayStep], { nullable: true, description: 'At one of these steps now.' })
  steps?: PathwayStep[];

  @Field({ nullable: true, description: 'Only pathways stuck at their step.' })
  stuckOnly?: boolean;
}

/** The kinds a patient has a REFUTED diagnosis of (through the loader the patient's conditions use). */
async function refutedKinds(ctx: Context, patientId: string): Promise<Set<ConditionKind>> {
  const conditions = await ctx.loaders.conditionsByPatient.load(patientId);
  return new Set(conditions.filter((c) => c.verificationStatus === VerificationStatus.REFUTED).map((c) => c.kind));
}

@Resolver(() => PathwayState)
export class PathwayResolver {
  @Query(() => PathwayConnection, {
    description: 'Who is at which pathway step and for how long, longest waiting first; patients in the programme (care status ACTIVE) only.',
  })
  async pathway(
    @Ctx() ctx: Context,
    @Arg('filter', () => PathwayFilterInput, { nullable: true }) filter?: PathwayFilterInput,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return PathwayConnection.from(await ctx.services.pathway.search(filter ?? {}, first, after));
  }

  @FieldResolver(() => Patient)
  patient(@Root() s: PathwayState, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(s.patient.id);
  }

  @FieldResolver(() => [PathwayStepRecord], { description: 'Every step of this pathway so far, in order (skipped ones included).' })
  async steps(@Root() s: PathwayState, @Ctx() ctx: Context) {
    if (s.steps) return s.steps;
    const records = await ctx.loaders.pathwayByPatient.load(s.patient.id);
    return ctx.services.pathway.positionsOf(s.patient.id, records, await refutedKinds(ctx, s.patient.id)).find((p) => p.conditionKind === s.conditionKind)?.steps ?? [];
  }
}

@Resolver(() => Patient)
export class PatientPathwayResolver {
  @FieldResolver(() => [PathwayState], { description: 'Where the patient is on the pathway of each condition that has one.' })
  async pathway(@Root() p: Patient, @Ctx() ctx: Context): Promise<PathwayState[]> {
    const [records, refuted] = await Promise.all([ctx.loaders.pathwayByPatient.load(p.id), refutedKinds(ctx, p.id)]);
    return ctx.services.pathway.positionsOf(p.id, records, refuted).map((position) => Object.assign(new PathwayState(), position));
  }
}
