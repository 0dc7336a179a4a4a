import { mappings, type CarePlanShape, type GoalShape } from '../../../fhir-mappings/index.js';
import { ConditionKind } from '../../../fhir-mappings/codes.js';
import { ActivityCategory, CarePlan, CarePlanGoal } from '../../domain/care-plan/care-plan.entity.js';
import { type ActivityInput, CarePlanService, type GoalInput } from '../../domain/care-plan/care-plan.service.js';
import { Condition } from '../../domain/condition/condition.entity.js';
import { existingRecord, flushUnlessDeferred, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';
import { knownOrganization, knownPatient, knownPractitioner, sqlOf } from './links.js';
import { unscopedContentsOf, unscopedPlanNamingGoal } from '../store-sql.js';

const UNTITLED = '(未命名计划)';
const DROPPED_GOALS = new Set(['cancelled', 'entered-in-error', 'rejected']);

const goalInput = (g: GoalShape): GoalInput => ({ description: g.description, measure: g.measure, targetBelow: g.targetBelow, diastolicBelow: g.diastolicBelow, dueDate: g.dueDate });

/** Stored content of resources of one type in the patient's record, by id: what came in an earlier request. */
async function stored(ctx: ProjectionContext, patientId: string, type: string, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const rows = await unscopedContentsOf(sqlOf(ctx), patientId, type, ids);
  return new Map(rows.map((r) => [r.id, (typeof r.content === 'string' ? JSON.parse(r.content) : r.content) as Record<string, unknown>]));
}

/**
 * A CarePlan → a care plan, through CarePlanService: its activities (those that say what to do), the condition
 * kinds it addresses (its categories, and the Conditions it names), and its goals — Goals are resources of their
 * own that name no plan: the plan's goalRefs do. A Goal already here (earlier in this Bundle, or stored before)
 * joins the plan now; one still to come joins it when it comes (projectGoal).
 */
export async function projectCarePlan(ctx: ProjectionContext, id: string, shape: CarePlanShape): Promise<ProjectionWarnings> {
  const patient = await knownPatient(ctx, shape.patientRef);
  if (!patient) return [warning('incomplete', 'stored; not a care plan in the care record: its patient is not one the county knows', ['CarePlan.subject'])];
  if (!shape.periodStart) return [warning('incomplete', 'stored; not taken into the care record: a care plan needs the day it starts', ['CarePlan.period.start'])];
  const warnings: ProjectionWarnings = [];
  const authorId = idOf(shape.authorRef, 'Practitioner') ? await knownPractitioner(ctx, shape.authorRef, 'CarePlan.author', warnings) : undefined;
  const organizationId = await knownOrganization(ctx, shape.organizationRef, 'CarePlan.contributor', warnings);
  const conditionIds = shape.addressesRefs.map((r) => idOf(r, 'Condition')).filter((x): x is string => !!x);
  const conditions = conditionIds.length ? await ctx.em.find(Condition, { id: { $in: conditionIds }, patient: patient.id }) : [];
  const addresses = [...new Set([...shape.addresses, ...conditions.map((c) => c.kind).filter((k) => k !== ConditionKind.OTHER)])];
  const activities: ActivityInput[] = [];
  shape.activities.forEach((a, i) => {
    // An activity is what to do: one given only as a reference, naming nothing, stays in the resource.
    if (!a.description.trim()) return void warnings.push(warning('informational', 'an activity that says nothing to do is left out of the care record', [`CarePlan.activity[${i}]`]));
    const medication = a.category === ActivityCategory.MEDICATION;
    activities.push({
      category: a.category,
      status: a.status,
      description: a.description,
      frequency: a.frequency,
      medicationCode: medication ? a.medicationCode : undefined,
      medicationName: medication ? (a.medicationName ?? a.description) : undefined,
      dosage: medication ? a.dosage : undefined,
    });
  });
  const existing = await existingRecord(ctx, CarePlan, id);
  const service = new CarePlanService(ctx.em, ctx.policy);
  const plan = await viaService('CarePlan', () =>
    service.put(
      id,
      {
        patientId: patient.id,
        title: shape.title?.trim() || UNTITLED,
        status: shape.status,
        addresses,
        periodStart: shape.periodStart!,
        periodEnd: shape.periodEnd,
        authorId,
        organizationId,
        note: shape.note,
        activities,
      },
      existing,
      markFromFhir,
    ),
  );

  const goalIds = shape.goalRefs.map((r) => idOf(r, 'Goal')).filter((x): x is string => !!x);
  const waiting = goalIds.filter((g) => !ctx.links.goals.has(g));
  // Goals of this plan already in the domain, and those stored before (in an earlier request): one query each, in
  // this patient's record only (a plan cannot take another patient's goal by naming its id).
  const inDomain = new Map((waiting.length ? await ctx.em.find(CarePlanGoal, { id: { $in: waiting }, carePlan: { patient: patient.id } }, { filters: false }) : []).map((g) => [g.id, g]));
  const sentBefore = await stored(ctx, patient.id, 'Goal', waiting.filter((g) => !inDomain.has(g)));
  for (const goalId of goalIds) {
    const sent = ctx.links.goals.get(goalId) ?? (sentBefore.has(goalId) ? mappings.Goal.fromFhir(sentBefore.get(goalId) as never).domain : undefined);
    const current = inDomain.get(goalId);
    if (sent && DROPPED_GOALS.has(sent.lifecycleStatus)) continue;
    if (sent && !sent.description.trim()) continue;
    if (sent || current) {
      const input = sent ? goalInput(sent) : goalInput({ ...current!, lifecycleStatus: 'active' } as GoalShape);
      markFromFhir(await viaService('Goal', () => service.putGoal(goalId, plan, input, current)));
      ctx.links.goals.delete(goalId);
    } else ctx.links.planOfGoal.set(goalId, plan.id);
  }
  await flushUnlessDeferred(ctx);
  return warnings;
}

/**
 * A Goal → a goal of the plan that names it (goalRefs): one seen earlier in this unit of work, the plan it
 * already belongs to, or a plan stored before in the same patient's record. A Goal no plan names (yet) waits
 * for its plan within the Bundle, and otherwise stays in the FHIR store only.
 */
export async function projectGoal(ctx: ProjectionContext, id: string, shape: GoalShape): Promise<ProjectionWarnings> {
  const existing = await existingRecord(ctx, CarePlanGoal, id);
  if (DROPPED_GOALS.has(shape.lifecycleStatus) || !shape.description.trim()) {
    if (existing) ctx.em.remove(existing);
    return [];
  }
  let planId = ctx.links.planOfGoal.get(id) ?? existing?.carePlan.id;
  const patient = planId ? undefined : await knownPatient(ctx, shape.patientRef);
  if (!planId && patient) planId = await storedPlanNaming(ctx, id, patient.id);
  let plan = planId ? (ctx.em.getUnitOfWork().getById<CarePlan>(CarePlan, planId) ?? (await ctx.em.findOne(CarePlan, { id: planId }))) : null;
  // A goal joins a plan of its own patient only.
  const goalPatientId = idOf(shape.patientRef, 'Patient');
  if (plan && goalPatientId && plan.patient.id !== goalPatientId) plan = null;
  if (!plan) {
    ctx.links.goals.set(id, shape);
    return [];
  }
  ctx.links.planOfGoal.delete(id);
  markFromFhir(await viaService('Goal', () => new CarePlanService(ctx.em, ctx.policy).putGoal(id, plan, goalInput(shape), existing)));
  await flushUnlessDeferred(ctx);
  return [];
}

/**
 * The stored CarePlan of this patient's record whose goal list names the Goal: read past the access filter,
 * within the record the caller is writing to.
 */
async function storedPlanNaming(ctx: ProjectionContext, goalId: string, patientId: string): Promise<string | undefined> {
  return unscopedPlanNamingGoal(sqlOf(ctx), patientId, `Goal/${goalId}`);
}
