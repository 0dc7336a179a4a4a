import type { ObservationKind } from '../../vocabulary/index.js';
import { countsForControl, countsForControlSql, type Plausibility } from './plausibility.js';
import { sqlText } from './sql.js';

/** A period, half-open: from (inclusive) to (exclusive); either end open when absent. */
export interface Period {
  from?: Date;
  to?: Date;
}

export interface DatedReading {
  id: string;
  kind: ObservationKind;
  effectiveAt: Date;
  plausibility?: Plausibility | null;
}

/**
 * "The latest reading in a period", one definition: of the given kinds, plausible (`countsForControl`), taken in
 * [from, to), the newest by time, ties broken by the larger id (ids are UUIDv7: the later written). What an
 * indicator such as "latest BP in the period < 140/90" judges a patient by; `latestReadingSql` is the same in SQL.
 */
export function latestReading<T extends DatedReading>(readings: readonly T[], kinds: readonly ObservationKind[], period: Period = {}): T | undefined {
  let best: T | undefined;
  for (const r of readings) {
    if (!kinds.includes(r.kind) || !countsForControl(r)) continue;
    const at = r.effectiveAt.getTime();
    if ((period.from && at < period.from.getTime()) || (period.to && at >= period.to.getTime())) continue;
    if (!best || at > best.effectiveAt.getTime() || (at === best.effectiveAt.getTime() && r.id > best.id)) best = r;
  }
  return best;
}

/** What `latestReadingSql` gives of a reading; observation_latest_counting_idx covers them (keep the two alike). */
export const LATEST_READING_COLUMNS = ['id', 'patient_id', 'kind', 'effective_at', 'plausibility', 'systolic', 'diastolic', 'value'] as const;

/**
 * `latestReading` as SQL: a lateral-joinable subquery over `observation` giving the latest counting reading of
 * `kinds` for the patient `patientColumn` names (e.g. `p.id`), as `alias` with the columns a judgement reads
 * (LATEST_READING_COLUMNS: controlStatusSql's and the reading's identity). The period's ends are parameters
 * (`params`, in order). Only these columns, because the partial index observation_latest_counting_idx (migration
 * 20261203160000) holds them: an index-only scan stops at the first entry, where whole rows cost a heap read each
 * (the county's BP control rate: 10,906 patients, most of the indicators' time).
 */
export function latestReadingSql(kinds: readonly ObservationKind[], patientColumn: string, period: Period = {}, alias = 'lr'): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = [`${alias}.patient_id = ${patientColumn}`, `${alias}.kind in (${kinds.map(sqlText).join(', ')})`, countsForControlSql(alias)];
  if (period.from) {
    where.push(`${alias}.effective_at >= ?`);
    params.push(period.from);
  }
  if (period.to) {
    where.push(`${alias}.effective_at < ?`);
    params.push(period.to);
  }
  return { sql: `(select ${LATEST_READING_COLUMNS.map((c) => `${alias}.${c}`).join(', ')} from observation ${alias} where ${where.join(' and ')} order by ${alias}.effective_at desc, ${alias}.id desc limit 1)`, params };
}
