/**
 * The GraphQL shapes of the indicators (src/indicators/, ADR 18): the scope and period asked for, a table of one row
 * per indicator, and each row's figures, definition, breakdown, trend and patient lists. The `Indicator` enum is made
 * from the definitions themselves (INDICATORS), so an indicator is in GraphQL exactly when it is defined.
 */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { IndicatorRequest, IndicatorResult, IndicatorValue, TrendPoint } from '../../indicators/engine.js';
import type { IndicatorPopulation as Population } from '../../indicators/engine.js';
import { INDICATORS } from '../../indicators/index.js';
import type { IndicatorUnit as Unit, Period } from '../../indicators/indicator.js';
import { LocalDate } from '../scalars.js';

/** bp-control-rate ⇒ BP_CONTROL_RATE: the enum value of an indicator id (indicator.ts). */
export const enumNameOf = (id: string) => id.toUpperCase().replace(/-/g, '_');

/** GraphQL's names for the engine's kebab-case words; values are the engine's own, so resolvers pass them on as they come. */
const kebabEnum = <T extends string>(values: readonly T[]): Record<string, T> => Object.fromEntries(values.map((v) => [enumNameOf(v), v]));

export const Indicator = kebabEnum(INDICATORS.map((d) => d.id));
registerEnumType(Indicator, {
  name: 'Indicator',
  description: 'A quality indicator of the care model (docs/care-model.md, "Quality indicators"): one per file in src/indicators/definitions/.',
});

const POPULATIONS: readonly Population[] = ['numerator', 'denominator', 'denominator-not-numerator'];
export const IndicatorPopulation = kebabEnum(POPULATIONS);
registerEnumType(IndicatorPopulation, {
  name: 'IndicatorPopulation',
  description: 'Whose patients: those who add to the NUMERATOR, to the DENOMINATOR, or to the denominator and not the numerator (DENOMINATOR_NOT_NUMERATOR: whom to act on).',
});

const UNITS: readonly Unit[] = ['patients', 'follow-ups', 'referrals', 'townships'];
export const IndicatorUnit = kebabEnum(UNITS);
registerEnumType(IndicatorUnit, { name: 'IndicatorUnit', description: 'What a numerator or a denominator counts.' });

export const IndicatorImprovement = kebabEnum(['increase', 'decrease'] as const);
registerEnumType(IndicatorImprovement, { name: 'IndicatorImprovement', description: 'INCREASE: higher is better; DECREASE: lower is better.' });

@InputType({ description: 'Whose patients are counted: several fields narrow each other; none, every patient you may see.' })
export class IndicatorScopeInput {
  @Field(() => ID, { nullable: true, description: 'Managed by this organisation (the county, a township, a clinic) or one below it.' })
  organizationId?: string;

  @Field(() => ID, { nullable: true, description: "A family-doctor team's: its grid's residents and the patients contracted with it." })
  careTeamId?: string;

  @Field(() => ID, { nullable: true })
  gridId?: string;
}

@InputType({ description: 'A closed range of county days: both ends included.' })
export class PeriodInput implements Period {
  @Field(() => LocalDate)
  start!: string;

  @Field(() => LocalDate)
  end!: string;
}

@ObjectType('IndicatorPeriod', { description: 'A closed range of county days: both ends included.' })
export class PeriodOutput implements Period {
  @Field(() => LocalDate)
  start!: string;

  @Field(() => LocalDate)
  end!: string;
}

@ObjectType({ description: "An indicator's definition in words (the FHIR Measure's description)." })
export class IndicatorDefinitionText {
  @Field()
  numerator!: string;

  @Field()
  denominator!: string;

  @Field()
  exclusions!: string;
}

/** The fields every figure shares: counts unrounded, the rate a fraction (0.672), null when nothing is counted. */
@ObjectType('IndicatorFigures', { description: 'Figures: the counts and their rate.' })
abstract class Figures implements IndicatorValue {
  @Field(() => Int)
  numerator!: number;

  @Field(() => Int)
  denominator!: number;

  @Field(() => Float, { nullable: true, description: 'numerator / denominator as a fraction (0.672); null when the denominator is 0.' })
  value!: number | null;
}

@ObjectType({
  description:
    "An indicator's figures for one organisation of a breakdown: the scope's own (the patients it manages itself) or one directly below it (the patients its subtree manages).",
})
export class IndicatorOrganizationValue extends Figures {
  organizationId!: string;
  organizationName!: string;
}

@ObjectType({ description: "The indicator from the period's start to a month's end (cumulative: a control rate of one month alone would count everyone without a reading that month)." })
export class IndicatorTrendPoint extends Figures implements TrendPoint {
  @Field({ description: 'YYYY-MM.' })
  month!: string;

  @Field(() => PeriodOutput, { description: "What the point counts: the period's start to the month's end (or the period's end)." })
  period!: PeriodOutput;
}

/** One indicator's row; `request` is what it was computed for, so that trend and patients ask the engine the same. */
@ObjectType({ description: 'One indicator over the scope and period.' })
export class IndicatorRow extends Figures {
  result!: IndicatorResult;
  request!: IndicatorRequest;
  /** How many rows its table has: what asking `trend` of every row costs (resolver: MAX_TREND_POINTS). */
  rowsOfTable!: number;

  @Field(() => Indicator)
  indicator!: string;

  @Field({ description: 'In English.' })
  title!: string;

  @Field({ description: 'In Chinese.' })
  titleZh!: string;

  @Field(() => Float, { nullable: true, description: "The care model's target as a fraction (0.67), when it names one." })
  target?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether the value meets the target (at or above it, or at or below it for a DECREASE indicator); null without either.' })
  meetsTarget?: boolean | null;

  @Field(() => IndicatorImprovement)
  improvement!: string;

  @Field(() => IndicatorUnit)
  numeratorUnit!: string;

  @Field(() => IndicatorUnit)
  denominatorUnit!: string;

  @Field(() => IndicatorDefinitionText)
  definition!: IndicatorDefinitionText;

  @Field(() => [IndicatorOrganizationValue], {
    nullable: true,
    description:
      'With breakdown: true, the scope’s organisation (its own patients) and each organisation directly below it (their subtrees), by name; without an organisation in the scope, the caller’s, or the county’s for a caller outside the community (an insurer, an administrator). Patients seen outside that subtree (a team’s, a referral’s) are in the total and in no row. Null without breakdown.',
  })
  byOrganization?: IndicatorOrganizationValue[] | null;
}

@ObjectType({ description: 'Indicators of one scope and period, one row each.' })
export class IndicatorTable {
  results!: IndicatorResult[];
  organizationId?: string;

  @Field(() => PeriodOutput)
  period!: PeriodOutput;

  @Field(() => [IndicatorRow])
  rows!: IndicatorRow[];
}
