import { ClinicalStatus, ConditionKind, ControlStatus, ManagementColour, ManagementTier, ObservationKind, VerificationStatus } from '../../vocabulary/index.js';
import { controlStatusOf, controlStatusSql } from './control.js';
import { latestReadingSql } from './latest.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';
import { sqlNumber, sqlText } from './sql.js';

/** Conditions that count as a complication or target-organ damage for the management colour. */
export const COMPLICATION_KINDS: readonly ConditionKind[] = [ConditionKind.CHD, ConditionKind.STROKE, ConditionKind.CKD];
const ACTIVE: readonly ClinicalStatus[] = [ClinicalStatus.ACTIVE, ClinicalStatus.RECURRENCE, ClinicalStatus.RELAPSE];
const NOT_A_DIAGNOSIS: readonly VerificationStatus[] = [VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR];

export interface ConditionFacts {
  kind: ConditionKind;
  clinicalStatus?: ClinicalStatus | null;
  verificationStatus?: VerificationStatus | null;
}

/** An active complication (CHD, stroke, CKD) that is not refuted or entered in error. */
export function isComplication(c: ConditionFacts): boolean {
  return (
    COMPLICATION_KINDS.includes(c.kind) &&
    ACTIVE.includes(c.clinicalStatus ?? ClinicalStatus.ACTIVE) &&
    !NOT_A_DIAGNOSIS.includes(c.verificationStatus ?? VerificationStatus.CONFIRMED)
  );
}

/** What the colour is derived from: the latest plausible readings (latest.ts) and whether there is a complication. */
export interface ManagementFacts {
  latestBloodPressure?: { systolic: number; diastolic: number } | null;
  latestFastingGlucose?: { value: number } | null;
  complication: boolean;
}

export interface Management {
  colour: ManagementColour;
  tier: ManagementTier;
}

/** The tier each colour means: red intensive (重点), yellow routine (常规), green general (一般). */
export const TIER_OF: Record<ManagementColour, ManagementTier> = {
  [ManagementColour.RED]: ManagementTier.INTENSIVE,
  [ManagementColour.YELLOW]: ManagementTier.ROUTINE,
  [ManagementColour.GREEN]: ManagementTier.GENERAL,
};

/**
 * A managed patient's colour and tier, derived (docs/care-model.md, "Management tiers and colours"): red/intensive
 * when the latest plausible blood pressure or fasting glucose is not controlled (uncontrolled or urgent, by
 * `controlStatusOf`); yellow/routine for a complication or a latest reading at or above the borderline
 * (`rules.management`: 130/85 mmHg, 6.1 mmol/L); green/general otherwise. `managementColourSql` is the same rule
 * in SQL; the seed derives its patients' colours with this function. A person may override it (with a reason).
 */
export function managementOf(facts: ManagementFacts, rules: CareRules = DEFAULT_CARE_RULES): Management {
  const { latestBloodPressure: bp, latestFastingGlucose: glu, complication } = facts;
  const m = rules.management;
  const statuses = [
    bp && controlStatusOf({ kind: ObservationKind.BLOOD_PRESSURE, systolic: bp.systolic, diastolic: bp.diastolic }, rules),
    glu && controlStatusOf({ kind: ObservationKind.FASTING_GLUCOSE, value: glu.value }, rules),
  ].filter((s) => s);
  let colour: ManagementColour;
  if (statuses.some((s) => s !== ControlStatus.CONTROLLED)) colour = ManagementColour.RED;
  else if (
    complication ||
    (bp && (bp.systolic >= m.borderlineSystolicAtLeast || bp.diastolic >= m.borderlineDiastolicAtLeast)) ||
    (glu && glu.value >= m.borderlineFastingGlucoseAtLeast)
  ) {
    colour = ManagementColour.YELLOW;
  } else colour = ManagementColour.GREEN;
  return { colour, tier: TIER_OF[colour] };
}

/** `isComplication` over the patient `patientColumn` names, as SQL. */
export function hasComplicationSql(patientColumn: string): string {
  return (
    `exists (select 1 from condition mc where mc.patient_id = ${patientColumn} and mc.kind in (${COMPLICATION_KINDS.map(sqlText).join(', ')}) ` +
    `and mc.clinical_status in (${ACTIVE.map(sqlText).join(', ')}) and mc.verification_status not in (${NOT_A_DIAGNOSIS.map(sqlText).join(', ')}))`
  );
}

/**
 * `managementOf(...).colour` as a SQL expression for the patient `patientColumn` names (e.g. `p.id`): the latest
 * plausible BP and fasting glucose (`latestReadingSql`), their control status (`controlStatusSql`) and the
 * complication test (`hasComplicationSql`), from the same `CareRules`. No parameters.
 */
export function managementColourSql(rules: CareRules = DEFAULT_CARE_RULES, patientColumn = 'p.id'): string {
  const m = rules.management;
  const bp = latestReadingSql([ObservationKind.BLOOD_PRESSURE], patientColumn, {}, 'mbp');
  const glu = latestReadingSql([ObservationKind.FASTING_GLUCOSE], patientColumn, {}, 'mglu');
  const C = sqlText(ControlStatus.CONTROLLED);
  return (
    `(select case ` +
    `when ${controlStatusSql(rules, 'bp')} <> ${C} or ${controlStatusSql(rules, 'glu')} <> ${C} then ${sqlText(ManagementColour.RED)} ` +
    `when ${hasComplicationSql(patientColumn)} or bp.systolic >= ${sqlNumber(m.borderlineSystolicAtLeast)} or bp.diastolic >= ${sqlNumber(m.borderlineDiastolicAtLeast)} ` +
    `or glu.value >= ${sqlNumber(m.borderlineFastingGlucoseAtLeast)} then ${sqlText(ManagementColour.YELLOW)} ` +
    `else ${sqlText(ManagementColour.GREEN)} end ` +
    `from (select 1) one left join lateral ${bp.sql} bp on true left join lateral ${glu.sql} glu on true)`
  );
}

/** The tier of `managementColourSql`'s colour (TIER_OF), as SQL. */
export function managementTierSql(rules: CareRules = DEFAULT_CARE_RULES, patientColumn = 'p.id'): string {
  const cases = Object.entries(TIER_OF).map(([colour, tier]) => `when ${sqlText(colour)} then ${sqlText(tier)}`);
  return `(case ${managementColourSql(rules, patientColumn)} ${cases.join(' ')} end)`;
}
