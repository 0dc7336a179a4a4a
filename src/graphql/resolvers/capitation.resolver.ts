import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CapitationContract } from '../../domain/capitation/capitation-contract.entity.js';
import type { ContractSettlement } from '../../domain/capitation/capitation.service.js';
import { MEMBER_LEVELS, RiskCombination } from '../../domain/capitation/terms.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import type { Context } from '../context.js';
import { Money } from '../scalars.js';
import {
  contractInputOf,
  CreateCapitationContractInput,
  IndicatorTerm,
  KeptShareFunction,
  OverspendSharing,
  RiskAdjustment,
  Settlement,
  SettlementShare,
  SplitFormula,
} from './capitation.types.js';

/** The settlement as GraphQL shows it: the pure module's figures, points as objects, quotas in CNY. */
function settlementOf(s: ContractSettlement): Settlement {
  const { period, split, keptShare, ...figures } = s;
  return {
    ...figures,
    period: { start: period.start, end: period.end },
    periodDays: period.days,
    yearDays: period.yearDays,
    keptShare: { ...keptShare, between: keptShare.between.map(([score, share]) => ({ score, share })) },
    workloadMeasure: s.contract.splitFormula.workloadMeasure,
    split: split.map((o) => ({ ...o, quota: o.quota / 100 })),
  };
}

@Resolver(() => CapitationContract)
export class CapitationContractResolver {
  @Mutation(() => CapitationContract, { description: 'A capitation contract, its terms checked (BAD_USER_INPUT naming the field): by its insurer or a platform administrator.' })
  createCapitationContract(@Arg('input', () => CreateCapitationContractInput) input: CreateCapitationContractInput, @Ctx() ctx: Context) {
    return ctx.services.capitation.create(contractInputOf(input));
  }

  @Query(() => CapitationContract, { description: "A contract you are a party to: its insurer, its medical community's root organisation, or a platform administrator." })
  capitationContract(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.capitation.get(id);
  }

  @Query(() => [CapitationContract], { description: 'The contracts you are a party to, newest period first.' })
  capitationContracts(@Ctx() ctx: Context) {
    return ctx.services.capitation.list();
  }

  @Query(() => Settlement, { description: "A contract's settlement for what was actually spent in its period: every figure with its inputs. Computed, not stored." })
  async settlement(@Arg('contractId', () => ID) contractId: string, @Arg('actualSpending', () => Money) actualSpending: number, @Ctx() ctx: Context) {
    return settlementOf(await ctx.services.capitation.settle(contractId, actualSpending));
  }

  @FieldResolver(() => Organization)
  insurer(@Root() c: CapitationContract, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(c.insurer.id);
  }

  @FieldResolver(() => Organization, { description: "The root of the member organisations' tree." })
  medicalCommunity(@Root() c: CapitationContract, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(c.medicalCommunity.id);
  }

  @FieldResolver(() => Money, { description: 'Per head and year, before risk adjustment.' })
  baseRatePerHeadPerYear(@Root() c: CapitationContract) {
    return c.baseRatePerHeadPerYearFen;
  }

  @FieldResolver(() => RiskCombination)
  riskCombination(@Root() c: CapitationContract) {
    return c.riskCombination;
  }

  @FieldResolver(() => [RiskAdjustment])
  riskAdjustments(@Root() c: CapitationContract): RiskAdjustment[] {
    return c.riskAdjustments;
  }

  @FieldResolver(() => [IndicatorTerm])
  indicatorTerms(@Root() c: CapitationContract): IndicatorTerm[] {
    return c.indicatorTerms;
  }

  @FieldResolver(() => KeptShareFunction)
  keptShare(@Root() c: CapitationContract): KeptShareFunction {
    return { ...c.keptShare, points: c.keptShare.points.map(([score, share]) => ({ score, share })) };
  }

  @FieldResolver(() => OverspendSharing)
  overspendSharing(@Root() c: CapitationContract): OverspendSharing {
    return c.overspendSharing;
  }

  @FieldResolver(() => SplitFormula)
  split(@Root() c: CapitationContract): SplitFormula {
    const [county, township, village] = MEMBER_LEVELS.map((l) => c.splitFormula.levelWeights[l]);
    return { ...c.splitFormula, levelWeights: { county: county!, township: township!, village: village! } };
  }
}

@Resolver(() => SettlementShare)
export class SettlementShareResolver {
  @FieldResolver(() => Organization)
  organization(@Root() s: SettlementShare, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(s.organizationId);
  }
}
