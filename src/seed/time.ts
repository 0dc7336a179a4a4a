/** Time helpers of the seed: days are integer days since the Unix epoch; clinic hours are China Standard Time (UTC+8). */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MIN_MS = 60_000;
const CST_OFFSET_H = 8;

const isoCache = new Map<number, string>();
export function iso(day: number): string {
  let s = isoCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (isoCache.size > 100_000) isoCache.clear();
    isoCache.set(day, s);
  }
  return s;
}
export const dayOf = (isoDate: string): number => Math.floor(Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS);
/** Milliseconds for a local (CST) time of day on `day`. */
export const localMs = (day: number, hour: number, minute = 0): number => day * DAY_MS + (hour - CST_OFFSET_H) * HOUR_MS + minute * MIN_MS;
/** Age in whole years on the date `on` of someone born on `birthDate` (both YYYY-MM-DD). */
export function ageOn(birthDate: string, on: string): number {
  return Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (on.slice(5) < birthDate.slice(5) ? 1 : 0);
}
