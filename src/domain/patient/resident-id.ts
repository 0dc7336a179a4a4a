/**
 * Resident identity card number (居民身份证号), GB 11643-1999: 6-digit area code, 8-digit birth date,
 * 3-digit sequence (odd for men, even for women) and a check character computed ISO 7064 MOD 11-2.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

export function residentIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

export interface ResidentIdParts {
  areaCode: string;
  birthDate: string;
  male: boolean;
}

/** Parses and checks an 18-character resident ID; returns undefined when it is not valid. */
export function parseResidentId(raw: string): ResidentIdParts | undefined {
  const id = raw.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return undefined;
  if (residentIdCheckChar(id.slice(0, 17)) !== id[17]) return undefined;
  const y = id.slice(6, 10), m = id.slice(10, 12), d = id.slice(12, 14);
  const date = new Date(`${y}-${m}-${d}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== `${y}-${m}-${d}`) return undefined;
  return { areaCode: id.slice(0, 6), birthDate: `${y}-${m}-${d}`, male: Number(id[16]) % 2 === 1 };
}

export function makeResidentId(areaCode: string, birthDate: string, sequence: number): string {
  const first17 = `${areaCode}${birthDate.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}
