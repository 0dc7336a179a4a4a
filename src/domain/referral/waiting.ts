import type { EntityManager } from '../../db/orm.js';
import { readOnly } from '../../db/read-only.js';
import { type AccessPolicy, type Predicate, sqlAnd } from '../../access/policy.js';
import { badInput, isUuid } from '../errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../pagination.js';
import { Organization } from '../organization/organization.entity.js';
import { OPEN_REFERRAL_STATUSES } from './referral-lifecycle.js';
import { Referral, ReferralDirection, ReferralStatus } from './referral.entity.js';

/** Whom referrals wait for: an organisation and every one below it, and/or one practitioner. */
export interface Receiver {
  /** The organisation's path (organization.path): referrals addressed to it or to one below it. */
  organizationPath?: string | null;
  /** Referrals addressed to this practitioner (referral.to_practitioner_id). */
  practitionerId?: string | null;
}

/**
 * The one definition of "a referral waiting for someone", as SQL over the referral table (alias `alias`): it is
 * open — requested (the receiver has to accept or reject it) or accepted (the receiver is caring for the patient
 * and has to complete it) — and addressed to the receiver: to the organisation or one below it, or to the
 * practitioner. `statuses` narrows it to one of the two open statuses. The referrals query (`referralsWaiting`) and
 * the worklists both use it, so "waiting for me" is the same list wherever it is shown.
 */
export function waitingForSql(alias: string, receiver: Receiver, statuses: readonly ReferralStatus[] = OPEN_REFERRAL_STATUSES): Predicate {
  const open = statuses.filter((s) => OPEN_REFERRAL_STATUSES.includes(s));
  const to: Predicate[] = [];
  if (receiver.organizationPath) {
    to.push({ sql: `${alias}.to_organization_id in (select wo.id from organization wo where wo.path like ?)`, params: [`${receiver.organizationPath}%`] });
  }
  if (receiver.practitionerId) to.push({ sql: `${alias}.to_practitioner_id = ?`, params: [receiver.practitionerId] });
  if (open.length === 0 || to.length === 0) return { sql: '1 = 0', params: [] };
  return {
    sql: `${alias}.status = any(?::text[]) and (${to.map((p) => p.sql).join(' or ')})`,
    params: [`{${open.join(',')}}`, ...to.flatMap((p) => p.params)],
  };
}

export interface WaitingFilter {
  /** The receiving organisation (and those below it); with neither this nor practitionerId, the caller's own. */
  organizationId?: string | null;
  /** The practitioner they are addressed to; with neither, the caller. */
  practitionerId?: string | null;
  /** REQUESTED (to decide) or ACCEPTED (to complete); both when not given. */
  status?: ReferralStatus | null;
  direction?: ReferralDirection | null;
}

/**
 * Referrals waiting for a receiver (waitingForSql), as the caller may see them: urgent first, then the longest
 * waiting (requested first), keyset-paginated by (urgent, requestedAt, id).
 */
export async function referralsWaiting(em: EntityManager, policy: AccessPolicy, filter: WaitingFilter, first?: number, after?: string): Promise<Page<Referral>> {
  const limit = pageSize(first);
  for (const key of ['organizationId', 'practitionerId'] as const) {
    if (filter[key] && !isUuid(filter[key]!)) throw badInput(`${key} is not an id`, key);
  }
  const cursor = decodeCursor(after, 3) as [number, string, string] | undefined;
  if (cursor && (![0, 1].includes(cursor[0]) || typeof cursor[1] !== 'string' || Number.isNaN(new Date(cursor[1]).getTime()) || typeof cursor[2] !== 'string' || !isUuid(cursor[2]))) {
    throw badInput('after is not a cursor this API issued', 'after');
  }
  const receiver: Receiver = {};
  if (filter.organizationId) {
    const org = await em.findOne(Organization, { id: filter.organizationId });
    if (!org) throw badInput(`organizationId: no Organization with id ${filter.organizationId}`, 'organizationId');
    receiver.organizationPath = org.path;
  }
  if (filter.practitionerId) receiver.practitionerId = filter.practitionerId;
  if (!filter.organizationId && !filter.practitionerId) {
    receiver.organizationPath = policy.caller.organizationPath;
    receiver.practitionerId = policy.caller.practitionerId;
  }
  const parts: Predicate[] = [waitingForSql('r', receiver, filter.status ? [filter.status] : undefined)];
  if (filter.direction) parts.push({ sql: 'r.direction = ?', params: [filter.direction] });
  const visible = policy.rowsVisible('Referral', 'r');
  const where = sqlAnd(sqlAnd(parts[0]!, parts[1]), visible);
  const urgent = `(case when r.urgency = 'URGENT' then 1 else 0 end)`;
  const page = cursor
    ? sqlAnd(where, {
        sql: `(${urgent} < ? or (${urgent} = ? and (r.requested_at > ? or (r.requested_at = ? and r.id > ?))))`,
        params: [cursor[0], cursor[0], cursor[1], cursor[1], cursor[2]],
      })
    : where;
  const read = readOnly(em, Referral);
  const rows = (await em.execute(`select r.* from referral r where ${page.sql} order by ${urgent} desc, r.requested_at asc, r.id asc limit ?`, [...page.params, limit + 1])) as Array<
    Record<string, unknown>
  >;
  const items = rows.slice(0, limit).map((row) => read.record(row));
  return {
    items,
    hasNextPage: rows.length > limit,
    cursorOf: (r) => encodeCursor([r.urgency === 'URGENT' ? 1 : 0, new Date(r.requestedAt).toISOString(), r.id]),
    count: async () => Number(((await em.execute(`select count(*) as n from referral r where ${where.sql}`, where.params)) as Array<{ n: string | number }>)[0]!.n),
  };
}
