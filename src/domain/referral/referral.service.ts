import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne, practitionerAt } from '../../access/attribution.js';
import { badInput, conflict, isUuid, notFound } from '../errors.js';
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
      const open = await em.count(Referral, {
        patient,
        toOrganization: to,
        status: { $in: [...OPEN_REFERRAL_STATUSES] },
      });
      if (open > 0) throw conflict('this patient already has an open referral to that organisation');
      const referral = em.create(Referral, {
        patient,
        direction: input.direction,
        fromOrganization: from,
        toOrganization: to,
        fromPractitioner: (await attributeOne(em, this.policy, { practitionerId: input.fromPractitionerId }, { practitioner: 'fromPractitionerId', organization: 'fromOrganizationId' })).practitioner,
        toPractitioner: input.toPractitionerId ? await practitionerAt(em, this.policy, input.toPractitionerId, to, 'toPractitionerId') : undefined,
        reason: input.reason,
        reasonText: input.reasonText ?? undefined,
        urgency: input.urgency ?? ReferralUrgency.ROUTINE,
        status: ReferralStatus.REQUESTED,
        clinicalSummary: input.clinicalSummary ?? undefined,
        requestedAt: new Date(),
        version: 1,
      } as never) as Referral;
      await em.flush();
      return referral;
    });
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
      const next = nextReferralStatus(referral.status, action);
      if (!next) throw badInput(`a ${referral.status} referral cannot be ${action === 'cancel' ? 'cancelled' : `${action}ed`}`, 'id');
      if ((action === 'reject' || action === 'cancel') && !options.reason?.trim()) throw badInput(`a reason is required to ${action}`, 'reason');
      const toPractitioner = options.toPractitionerId ? await practitionerAt(em, this.policy, options.toPractitionerId, referral.toOrganization, 'toPractitionerId') : undefined;
      referral.status = next;
      if (toPractitioner) referral.toPractitioner = toPractitioner;
      referral[STATUS_TIMESTAMP[next as keyof typeof STATUS_TIMESTAMP]] = new Date();
      if (options.reason) referral.statusReason = options.reason.trim();
      if (options.outcomeSummary) referral.outcomeSummary = options.outcomeSummary;
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
