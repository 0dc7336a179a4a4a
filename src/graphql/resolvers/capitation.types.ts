/**
 * The GraphQL shapes of capitation (src/domain/capitation): a contract's terms, as given and as shown, and a
 * settlement with every figure beside its inputs. Money is the Money scalar (CNY, two decimals); fractions are
 * Floats (0.3 = 30 %); indicator ids are the Indicator enum (INDICATORS).
 */
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConditionKind, OrganizationLevel } from '../../../vocabulary/index.js';
import type { CapitationContractInput } from '../../domain/capitation/capitation.service.js';
import { CapitationContract } from '../../domain/capitation/capitation-contract.entity.js';
import { BelowMinimumRule, RiskAdjustmentKind, RiskCombination, WorkloadMeasure } from '../../domain/capitation/terms.js';
import { Money } from '../scalars.js';
import { Indicator, IndicatorImprovement, PeriodInput, PeriodOutput } from './indicator.types.js';

@ObjectType({ description: 'An uplift of the base rate for heads with a risk.' })
@InputType('RiskAdjustmentInput')
export class RiskAdjustment {
  @Field(() => RiskAdjustmentKind)
  kind!: RiskAdjustmentKind;

  @Field(() => Int, { nullable: true, description: 'AGE_AT_LEAST: the age in whole years on the first day of the period.' })
  years?: number;

  @Field(() => [ConditionKind], { nullable: true, description: 'CONDITION: any of these.' })
  conditionKinds?: ConditionKind[];

  @Field(() => Float, { description: 'A fraction of the base rate: 0.3 = +30 %.' })
  uplift!: number;
}

@ObjectType({ description: "One indicator's part of the score." })
export class IndicatorTerm {
  @Field(() => Indicator)
  indicatorId!: string;

  @Field(() => Float, { description: 'Points at full achievement; the weights of a contract add up to 100.' })
  weight!: number;

  @Field(() => Float, { description: "The target (a fraction); given none, the indicator's own." })
  target!: number;
}

@InputType()
export class IndicatorTermInput {
  @Field(() => Indicator)
  indicatorId!: string;

  @Field(() => Float)
  weight!: number;

  @Field(() => Float, { nullable: true, description: "None: the indicator's own target." })
  target?: number;
}

@ObjectType({ description: 'At this score (0–100) the community keeps this share (0–1) of the surplus.' })
@InputType('KeptSharePointInput')
export class KeptSharePoint {
  @Field(() => Float)
  score!: number;

  @Field(() => Float)
  share!: number;
}

@ObjectType({ description: 'The share of the surplus kept, as a function of the score: piecewise-linear between the points.' })
export class KeptShareFunction {
  @Field(() => [KeptSharePoint], { description: 'By increasing score; above the last, its share.' })
  points!: KeptSharePoint[];

  @Field(() => BelowMinimumRule)
  belowMinimum!: BelowMinimumRule;

  @Field(() => Money, { description: 'The kept amount is rounded down to a whole number of this (e.g. "100.00": whole hundreds of CNY); the rest goes back to the insurer.' })
  roundDownTo!: number;
}

@InputType()
export class KeptShareFunctionInput {
  @Field(() => [KeptSharePoint])
  points!: KeptSharePoint[];

  @Field(() => BelowMinimumRule, { defaultValue: BelowMinimumRule.KEEP_NOTHING })
  belowMinimum!: BelowMinimumRule;

  @Field(() => Money, { defaultValue: 1, description: 'Default 0.01: to the fen.' })
  roundDownTo!: number;
}

@ObjectType({ description: "How an overspend is borne: the insurer's share of it, up to a cap, and the community the rest." })
@InputType('OverspendSharingInput')
export class OverspendSharing {
  @Field(() => Float, { description: 'The fraction of the overspend the insurer bears (0–1).' })
  insurerShare!: number;

  @Field(() => Float, { description: "The insurer's part is at most this fraction of the budget (0–1)." })
  insurerCapFraction!: number;
}

@ObjectType({ description: "The function weight of a member organisation at each level: each organisation of a level weighs the level's weight." })
@InputType('LevelWeightsInput')
export class LevelWeights {
  @Field(() => Float)
  county!: number;

  @Field(() => Float)
  township!: number;

  @Field(() => Float)
  village!: number;
}

@ObjectType({ description: 'How the kept amount is divided among the member organisations: by workload and by function (level).' })
export class SplitFormula {
  @Field(() => Float)
  workloadWeight!: number;

  @Field(() => WorkloadMeasure)
  workloadMeasure!: WorkloadMeasure;

  @Field(() => Float, { description: 'workloadWeight + functionWeight = 1.' })
  functionWeight!: number;

  @Field(() => LevelWeights)
  levelWeights!: LevelWeights;
}

@InputType()
export class SplitFormulaInput {
  @Field(() => Float)
  workloadWeight!: number;

  @Field(() => WorkloadMeasure)
  workloadMeasure!: WorkloadMeasure;

  @Field(() => Float)
  functionWeight!: number;

  @Field(() => LevelWeights)
  levelWeights!: LevelWeights;
}

@InputType()
export class CreateCapitationContractInput {
  @Field()
  name!: string;

  @Field(() => ID, { description: 'The insurer paying (an INSURER organisation): yours, unless you are a platform administrator.' })
  insurerId!: string;

  @Field(() => ID, { description: "The medical community paid: the root (county level) of its member organisations' tree." })
  medicalCommunityId!: string;

  @Field(() => PeriodInput)
  period!: PeriodInput;

  @Field(() => Money, { description: 'Per head and year, before risk adjustment.' })
  baseRatePerHeadPerYear!: number;

  @Field(() => RiskCombination, { defaultValue: RiskCombination.ADDITIVE })
  riskCombination!: RiskCombination;

  @Field(() => [RiskAdjustment])
  riskAdjustments!: RiskAdjustment[];

  @Field(() => [IndicatorTermInput])
  indicatorTerms!: IndicatorTermInput[];

  @Field(() => KeptShareFunctionInput)
  keptShare!: KeptShareFunctionInput;

  @Field(() => OverspendSharing)
  overspendSharing!: OverspendSharing;

  @Field(() => SplitFormulaInput)
  split!: SplitFormulaInput;
}

/** The GraphQL input as the service takes it (points as pairs, level weights by level). */
export function contractInputOf(i: CreateCapitationContractInput): CapitationContractInput {
  const w = i.split.levelWeights;
  return {
    name: i.name,
    insurerId: i.insurerId,
    medicalCommunityId: i.medicalCommunityId,
    period: { start: i.period.start, end: i.period.end },
    baseRatePerHeadPerYear: i.baseRatePerHeadPerYear,
    riskCombination: i.riskCombination,
    riskAdjustments: i.riskAdjustments.map((a) =>
      a.kind === RiskAdjustmentKind.AGE_AT_LEAST ? { kind: a.kind, years: a.years as number, uplift: a.uplift } : { kind: a.kind, conditionKinds: a.conditionKinds ?? [], uplift: a.uplift },
    ),
    indicatorTerms: i.indicatorTerms.map((t) => ({ indicatorId: t.indicatorId, weight: t.weight, target: t.target })),
    keptShare: { points: i.keptShare.points.map((p) => [p.score, p.share]), belowMinimum: i.keptShare.belowMinimum, roundDownTo: i.keptShare.roundDownTo },
    overspendSharing: { insurerShare: i.overspendSharing.insurerShare, insurerCapFraction: i.overspendSharing.insurerCapFraction },
    split: {
      workloadWeight: i.split.workloadWeight,
      workloadMeasure: i.split.workloadMeasure,
      functionWeight: i.split.functionWeight,
      levelWeights: { [OrganizationLevel.COUNTY]: w.county, [OrganizationLevel.TOWNSHIP]: w.township, [OrganizationLevel.VILLAGE]: w.village },
    },
  };
}

@ObjectType({ description: 'Heads alike in the adjustments that apply to them, and what they bring to the budget.' })
export class SettlementRiskClass {
  @Field(() => [RiskAdjustment], { description: 'None: the base rate.' })
  adjustments!: RiskAdjustment[];

  @Field(() => Float, { description: 'What the adjustments add to the base rate, by the contract’s combination.' })
  uplift!: number;

  @Field(() => Int)
  heads!: number;

  @Field(() => Money, { description: 'base × (1 + uplift) × periodDays / yearDays, rounded half up to the fen.' })
  ratePerHead!: number;

  @Field(() => Money, { description: 'heads × ratePerHead.' })
  amount!: number;
}

@ObjectType({ description: "One indicator's value over the community and the period, and the points it scores." })
export class SettlementIndicator {
  @Field(() => Indicator)
  indicatorId!: string;

  @Field(() => IndicatorImprovement)
  improvement!: string;

  @Field(() => Int)
  numerator!: number;

  @Field(() => Int)
  denominator!: number;

  @Field(() => Float, { nullable: true, description: 'numerator / denominator; null when the denominator is 0.' })
  value!: number | null;

  @Field(() => Float)
  target!: number;

  @Field(() => Float)
  weight!: number;

  @Field(() => Float, { description: 'INCREASE: min(1, value / target); DECREASE: min(1, target / value), 1 for a value of 0; no value: 0.' })
  achievement!: number;

  @Field(() => Float, { description: 'weight × achievement.' })
  points!: number;
}

@ObjectType({ description: "The kept-share function's value at the score, and where it was read." })
export class SettlementKeptShare {
  @Field(() => Float)
  share!: number;

  @Field(() => [KeptSharePoint], { description: 'The two points it was interpolated between, or the one point when the score is outside them.' })
  between!: KeptSharePoint[];

  @Field({ description: "The score is below the first point (belowMinimum's rule applied)." })
  belowMinimum!: boolean;
}

@ObjectType({ description: "A member organisation's part of the kept amount, with the workload and function it was divided by." })
export class SettlementShare {
  organizationId!: string;

  @Field({ description: 'Its name as the settlement read it.' })
  organizationName!: string;

  @Field(() => OrganizationLevel)
  level!: OrganizationLevel;

  @Field(() => Int)
  workload!: number;

  @Field(() => Float, { description: 'workload / every member’s workload (the function share when there is none at all).' })
  workloadShare!: number;

  @Field(() => Float)
  levelWeight!: number;

  @Field(() => Float, { description: 'levelWeight / every member’s level weight.' })
  functionShare!: number;

  @Field(() => Float, { description: 'workloadWeight × workloadShare + functionWeight × functionShare.' })
  share!: number;

  @Field(() => Float, { description: 'kept × share in CNY, before rounding.' })
  quota!: number;

  @Field(() => Money, { description: 'The quota rounded by largest remainder: the parts add up to the kept amount exactly.' })
  amount!: number;
}

@ObjectType({ description: 'A capitation settlement: every figure, with what it was computed from (docs/care-model.md, "Performance-linked capitation").' })
export class Settlement {
  @Field(() => CapitationContract)
  contract!: CapitationContract;

  @Field(() => PeriodOutput)
  period!: PeriodOutput;

  @Field(() => Int, { description: 'Days of the period (both ends included).' })
  periodDays!: number;

  @Field(() => Int, { description: 'Days of the year from the period’s first day: a calendar-year period is 365 of 365 (or 366 of 366).' })
  yearDays!: number;

  @Field(() => Int, { description: "The insurer's members covered during the period and managed in the community." })
  heads!: number;

  @Field(() => [SettlementRiskClass])
  riskClasses!: SettlementRiskClass[];

  @Field(() => Money, { description: 'The sum of the risk classes’ amounts.' })
  budget!: number;

  @Field(() => Money)
  actualSpending!: number;

  @Field(() => [SettlementIndicator])
  indicators!: SettlementIndicator[];

  @Field(() => Float, { description: 'The sum of the indicators’ points, 0–100.' })
  score!: number;

  @Field(() => SettlementKeptShare)
  keptShare!: SettlementKeptShare;

  @Field(() => Money, { description: 'budget − actualSpending when that is positive, else 0.' })
  surplus!: number;

  @Field(() => Money, { description: 'actualSpending − budget when that is positive, else 0.' })
  overspend!: number;

  @Field(() => Money, { description: 'surplus × keptShare.share, rounded down to keptRoundingUnit.' })
  kept!: number;

  @Field(() => Money)
  keptRoundingUnit!: number;

  @Field(() => Money, { description: 'surplus − kept.' })
  returnedToInsurer!: number;

  @Field(() => Money, { description: 'budget × insurerCapFraction, rounded half up.' })
  insurerOverspendCap!: number;

  @Field(() => Money, { description: 'min(overspend × insurerShare rounded half up, insurerOverspendCap).' })
  overspendBorneByInsurer!: number;

  @Field(() => Money, { description: 'overspend − overspendBorneByInsurer.' })
  overspendBorneByCommunity!: number;

  @Field(() => WorkloadMeasure)
  workloadMeasure!: WorkloadMeasure;

  @Field(() => [SettlementShare], { description: 'The kept amount among the member organisations, in the tree’s order.' })
  split!: SettlementShare[];
}
