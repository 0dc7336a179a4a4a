import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne, practitionerAt } from '../../access/attribution.js';
import { badInput, conflict, DomainError, isUuid, notFound } from '../errors.js';
import { LEVEL_RANK, Organization, OrganizationLevel } from '../organization/organization.entity.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../pagination.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { nextReferralStatus, OPEN_REFERRAL_STATUSES, type ReferralAction, STATUS_TIMESTAMP } from './referral-lifecycle.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from './referral.entity.js';

export interface CreateReferralInput {
  patientId: string;
  direction: ReferralDirection;
  fromOrganizationId: string;
  toOrganizationId: string;
  /** Who sends it: the caller when not given; else the caller or a colleague (attribution.ts). */
  fromPractitionerId?: string | null;
  /** Who it is addressed to (they see the patient while it is open): a practitioner of the receiving organisation. */
  toPractitionerId?: string | null;
  reason: ReferralReason;
  reasonText?: string | null;
  urgency?: ReferralUrgency | null;
  clinicalSummary?: string | null;
}

/** Where a write comes from: a person through GraphQL, or a hospital's FHIR resource (src/fhir/projection). */
export type Origin = 'MANUAL' | 'FHIR';

/** What a referral sent over FHIR says besides what a new one through GraphQL says. */
export interface ReferralFromFhir extends CreateReferralInput {
  /** When it was written (ServiceRequest.authoredOn); now when not given. */
  requestedAt?: Date | null;
  /** The state it arrives in: a referral sent after the fact may already be completed or cancelled. */
  status?: ReferralStatus | null;
}

/** The step of the lifecycle (referral-lifecycle.ts) a workflow Task reports, with what it says of it. */
export interface ReferralStep {
  status: ReferralStatus;
  reason?: string | null;
  outcomeSummary?: string | null;
  /** When each step was taken, as the Task says; now when not given. */
  at?: Partial<Record<ReferralStatus, Date | undefined>>;
}

/** The actions that lead from one status to another, in the lifecycle's order (requested → completed: accept, complete). */
function pathTo(from: ReferralStatus, to: ReferralStatus): ReferralAction[] | undefined {
  if (from === to) return [];
  const direct = (['accept', 'reject', 'complete', 'cancel'] as const).find((a) => nextReferralStatus(from, a) === to);
  if (direct) return [direct];
  if (from === ReferralStatus.REQUESTED && to === ReferralStatus.COMPLETED) return ['accept', 'complete'];
  return undefined;
}

export interface ReferralFilter {
  direction?: ReferralDirection;
  status?: ReferralStatus;
  fromOrganizationId?: string;
  toOrganizationId?: string;
  patientId?: string;
}

export class ReferralService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async get(id: string): Promise<Referral> {
    const referral = isUuid(id) ? await this.em.findOne(Referral, { id }) : null;
    if (!referral) throw notFound('Referral', id);
    return referral;
  }

  async create(input: CreateReferralInput): Promise<Referral> {
    this.policy.assertCan('ServiceRequest', 'c');
    return this.em.transactional(async (em) => {
      const referral = await this.write(em, undefined, input, 'MANUAL');
      await em.flush();
      return referral;
    });
  }

  /**
   * A referral a hospital sent (a ServiceRequest), created or updated under the resource's id in the caller's
   * unit of work (the caller flushes): the same rules as `create`. An update rewrites what the request says;
   * its status moves only through the lifecycle (`follow`), as the request's Task reports it. The request is its
   * sender's: only those who manage the organisation that sent it (or an administrator) update it — the receiver
   * answers through the Task — and an update does not move its ends (from and to organisations).
   */
  async put(id: string, input: ReferralFromFhir, existing?: Referral | null): Promise<Referral> {
    this.policy.assertCan('ServiceRequest', existing ? 'u' : 'c');
    if (existing) {
      if (!existing.fromOrganization.path || !existing.toOrganization.path) await this.em.populate(existing, ['fromOrganization', 'toOrganization']);
      if (!this.policy.manages(existing.fromOrganization.path)) {
        throw new DomainError('FORBIDDEN', 'a referral is updated by the organisation that sent it: its receiver answers through the referral’s Task');
      }
      if (input.fromOrganizationId !== existing.fromOrganization.id) throw badInput('a referral’s sending organisation does not change: send a new referral', 'fromOrganizationId');
      if (input.toOrganizationId !== existing.toOrganization.id) throw badInput('a referral’s receiving organisation does not change: send a new referral', 'toOrganizationId');
    }
    return this.write(this.em, existing ?? undefined, input, 'FHIR', id);
  }

  private async write(em: EntityManager, existing: Referral | undefined, input: ReferralFromFhir, origin: Origin, id?: string): Promise<Referral> {
    const patient = await mustFind(em, Patient, input.patientId, 'patientId');
    const from = await mustFind(em, Organization, input.fromOrganizationId, 'fromOrganizationId');
    const to = await mustFind(em, Organization, input.toOrganizationId, 'toOrganizationId');
    // Referrals are sent by the caller's own organisation (or one below it), never on another's behalf.
    this.policy.assertManages(from.path);
    if (from.id === to.id) throw badInput('a referral goes to another organisation', 'toOrganizationId');
    if (from.level === OrganizationLevel.EXTERNAL || to.level === OrganizationLevel.EXTERNAL) {
      throw badInput('referrals run between county, township and village organisations', 'toOrganizationId');
    }
    // Up goes to a higher level (lower rank number); down the reverse. Same-level transfers are not referrals here.
    const up = LEVEL_RANK[to.level] < LEVEL_RANK[from.level];
    const down = LEVEL_RANK[to.level] > LEVEL_RANK[from.level];
    if ((input.direction === ReferralDirection.UP && !up) || (input.direction === ReferralDirection.DOWN && !down)) {
      throw badInput(`a ${input.direction} referral cannot go from a ${from.level} to a ${to.level} organisation`, 'direction');
    }
    const downReasons = [ReferralReason.STABLE, ReferralReason.RECOVERY, ReferralReason.OTHER];
    if (input.direction === ReferralDirection.DOWN && !downReasons.includes(input.reason)) {
      throw badInput(`a down-referral is for a stable or recovering patient, not ${input.reason}`, 'reason');
    }
    if (input.direction === ReferralDirection.UP && [ReferralReason.STABLE, ReferralReason.RECOVERY].includes(input.reason)) {
      throw badInput(`an up-referral is not made for ${input.reason}`, 'reason');
    }
    const status = existing?.status ?? input.status ?? ReferralStatus.REQUESTED;
    if (OPEN_REFERRAL_STATUSES.includes(status)) {
      const open = await em.count(Referral, {
        patient,
        toOrganization: to,
        status: { $in: [...OPEN_REFERRAL_STATUSES] },
        ...(existing || id ? { id: { $ne: existing?.id ?? id } } : {}),
      });
      if (open > 0) throw conflict('this patient already has an open referral to that organisation');
    }
    const data = {
      patient,
      direction: input.direction,
      fromOrganization: from,
      toOrganization: to,
      // Sent over FHIR, the sender is who the request names, if anyone: not the system that sent it.
      fromPractitioner: (await attributeOne(em, this.policy, { practitionerId: input.fromPractitionerId }, { practitioner: 'fromPractitionerId', organization: 'fromOrganizationId' }, origin === 'MANUAL')).practitioner,
      toPractitioner: input.toPractitionerId ? await practitionerAt(em, this.policy, input.toPractitionerId, to, 'toPractitionerId') : undefined,
      reason: input.reason,
      reasonText: input.reasonText ?? undefined,
      urgency: input.urgency ?? ReferralUrgency.ROUTINE,
      clinicalSummary: input.clinicalSummary ?? undefined,
    };
    if (existing) return em.assign(existing, { ...data, requestedAt: input.requestedAt ?? existing.requestedAt } as never);
    const requestedAt = input.requestedAt ?? new Date();
    const stamp = STATUS_TIMESTAMP[status as keyof typeof STATUS_TIMESTAMP];
    return em.create(Referral, { ...(id ? { id } : {}), ...data, status, requestedAt, ...(stamp ? { [stamp]: requestedAt } : {}), version: 1 } as never) as Referral;
  }

  /**
   * Moves a referral to the status its workflow Task reports, through the lifecycle's steps (requested →
   * completed is accept, then complete) under the same rules as `transition`; in the caller's unit of work.
   * A status the lifecycle cannot reach from where the referral is (a completed referral reopened) is refused.
   */
  async follow(referral: Referral, step: ReferralStep): Promise<Referral> {
    const actions = pathTo(referral.status, step.status);
    if (!actions) throw badInput(`a ${referral.status} referral cannot become ${step.status}`, 'status');
    if (actions.length === 0) return referral;
    this.policy.assertCan('ServiceRequest', 'u');
    const em = this.em;
    if (!referral.fromOrganization.path || !referral.toOrganization.path) await em.populate(referral, ['fromOrganization', 'toOrganization']);
    for (const action of actions) this.step(referral, action, { reason: step.reason, outcomeSummary: step.outcomeSummary }, 'FHIR', step.at);
    return referral;
  }

  /** One step of the lifecycle, checked: who may take it, and what it needs. */
  private step(
    referral: Referral,
    action: ReferralAction,
    options: { reason?: string | null; outcomeSummary?: string | null },
    origin: Origin,
    at: Partial<Record<ReferralStatus, Date | undefined>> = {},
  ): void {
    // The receiver accepts, rejects and completes; the sender cancels.
    this.policy.assertManages(action === 'cancel' ? referral.fromOrganization.path : referral.toOrganization.path);
    const next = nextReferralStatus(referral.status, action);
    if (!next) throw badInput(`a ${referral.status} referral cannot be ${action === 'cancel' ? 'cancelled' : `${action}ed`}`, 'id');
    // A person says why; a hospital's Task may not (FHIR makes statusReason optional), and is taken as sent.
    if (origin === 'MANUAL' && (action === 'reject' || action === 'cancel') && !options.reason?.trim()) throw badInput(`a reason is required to ${action}`, 'reason');
    referral.status = next;
    referral[STATUS_TIMESTAMP[next as keyof typeof STATUS_TIMESTAMP]] = at[next] ?? new Date();
    if (options.reason?.trim()) referral.statusReason = options.reason.trim();
    if (options.outcomeSummary) referral.outcomeSummary = options.outcomeSummary;
  }

  async transition(
    id: string,
    action: ReferralAction,
    options: { expectedVersion?: number | null; reason?: string | null; outcomeSummary?: string | null; toPractitionerId?: string | null },
  ): Promise<Referral> {
    this.policy.assertCan('ServiceRequest', 'u');
    return this.em.transactional(async (em) => {
      const referral = isUuid(id) ? await em.findOne(Referral, { id }, { populate: ['fromOrganization', 'toOrganization'] }) : null;
      if (!referral) throw notFound('Referral', id);
      // The receiver accepts, rejects and completes; the sender cancels.
      this.policy.assertManages(action === 'cancel' ? referral.fromOrganization.path : referral.toOrganization.path);
      if (options.expectedVersion != null && referral.version !== options.expectedVersion) {
        throw conflict(`Referral ${id} is at version ${referral.version}, not ${options.expectedVersion}`);
      }
      const toPractitioner = options.toPractitionerId ? await practitionerAt(em, this.policy, options.toPractitionerId, referral.toOrganization, 'toPractitionerId') : undefined;
      this.step(referral, action, options, 'MANUAL');
      if (toPractitioner) referral.toPractitioner = toPractitioner;
      await em.flush();
      return referral;
    });
  }

  async search(filter: ReferralFilter, first: number | undefined, after: string | undefined): Promise<Page<Referral>> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 2) as [string, string] | undefined;
    if (cursor && (Number.isNaN(new Date(cursor[0]).getTime()) || typeof cursor[1] !== 'string' || !isUuid(cursor[1]))) {
      throw badInput('after is not a cursor this API issued', 'after');
    }
    for (const [key, value] of Object.entries(filter)) {
      if (key.endsWith('Id') && value && !isUuid(value as string)) throw badInput(`${key} is not an id`, key);
    }
    const where: Record<string, unknown> = {};
    if (filter.direction) where.direction = filter.direction;
    if (filter.status) where.status = filter.status;
    if (filter.fromOrganizationId) where.fromOrganization = filter.fromOrganizationId;
    if (filter.toOrganizationId) where.toOrganization = filter.toOrganizationId;
    if (filter.patientId) where.patient = filter.patientId;
    const paged = cursor
      ? {
          ...where,
          $or: [
            { requestedAt: { $lt: new Date(cursor[0]) } },
            { requestedAt: new Date(cursor[0]), id: { $lt: cursor[1] } },
          ],
        }
      : where;
    const rows = await this.em.find(Referral, paged, { orderBy: { requestedAt: 'desc', id: 'desc' }, limit: limit + 1 });
    return {
      items: rows.slice(0, limit),
      hasNextPage: rows.length > limit,
      cursorOf: (r) => encodeCursor([r.requestedAt.toISOString(), r.id]),
      count: () => this.em.count(Referral, where),
    };
  }
}
