import { CareStatus, ContactOutcome } from '../../vocabulary/index.js';
import { countyTimeZone } from './calendar.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';
import { sqlNumber, sqlText } from './sql.js';

/**
 * Who is on the next overdue lists, by the patient's programme status and the outcome of the latest attempt to
 * contact them (docs/care-model.md, "Patients leave and come back"). As Simple.org's overdue lists do, a call's
 * result takes the patient off the list for a while, or for good when they are no longer the clinic's:
 *
 * | latest attempt | off the overdue lists |
 * |---|---|
 * | REACHED, will come on a date | until that date + `contact.promisedVisitGraceDays` (3) |
 * | REACHED, no date | `contact.reachedWithoutDateDays` (30) after the attempt |
 * | NOT_REACHABLE | `contact.notReachableDays` (7) after the attempt: then call again |
 * | WRONG_NUMBER | while the patient's telephone is the number that was wrong (a new number puts them back) |
 * | REFUSED | `contact.refusedDays` (90) after the attempt |
 * | MOVED, DIED | the attempt sets the care status (MOVED_AWAY, DIED): off while it is not ACTIVE |
 *
 * A patient whose care status is not ACTIVE is never on the list; set ACTIVE again, they come back. With the overdue
 * visit given, only attempts made on or after the day it was planned for count: an old refusal does not hide a
 * later missed visit.
 */

export interface ContactAttemptFacts {
  outcome: ContactOutcome;
  /** The county date of the attempt (YYYY-MM-DD). */
  attemptedOn: string;
  willComeOn?: string | null;
  /** The number dialled. */
  phone?: string | null;
}

const addDays = (date: string, days: number): string => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

/** The last day an attempt keeps the patient off the list ('9999-12-31' for as long as the condition holds), or undefined when it does not. */
export function offOverdueListThrough(attempt: ContactAttemptFacts, patientPhone: string | null | undefined, rules: CareRules = DEFAULT_CARE_RULES): string | undefined {
  const c = rules.contact;
  switch (attempt.outcome) {
    case ContactOutcome.REACHED:
      return attempt.willComeOn ? addDays(attempt.willComeOn, c.promisedVisitGraceDays) : addDays(attempt.attemptedOn, c.reachedWithoutDateDays);
    case ContactOutcome.NOT_REACHABLE:
      return addDays(attempt.attemptedOn, c.notReachableDays);
    case ContactOutcome.REFUSED:
      return addDays(attempt.attemptedOn, c.refusedDays);
    case ContactOutcome.WRONG_NUMBER:
      return (attempt.phone ?? null) === (patientPhone ?? null) ? '9999-12-31' : undefined;
    default:
      // MOVED and DIED act through the care status.
      return undefined;
  }
}

/**
 * On the overdue list (`onOverdueListSql` is the same in SQL): the patient is ACTIVE and the latest attempt that
 * counts (on or after `plannedDate` when given) does not keep them off on `today`.
 */
export function onOverdueList(
  patient: { careStatus: CareStatus; phone?: string | null },
  attempts: readonly ContactAttemptFacts[],
  today: string,
  rules: CareRules = DEFAULT_CARE_RULES,
  plannedDate?: string,
): boolean {
  if (patient.careStatus !== CareStatus.ACTIVE) return false;
  const counting = attempts.filter((a) => !plannedDate || a.attemptedOn >= plannedDate);
  // The latest attempt stands (attempts on one day: the caller lists them in the order they were made).
  const latest = counting.reduce<ContactAttemptFacts | undefined>((best, a) => (!best || a.attemptedOn >= best.attemptedOn ? a : best), undefined);
  if (!latest) return true;
  const through = offOverdueListThrough(latest, patient.phone, rules);
  return !through || through < today;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The parts of the rule in SQL: the latest counting attempt as a subquery, and whether attempt row `la` keeps the patient off on `today`. */
function contactSql(rules: CareRules, aliases: { patient: string; followUp?: string }, today: string, la: string): { latest: string; keepsOff: string } {
  if (!ISO_DATE.test(today)) throw new Error(`onOverdueListSql: today must be YYYY-MM-DD, got ${JSON.stringify(today)}`);
  const c = rules.contact;
  const p = aliases.patient;
  const tz = countyTimeZone().replaceAll("'", "''");
  const dayOf = (a: string) => `(${a}.attempted_at at time zone '${tz}')::date`;
  const on = dayOf(la);
  const t = `date '${today}'`;
  const since = aliases.followUp ? ` and ${dayOf('ca')} >= ${aliases.followUp}.planned_date` : '';
  const latest = `(select ca.outcome, ca.attempted_at, ca.will_come_on, ca.phone from contact_attempt ca where ca.patient_id = ${p}.id${since} order by ca.attempted_at desc, ca.id desc limit 1)`;
  const keepsOff =
    `(${la}.outcome = ${sqlText(ContactOutcome.REACHED)} and coalesce(${la}.will_come_on + ${sqlNumber(c.promisedVisitGraceDays)}, ${on} + ${sqlNumber(c.reachedWithoutDateDays)}) >= ${t}) ` +
    `or (${la}.outcome = ${sqlText(ContactOutcome.NOT_REACHABLE)} and ${on} + ${sqlNumber(c.notReachableDays)} >= ${t}) ` +
    `or (${la}.outcome = ${sqlText(ContactOutcome.REFUSED)} and ${on} + ${sqlNumber(c.refusedDays)} >= ${t}) ` +
    `or (${la}.outcome = ${sqlText(ContactOutcome.WRONG_NUMBER)} and ${la}.phone is not distinct from ${p}.phone)`;
  return { latest, keepsOff };
}

/**
 * `onOverdueList` as a SQL condition, for the overdue worklist (which adds what makes a visit overdue): `patient` is
 * the patient table's alias; `followUp`, when given, the overdue planned visit's (its `planned_date` bounds which
 * attempts count); `today` the county date (YYYY-MM-DD, written in as a literal). The latest attempt is found by the
 * (patient_id, attempted_at) index.
 */
export function onOverdueListSql(rules: CareRules, aliases: { patient: string; followUp?: string }, today: string): string {
  const { latest, keepsOff } = contactSql(rules, aliases, today, 'la');
  return `(${aliases.patient}.care_status = ${sqlText(CareStatus.ACTIVE)} and not exists (select 1 from ${latest} la where ${keepsOff}))`;
}

/**
 * `onOverdueListSql` as a join and a condition, for a statement that walks rows in order and stops at a page's end:
 * `join` (a `left join lateral` of the latest counting attempt as `attempt`, to follow the patient's and the visit's
 * tables in FROM) and `onList`, the same condition over it. Both say the same thing; the difference is the plan. A
 * subquery in WHERE is costed by PostgreSQL as run once, uncached (≈ 8 per call), and placed before the scope's
 * check: on a township's overdue list that made walking the open visits by date look dearer than hashing every
 * patient of the township, so every overdue visit of the county was read and sorted (77 ms on the 50,000-patient
 * county); joined, its cost is that of a repeated index probe and it runs only for the rows the scope kept (7 ms).
 */
export function onOverdueListJoinSql(rules: CareRules, aliases: { patient: string; followUp?: string }, today: string, attempt = 'la'): { join: string; onList: string } {
  const { latest, keepsOff } = contactSql(rules, aliases, today, attempt);
  // No attempt (every column null) keeps no one off; an attempt's row is never null in these columns, so coalesce only meets the no-attempt case.
  return { join: `left join lateral ${latest} ${attempt} on true`, onList: `(${aliases.patient}.care_status = ${sqlText(CareStatus.ACTIVE)} and not coalesce(${keepsOff}, false))` };
}
