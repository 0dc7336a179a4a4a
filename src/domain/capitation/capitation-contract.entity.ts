import { Entity, Enum, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import type { Fen } from './money.js';
import { type ContractTerms, type IndicatorTerm, type KeptShareFunction, type OverspendSharing, type RiskAdjustment, RiskCombination, type SplitFormula } from './terms.js';

/**
 * A performance-linked capitation contract (docs/care-model.md, "Performance-linked capitation"): an insurer pays a
 * county medical community a risk-adjusted budget per head for its members managed there, and at settlement the
 * community keeps a share of the surplus that depends on a weighted score of the indicators. The terms are the
 * contract's columns; they are checked once, when it is made (terms.ts), and never changed after: a settlement
 * reads the same terms however often it is asked.
 */
@ObjectType({ description: 'A performance-linked capitation contract between an insurer and a county medical community.' })
@Entity()
export class CapitationContract extends BaseEntity {
  @Field({ description: 'e.g. "2026年度慢病按人头总额付费协议".' })
  @Property()
  name!: string;

  /** The insurer paying (an INSURER organisation). */
  @ManyToOne(() => Organization, { index: true })
  insurer!: Organization;

  /** The medical community paid: the root of its member organisations' tree (the county level). */
  @ManyToOne(() => Organization, { index: true })
  medicalCommunity!: Organization;

  @Field(() => LocalDate, { description: 'First day of the period (ISO date, county calendar).' })
  @Property({ type: 'date' })
  periodStart!: string;

  @Field(() => LocalDate, { description: 'Last day of the period (included).' })
  @Property({ type: 'date' })
  periodEnd!: string;

  /** Fen per head and year, before risk adjustment. */
  @Property({ type: 'integer' })
  baseRatePerHeadPerYearFen!: Fen;

  @Enum(() => RiskCombination)
  riskCombination!: RiskCombination;

  @Property({ type: 'json' })
  riskAdjustments: RiskAdjustment[] = [];

  @Property({ type: 'json' })
  indicatorTerms: IndicatorTerm[] = [];

  @Property({ type: 'json' })
  keptShare!: KeptShareFunction;

  @Property({ type: 'json' })
  overspendSharing!: OverspendSharing;

  @Property({ type: 'json' })
  splitFormula!: SplitFormula;

  get terms(): ContractTerms {
    return {
      baseRatePerHeadPerYear: this.baseRatePerHeadPerYearFen,
      riskCombination: this.riskCombination,
      riskAdjustments: this.riskAdjustments,
      indicatorTerms: this.indicatorTerms,
      keptShare: this.keptShare,
      overspendSharing: this.overspendSharing,
      split: this.splitFormula,
    };
  }
}
