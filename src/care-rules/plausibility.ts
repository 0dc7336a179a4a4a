import { ObservationKind, Plausibility } from '../../vocabulary/index.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';
import { sqlNumber } from './sql.js';

/**
 * Whether a reading's values and time are believable: PLAUSIBLE, or IMPLAUSIBLE with a reason. Stored on the
 * observation (`plausibility`, `plausibilityReason`). An implausible reading is kept — what a hospital sends is
 * stored as sent — but counts for nothing: see `countsForControl`.
 */
export { Plausibility };

/** Device clocks drift: a reading a few minutes "in the future" is still plausible. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export type Range = readonly [number, number];

/** The plausible range of a value-carrying kind, in its canonical unit (blood pressure: `rules.plausible.systolic` / `diastolic`). */
export function plausibleRange(kind: ObservationKind, rules: CareRules = DEFAULT_CARE_RULES): Range | undefined {
  const p = rules.plausible;
  switch (kind) {
    case ObservationKind.FASTING_GLUCOSE:
    case ObservationKind.GLUCOSE:
      return p.glucoseMmolL;
    case ObservationKind.HBA1C:
      return p.hba1cPercent;
    case ObservationKind.WEIGHT:
      return p.weightKg;
    case ObservationKind.HEIGHT:
      return p.heightCm;
    case ObservationKind.BMI:
      return p.bmi;
    case ObservationKind.HEART_RATE:
      return p.heartRate;
    case ObservationKind.WAIST_CIRCUMFERENCE:
      return p.waistCm;
    default:
      return undefined;
  }
}

const inRange = (v: number, [lo, hi]: Range) => Number.isFinite(v) && v >= lo && v <= hi;

/** A reading in canonical units, as stored. */
export interface CanonicalReading {
  kind: ObservationKind;
  value?: number | null;
  systolic?: number | null;
  diastolic?: number | null;
  effectiveAt: Date;
}

/** Why a reading is implausible, and which of its fields says so. */
export interface Implausibility {
  reason: string;
  field: 'value' | 'systolic' | 'diastolic' | 'effectiveAt';
}

/**
 * The plausibility rule, one definition for every path: a value outside its kind's plausible range, a systolic not
 * above its diastolic, a time in the future (beyond CLOCK_SKEW_MS) or before the patient was born. Readings through
 * GraphQL are refused for it unless confirmed (`confirmImplausible`); readings from FHIR are stored flagged. The
 * first finding is returned; none, the reading is plausible. (What is malformed — no value, a unit we cannot
 * convert, a kind we do not know — is not a plausibility question: observation.service.ts, `assessReading`.)
 */
export function implausibilityOf(
  reading: CanonicalReading,
  rules: CareRules = DEFAULT_CARE_RULES,
  { birthDate, now = Date.now() }: { birthDate?: string | null; now?: number } = {},
): Implausibility | undefined {
  const { kind } = reading;
  if (kind === ObservationKind.BLOOD_PRESSURE) {
    const sys = reading.systolic!;
    const dia = reading.diastolic!;
    if (!inRange(sys, rules.plausible.systolic)) return { reason: `systolic ${sys} mmHg is outside the plausible range ${rules.plausible.systolic.join('–')}`, field: 'systolic' };
    if (!inRange(dia, rules.plausible.diastolic)) return { reason: `diastolic ${dia} mmHg is outside the plausible range ${rules.plausible.diastolic.join('–')}`, field: 'diastolic' };
    if (sys <= dia) return { reason: `systolic ${sys} mmHg is not above diastolic ${dia} mmHg`, field: 'systolic' };
  } else {
    const range = plausibleRange(kind, rules);
    const v = reading.value!;
    if (range && !inRange(v, range)) return { reason: `${kind} ${v} is outside the plausible range ${range.join('–')}`, field: 'value' };
  }
  const at = reading.effectiveAt.getTime();
  if (at > now + CLOCK_SKEW_MS) return { reason: 'effectiveAt is in the future', field: 'effectiveAt' };
  if (birthDate && reading.effectiveAt.toISOString().slice(0, 10) < birthDate) return { reason: 'effectiveAt is before the patient was born', field: 'effectiveAt' };
  return undefined;
}

/**
 * The same rule over stored rows, as SQL: `case when … then 'IMPLAUSIBLE' else 'PLAUSIBLE' end` over `alias`'s
 * kind, value, systolic, diastolic and effective_at; `birthDate` a SQL expression for the patient's birth date
 * (a `date`), if any. Numbers are literals (validated finite: rules.ts), so the expression needs no parameters.
 */
export function plausibilitySql(rules: CareRules = DEFAULT_CARE_RULES, alias = 'o', { birthDate }: { birthDate?: string } = {}): string {
  const a = alias;
  const outside = (col: string, [lo, hi]: Range) => `(${col} is null or ${col} < ${sqlNumber(lo)} or ${col} > ${sqlNumber(hi)})`;
  const kinds = Object.values(ObservationKind)
    .map((kind) => [kind, plausibleRange(kind, rules)] as const)
    .filter((k): k is readonly [ObservationKind, Range] => !!k[1]);
  const value = kinds.map(([kind, range]) => `(${a}.kind = '${kind}' and ${outside(`${a}.value`, range)})`);
  const bp = `(${a}.kind = '${ObservationKind.BLOOD_PRESSURE}' and (${outside(`${a}.systolic`, rules.plausible.systolic)} or ${outside(`${a}.diastolic`, rules.plausible.diastolic)} or ${a}.systolic <= ${a}.diastolic))`;
  const time = [`${a}.effective_at > now() + interval '${CLOCK_SKEW_MS / 1000} seconds'`];
  if (birthDate) time.push(`(${birthDate} is not null and (${a}.effective_at at time zone 'UTC')::date < ${birthDate})`);
  return `(case when ${[bp, ...value, ...time].join(' or ')} then '${Plausibility.IMPLAUSIBLE}' else '${Plausibility.PLAUSIBLE}' end)`;
}

/**
 * Whether a stored reading counts for anything clinical: control status, the "latest reading" fields that show
 * control, worklists and indicators. Only plausible readings do — an implausible one is shown, flagged, and
 * otherwise ignored. Every query that picks readings to judge a patient by must apply this (TS) or
 * `countsForControlSql` (SQL): the latest-reading loaders (src/graphql/loaders.ts), `latestReadingSql`,
 * management.ts.
 */
export function countsForControl(o: { plausibility?: Plausibility | null }): boolean {
  return (o.plausibility ?? Plausibility.PLAUSIBLE) === Plausibility.PLAUSIBLE;
}

export function countsForControlSql(alias = 'o'): string {
  return `${alias}.plausibility = '${Plausibility.PLAUSIBLE}'`;
}
