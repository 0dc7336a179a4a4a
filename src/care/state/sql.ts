import { countyTimeZone } from '../../care-rules/calendar.js';
import type { CareScope } from '../index.js';

/**
 * The pieces every statement of the derivation shares: which patients (the scope, one parameter), the county's
 * today and its calendar in SQL. Dates and the time zone are checked and written as literals, so a statement's
 * only parameters are the scope's ids.
 */
export interface Frame {
  /** `true`, or `<column> = any(?::uuid[])` — see `scoped`. */
  scope: CareScope;
  today: string;
  timeZone: string;
}

export function frameOf(scope: CareScope, today: string, timeZone = countyTimeZone()): Frame {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`care rules: today ${JSON.stringify(today)} is not an ISO date`);
  if (!/^[A-Za-z0-9_+\-/]+$/.test(timeZone)) throw new Error(`care rules: ${JSON.stringify(timeZone)} is not a time zone name`);
  return { scope, today, timeZone };
}

/** The scope as a predicate on a patient-id column, and its parameters (every rule set's: alerts, pathway too). */
export function scopeSql(scope: CareScope, column: string): { sql: string; params: unknown[] } {
  if ('all' in scope) return { sql: 'true', params: [] };
  return { sql: `${column} = any(?::uuid[])`, params: [`{${scope.patientIds.join(',')}}`] };
}

/** The frame's scope as a predicate on a patient-id column, and its parameters. */
export const scoped = (frame: Frame, column: string): { sql: string; params: unknown[] } => scopeSql(frame.scope, column);

/** Today, `days` days earlier (or later, negative), as a SQL date literal. */
export const daySql = (frame: Frame, daysBefore = 0): string => `(date '${frame.today}' - ${Math.trunc(daysBefore)})`;

/** The instant a county day (a SQL date expression) begins. */
export const dayStartSql = (frame: Frame, date: string): string => `((${date})::timestamp at time zone '${frame.timeZone}')`;

/** The county day of an instant (a SQL timestamptz expression). */
export const countyDaySql = (frame: Frame, instant: string): string => `((${instant}) at time zone '${frame.timeZone}')::date`;
