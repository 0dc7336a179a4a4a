/**
 * The county's calendar: "today", for consent and coverage periods, due dates and ages, is the date in the
 * county's time zone (COUNTY_TIME_ZONE, default Asia/Shanghai), not UTC — between 00:00 and 08:00 in the
 * county the UTC date is still yesterday.
 */
export function countyTimeZone(): string {
  return process.env.COUNTY_TIME_ZONE || 'Asia/Shanghai';
}

export function countyToday(now: Date = new Date(), timeZone: string = countyTimeZone()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
