import { CareStatus, type ClinicalStatus, ConditionKind, type VerificationStatus } from '../../vocabulary/index.js';
import { isStanding, MANAGED_KINDS, standingConditionSql } from './management.js';
import { sqlText } from './sql.js';

/**
 * Who the programme managed on a past day, said once (docs/care-model.md, "Quality indicators"): the indicators of
 * a period count the patients managed at its end. The records keep a patient's present (care status and its date,
 * the diagnosis' present status), not every past state, so a day is judged from what they say:
 *  - registered (the patient record created, the county day of `created_at`) on or before the day;
 *  - still in the programme that day: not ACTIVE now with a care status dated on or before the day (or undated) —
 *    a patient who died, moved away, transferred out or withdrew after the day was still managed on it;
 *  - a standing (care-rules/management.ts `isStanding`) hypertension or type 2 diabetes diagnosis dated (its onset,
 *    else the day it was recorded) on or before the day.
 * Management began (`since`) on the later of registration and the first such diagnosis.
 * `managedOnSql` is the same rule in SQL; test/indicators.test.ts checks the two agree over a seeded county.
 */
export interface ProgrammeFacts {
  /** The county day the patient was registered. */
  registeredOn: string;
  careStatus: CareStatus;
  careStatusOn?: string | null;
}

export interface DiagnosisFacts {
  kind: ConditionKind;
  clinicalStatus?: ClinicalStatus | null;
  verificationStatus?: VerificationStatus | null;
  /** The onset, else the county day the diagnosis was recorded. */
  diagnosedOn: string;
}

export interface ManagedOn {
  hypertension: boolean;
  diabetes: boolean;
  since: string;
}

/** Registered by `day` and not gone from the programme by it (whatever the diagnoses): who a period's indicators may count. */
export function inProgrammeOn(p: ProgrammeFacts, day: string): boolean {
  if (p.registeredOn > day) return false;
  return p.careStatus === CareStatus.ACTIVE || (!!p.careStatusOn && p.careStatusOn > day);
}

/** Managed on `day`, and for which of the two conditions; undefined when not managed. */
export function managedOn(p: ProgrammeFacts, diagnoses: readonly DiagnosisFacts[], day: string): ManagedOn | undefined {
  if (!inProgrammeOn(p, day)) return undefined;
  const standing = diagnoses.filter((d) => MANAGED_KINDS.includes(d.kind) && isStanding(d) && d.diagnosedOn <= day);
  if (!standing.length) return undefined;
  const first = standing.map((d) => d.diagnosedOn).reduce((a, b) => (a < b ? a : b));
  return {
    hypertension: standing.some((d) => d.kind === ConditionKind.HYPERTENSION),
    diabetes: standing.some((d) => d.kind === ConditionKind.TYPE_2_DIABETES),
    since: first > p.registeredOn ? first : p.registeredOn,
  };
}

/** The county day of an instant column, as SQL (`timeZone` checked by the caller: a zone name). */
export const countyDayOfSql = (instant: string, timeZone: string): string => `((${instant}) at time zone '${timeZone}')::date`;

/**
 * `inProgrammeOn` as SQL over a patient row `p` (created_at, care_status, care_status_on); `day` a SQL date expression.
 */
export function inProgrammeOnSql(p: string, day: string, timeZone: string): string {
  return `(${countyDayOfSql(`${p}.created_at`, timeZone)} <= ${day} and (${p}.care_status = ${sqlText(CareStatus.ACTIVE)} or ${p}.care_status_on > ${day}))`;
}

/**
 * `managedOn` as SQL: a select of one row per patient of the relation `from` (alias `p`: id, created_at, care_status,
 * care_status_on, and whatever else `columns` names) managed on `day`, with `hypertension`, `diabetes` (booleans) and
 * `managed_since` (a date).
 */
export function managedOnSql(from: string, day: string, timeZone: string, columns: readonly string[] = []): string {
  const diagnosed = `coalesce(mc.onset_date, ${countyDayOfSql('mc.created_at', timeZone)})`;
  const registered = countyDayOfSql('p.created_at', timeZone);
  const extra = columns.map((c) => `, p.${c}`).join('');
  return `select p.id${extra},
      bool_or(mc.kind = ${sqlText(ConditionKind.HYPERTENSION)}) as hypertension,
      bool_or(mc.kind = ${sqlText(ConditionKind.TYPE_2_DIABETES)}) as diabetes,
      greatest(min(${diagnosed}), ${registered}) as managed_since
    from ${from} p join condition mc on mc.patient_id = p.id
    where ${inProgrammeOnSql('p', day, timeZone)}
      and mc.kind in (${MANAGED_KINDS.map(sqlText).join(', ')}) and ${standingConditionSql('mc')} and ${diagnosed} <= ${day}
    group by p.id, p.created_at${extra}`;
}

/**
 * The face-to-face visits (CLINIC, HOME: follow-up-interval.ts `isFaceToFace`) the standard asks of a patient managed
 * from `from` to `to` (county days, both included): `minFaceToFaceFollowUpsPerYear` a year, pro-rated by the months
 * managed and rounded up — a quarter asks 1, half a year 2, a year 4 (by default); a patient managed for ten weeks of a
 * quarter still 1. Months are counted on the calendar (from the 15th to the 15th is a month), the days left over as
 * thirtieths of a month, so calendar quarters and years come out whole whatever their length in days.
 */
export function faceToFaceVisitsRequired(from: string, to: string, perYear: number): number {
  const after = addOneDay(to);
  const [y1, m1, d1] = from.split('-').map(Number) as [number, number, number];
  const [y2, m2, d2] = after.split('-').map(Number) as [number, number, number];
  const thirtieths = 30 * (12 * (y2 - y1) + (m2 - m1)) + (d2 - d1);
  return thirtieths <= 0 ? 0 : Math.ceil((perYear * thirtieths) / 360);
}

/** `faceToFaceVisitsRequired` as SQL over two date expressions and the yearly number (a literal). */
export function faceToFaceVisitsRequiredSql(from: string, to: string, perYear: string): string {
  const after = `((${to}) + 1)`;
  const part = (field: string, d: string) => `extract(${field} from ${d})::int`;
  const thirtieths = `(30 * (12 * (${part('year', after)} - ${part('year', from)}) + (${part('month', after)} - ${part('month', from)})) + (${part('day', after)} - ${part('day', from)}))`;
  return `(case when ${thirtieths} <= 0 then 0 else ceil((${perYear}) * ${thirtieths}::numeric / 360)::int end)`;
}

function addOneDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
