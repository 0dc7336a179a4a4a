import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { ConditionKind, ObservationKind } from '../../../fhir-mappings/codes.js';
import { badInput, conflict, isUuid, notFound } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { groupForActivity } from '../self-management-group/self-management-group.service.js';
import { ActivityCategory, ActivityStatus, CarePlan, CarePlanActivity, CarePlanGoal, CarePlanStatus } from './care-plan.entity.js';

export interface GoalInput {
  description: string;
  measure?: ObservationKind | null;
  targetBelow?: number | null;
  diastolicBelow?: number | null;
  dueDate?: string | null;
}

export interface ActivityInput {
  category: ActivityCategory;
  description: string;
  status?: ActivityStatus | null;
  frequency?: string | null;
  medicationCode?: string | null;
  medicationName?: string | null;
  dosage?: string | null;
  /** SELF_MANAGEMENT_GROUP activities: the group prescribed (one the caller sees). */
  selfManagementGroupId?: string | null;
}

export interface CarePlanInput {
  patientId: string;
  title: string;
  status?: CarePlanStatus | null;
  addresses?: ConditionKind[] | null;
  periodStart: string;
  periodEnd?: string | null;
  /** The caller when not given; else the caller or a colleague (attribution.ts). */
  authorId?: string | null;
  /** The caller's organisation when not given; else it or one below it. */
  organizationId?: string | null;
  note?: string | null;
  goals?: GoalInput[] | null;
  activities?: ActivityInput[] | null;
}

export type CarePlanUpdate = Partial<Omit<CarePlanInput, 'patientId' | 'goals' | 'activities'>>;

/** Which status changes a plan may make; revoked and completed plans are closed. */
const PLAN_TRANSITIONS: Record<CarePlanStatus, CarePlanStatus[]> = {
  DRAFT: [CarePlanStatus.ACTIVE, CarePlanStatus.REVOKED],
  ACTIVE: [CarePlanStatus.ON_HOLD, CarePlanStatus.COMPLETED, CarePlanStatus.REVOKED],
  ON_HOLD: [CarePlanStatus.ACTIVE, CarePlanStatus.COMPLETED, CarePlanStatus.REVOKED],
  REVOKED: [],
  COMPLETED: [],
};

function checkGoal(goal: GoalInput, field: string): void {
  if (!goal.description?.trim()) throw badInput('a goal needs a description', `${field}.description`);
  if (goal.diastolicBelow != null && goal.measure !== ObservationKind.BLOOD_PRESSURE) {
    throw badInput('diastolicBelow is a blood-pressure target', `${field}.diastolicBelow`);
  }
  if (goal.targetBelow != null && (!Number.isFinite(goal.targetBelow) || goal.targetBelow <= 0)) throw badInput('targetBelow must be positive', `${field}.targetBelow`);
  if (goal.targetBelow != null && !goal.measure) throw badInput('a numeric target needs a measure', `${field}.measure`);
}

function checkActivity(activity: ActivityInput, field: string): void {
  if (!activity.description?.trim()) throw badInput('an activity needs a description', `${field}.description`);
  const medicationFields = activity.medicationCode || activity.medicationName || activity.dosage;
  if (activity.category === ActivityCategory.MEDICATION && !activity.medicationName?.trim()) {
    throw badInput('a medication activity needs a medicationName', `${field}.medicationName`);
  }
  if (activity.category !== ActivityCategory.MEDICATION && medicationFields) {
    throw badInput('medication fields belong to MEDICATION activities', `${field}.category`);
  }
  if (activity.selfManagementGroupId && activity.category !== ActivityCategory.SELF_MANAGEMENT_GROUP) {
    throw badInput('only a SELF_MANAGEMENT_GROUP activity names a group', `${field}.selfManagementGroupId`);
  }
}

/** An activity's stored fields from its input: the group it names looked up (groupForActivity), nulls left out. */
async function activityFields(em: EntityManager, input: Partial<ActivityInput>, field: string) {
  const { selfManagementGroupId, ...fields } = nullsToUndefined(input);
  if (!('selfManagementGroupId' in input)) return fields;
  return { ...fields, selfManagementGroup: await groupForActivity(em, selfManagementGroupId, `${field}.selfManagementGroupId`) };
}

export class CarePlanService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async get(id: string): Promise<CarePlan> {
    const plan = isUuid(id) ? await this.em.findOne(CarePlan, { id }) : null;
    if (!plan) throw notFound('CarePlan', id);
    return plan;
  }

  async create(input: CarePlanInput): Promise<CarePlan> {
    this.policy.assertCan('CarePlan', 'c');
    if (!input.title?.trim()) throw badInput('a care plan needs a title', 'title');
    if (input.periodEnd && input.periodEnd < input.periodStart) throw badInput('periodEnd is before periodStart', 'periodEnd');
    input.goals?.forEach((g, i) => checkGoal(g, `goals.${i}`));
    input.activities?.forEach((a, i) => checkActivity(a, `activities.${i}`));
    const status = input.status ?? CarePlanStatus.ACTIVE;
    if (status !== CarePlanStatus.DRAFT && status !== CarePlanStatus.ACTIVE) throw badInput('a new care plan is DRAFT or ACTIVE', 'status');
    return this.em.transactional(async (em) => {
      const plan = em.create(CarePlan, { ...(await this.planFields(em, input, status, true)), version: 1 } as never) as CarePlan;
      for (const goal of input.goals ?? []) em.create(CarePlanGoal, { ...nullsToUndefined(goal), carePlan: plan, version: 1 } as never);
      for (const [i, activity] of (input.activities ?? []).entries()) {
        const fields = await activityFields(em, activity, `activities.${i}`);
        em.create(CarePlanActivity, { ...fields, status: activity.status ?? ActivityStatus.NOT_STARTED, carePlan: plan, version: 1 } as never);
      }
      await em.flush();
      return plan;
    });
  }

  async update(id: string, expectedVersion: number, input: CarePlanUpdate): Promise<CarePlan> {
    this.policy.assertCan('CarePlan', 'u');
    return this.em.transactional(async (em) => {
      const plan = isUuid(id) ? await em.findOne(CarePlan, { id }) : null;
      if (!plan) throw notFound('CarePlan', id);
      if (plan.version !== expectedVersion) throw conflict(`CarePlan ${id} is at version ${plan.version}, not ${expectedVersion}`);
      if (input.status && input.status !== plan.status) {
        if (!PLAN_TRANSITIONS[plan.status].includes(input.status)) throw badInput(`a ${plan.status} care plan cannot become ${input.status}`, 'status');
        plan.status = input.status;
      }
      if (input.title !== undefined) {
        if (!input.title?.trim()) throw badInput('a care plan needs a title', 'title');
        plan.title = input.title.trim();
      }
      if (input.addresses != null) plan.addresses = input.addresses;
      if (input.periodStart) plan.periodStart = input.periodStart;
      if (input.periodEnd !== undefined) plan.periodEnd = input.periodEnd ?? undefined;
      if (plan.periodEnd && plan.periodEnd < plan.periodStart) throw badInput('periodEnd is before periodStart', 'periodEnd');
      if (input.note !== undefined) plan.note = input.note ?? undefined;
      if (input.authorId || input.organizationId) {
        const by = await attributeOne(em, this.policy, { practitionerId: input.authorId, organizationId: input.organizationId }, { practitioner: 'authorId', organization: 'organizationId' }, false);
        if (input.authorId) plan.author = by.practitioner;
        if (input.organizationId) plan.organization = by.organization;
      }
      await em.flush();
      return plan;
    });
  }

  async addActivity(carePlanId: string, expectedVersion: number, input: ActivityInput): Promise<CarePlanActivity> {
    this.policy.assertCan('CarePlan', 'u');
    checkActivity(input, 'activity');
    return this.em.transactional(async (em) => {
      const plan = await this.openPlan(em, carePlanId, expectedVersion);
      const activity = em.create(CarePlanActivity, {
        ...(await activityFields(em, input, 'activity')),
        status: input.status ?? ActivityStatus.NOT_STARTED,
        carePlan: plan,
        version: 1,
      } as never) as CarePlanActivity;
      // Touch the plan so its version moves: clients holding the old plan see the change.
      plan.updatedAt = new Date();
      await em.flush();
      return activity;
    });
  }

  /**
   * Changes an activity (its own `expectedVersion`; `expectedPlanVersion`, when given, the plan's too). The plan's
   * version moves with it, as when an activity is added: the answer carries the plan's new version.
   */
  async updateActivity(activityId: string, expectedVersion: number, input: Partial<ActivityInput>, expectedPlanVersion?: number | null): Promise<CarePlanActivity> {
    this.policy.assertCan('CarePlan', 'u');
    return this.em.transactional(async (em) => {
      const activity = isUuid(activityId) ? await em.findOne(CarePlanActivity, { id: activityId }, { populate: ['carePlan'] }) : null;
      if (!activity) throw notFound('CarePlanActivity', activityId);
      if (activity.version !== expectedVersion) throw conflict(`CarePlanActivity ${activityId} is at version ${activity.version}, not ${expectedVersion}`);
      const plan = activity.carePlan;
      if (expectedPlanVersion != null && plan.version !== expectedPlanVersion) throw conflict(`CarePlan ${plan.id} is at version ${plan.version}, not ${expectedPlanVersion}`);
      if ([CarePlanStatus.REVOKED, CarePlanStatus.COMPLETED].includes(plan.status)) {
        throw badInput(`the care plan is ${plan.status}`, 'id');
      }
      const merged = { ...activity, selfManagementGroupId: activity.selfManagementGroup?.id, ...nullsToUndefined(input) } as ActivityInput;
      checkActivity(merged, 'activity');
      Object.assign(activity, await activityFields(em, input, 'activity'));
      plan.updatedAt = new Date();
      await em.flush();
      return activity;
    });
  }

  /** Takes an activity off a plan (the plan's `expectedVersion`): the plan, at its new version, is the answer. */
  async removeActivity(carePlanId: string, expectedVersion: number, activityId: string): Promise<CarePlan> {
    this.policy.assertCan('CarePlan', 'u');
    return this.em.transactional(async (em) => {
      const plan = await this.openPlan(em, carePlanId, expectedVersion);
      const activity = isUuid(activityId) ? await em.findOne(CarePlanActivity, { id: activityId, carePlan: plan }) : null;
      if (!activity) throw notFound('CarePlanActivity', activityId);
      em.remove(activity);
      plan.updatedAt = new Date();
      await em.flush();
      return plan;
    });
  }

  /**
   * A care plan a hospital sent (a FHIR CarePlan), created or updated under the resource's id in the caller's
   * unit of work (the caller flushes): the same checks as `create` and `update`. A plan may arrive in any status
   * (one sent after the fact is already completed); a change of status follows the plan's transitions. Its
   * activities are the resource's, in its order: they replace the plan's. Author and organisation are what the
   * resource names, never the caller by default. Goals come as resources of their own (`putGoal`).
   */
  async put(
    id: string,
    input: Omit<CarePlanInput, 'goals'>,
    existing?: CarePlan | null,
    /** Told of the plan before anything is flushed (the projection marks it as the resource's own). */
    claim: (record: object) => void = () => {},
  ): Promise<CarePlan> {
    this.policy.assertCan('CarePlan', existing ? 'u' : 'c');
    if (!input.title?.trim()) throw badInput('a care plan needs a title', 'title');
    if (input.periodEnd && input.periodEnd < input.periodStart) throw badInput('periodEnd is before periodStart', 'periodEnd');
    input.activities?.forEach((a, i) => checkActivity(a, `activities.${i}`));
    const status = input.status ?? CarePlanStatus.ACTIVE;
    if (existing && status !== existing.status && !PLAN_TRANSITIONS[existing.status].includes(status)) {
      throw badInput(`a ${existing.status} care plan cannot become ${status}`, 'status');
    }
    const em = this.em;
    // Over FHIR the author is who the plan names, never the caller by default.
    const data = await this.planFields(em, input, status, false);
    const plan = existing ? em.assign(existing, data as never) : (em.create(CarePlan, { id, ...data, version: 1 } as never) as CarePlan);
    claim(plan);
    const before = existing ? await em.find(CarePlanActivity, { carePlan: plan }, { orderBy: { createdAt: 'asc', id: 'asc' } }) : [];
    const activities = input.activities ?? [];
    activities.forEach((activity, i) => {
      const fields = { ...nullsToUndefined(activity), status: activity.status ?? ActivityStatus.NOT_STARTED };
      if (before[i]) em.assign(before[i]!, fields as never);
      else em.create(CarePlanActivity, { ...fields, carePlan: plan, version: 1 } as never);
    });
    for (const gone of before.slice(activities.length)) em.remove(gone);
    return plan;
  }

  /** A goal of a plan, sent as a FHIR Goal (its plan's `goal` points at it): under the Goal's id, checked as `create` checks goals. */
  async putGoal(id: string, plan: CarePlan, input: GoalInput, existing?: CarePlanGoal | null): Promise<CarePlanGoal> {
    this.policy.assertCan('CarePlan', 'u');
    checkGoal(input, 'goal');
    const fields = { ...nullsToUndefined(input), carePlan: plan };
    if (existing) return this.em.assign(existing, fields as never);
    return this.em.create(CarePlanGoal, { id, ...fields, version: 1 } as never) as CarePlanGoal;
  }

  /** A plan's own fields from its input: the patient, the author attributed (attribution.ts), the rest as given. */
  private async planFields(em: EntityManager, input: CarePlanInput, status: CarePlanStatus, callerByDefault: boolean) {
    const patient = await mustFind(em, Patient, input.patientId, 'patientId');
    const fields = { practitioner: 'authorId', organization: 'organizationId' };
    const by = await attributeOne(em, this.policy, { practitionerId: input.authorId, organizationId: input.organizationId }, fields, callerByDefault);
    return {
      patient,
      title: input.title.trim(),
      status,
      addresses: input.addresses ?? [],
      periodStart: input.periodStart,
      periodEnd: input.periodEnd ?? undefined,
      author: by.practitioner,
      organization: by.organization,
      note: input.note ?? undefined,
    };
  }

  private async openPlan(em: EntityManager, id: string, expectedVersion: number): Promise<CarePlan> {
    const plan = isUuid(id) ? await em.findOne(CarePlan, { id }) : null;
    if (!plan) throw notFound('CarePlan', id);
    if (plan.version !== expectedVersion) throw conflict(`CarePlan ${id} is at version ${plan.version}, not ${expectedVersion}`);
    if ([CarePlanStatus.REVOKED, CarePlanStatus.COMPLETED].includes(plan.status)) throw badInput(`the care plan is ${plan.status}`, 'carePlanId');
    return plan;
  }
}

function nullsToUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v ?? undefined])) as never;
}
