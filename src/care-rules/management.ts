import { ClinicalStatus, ConditionKind, ManagementColour, ManagementTier, VerificationStatus } from '../../vocabulary/index.js';
import { sqlText } from './sql.js';

/** Conditions that count as a complication or target-organ damage for the management colour. */
export const COMPLICATION_KINDS: readonly ConditionKind[] = [ConditionKind.CHD, ConditionKind.STROKE, ConditionKind.CKD];
/** The conditions the programme manages: a patient with one of them (not refuted) and ACTIVE is a managed patient. */
export const MANAGED_KINDS: readonly ConditionKind[] = [ConditionKind.HYPERTENSION, ConditionKind.TYPE_2_DIABETES];
export const ACTIVE_CLINICAL: readonly ClinicalStatus[] = [ClinicalStatus.ACTIVE, ClinicalStatus.RECURRENCE, ClinicalStatus.RELAPSE];
export const NOT_A_DIAGNOSIS: readonly VerificationStatus[] = [VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR];

export interface ConditionFacts {
  kind: ConditionKind;
  clinicalStatus?: ClinicalStatus | null;
  verificationStatus?: VerificationStatus | null;
}

/** Active (active, recurrence, relapse) and not refuted or entered in error. */
export function isStanding(c: Omit<ConditionFacts, 'kind'>): boolean {
  return ACTIVE_CLINICAL.includes(c.clinicalStatus ?? ClinicalStatus.ACTIVE) && !NOT_A_DIAGNOSIS.includes(c.verificationStatus ?? VerificationStatus.CONFIRMED);
}

/** An active complication (CHD, stroke, CKD) that is not refuted or entered in error. */
export function isComplication(c: ConditionFacts): boolean {
  return COMPLICATION_KINDS.includes(c.kind) && isStanding(c);
}

/** `isStanding` over a condition row (`alias`), as SQL. */
export function standingConditionSql(alias: string): string {
  return `${alias}.clinical_status in (${ACTIVE_CLINICAL.map(sqlText).join(', ')}) and ${alias}.verification_status not in (${NOT_A_DIAGNOSIS.map(sqlText).join(', ')})`;
}

/** `isComplication` over the patient `patientColumn` names, as SQL. */
export function hasComplicationSql(patientColumn: string): string {
  return `exists (select 1 from condition mc where mc.patient_id = ${patientColumn} and mc.kind in (${COMPLICATION_KINDS.map(sqlText).join(', ')}) and ${standingConditionSql('mc')})`;
}

/** A patient with a standing hypertension or type 2 diabetes diagnosis, as SQL (care status aside). */
export function hasManagedConditionSql(patientColumn: string): string {
  return `exists (select 1 from condition mc where mc.patient_id = ${patientColumn} and mc.kind in (${MANAGED_KINDS.map(sqlText).join(', ')}) and ${standingConditionSql('mc')})`;
}

/**
 * What the colour is decided from (docs/care-model.md, "Management tiers and colours"); the derivation
 * (src/care/state/) gathers them for each managed patient in SQL, with the look-backs of `rules.management`.
 */
export interface ManagementFacts {
  /** A counting reading judged URGENT within `management.urgentWithinDays`. */
  urgentRecently: boolean;
  /** A managed condition is UNCONTROLLED or URGENT (condition_control). */
  uncontrolled: boolean;
  /** Every managed condition is CONTROLLED (none uncontrolled, none without a recent reading). */
  allControlled: boolean;
  /** A standing complication or target-organ damage (CHD, stroke, CKD). */
  complication: boolean;
  /** A hospital admission or emergency visit that began within `management.admissionWithinDays`. */
  admittedRecently: boolean;
  /** No counting reading of a managed condition has been above target for `management.controlledForDays`, and there were readings before that. */
  controlledLong: boolean;
  /** The last two done visits were both judged CONTROLLED (by their readings). */
  lastTwoVisitsControlled: boolean;
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

/** The colour each tier means (TIER_OF turned round): an override naming one names both. */
export const COLOUR_OF: Record<ManagementTier, ManagementColour> = {
  [ManagementTier.INTENSIVE]: ManagementColour.RED,
  [ManagementTier.ROUTINE]: ManagementColour.YELLOW,
  [ManagementTier.GENERAL]: ManagementColour.GREEN,
};

/**
 * A managed patient's colour and tier by the notes' starting rule: red/intensive for an urgent reading lately,
 * uncontrolled with a complication, or an admission lately; green/general when every condition is controlled,
 * has been for the set time, at both of the last two visits, with no complication; yellow/routine otherwise
 * (uncontrolled, controlled for a short time, no recent reading, or controlled with a complication).
 * `managementColourSql` is the same decision in SQL over the same facts.
 */
export function managementOf(f: ManagementFacts): Management {
  let colour: ManagementColour;
  if (f.urgentRecently || (f.uncontrolled && f.complication) || f.admittedRecently) colour = ManagementColour.RED;
  else if (f.allControlled && f.controlledLong && f.lastTwoVisitsControlled && !f.complication) colour = ManagementColour.GREEN;
  else colour = ManagementColour.YELLOW;
  return { colour, tier: TIER_OF[colour] };
}

/** Column names of a facts row, as the derivation's SQL names them. */
export const MANAGEMENT_FACT_COLUMNS: Record<keyof ManagementFacts, string> = {
  urgentRecently: 'urgent_recently',
  uncontrolled: 'uncontrolled',
  allControlled: 'all_controlled',
  complication: 'complication',
  admittedRecently: 'admitted_recently',
  controlledLong: 'controlled_long',
  lastTwoVisitsControlled: 'last_two_controlled',
};

/** `managementOf(...).colour` as a SQL `case` over a facts row `alias` (boolean columns MANAGEMENT_FACT_COLUMNS). */
export function managementColourSql(alias: string): string {
  const c = (k: keyof ManagementFacts) => `${alias}.${MANAGEMENT_FACT_COLUMNS[k]}`;
  return (
    `(case when ${c('urgentRecently')} or (${c('uncontrolled')} and ${c('complication')}) or ${c('admittedRecently')} then ${sqlText(ManagementColour.RED)} ` +
    `when ${c('allControlled')} and ${c('controlledLong')} and ${c('lastTwoVisitsControlled')} and not ${c('complication')} then ${sqlText(ManagementColour.GREEN)} ` +
    `else ${sqlText(ManagementColour.YELLOW)} end)`
  );
}

/** The tier of a colour expression (TIER_OF), as SQL. */
export function tierOfColourSql(colour: string): string {
  const cases = Object.entries(TIER_OF).map(([c, tier]) => `when ${sqlText(c)} then ${sqlText(tier)}`);
  return `(case ${colour} ${cases.join(' ')} end)`;
}
