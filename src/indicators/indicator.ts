import type { Predicate } from '../access/policy.js';
import type { CareRules } from '../care-rules/rules.js';

/**
 * The indicator engine's one contract (ADR 18). Every indicator of the care model is a file in
 * src/indicators/definitions/ exporting one `IndicatorDefinition`: numerator, denominator, exclusions and period
 * semantics in SQL built from the rules' predicates (src/care-rules/), never a second copy of a threshold. The engine
 * (engine.ts) adds who may be counted (the access policy, the scope) and does the arithmetic; GraphQL, FHIR
 * `$evaluate-measure` and the capitation settlement all read the same results.
 */

/** A closed range of county days (ISO dates, both included). */
export interface Period {
  start: string;
  end: string;
}

/** What an indicator's SQL is built with. */
export interface IndicatorInput {
  period: Period;
  rules: CareRules;
  /** The county's today (calendar.ts): what is not yet due is not yet late (the on-time rate). */
  today: string;
  /** The county's time zone (COUNTY_TIME_ZONE): a period's days are county days. */
  timeZone: string;
}

/** What an indicator counts in its numerator and denominator. */
export type IndicatorUnit = 'patients' | 'follow-ups' | 'referrals' | 'townships';

export interface IndicatorDefinition {
  /** Stable id, kebab-case: the FHIR Measure's id and the GraphQL enum's source (BP_CONTROL_RATE ⇐ bp-control-rate). */
  id: string;
  title: { en: string; zh: string };
  /** Numerator, denominator, exclusions and period semantics in words (the Measure's description; docs/care-model.md). */
  definition: { numerator: string; denominator: string; exclusions: string };
  /** What the numerator counts and what the denominator counts (a referral rate: referrals over patients). */
  numeratorUnit: IndicatorUnit;
  denominatorUnit: IndicatorUnit;
  /** Higher is better ('increase') or lower ('decrease'): FHIR Measure.improvementNotation; settlement scoring. */
  improvement: 'increase' | 'decrease';
  /** The care model's typical target as a fraction (0.67), when it names one; contracts may set their own. */
  target?: number;
  /**
   * One row per patient with something to count: `patient_id`, `denominator` (int ≥ 0) and `numerator` (int ≥ 0),
   * over the patients of the relation `scoped` (column `id`), which the engine has already narrowed to the caller's
   * policy and the scope. A patient-based proportion gives 1/1 or 1/0; the on-time rate gives a patient's due and
   * on-time visits; a referral rate 1 and the patient's referrals. Patients with zero in both may be left out.
   * The engine also provides `managed` (engine.ts): the scoped patients managed at the period's end
   * (care-rules/managed.ts), columns `id`, `managing_organization_id`, `management_tier`, `hypertension`,
   * `diabetes` (booleans) and `managed_since` (a date). A unit of 'townships' puts an organisation's id in
   * `patient_id` (self-management-group-coverage): the breakdown then attributes the row by that organisation.
   */
  populationSql(input: IndicatorInput): Predicate;
}
