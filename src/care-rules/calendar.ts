/**
 * The county's calendar: "today", for consent and coverage periods, due dates and ages, is the date in the
 * county's time zone (COUNTY_TIME_ZONE, default Asia/Shanghai), not UTC — between 00:00 and 08:00 in the
 * county the UTC date is still yesterday.
 */
export function countyTimeZone(): string {
  return process.env.COUNTY_TIME_ZONE || 'Asia/Shanghai';
}

/** One formatter per time zone: making an Intl.DateTimeFormat costs ~50 µs, and the policy asks for today on every query. */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function countyToday(now: Date = new Date(), timeZone: string = countyTimeZone()): string {
  let format = formatters.get(timeZone);
  if (!format) {
    // en-CA formats as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  return format.format(now);
}

/** Whole days from the date `from` to the date `to` (both YYYY-MM-DD, the county's calendar); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
