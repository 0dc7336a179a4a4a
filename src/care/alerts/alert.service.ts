import { LockMode } from '@mikro-orm/core';
import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { badInput, conflict, isUuid, notFound } from '../../domain/errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../../domain/pagination.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import type { ConditionKind } from '../../../vocabulary/index.js';
import { Alert, AlertKind, AlertSeverity, AlertState } from './alert.entity.js';

export interface AlertFilter {
  /** Alerts concerning this organisation or one below it. */
  organizationId?: string | null;
  patientIds?: string[] | null;
  severities?: AlertSeverity[] | null;
  states?: AlertState[] | null;
  kinds?: AlertKind[] | null;
  conditionKinds?: ConditionKind[] | null;
}

/** Longest resolution text a person may write. */
const MAX_RESOLUTION = 2000;

/**
 * Reading alerts and the two things a person does with one (docs/care-model.md, "Alerts"): acknowledge it (seen,
 * being handled) and resolve it (with what was done). Everything passes the access policy: the unit of work's filter
 * shows only the alerts of patients the caller may see, so another's alert is NOT_FOUND. Who acted is the caller.
 */
export class AlertService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async get(id: string): Promise<Alert> {
    const alert = isUuid(id) ? await this.em.findOne(Alert, { id }) : null;
    if (!alert) throw notFound('Alert', id);
    return alert;
  }

  /** Newest first (by id: uuid v7, the order they were raised), keyset-paginated. */
  async search(filter: AlertFilter, first: number | undefined | null, after: string | undefined | null): Promise<Page<Alert>> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 1) as [string] | undefined;
    if (cursor && (typeof cursor[0] !== 'string' || !isUuid(cursor[0]))) throw badInput('after is not a cursor this API issued', 'after');
    const where: Record<string, unknown> = {};
    if (filter.organizationId) {
      if (!isUuid(filter.organizationId)) throw badInput('organizationId is not an id', 'organizationId');
      const organization = await this.em.findOne(Organization, { id: filter.organizationId });
      if (!organization) throw notFound('Organization', filter.organizationId);
      where.organization = { path: { $like: `${organization.path}%` } };
    }
    if (filter.patientIds) {
      const bad = filter.patientIds.find((id) => !isUuid(id));
      if (bad) throw badInput(`${bad} is not an id`, 'patientIds');
      where.patient = { $in: filter.patientIds };
    }
    if (filter.severities?.length) where.severity = { $in: filter.severities };
    if (filter.states?.length) where.state = { $in: filter.states };
    if (filter.kinds?.length) where.kind = { $in: filter.kinds };
    if (filter.conditionKinds?.length) where.conditionKind = { $in: filter.conditionKinds };
    const paged = cursor ? { ...where, id: { $lt: cursor[0] } } : where;
    const rows = await this.em.find(Alert, paged, { orderBy: { id: 'desc' }, limit: limit + 1 });
    return {
      items: rows.slice(0, limit),
      hasNextPage: rows.length > limit,
      cursorOf: (a) => encodeCursor([a.id]),
      count: () => this.em.count(Alert, where),
    };
  }

  /** OPEN → ACKNOWLEDGED, by the caller. A stale version, or an alert already acknowledged or resolved: CONFLICT. */
  acknowledge(id: string, version: number): Promise<Alert> {
    return this.act(id, version, async (alert, em, by) => {
      if (alert.state !== AlertState.OPEN) throw conflict(`alert ${id} is already ${alert.state.toLowerCase()}`);
      alert.state = AlertState.ACKNOWLEDGED;
      alert.acknowledgedAt = new Date();
      alert.acknowledgedBy = by ? em.getReference(Practitioner, by) : undefined;
    });
  }

  /** OPEN or ACKNOWLEDGED → RESOLVED, by the caller, saying what was done. Resolved already: CONFLICT. */
  resolve(id: string, version: number, resolution: string): Promise<Alert> {
    const text = resolution?.trim();
    if (!text) throw badInput('say how the alert was resolved', 'resolution');
    if (text.length > MAX_RESOLUTION) throw badInput(`resolution: at most ${MAX_RESOLUTION} characters`, 'resolution');
    return this.act(id, version, async (alert, em, by) => {
      if (alert.state === AlertState.RESOLVED) throw conflict(`alert ${id} is already resolved`);
      alert.state = AlertState.RESOLVED;
      alert.resolvedAt = new Date();
      alert.resolvedBy = by ? em.getReference(Practitioner, by) : undefined;
      alert.resolution = text;
    });
  }

  private act(id: string, version: number, change: (alert: Alert, em: EntityManager, by: string | undefined) => Promise<void>): Promise<Alert> {
    this.policy.assertCan('Flag', 'u');
    return this.em.transactional(async (em) => {
      // Locked: two people acting at once are one after the other, and the second sees the first's version.
      const alert = isUuid(id) ? await em.findOne(Alert, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
      if (!alert) throw notFound('Alert', id);
      if (alert.version !== version) throw conflict(`Alert ${id} is at version ${alert.version}, not ${version}`);
      await change(alert, em, this.policy.caller.practitionerId);
      await em.flush();
      return alert;
    });
  }
}
