import { ConditionKind, OrganizationLevel } from '../../../vocabulary/index.js';
import { badInput } from '../errors.js';
import type { Fen } from './money.js';

/**
 * The terms of a capitation contract (docs/care-model.md, "Performance-linked capitation"): the configuration the
 * settlement (settle.ts) turns into money. Stored as the contract's columns and json; checked here, once, whoever
 * creates a contract. Money is whole fen (money.ts); fractions are plain numbers (0.3 = 30 %).
 */

export enum RiskAdjustmentKind {
  /** Aged at least `years` on the first day of the contract period. */
  AGE_AT_LEAST = 'AGE_AT_LEAST',
  /** A standing diagnosis of one of `conditionKinds` (src/care-rules/management.ts: active, not refuted). */
  CONDITION = 'CONDITION',
}

/** How the uplifts of the adjustments that apply to one head make its rate. */
export enum RiskCombination {
  /** base × (1 + the sum of the uplifts): a 70-year-old with hypertension gets both. */
  ADDITIVE = 'ADDITIVE',
  /** base × (1 + the largest uplift): the risks overlap, the largest one stands for all. */
  LARGEST = 'LARGEST',
}

/** What a score below the kept-share function's first point keeps. */
export enum BelowMinimumRule {
  /** Nothing: the whole surplus goes back to the insurer (the usual "below 60 points, no reward"). */
  KEEP_NOTHING = 'KEEP_NOTHING',
  /** The first point's share: the function is flat to the left. */
  FIRST_POINT_SHARE = 'FIRST_POINT_SHARE',
}

/** What a member organisation's workload is counted in, for the split of the kept amount. */
export enum WorkloadMeasure {
  /** The contract's heads with a standing hypertension or type 2 diabetes diagnosis, by their managing organisation. */
  MANAGED_PATIENTS = 'MANAGED_PATIENTS',
  /** Follow-ups of the contract's heads done in the period, by the organisation that did them. */
  DONE_FOLLOW_UPS = 'DONE_FOLLOW_UPS',
}

export type RiskAdjustment =
  | { kind: RiskAdjustmentKind.AGE_AT_LEAST; years: number; uplift: number }
  | { kind: RiskAdjustmentKind.CONDITION; conditionKinds: ConditionKind[]; uplift: number };

/** One indicator's part of the score: `weight` points at full achievement (weights add up to 100). */
export interface IndicatorTerm {
  indicatorId: string;
  weight: number;
  /** The contract's target (a fraction); the indicator's own target when the contract names none. */
  target: number;
}

/** A point of the kept-share function: at `score` (0–100) the community keeps `share` (0–1) of the surplus. */
export type KeptSharePoint = [score: number, share: number];

export interface KeptShareFunction {
  /** Piecewise-linear between the points (scores increasing); the last point's share above the last score. */
  points: KeptSharePoint[];
  belowMinimum: BelowMinimumRule;
  /** The kept amount is rounded down to a whole number of this (fen): 10_000 keeps whole hundreds of CNY. */
  roundDownTo: Fen;
}

/** Overspend: the insurer bears `insurerShare` of it, at most `insurerCapFraction` of the budget; the community the rest. */
export interface OverspendSharing {
  insurerShare: number;
  insurerCapFraction: number;
}

/** Levels a member organisation can have, and the function weight of each. */
export type LevelWeights = Record<OrganizationLevel.COUNTY | OrganizationLevel.TOWNSHIP | OrganizationLevel.VILLAGE, number>;
export const MEMBER_LEVELS = [OrganizationLevel.COUNTY, OrganizationLevel.TOWNSHIP, OrganizationLevel.VILLAGE] as const;

/**
 * How the kept amount is divided among the member organisations: `workloadWeight` of it by each one's share of
 * the workload, `functionWeight` by each one's share of the level weights (every organisation of a level weighs
 * the same). The two weights add up to 1.
 */
export interface SplitFormula {
  workloadWeight: number;
  workloadMeasure: WorkloadMeasure;
  functionWeight: number;
  levelWeights: LevelWeights;
}

export interface ContractTerms {
  /** Per head and year, before risk adjustment. */
  baseRatePerHeadPerYear: Fen;
  riskCombination: RiskCombination;
  riskAdjustments: RiskAdjustment[];
  indicatorTerms: IndicatorTerm[];
  keptShare: KeptShareFunction;
  overspendSharing: OverspendSharing;
  split: SplitFormula;
}

/** The terms as a client sends them: an indicator's target may be left to the indicator's own. */
export type ContractTermsInput = Omit<ContractTerms, 'indicatorTerms'> & { indicatorTerms: Array<Omit<IndicatorTerm, 'target'> & { target?: number | null }> };

/** What the check needs to know of an indicator: whether it exists, and its own target. */
export type IndicatorLookup = (id: string) => { target?: number } | undefined;

const WEIGHT_TOTAL = 100;
const CLOSE = 1e-9;

const fraction = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;

/**
 * The terms checked and completed (indicator targets filled in): BAD_USER_INPUT naming the field at fault
 * (`indicatorTerms[2].weight`), so that a contract which could not be settled is never stored.
 */
export function checkTerms(input: ContractTermsInput, indicator: IndicatorLookup): ContractTerms {
  if (!Number.isSafeInteger(input.baseRatePerHeadPerYear) || input.baseRatePerHeadPerYear <= 0) {
    throw badInput('the base rate must be more than 0', 'baseRatePerHeadPerYear');
  }
  input.riskAdjustments.forEach((a, i) => {
    const at = `riskAdjustments[${i}]`;
    if (!Number.isFinite(a.uplift) || a.uplift < 0 || a.uplift > 10) throw badInput('an uplift is a fraction of the base rate from 0 to 10 (0.3 = +30 %)', `${at}.uplift`);
    if (a.kind === RiskAdjustmentKind.AGE_AT_LEAST) {
      if (!Number.isInteger(a.years) || a.years < 0 || a.years > 130) throw badInput('an age adjustment needs whole years from 0 to 130', `${at}.years`);
    } else if (!a.conditionKinds?.length) throw badInput('a condition adjustment names at least one condition kind', `${at}.conditionKinds`);
  });
  if (!input.indicatorTerms.length) throw badInput('a contract scores at least one indicator', 'indicatorTerms');
  const seen = new Set<string>();
  const indicatorTerms = input.indicatorTerms.map((t, i) => {
    const at = `indicatorTerms[${i}]`;
    const known = indicator(t.indicatorId);
    if (!known) throw badInput(`no indicator ${t.indicatorId}`, `${at}.indicatorId`);
    if (seen.has(t.indicatorId)) throw badInput(`indicator ${t.indicatorId} is scored twice`, `${at}.indicatorId`);
    seen.add(t.indicatorId);
    if (!Number.isFinite(t.weight) || t.weight <= 0) throw badInput('a weight is more than 0 points', `${at}.weight`);
    const target = t.target ?? known.target;
    if (target == null) throw badInput(`indicator ${t.indicatorId} has no target of its own: the contract must set one`, `${at}.target`);
    if (!Number.isFinite(target) || target <= 0) throw badInput('a target is more than 0', `${at}.target`);
    return { indicatorId: t.indicatorId, weight: t.weight, target };
  });
  const total = indicatorTerms.reduce((s, t) => s + t.weight, 0);
  if (Math.abs(total - WEIGHT_TOTAL) > CLOSE) throw badInput(`the weights add up to ${total}, not ${WEIGHT_TOTAL}`, 'indicatorTerms');
  checkKeptShare(input.keptShare);
  const o = input.overspendSharing;
  if (!fraction(o.insurerShare)) throw badInput("the insurer's share of an overspend is a fraction from 0 to 1", 'overspendSharing.insurerShare');
  if (!fraction(o.insurerCapFraction)) throw badInput("the cap on the insurer's part is a fraction of the budget from 0 to 1", 'overspendSharing.insurerCapFraction');
  checkSplit(input.split);
  return { ...input, indicatorTerms };
}

function checkKeptShare(k: KeptShareFunction): void {
  if (!k.points.length) throw badInput('the kept-share function needs at least one point', 'keptShare.points');
  k.points.forEach(([score, share], i) => {
    const at = `keptShare.points[${i}]`;
    if (!Number.isFinite(score) || score < 0 || score > WEIGHT_TOTAL) throw badInput('a score is from 0 to 100', `${at}.score`);
    if (!fraction(share)) throw badInput('a kept share is a fraction from 0 to 1', `${at}.share`);
    const previous = k.points[i - 1];
    if (previous && score <= previous[0]) throw badInput('the points go by increasing score', `${at}.score`);
    // A better score never keeps less: otherwise the community would gain by doing worse.
    if (previous && share < previous[1]) throw badInput('a higher score keeps at least the share of a lower one', `${at}.share`);
  });
  if (!Number.isSafeInteger(k.roundDownTo) || k.roundDownTo < 1) throw badInput('the kept amount is rounded to at least 0.01 CNY', 'keptShare.roundDownTo');
}

function checkSplit(s: SplitFormula): void {
  if (!fraction(s.workloadWeight)) throw badInput('the workload weight is a fraction from 0 to 1', 'split.workloadWeight');
  if (!fraction(s.functionWeight)) throw badInput('the function weight is a fraction from 0 to 1', 'split.functionWeight');
  if (Math.abs(s.workloadWeight + s.functionWeight - 1) > CLOSE) throw badInput('the workload and function weights add up to 1', 'split.functionWeight');
  for (const level of MEMBER_LEVELS) {
    const w = s.levelWeights[level];
    if (!Number.isFinite(w) || w < 0) throw badInput('a level weight is 0 or more', `split.levelWeights.${level.toLowerCase()}`);
  }
  if (s.functionWeight > 0 && MEMBER_LEVELS.every((l) => s.levelWeights[l] === 0)) {
    throw badInput('a split by function needs a level weight above 0', 'split.levelWeights');
  }
}
