/**
 * Money in a settlement is whole fen (分, 1/100 CNY) held in JS numbers: the largest figure a county settles
 * (a budget of a few billion CNY, 10^11–10^12 fen) is far inside Number.MAX_SAFE_INTEGER, and integers add
 * exactly. Products of money and fractions (a rate × an uplift, a surplus × a share) are not whole; each is rounded
 * once, by the rule written where it happens (roundHalfUp, roundDown), never left fractional.
 */
export type Fen = number;

/**
 * A floating-point product of exact values can land a hair off the whole it means (70000 × 1.3 = 91000.00000000001,
 * 551120000 × 0.94 = 518052799.99999994). Within a ten-thousandth of a fen of a whole counts as that whole: far above
 * the error of a product of figures of this size (below 10^-5 fen at 10^12 fen), far below a fen.
 */
const EPSILON = 1e-4;

/** Round half up to the fen (amounts here are never negative). */
export const roundHalfUp = (x: number): Fen => Math.floor(x + 0.5 + EPSILON);

/** Round down to a whole `unit` of fen (1 = the fen, 10_000 = 100 CNY). */
export const roundDown = (x: number, unit: Fen = 1): Fen => Math.floor(x / unit + EPSILON / unit) * unit;

/** CNY with two decimals, e.g. 518040000 → "5180400.00" (how the API writes money). */
export function formatYuan(fen: Fen): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const YUAN = /^(-?)(\d{1,13})(?:\.(\d{1,2}))?$/;

/**
 * Fen from CNY as written ("379488800", "379488800.5", "379488800.50") or as a number with at most two decimals;
 * undefined for anything else (more decimals, exponents, not finite, over 10^13 CNY).
 */
export function parseYuan(value: unknown): Fen | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    const fen = Math.round(value * 100);
    // A number is taken only when it is its two-decimal self (0.1 + 0.2 is not 0.30 as written).
    if (Math.abs(fen - value * 100) > 1e-6 * Math.max(1, Math.abs(value))) return undefined;
    text = formatYuan(fen);
  } else if (typeof value === 'string') text = value.trim();
  else return undefined;
  const m = YUAN.exec(text);
  if (!m) return undefined;
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -fen : fen;
}
