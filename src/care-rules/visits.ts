/**
 * What a follow-up row is (ADR 16), said once: the rules, the worklists and the services that pick a visit all ask
 * here. A row planned and neither done nor cancelled is an open planned visit — the rules keep at most one per
 * managed patient, and recording a visit fills it in. A row done and not cancelled is a visit that took place: only
 * those are judged, counted and followed up.
 */

interface VisitDates {
  plannedDate?: string | null;
  doneDate?: string | null;
  cancelledAt?: Date | null;
}

export const isOpenPlannedVisit = (f: VisitDates): boolean => !!f.plannedDate && !f.doneDate && !f.cancelledAt;

/** `isOpenPlannedVisit` as SQL over a follow_up alias (the partial index follow_up_open_planned_index is the same condition). */
export const openPlannedVisitSql = (f: string): string => `${f}.planned_date is not null and ${f}.done_date is null and ${f}.cancelled_at is null`;

/** `isOpenPlannedVisit` as an ORM condition on FollowUp. */
export const OPEN_PLANNED_VISIT = Object.freeze({ plannedDate: { $ne: null }, doneDate: null, cancelledAt: null });

/** A visit that took place, as SQL over a follow_up alias. */
export const doneVisitSql = (f: string): string => `${f}.done_date is not null and ${f}.cancelled_at is null`;

/**
 * A visit that was due: planned for a date and not cancelled (done or not). The follow-up on-time rate's
 * denominator counts these by their planned date (src/indicators/definitions/follow-up-on-time-rate.ts).
 */
export const isDueVisit = (f: VisitDates): boolean => !!f.plannedDate && !f.cancelledAt;

/** `isDueVisit` as SQL over a follow_up alias. */
export const dueVisitSql = (f: string): string => `${f}.planned_date is not null and ${f}.cancelled_at is null`;

/** A due visit done on or before the day it was planned for: on time. */
export const isDoneOnTime = (f: VisitDates): boolean => isDueVisit(f) && !!f.doneDate && f.doneDate <= f.plannedDate!;

/** `isDoneOnTime` as SQL over a follow_up alias. */
export const doneOnTimeSql = (f: string): string => `(${dueVisitSql(f)} and ${f}.done_date is not null and ${f}.done_date <= ${f}.planned_date)`;
