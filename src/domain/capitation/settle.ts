import type { ConditionKind, OrganizationLevel } from '../../../vocabulary/index.js';
import { daysBetween } from '../../care-rules/calendar.js';
import { type Fen, roundDown, roundHalfUp } from './money.js';
import { BelowMinimumRule, type ContractTerms, type KeptSharePoint, MEMBER_LEVELS, type RiskAdjustment, RiskAdjustmentKind, RiskCombination } from './terms.js';

/**
 * A capitation settlement as arithmetic, and nothing else: no database, no clock. The service (capitation.service.ts)
 * gathers the inputs — heads, indicator values, member organisations' workloads — and this turns them and the
 * contract's terms into every figure, each beside the inputs it came from, so that an insurer's auditor can redo
 * any of them by hand. docs/care-model.md ("Performance-linked capitation") gives the formula in words.
 */

/** Heads alike in what the risk adjustments look at: their age on the period's first day and their standing conditions. */
export interface HeadGroup {
  /** Whole years on the period's first day; null when the birth date is not known (no age adjustment applies). */
  age: number | null;
  conditionKinds: readonly ConditionKind[];
  count: number;
}

/** An indicator's value over the contract's population and period (from the indicator engine). */
export interface IndicatorValue {
  indicatorId: string;
  improvement: 'increase' | 'decrease';
  numerator: number;
  denominator: number;
  /** numerator / denominator; null when the denominator is 0. */
  value: number | null;
}

export interface MemberOrganization {
  organizationId: string;
  organizationName: string;
  level: OrganizationLevel;
  workload: number;
}

export interface SettlementInput {
  terms: ContractTerms;
  period: { start: string; end: string };
  heads: readonly HeadGroup[];
  indicators: readonly IndicatorValue[];
  actualSpending: Fen;
  organizations: readonly MemberOrganization[];
}

export interface RiskClass {
  /** The adjustments that apply to the class's heads (none: the base rate). */
  adjustments: RiskAdjustment[];
  /** What they add to the base rate, by the contract's combination. */
  uplift: number;
  heads: number;
  /** round half up (base × (1 + uplift) × periodDays / yearDays) */
  ratePerHead: Fen;
  /** heads × ratePerHead */
  amount: Fen;
}

export interface IndicatorScore extends IndicatorValue {
  weight: number;
  target: number;
  /** increase: min(1, value / target); decrease: min(1, target / value) (a value of 0 achieves 1); no value: 0. */
  achievement: number;
  /** weight × achievement */
  points: number;
}

export interface KeptShareTrace {
  /** The function's value at the score. */
  share: number;
  /** The points it was read between (one point when the score is outside them). */
  between: KeptSharePoint[];
  belowMinimum: boolean;
}

export interface SplitShare extends MemberOrganization {
  /** workload / total workload (the function share when there is no workload at all). */
  workloadShare: number;
  levelWeight: number;
  /** levelWeight / the sum of every member's level weight (the workload share when that sum is 0). */
  functionShare: number;
  /** workloadWeight × workloadShare + functionWeight × functionShare */
  share: number;
  /** kept amount × share, before rounding (fen) */
  quota: number;
  /** The quota rounded by largest remainder: the amounts add up to the kept amount exactly. */
  amount: Fen;
}

export interface Settlement {
  period: { start: string; end: string; days: number; yearDays: number };
  heads: number;
  riskClasses: RiskClass[];
  budget: Fen;
  actualSpending: Fen;
  indicators: IndicatorScore[];
  /** The sum of the indicators' points, 0–100. */
  score: number;
  keptShare: KeptShareTrace;
  /** budget − spending when that is positive, else 0 */
  surplus: Fen;
  /** spending − budget when that is positive, else 0 */
  overspend: Fen;
  /** surplus × kept share, rounded down to the contract's unit (keptRoundingUnit) */
  kept: Fen;
  keptRoundingUnit: Fen;
  /** surplus − kept */
  returnedToInsurer: Fen;
  /** round half up (budget × insurerCapFraction) */
  insurerOverspendCap: Fen;
  /** min(round half up (overspend × insurerShare), the cap) */
  overspendBorneByInsurer: Fen;
  /** overspend − the insurer's part */
  overspendBorneByCommunity: Fen;
  split: SplitShare[];
}

export function settle(input: SettlementInput): Settlement {
  const { terms } = input;
  const days = daysBetween(input.period.start, input.period.end) + 1;
  const yearDays = daysBetween(input.period.start, addYear(input.period.start));
  const riskClasses = classify(input.heads, terms, days / yearDays);
  const budget = riskClasses.reduce((s, c) => s + c.amount, 0);
  const indicators = score(input.indicators, terms);
  const total = indicators.reduce((s, i) => s + i.points, 0);
  const keptShare = keptShareAt(total, terms);
  const surplus = Math.max(0, budget - input.actualSpending);
  const overspend = Math.max(0, input.actualSpending - budget);
  const unit = terms.keptShare.roundDownTo;
  const kept = roundDown(surplus * keptShare.share, unit);
  const cap = roundHalfUp(budget * terms.overspendSharing.insurerCapFraction);
  const byInsurer = Math.min(roundHalfUp(overspend * terms.overspendSharing.insurerShare), cap);
  return {
    period: { ...input.period, days, yearDays },
    heads: riskClasses.reduce((s, c) => s + c.heads, 0),
    riskClasses,
    budget,
    actualSpending: input.actualSpending,
    indicators,
    score: total,
    keptShare,
    surplus,
    overspend,
    kept,
    keptRoundingUnit: unit,
    returnedToInsurer: surplus - kept,
    insurerOverspendCap: cap,
    overspendBorneByInsurer: byInsurer,
    overspendBorneByCommunity: overspend - byInsurer,
    split: split(kept, input.organizations, terms),
  };
}

/** The same day a year on (29 February → 1 March): a period of one calendar year is 365 or 366 days of as many. */
function addYear(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.toISOString().slice(0, 10);
}

function applies(a: RiskAdjustment, head: HeadGroup): boolean {
  return a.kind === RiskAdjustmentKind.AGE_AT_LEAST ? head.age != null && head.age >= a.years : a.conditionKinds.some((k) => head.conditionKinds.includes(k));
}

/** Heads by the set of adjustments that apply to them, each set's rate and amount; classes in the order of the contract's adjustments. */
function classify(heads: readonly HeadGroup[], terms: ContractTerms, periodFraction: number): RiskClass[] {
  const classes = new Map<string, { indices: number[]; heads: number }>();
  for (const head of heads) {
    if (head.count <= 0) continue;
    const indices = terms.riskAdjustments.flatMap((a, i) => (applies(a, head) ? [i] : []));
    const key = indices.join(',');
    const c = classes.get(key) ?? { indices, heads: 0 };
    c.heads += head.count;
    classes.set(key, c);
  }
  const order = (a: number[], b: number[]) => a.length - b.length || a.join(',').localeCompare(b.join(','));
  return [...classes.values()]
    .sort((a, b) => order(a.indices, b.indices))
    .map(({ indices, heads: n }) => {
      const uplifts = indices.map((i) => terms.riskAdjustments[i]!.uplift);
      const uplift = terms.riskCombination === RiskCombination.ADDITIVE ? uplifts.reduce((s, u) => s + u, 0) : Math.max(0, ...uplifts);
      const ratePerHead = roundHalfUp(terms.baseRatePerHeadPerYear * (1 + uplift) * periodFraction);
      return { adjustments: indices.map((i) => terms.riskAdjustments[i]!), uplift, heads: n, ratePerHead, amount: n * ratePerHead };
    });
}

function score(values: readonly IndicatorValue[], terms: ContractTerms): IndicatorScore[] {
  return terms.indicatorTerms.map((t) => {
    const v = values.find((x) => x.indicatorId === t.indicatorId);
    if (!v) throw new Error(`settlement: no value of indicator ${t.indicatorId}`);
    let achievement = 0;
    if (v.value != null) achievement = v.improvement === 'increase' ? Math.min(1, v.value / t.target) : v.value === 0 ? 1 : Math.min(1, t.target / v.value);
    return { ...v, weight: t.weight, target: t.target, achievement, points: t.weight * achievement };
  });
}

function keptShareAt(total: number, terms: ContractTerms): KeptShareTrace {
  const points = terms.keptShare.points;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (total < first[0]) {
    return { share: terms.keptShare.belowMinimum === BelowMinimumRule.KEEP_NOTHING ? 0 : first[1], between: [first], belowMinimum: true };
  }
  if (total >= last[0]) return { share: last[1], between: [last], belowMinimum: false };
  const i = points.findIndex((p) => p[0] > total);
  const [s0, k0] = points[i - 1]!;
  const [s1, k1] = points[i]!;
  return { share: k0 + ((total - s0) / (s1 - s0)) * (k1 - k0), between: [points[i - 1]!, points[i]!], belowMinimum: false };
}

/**
 * The kept amount among the member organisations. Each one's quota (kept × share) is rounded down to the fen and the
 * fen left over go one each to the largest remainders (ties: the order the organisations came in), so the parts add
 * up to the kept amount exactly (largest-remainder, Hamilton's method).
 */
function split(kept: Fen, organizations: readonly MemberOrganization[], terms: ContractTerms): SplitShare[] {
  const { workloadWeight, functionWeight, levelWeights } = terms.split;
  const members = organizations.filter((o) => (MEMBER_LEVELS as readonly string[]).includes(o.level));
  if (!members.length) return [];
  const totalWorkload = members.reduce((s, o) => s + o.workload, 0);
  const weightOf = (o: MemberOrganization) => levelWeights[o.level as keyof typeof levelWeights];
  const totalLevel = members.reduce((s, o) => s + weightOf(o), 0);
  const equal = 1 / members.length;
  const rows = members.map((o) => {
    const byLevel = totalLevel > 0 ? weightOf(o) / totalLevel : undefined;
    const byWork = totalWorkload > 0 ? o.workload / totalWorkload : undefined;
    const workloadShare = byWork ?? byLevel ?? equal;
    const functionShare = byLevel ?? byWork ?? equal;
    const share = workloadWeight * workloadShare + functionWeight * functionShare;
    return { ...o, workloadShare, levelWeight: weightOf(o), functionShare, share, quota: kept * share, amount: roundDown(kept * share) };
  });
  let left = kept - rows.reduce((s, r) => s + r.amount, 0);
  const byRemainder = rows.map((r, i) => ({ i, remainder: r.quota - r.amount })).sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (let k = 0; left !== 0 && k < 10 * rows.length; k++) {
    // left < 0 only when the shares' float sum is a hair over 1: the smallest remainders give a fen back.
    const pick = left > 0 ? byRemainder[k % rows.length]! : byRemainder[rows.length - 1 - (k % rows.length)]!;
    const step = left > 0 ? 1 : -1;
    if (rows[pick.i]!.amount + step < 0) continue;
    rows[pick.i]!.amount += step;
    left -= step;
  }
  return rows;
}
