import type { AccessPolicy, Predicate } from '../access/policy.js';
import type { EntityManager } from '../db/orm.js';
import { badInput, isUuid } from '../domain/errors.js';
import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { openPlannedVisitSql } from '../care-rules/visits.js';
import { columnsOf, type ListQuery, recordOf } from './page.js';
import { resolveScope, scopeSql } from './scope.js';

/** Where a visit stands: planned (not done yet), done. */
export enum FollowUpState {
  PLANNED = 'PLANNED',
  DONE = 'DONE',
}

/** The root `followUps` query's filter: every field narrows; the date ranges are inclusive ISO dates. */
export interface FollowUpFilter {
  patientId?: string | null;
  /** Visits of patients managed by this organisation or one below it. */
  organizationId?: string | null;
  /** Visits of patients of this family-doctor team (its grid, its contracts). */
  careTeamId?: string | null;
  /** Visits this practitioner made or is planned to make. */
  practitionerId?: string | null;
  state?: FollowUpState | null;
  plannedFrom?: string | null;
  plannedTo?: string | null;
  doneFrom?: string | null;
  doneTo?: string | null;
}

/** A visit's date: when it took place, else when it is planned (every follow-up has one: FollowUpService). */
const DATE = 'coalesce(f.done_date, f.planned_date)';

export const FOLLOW_UPS_SORTS = {
  /** Earliest first: a week's planned visits in the order they come. */
  DATE: [{ sql: DATE, type: 'date' }, { sql: 'f.id', type: 'uuid' }],
  /** Newest first. */
  DATE_DESC: [{ sql: DATE, type: 'date', desc: true }, { sql: 'f.id', type: 'uuid', desc: true }],
} as const;

/**
 * The root `followUps` query: visits, planned and done, of the patients the caller may see (every visit, whatever the
 * patient's care status: this is the record, not a worklist), by date ranges and whose they are.
 */
export async function followUps(em: EntityManager, policy: AccessPolicy, filter: FollowUpFilter): Promise<ListQuery<FollowUp>> {
  for (const key of ['patientId', 'practitionerId'] as const) {
    if (filter[key] != null && !isUuid(filter[key]!)) throw badInput(`filter.${key} is not an id`, `filter.${key}`);
  }
  const whose = await resolveScope(em, { organizationId: filter.organizationId, careTeamId: filter.careTeamId }, policy, 'filter');
  for (const [from, to] of [['plannedFrom', 'plannedTo'], ['doneFrom', 'doneTo']] as const) {
    if (filter[from] && filter[to] && filter[to]! < filter[from]!) throw badInput(`filter.${to} is before filter.${from}`, `filter.${to}`);
  }
  const where: Predicate[] = [];
  const visible = policy.rowsVisible('FollowUp', 'f');
  if (visible) where.push(visible);
  if (filter.patientId) where.push({ sql: 'f.patient_id = ?', params: [filter.patientId] });
  if (filter.practitionerId) where.push({ sql: 'f.practitioner_id = ?', params: [filter.practitionerId] });
  if (filter.organizationId || filter.careTeamId) {
    const scope = scopeSql(whose, 'fp');
    where.push({ sql: `exists (select 1 from patient fp where fp.id = f.patient_id and ${scope.map((s) => s.sql).join(' and ')})`, params: scope.flatMap((s) => s.params) });
  }
  if (filter.state === FollowUpState.PLANNED) where.push({ sql: openPlannedVisitSql('f'), params: [] });
  if (filter.state === FollowUpState.DONE) where.push({ sql: 'f.done_date is not null', params: [] });
  const range = (column: string, from?: string | null, to?: string | null) => {
    if (from) where.push({ sql: `${column} >= ?::date`, params: [from] });
    if (to) where.push({ sql: `${column} <= ?::date`, params: [to] });
  };
  range('f.planned_date', filter.plannedFrom, filter.plannedTo);
  range('f.done_date', filter.doneFrom, filter.doneTo);
  return {
    list: 'followUps',
    from: 'follow_up f',
    where,
    select: [columnsOf(em, FollowUp, 'f')],
    sorts: FOLLOW_UPS_SORTS,
    entry: (row) => recordOf(em, FollowUp, row, 'f')!,
  };
}
