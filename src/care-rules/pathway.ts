import { ConditionKind, ControlStatus, ObservationKind, PathwayStep, VerificationStatus } from '../../vocabulary/index.js';
import { daysBetween } from './calendar.js';
import { controlStatusOf, controlStatusSql, type Reading } from './control.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';
import { sqlNumber, sqlText } from './sql.js';

export { PathwayStep };

/**
 * The seven-step pathway's pure rules (docs/care-model.md, "The seven-step pathway"). The step records are kept by
 * src/care/pathway/derivation.ts; what a step needs as evidence is described there, next to the SQL that finds it.
 */

/** The steps in order; a cycle after the first starts at PLAN_MADE (the re-assessment reviews the plan). */
export const PATHWAY_STEPS: readonly PathwayStep[] = [
  PathwayStep.SUSPECTED,
  PathwayStep.CONFIRMED,
  PathwayStep.ASSESSED,
  PathwayStep.PLAN_MADE,
  PathwayStep.INTERVENTION,
  PathwayStep.FOLLOWED_UP,
  PathwayStep.REASSESSED,
];

/** Where each later cycle begins. */
export const LOOP_STEP = PathwayStep.PLAN_MADE;

/** Every condition kind has a pathway but OTHER (a code the domain does not classify is no programme condition). */
export const PATHWAY_CONDITION_KINDS: readonly ConditionKind[] = Object.values(ConditionKind).filter((k) => k !== ConditionKind.OTHER);

/** 1 for SUSPECTED … 7 for REASSESSED. */
export function stepNumber(step: PathwayStep): number {
  return PATHWAY_STEPS.indexOf(step) + 1;
}

/** The step after `step` and the cycle it is in: after REASSESSED, PLAN_MADE of the next cycle. */
export function nextStep(step: PathwayStep, cycle: number): { step: PathwayStep; cycle: number } {
  if (step === PathwayStep.REASSESSED) return { step: LOOP_STEP, cycle: cycle + 1 };
  return { step: PATHWAY_STEPS[stepNumber(step)]!, cycle };
}

/** `stepNumber` in SQL, for ordering step rows (`column` holds the step's name). */
export function stepNumberSql(column: string): string {
  return `(case ${column} ${PATHWAY_STEPS.map((s, i) => `when ${sqlText(s)} then ${i + 1}`).join(' ')} end)`;
}

const STUCK_KEY: Record<PathwayStep, keyof CareRules['pathway']['stuckDays']> = {
  SUSPECTED: 'suspected',
  CONFIRMED: 'confirmed',
  ASSESSED: 'assessed',
  PLAN_MADE: 'planMade',
  INTERVENTION: 'intervention',
  FOLLOWED_UP: 'followedUp',
  REASSESSED: 'reassessed',
};

/** How many days a patient may wait at `step` for the next one before the pathway calls them stuck. */
export function stuckDays(step: PathwayStep, rules: CareRules = DEFAULT_CARE_RULES): number {
  return rules.pathway.stuckDays[STUCK_KEY[step]];
}


/**
 * Stuck: at `step` since the date `since` for more than the step's days. Only a patient still in the programme can
 * be stuck (their care status is ACTIVE: the caller checks); `stuckInPathwaySql` also leaves out a suspicion that a
 * refuted diagnosis answered.
 */
export function isStuck(step: PathwayStep, since: string, today: string, rules: CareRules = DEFAULT_CARE_RULES): boolean {
  return daysBetween(since, today) > stuckDays(step, rules);
}

/**
 * `isStuck` in SQL over a patient's current step: `alias` has `condition_kind`, `step` and `since` (a date, the
 * county's), `today` a SQL date expression (a parameter or literal). Given the patient's id column (`patientColumn`),
 * a suspicion a REFUTED diagnosis answered is stuck nowhere. The patient's own care status is for the caller to add
 * (worklists leave out every patient who is not ACTIVE).
 */
export function stuckInPathwaySql(rules: CareRules, alias: string, today: string, patientColumn?: string): string {
  const days = `(case ${alias}.step ${PATHWAY_STEPS.map((s) => `when ${sqlText(s)} then ${sqlNumber(stuckDays(s, rules))}`).join(' ')} end)`;
  const stuck = `(${today})::date - ${alias}.since > ${days}`;
  if (!patientColumn) return `(${stuck})`;
  const refuted =
    `(${alias}.step = ${sqlText(PathwayStep.SUSPECTED)} and exists (select 1 from condition rc where rc.patient_id = ${patientColumn} ` +
    `and rc.kind = ${alias}.condition_kind and rc.verification_status = ${sqlText(VerificationStatus.REFUTED)}))`;
  return `(${stuck} and not ${refuted})`;
}

/**
 * Which condition a screening reading suggests (step 1): a blood pressure not below the control targets
 * (`controlStatusOf` says UNCONTROLLED or URGENT) suggests hypertension; a fasting glucose at or above the fasting
 * target (`control.fastingGlucoseBelow`, 7.0 mmol/L; a hypoglycaemic urgent reading is no sign of diabetes) suggests
 * type 2 diabetes. Implausible readings suggest nothing. Whether the person is old enough and has no diagnosis yet
 * is for the caller (`isScreeningAge`; the derivation's SQL).
 */
export function suspicionOf(reading: Reading, rules: CareRules = DEFAULT_CARE_RULES): ConditionKind | undefined {
  const status = controlStatusOf(reading, rules);
  if (status !== ControlStatus.UNCONTROLLED && status !== ControlStatus.URGENT) return undefined;
  if (reading.kind === ObservationKind.BLOOD_PRESSURE) return ConditionKind.HYPERTENSION;
  if (reading.kind === ObservationKind.FASTING_GLUCOSE && (reading.value ?? 0) >= rules.control.fastingGlucoseBelow) return ConditionKind.TYPE_2_DIABETES;
  return undefined;
}

/** `suspicionOf` in SQL over an observation `alias`: the condition kind suggested, or null. */
export function suspicionSql(rules: CareRules, alias: string): string {
  const status = controlStatusSql(rules, alias);
  const abnormal = `${status} in (${sqlText(ControlStatus.UNCONTROLLED)}, ${sqlText(ControlStatus.URGENT)})`;
  return (
    `(case when not (${abnormal}) then null ` +
    `when ${alias}.kind = ${sqlText(ObservationKind.BLOOD_PRESSURE)} then ${sqlText(ConditionKind.HYPERTENSION)} ` +
    `when ${alias}.kind = ${sqlText(ObservationKind.FASTING_GLUCOSE)} and ${alias}.value >= ${sqlNumber(rules.control.fastingGlucoseBelow)} then ${sqlText(ConditionKind.TYPE_2_DIABETES)} ` +
    `else null end)`
  );
}

/** Screening is for residents aged `pathway.screeningAgeAtLeast` (35) or over on the day of the reading. */
export function isScreeningAge(birthDate: string | null | undefined, onDate: string, rules: CareRules = DEFAULT_CARE_RULES): boolean {
  if (!birthDate) return false;
  const years = Number(onDate.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (onDate.slice(5) < birthDate.slice(5) ? 1 : 0);
  return years >= rules.pathway.screeningAgeAtLeast;
}

/** `isScreeningAge` in SQL: `birthDate` and `onDate` are SQL date expressions. */
export function isScreeningAgeSql(rules: CareRules, birthDate: string, onDate: string): string {
  return `(${birthDate} is not null and ${birthDate} + make_interval(years => ${sqlNumber(rules.pathway.screeningAgeAtLeast)}) <= ${onDate})`;
}

/** A pathway step record, as the pathway execution rate reads it. */
export interface ReachedStep {
  conditionKind: ConditionKind;
  step: PathwayStep;
  reachedAt: Date;
}

const ENTRY_STEPS = PATHWAY_STEPS.slice(0, 2);
const LAST_STEP = PATHWAY_STEPS[PATHWAY_STEPS.length - 1]!;

/**
 * Entered the pathway of `kind` before the instant `before`: its first or second step (SUSPECTED — skipped or not —
 * or CONFIRMED) reached by then; a suspicion only, answered by a REFUTED diagnosis of the kind (`refuted`), is no
 * entry (as it is stuck nowhere, `stuckInPathwaySql`). `pathwayEnteredSql` is the same in SQL.
 */
export function pathwayEntered(steps: readonly ReachedStep[], kind: ConditionKind, before: Date, refuted: boolean): boolean {
  const by = steps.filter((s) => s.conditionKind === kind && s.reachedAt.getTime() < before.getTime());
  if (!by.some((s) => ENTRY_STEPS.includes(s.step))) return false;
  return !refuted || by.some((s) => s.step === PathwayStep.CONFIRMED);
}

/**
 * Completed the seven steps of `kind` before `before`: its last step (REASSESSED) reached, in any cycle. The
 * derivation reaches steps only in order (src/care/pathway/derivation.ts), so the last step reached means every
 * one before it was, in order; a skipped SUSPECTED counts as passed.
 */
export function pathwayCompleted(steps: readonly ReachedStep[], kind: ConditionKind, before: Date): boolean {
  return steps.some((s) => s.conditionKind === kind && s.step === LAST_STEP && s.reachedAt.getTime() < before.getTime());
}

/**
 * `pathwayEntered` of any of `kinds` for the patient `patientColumn`, as SQL; `before` a SQL timestamptz expression.
 * Written as two uncorrelated `in` lists (confirmed by then; or suspected by then and no refuted diagnosis of the
 * kind), so that PostgreSQL hashes each once for a county rather than probing the steps of every patient.
 */
export function pathwayEnteredSql(patientColumn: string, kinds: readonly ConditionKind[], before: string): string {
  const k = kinds.map(sqlText).join(', ');
  return `(${patientColumn} in (select pe.patient_id from pathway_step pe where pe.condition_kind in (${k}) and pe.step = ${sqlText(PathwayStep.CONFIRMED)} and pe.reached_at < ${before})
    or ${patientColumn} in (select pe.patient_id from pathway_step pe where pe.condition_kind in (${k}) and pe.step = ${sqlText(PathwayStep.SUSPECTED)} and pe.reached_at < ${before}
      and not exists (select 1 from condition rc where rc.patient_id = pe.patient_id and rc.kind = pe.condition_kind and rc.verification_status = ${sqlText(VerificationStatus.REFUTED)})))`;
}

/** `pathwayCompleted` of any of `kinds` for the patient `patientColumn`, as SQL (an uncorrelated `in`, hashed once). */
export function pathwayCompletedSql(patientColumn: string, kinds: readonly ConditionKind[], before: string): string {
  return `${patientColumn} in (select pd.patient_id from pathway_step pd where pd.condition_kind in (${kinds.map(sqlText).join(', ')})
      and pd.step = ${sqlText(LAST_STEP)} and pd.reached_at < ${before})`;
}
