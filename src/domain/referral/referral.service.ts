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
import { findResultRecords, type ReferralResultIds, resultRecordsOrRefuse, setReferralResults } from './referral-results.js';
import { referralsWaiting, type WaitingFilter } from './waiting.js';

export interface CreateReferralInput {
  patientId: string;
  /** UP or DOWN: what the two organisations' levels give when not said; said, it must agree with them. */
  direction?: ReferralDirection | null;
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
  /** A down-referral: the up-referral it closes (the patient the receiver cared for goes back, stable). */
  closesReferralId?: string | null;
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
  /** The readings and diagnoses the Task's output names (all of them: the list replaces the referral's). */
  results?: ReferralResultIds;
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
    const direction = directionBetween(from, to);
    if (input.direction && input.direction !== direction) {
      throw badInput(`a ${input.direction} referral cannot go from a ${from.level} to a ${to.level} organisation`, 'direction');
    }
    if (!direction) throw badInput(`a referral goes to a higher or a lower level: both organisations are ${from.level}`, 'toOrganizationId');
    const downReasons = [ReferralReason.STABLE, ReferralReason.RECOVERY, ReferralReason.OTHER];
    if (direction === ReferralDirection.DOWN && !downReasons.includes(input.reason)) {
      throw badInput(`a down-referral is for a stable or recovering patient, not ${input.reason}`, 'reason');
    }
    if (direction === ReferralDirection.UP && [ReferralReason.STABLE, ReferralReason.RECOVERY].includes(input.reason)) {
      throw badInput(`an up-referral is not made for ${input.reason}`, 'reason');
    }
    const closes = input.closesReferralId ? await this.closedBy(em, input.closesReferralId, { patient, from, direction }) : undefined;
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
      direction,
      fromOrganization: from,
      toOrganization: to,
      // Sent over FHIR, the sender is who the request names, if anyone: not the system that sent it.
      fromPractitioner: (await attributeOne(em, this.policy, { practitionerId: input.fromPractitionerId }, { practitioner: 'fromPractitionerId', organization: 'fromOrganizationId' }, origin === 'MANUAL')).practitioner,
      toPractitioner: input.toPractitionerId ? await practitionerAt(em, this.policy, input.toPractitionerId, to, 'toPractitionerId') : undefined,
      reason: input.reason,
      reasonText: input.reasonText ?? undefined,
      urgency: input.urgency ?? ReferralUrgency.ROUTINE,
      clinicalSummary: input.clinicalSummary ?? undefined,
      closes: closes ?? existing?.closes ?? undefined,
    };
    const requestedAt = input.requestedAt ?? existing?.requestedAt ?? new Date();
    // The up-referral's care ends with the patient sent back: one its receiver still has as accepted is completed now.
    if (closes?.status === ReferralStatus.ACCEPTED) this.step(closes, 'complete', {}, origin, { COMPLETED: requestedAt });
    if (existing) return em.assign(existing, { ...data, requestedAt } as never);
    const stamp = STATUS_TIMESTAMP[status as keyof typeof STATUS_TIMESTAMP];
    return em.create(Referral, { ...(id ? { id } : {}), ...data, status, requestedAt, ...(stamp ? { [stamp]: requestedAt } : {}), version: 1 } as never) as Referral;
  }

  /**
   * The up-referral a down-referral closes: the same patient's, sent up to the organisation that now sends the
   * patient back, and taken on by it — accepted or already completed.
   */
  private async closedBy(em: EntityManager, id: string, down: { patient: Patient; from: Organization; direction: ReferralDirection }): Promise<Referral> {
    const field = 'closesReferralId';
    if (down.direction !== ReferralDirection.DOWN) throw badInput('only a down-referral closes an up-referral', field);
    const closed = isUuid(id) ? await em.findOne(Referral, { id }, { populate: ['fromOrganization', 'toOrganization'] }) : null;
    if (!closed) throw badInput(`${field}: no referral with id ${id}`, field);
    if (closed.direction !== ReferralDirection.UP) throw badInput('a down-referral closes an up-referral, not another down-referral', field);
    if (closed.patient.id !== down.patient.id) throw badInput('the referral it closes is another patient’s', field);
    if (down.from.id !== closed.toOrganization.id) throw badInput('a down-referral is sent by the organisation that received the up-referral it closes', field);
    if (closed.status !== ReferralStatus.ACCEPTED && closed.status !== ReferralStatus.COMPLETED) {
      throw badInput(`a down-referral closes an up-referral its receiver took on: this one is ${closed.status}`, field);
    }
    return closed;
  }

  /**
   * Moves a referral to the status its workflow Task reports, through the lifecycle's steps (requested →
   * completed is accept, then complete) under the same rules as `transition`; in the caller's unit of work.
   * A status the lifecycle cannot reach from where the referral is (a completed referral reopened) is refused.
   * Answers the result ids it could not link (not a reading or diagnosis of the patient's the domain has).
   */
  async follow(referral: Referral, step: ReferralStep): Promise<string[]> {
    const actions = pathTo(referral.status, step.status);
    if (!actions) throw conflict(`a ${referral.status} referral cannot become ${step.status}: it has moved on in its lifecycle`);
    const em = this.em;
    if (!referral.fromOrganization.path || !referral.toOrganization.path) await em.populate(referral, ['fromOrganization', 'toOrganization']);
    // A Task restating where the referral is (a retried PUT) is no second step; what the receiver says of its outcome is still taken.
    const receiver = this.policy.manages(referral.toOrganization.path);
    if (actions.length === 0 && !receiver) return [];
    const restated = actions.length === 0 && (!step.outcomeSummary || step.outcomeSummary === referral.outcomeSummary) && !step.results?.observationIds.length && !step.results?.conditionIds.length;
    if (!restated) this.policy.assertCan('ServiceRequest', 'u');
    for (const action of actions) this.step(referral, action, { reason: step.reason, outcomeSummary: step.outcomeSummary }, 'FHIR', step.at);
    if (receiver && step.outcomeSummary && step.outcomeSummary !== referral.outcomeSummary) referral.outcomeSummary = step.outcomeSummary;
    if (!receiver || !step.results) return [];
    const found = await findResultRecords(em, referral.patient.id, step.results, true);
    await setReferralResults(em, referral, found);
    return found.missing;
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
    // Refused by where the referral now is (accepting twice, completing a rejected one): the request conflicts with its state.
    if (!next) throw conflict(`a ${referral.status} referral cannot be ${action === 'cancel' ? 'cancelled' : `${action}ed`}`);
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
    options: { expectedVersion?: number | null; reason?: string | null; outcomeSummary?: string | null; toPractitionerId?: string | null; results?: ReferralResultIds | null },
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
      // The readings and diagnoses of the receiver's visit go with the outcome, checked before anything moves.
      const results = options.results && action === 'complete' ? await resultRecordsOrRefuse(em, referral.patient.id, options.results) : undefined;
      this.step(referral, action, options, 'MANUAL');
      if (toPractitioner) referral.toPractitioner = toPractitioner;
      if (results) await setReferralResults(em, referral, results);
      await em.flush();
      return referral;
    });
  }

  /** Referrals waiting for a receiver (waiting.ts: the one definition, shared with the worklists). */
  waiting(filter: WaitingFilter, first: number | undefined, after: string | undefined): Promise<Page<Referral>> {
    return referralsWaiting(this.em, this.policy, filter, first, after);
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

/** UP to a higher level (a lower rank number), DOWN to a lower one; none between organisations of one level. */
export function directionBetween(from: Organization, to: Organization): ReferralDirection | undefined {
  if (LEVEL_RANK[to.level] < LEVEL_RANK[from.level]) return ReferralDirection.UP;
  if (LEVEL_RANK[to.level] > LEVEL_RANK[from.level]) return ReferralDirection.DOWN;
  return undefined;
}
