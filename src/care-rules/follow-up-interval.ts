import { ControlStatus, DueReason, FollowUpType, ManagementTier } from '../../vocabulary/index.js';
import { daysBetween } from './calendar.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';

// The calendar's, here too for the interval rules' callers (one definition: calendar.ts).
export { daysBetween };
import { sqlNumber, sqlText } from './sql.js';

export { DueReason };

/**
 * What the next visit is dated from (docs/care-model.md, "Follow-up rules and intervals"): the derivation
 * (src/care/state/) gathers them per managed patient in SQL; `nextFollowUpOf` and `nextFollowUpSql` decide.
 */
export interface NextFollowUpFacts {
  /** The last done visit's date, or (no visit yet) the day the patient's managed condition was recorded. */
  baseDate: string;
  /** A managed condition is uncontrolled (or urgent): the day of the reading that says so. */
  uncontrolledDay?: string | null;
  /** The last done visit reported an adverse drug reaction. */
  adverseReaction: boolean;
  /** The latest day, on or after `baseDate`, a referral of the patient was made or completed (not rejected or cancelled). */
  referralDay?: string | null;
  /** Every managed condition is controlled. */
  allControlled: boolean;
  tier: ManagementTier;
  /** Face-to-face visits (clinic, home) done in `baseDate`'s calendar year. */
  faceToFaceInYear: number;
  /** When the yearly health check falls due (the last health assessment + `followUpDays.annualCheck`), if one was recorded. */
  annualCheckDay?: string | null;
  /** A date a person asked for — at the last visit (`nextDueDate`), or by planning a visit by hand: taken only when earlier than the rules'. */
  clinicianDate?: string | null;
  /** The type a person gave the visit they planned, else the last done visit's: kept, unless the face-to-face minimum needs it in person (then a clinic visit, if it was not a home visit). */
  lastType?: FollowUpType | null;
}

export interface NextFollowUp {
  date: string;
  reason: DueReason;
  type: FollowUpType;
}

const FACE_TO_FACE: readonly FollowUpType[] = [FollowUpType.CLINIC, FollowUpType.HOME];

export const isFaceToFace = (type: FollowUpType): boolean => FACE_TO_FACE.includes(type);

/** `isFaceToFace` as SQL over a follow-up type column. */
export const faceToFaceSql = (typeColumn: string): string => `${typeColumn} in (${FACE_TO_FACE.map(sqlText).join(', ')})`;

/** The tier's longest interval (rules.tierMaximumDays). */
export function tierMaximumDays(tier: ManagementTier, rules: CareRules = DEFAULT_CARE_RULES): number {
  const m = rules.tierMaximumDays;
  return tier === ManagementTier.INTENSIVE ? m.intensive : tier === ManagementTier.ROUTINE ? m.routine : m.general;
}

/**
 * The next visit, decided once here: the earliest of the dates the interval rules give — 2 weeks after an
 * uncontrolled reading (from the visit, or from the reading when it came later) or an adverse reaction; 2 weeks after
 * a referral made or completed since the last visit; 3 months when every condition is controlled; never beyond the
 * tier's maximum; the yearly health check; a clinician's earlier date — ties going to the one listed first. Then the
 * face-to-face minimum: when the visits still needed this year (`minFaceToFaceFollowUpsPerYear`) cannot all fit
 * before the year ends at that interval, the visit comes sooner (as soon as the gaps allow, never under
 * `followUpDays.uncontrolled`), and it is face to face when the year's count would otherwise fall short.
 * `nextFollowUpSql` is the same rule in SQL over the same facts.
 */
export function nextFollowUpOf(f: NextFollowUpFacts, rules: CareRules = DEFAULT_CARE_RULES): NextFollowUp {
  const d = rules.followUpDays;
  const base = f.baseDate;
  const candidates: Array<[string | null, DueReason]> = [
    [f.uncontrolledDay ? addDays(f.uncontrolledDay > base ? f.uncontrolledDay : base, d.uncontrolled) : null, DueReason.UNCONTROLLED],
    [f.adverseReaction ? addDays(base, d.uncontrolled) : null, DueReason.ADVERSE_REACTION],
    [f.referralDay ? addDays(f.referralDay, d.afterReferral) : null, DueReason.AFTER_REFERRAL],
    [f.allControlled ? addDays(base, d.controlled) : null, DueReason.CONTROLLED],
    [addDays(base, tierMaximumDays(f.tier, rules)), DueReason.TIER_MAXIMUM],
    [f.annualCheckDay && f.annualCheckDay > base ? f.annualCheckDay : null, DueReason.ANNUAL_CHECK],
    [f.clinicianDate && f.clinicianDate > base ? f.clinicianDate : null, DueReason.CLINICIAN],
  ];
  let [date, reason] = candidates.filter((c): c is [string, DueReason] => c[0] !== null).reduce((best, c) => (c[0] < best[0] ? c : best));
  const yearEnd = `${base.slice(0, 4)}-12-31`;
  const needed = rules.minFaceToFaceFollowUpsPerYear - f.faceToFaceInYear;
  if (needed > 0) {
    const gap = Math.floor(daysBetween(base, yearEnd) / needed);
    if (gap >= d.uncontrolled && addDays(base, gap) < date) [date, reason] = [addDays(base, gap), DueReason.FACE_TO_FACE_MINIMUM];
  }
  const interval = Math.max(1, daysBetween(base, date));
  const fits = Math.floor(daysBetween(date, yearEnd) / interval) + 1;
  const inPerson = reason === DueReason.FACE_TO_FACE_MINIMUM || reason === DueReason.ANNUAL_CHECK || (needed > 0 && date <= yearEnd && needed >= fits);
  const type = f.lastType ?? FollowUpType.CLINIC;
  return { date, reason, type: inPerson && !isFaceToFace(type) ? FollowUpType.CLINIC : type };
}

/** Column names of a facts row, as the derivation's SQL names them. */
export const NEXT_FOLLOW_UP_FACT_COLUMNS: Record<keyof NextFollowUpFacts, string> = {
  baseDate: 'base_date',
  uncontrolledDay: 'uncontrolled_day',
  adverseReaction: 'adverse_reaction',
  referralDay: 'referral_day',
  allControlled: 'all_controlled',
  tier: 'tier',
  faceToFaceInYear: 'face_to_face_in_year',
  annualCheckDay: 'annual_check_day',
  clinicianDate: 'clinician_date',
  lastType: 'last_type',
};

/**
 * `nextFollowUpOf` as SQL: a subquery over a facts row `alias` (columns NEXT_FOLLOW_UP_FACT_COLUMNS; dates as
 * `date`) giving `planned_date`, `due_reason` and `type`, for `left join lateral (…) nf on true`. No parameters.
 */
export function nextFollowUpSql(rules: CareRules = DEFAULT_CARE_RULES, alias = 'a'): string {
  const d = rules.followUpDays;
  const c = (k: keyof NextFollowUpFacts) => `${alias}.${NEXT_FOLLOW_UP_FACT_COLUMNS[k]}`;
  const n = sqlNumber;
  const base = c('baseDate');
  const tierMax = `(case ${c('tier')} when ${sqlText(ManagementTier.INTENSIVE)} then ${n(rules.tierMaximumDays.intensive)} when ${sqlText(ManagementTier.ROUTINE)} then ${n(rules.tierMaximumDays.routine)} else ${n(rules.tierMaximumDays.general)} end)`;
  const candidates: Array<[string, DueReason]> = [
    [`case when ${c('uncontrolledDay')} is not null then greatest(${base}, ${c('uncontrolledDay')}) + ${n(d.uncontrolled)} end`, DueReason.UNCONTROLLED],
    [`case when ${c('adverseReaction')} then ${base} + ${n(d.uncontrolled)} end`, DueReason.ADVERSE_REACTION],
    [`${c('referralDay')} + ${n(d.afterReferral)}`, DueReason.AFTER_REFERRAL],
    [`case when ${c('allControlled')} then ${base} + ${n(d.controlled)} end`, DueReason.CONTROLLED],
    [`${base} + ${tierMax}`, DueReason.TIER_MAXIMUM],
    [`case when ${c('annualCheckDay')} > ${base} then ${c('annualCheckDay')} end`, DueReason.ANNUAL_CHECK],
    [`case when ${c('clinicianDate')} > ${base} then ${c('clinicianDate')} end`, DueReason.CLINICIAN],
  ];
  const values = candidates.map(([expr, reason], i) => `(${i}, ${sqlText(reason)}, (${expr})::date)`).join(', ');
  const yearEnd = `make_date(extract(year from ${base})::int, 12, 31)`;
  const needed = `(${n(rules.minFaceToFaceFollowUpsPerYear)} - ${c('faceToFaceInYear')})`;
  const F2F = sqlText(DueReason.FACE_TO_FACE_MINIMUM);
  // best: the earliest candidate; pulled: the face-to-face minimum's sooner date, when it applies.
  return (
    `select g.planned_date, g.due_reason, case when g.due_reason in (${F2F}, ${sqlText(DueReason.ANNUAL_CHECK)}) ` +
    `or (${needed} > 0 and g.planned_date <= ${yearEnd} and ${needed} >= (${yearEnd} - g.planned_date) / greatest(1, g.planned_date - ${base}) + 1) ` +
    `then (case when ${c('lastType')} in (${FACE_TO_FACE.map(sqlText).join(', ')}) then ${c('lastType')} else ${sqlText(FollowUpType.CLINIC)} end) ` +
    `else coalesce(${c('lastType')}, ${sqlText(FollowUpType.CLINIC)}) end as type from (` +
    `select case when p.gap is not null and ${base} + p.gap < b.d then ${base} + p.gap else b.d end as planned_date, ` +
    `case when p.gap is not null and ${base} + p.gap < b.d then ${F2F} else b.reason end as due_reason from ` +
    `(select x.d, x.reason from (values ${values}) x(prio, reason, d) where x.d is not null order by x.d, x.prio limit 1) b ` +
    `cross join lateral (select case when ${needed} > 0 and (${yearEnd} - ${base}) / ${needed} >= ${n(d.uncontrolled)} then (${yearEnd} - ${base}) / ${needed} end as gap) p) g`
  );
}

/** The worst of a visit's reading statuses: urgent over uncontrolled over controlled; none, no status. */
export function worstControl(statuses: ReadonlyArray<ControlStatus | null | undefined>): ControlStatus | undefined {
  if (statuses.includes(ControlStatus.URGENT)) return ControlStatus.URGENT;
  if (statuses.includes(ControlStatus.UNCONTROLLED)) return ControlStatus.UNCONTROLLED;
  return statuses.includes(ControlStatus.CONTROLLED) ? ControlStatus.CONTROLLED : undefined;
}

/** `worstControl` as a SQL rank (3 urgent, 2 uncontrolled, 1 controlled, null none) of a status expression, and back. */
export const controlRankSql = (status: string): string =>
  `(case ${status} when ${sqlText(ControlStatus.URGENT)} then 3 when ${sqlText(ControlStatus.UNCONTROLLED)} then 2 when ${sqlText(ControlStatus.CONTROLLED)} then 1 end)`;
export const controlOfRankSql = (rank: string): string =>
  `(case ${rank} when 3 then ${sqlText(ControlStatus.URGENT)} when 2 then ${sqlText(ControlStatus.UNCONTROLLED)} when 1 then ${sqlText(ControlStatus.CONTROLLED)} end)`;

export interface VisitJudgement {
  /** The visit's control status, from its readings (src/care/state/). */
  controlStatus?: ControlStatus | null;
  /** The status of the done visit before it that has one. */
  previousControlStatus?: ControlStatus | null;
  newComplication?: boolean;
  /** The patient already has an up-referral requested or accepted. */
  openUpReferral: boolean;
}

/**
 * What a visit advises (docs/care-model.md): an urgent referral now for an urgent visit; a referral up for a new
 * complication or a second uncontrolled visit in a row — unless an up-referral is already open.
 */
export function referralAdviceOf(v: VisitJudgement): { referralAdvised: boolean; urgent: boolean } {
  const bad = (s?: ControlStatus | null) => s === ControlStatus.UNCONTROLLED || s === ControlStatus.URGENT;
  const urgent = v.controlStatus === ControlStatus.URGENT;
  const advised = urgent || !!v.newComplication || (bad(v.controlStatus) && bad(v.previousControlStatus));
  return { referralAdvised: advised && !v.openUpReferral, urgent };
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

