import { countyTimeZone } from '../care-rules/calendar.js';
import { badInput } from '../domain/errors.js';
import type { IndicatorInput, Period } from './indicator.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (s: unknown): s is string => typeof s === 'string' && ISO_DATE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

/** The longest period an indicator is computed over: five years (a contract's term), so that no request scans a century. */
export const MAX_PERIOD_YEARS = 5;

/** A period's days are real ISO dates, the end not before the start, and at most five years apart. BAD_USER_INPUT otherwise. */
export function checkPeriod(period: Period): void {
  if (!period || !isDay(period.start)) throw badInput(`period.start must be an ISO date (YYYY-MM-DD), got ${JSON.stringify(period?.start)}`, 'period.start');
  if (!isDay(period.end)) throw badInput(`period.end must be an ISO date (YYYY-MM-DD), got ${JSON.stringify(period.end)}`, 'period.end');
  if (period.end < period.start) throw badInput(`period.end ${period.end} is before period.start ${period.start}`, 'period.end');
  const limit = `${String(Number(period.start.slice(0, 4)) + MAX_PERIOD_YEARS).padStart(4, '0')}${period.start.slice(4)}`;
  if (period.end >= limit) throw badInput(`a period is at most ${MAX_PERIOD_YEARS} years long (${period.start} to ${period.end})`, 'period.end');
}

export function checkTimeZone(timeZone: string): string {
  if (!/^[A-Za-z0-9_+\-/]+$/.test(timeZone)) throw new Error(`indicators: ${JSON.stringify(timeZone)} is not a time zone name`);
  return timeZone;
}

/**
 * The period in SQL, as literals (the dates are checked, the zone is a name): `start` and `end` are county days
 * (dates, both included); `startAt` and `endAt` the instants that bound them, half-open [startAt, endAt) — a reading
 * taken at 23:30 on the last day in the county is in the period, one at 00:10 the next day is not.
 */
export interface PeriodSql {
  start: string;
  end: string;
  startAt: string;
  endAt: string;
  /** The county day of an instant expression. */
  dayOf(instant: string): string;
}

export function periodSql(input: IndicatorInput): PeriodSql {
  const tz = checkTimeZone(input.timeZone);
  const start = `date '${input.period.start}'`;
  const end = `date '${input.period.end}'`;
  return {
    start,
    end,
    startAt: `(${start}::timestamp at time zone '${tz}')`,
    endAt: `((${end} + 1)::timestamp at time zone '${tz}')`,
    dayOf: (instant) => `((${instant}) at time zone '${tz}')::date`,
  };
}

/** The instant a county day begins, in JS (for the rules' helpers that take Date parameters, latest.ts). */
export function dayStart(day: string, timeZone: string = countyTimeZone()): Date {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const offsetAt = (t: number): number => {
    const parts = Object.fromEntries(format.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - t;
  };
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  // The zone's offset at its midnight (twice: a change of offset that day moves it once).
  let t = midnightUtc - offsetAt(midnightUtc);
  t = midnightUtc - offsetAt(t);
  return new Date(t);
}

export function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The calendar months a period touches, each as the part of the month inside the period. */
export function monthsOf(period: Period): Array<{ month: string; start: string; end: string }> {
  const out: Array<{ month: string; start: string; end: string }> = [];
  let y = Number(period.start.slice(0, 4));
  let m = Number(period.start.slice(5, 7));
  for (;;) {
    const month = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
    if (month > period.end.slice(0, 7)) break;
    const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    out.push({ month, start: month === period.start.slice(0, 7) ? period.start : `${month}-01`, end: last < period.end ? last : period.end });
    m += 1;
    if (m > 12) [y, m] = [y + 1, 1];
  }
  return out;
}
