import { type Caller, ClientKind } from '../../access/caller.js';
import { coveredOnSql, insurerMembersSql } from '../../access/membership.js';
import type { Predicate } from '../../access/policy.js';
import { countyTimeZone, countyToday } from '../../care-rules/calendar.js';
import type { BulkExportRequest } from './job.entity.js';

/**
 * The types that are the terms of membership rather than care given during it: a member's Patient, Coverage and
 * Consent go out whenever the member was covered during the period; every other resource of the record only when its
 * date (date_at: an Observation's effective time, a Condition's onset or recorded date, an Encounter's start, a
 * CarePlan's period start, …; the last update for a resource that has none) falls on a day the insurer covered the
 * patient (ADR 18, src/access/membership.ts).
 */
const MEMBERSHIP_TYPES = ['Patient', 'Coverage', 'Consent'];

const ZONE = /^[A-Za-z0-9_+\-/]+$/;

/** A resource's day in the county's calendar, as SQL over the row `r`. */
function resourceDaySql(): string {
  const zone = countyTimeZone();
  if (!ZONE.test(zone)) throw new Error(`COUNTY_TIME_ZONE "${zone}" is not a time zone name`);
  return `(coalesce(r.date_at, r.last_updated) at time zone '${zone}')::date`;
}

/** A type's resources in a covered day (for the insurer `insurerId`); the membership types whatever their date. */
function coveredResources(insurerId: string | null, type: string): Predicate | undefined {
  return MEMBERSHIP_TYPES.includes(type) ? undefined : coveredOnSql('r.patient_id', insurerId, resourceDaySql());
}

/**
 * What a job exports, as conditions over the store's current rows (`r`), on top of the caller's own scope (the
 * store's StoreScope, over the job's period for an insurer): nothing updated after the job's transaction time, the
 * IG's `_since`/`_until` on the last update, a patient's record (Patient and Group levels), a Group's members (an
 * insurer's, over the period) and, for an insurer — the caller, or the Group's — only what falls in a covered day;
 * `_typeFilter`'s Observation codes — for one type: a file's rows.
 */
export function exportWhere(params: BulkExportRequest, caller: Caller, transactionTime: Date): { ofType: (type: string) => Predicate } {
  const parts: Predicate[] = [{ sql: 'not r.deleted and r.last_updated <= ?', params: [transactionTime.toISOString()] }];
  if (params.since) parts.push({ sql: 'r.last_updated > ?', params: [params.since] });
  if (params.until) parts.push({ sql: 'r.last_updated <= ?', params: [params.until] });
  if (params.level !== 'system') parts.push({ sql: 'r.patient_id is not null', params: [] });
  const period = params.period ?? { start: '0001-01-01', end: countyToday() };
  const groupInsurer = params.level === 'group' ? (params.insurerId ?? null) : undefined;
  const callerInsurer = caller.clientKind === ClientKind.INSURER ? (caller.organizationId ?? null) : undefined;
  // An insurer's own Group: its scope already holds it to the members of the period (StoreScope over the period).
  if (groupInsurer !== undefined && groupInsurer !== callerInsurer) parts.push(insurerMembersSql('r.patient_id', groupInsurer, period, countyToday()));
  const insurers = [...new Set([groupInsurer, callerInsurer])].filter((i): i is string | null => i !== undefined);
  if (params.observationCodes?.length) {
    parts.push({ sql: `(r.resource_type <> 'Observation' or r.codes && ?::text[])`, params: [`{${params.observationCodes.map((c) => `"${c.replace(/["\\]/g, '\\$&')}"`).join(',')}}`] });
  }
  const join = (ps: Predicate[]): Predicate => ({ sql: ps.map((p) => `(${p.sql})`).join(' and '), params: ps.flatMap((p) => p.params) });
  const covered = (type: string) => insurers.map((i) => coveredResources(i, type)).filter((p): p is Predicate => !!p);
  return { ofType: (type) => join([{ sql: 'r.resource_type = ?', params: [type] }, ...parts, ...covered(type)]) };
}
