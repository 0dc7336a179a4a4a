import { ClientKind, hasRole, Role } from '../../access/caller.js';
import type { AccessPolicy } from '../../access/policy.js';
import type { CareRules } from '../../care-rules/rules.js';
import type { EntityManager } from '../../db/orm.js';
import { checkPeriod, evaluateIndicators, indicatorById, type Period } from '../../indicators/index.js';
import { badInput, DomainError, isUuid, notFound } from '../errors.js';
import { Organization, OrganizationLevel, OrganizationType } from '../organization/organization.entity.js';
import { CapitationContract } from './capitation-contract.entity.js';
import type { Fen } from './money.js';
import { headGroups, memberOrganizations } from './population.js';
import { settle, type Settlement } from './settle.js';
import { checkTerms, type ContractTermsInput } from './terms.js';

export interface CapitationContractInput extends ContractTermsInput {
  name: string;
  insurerId: string;
  medicalCommunityId: string;
  period: Period;
}

export interface ContractSettlement extends Settlement {
  contract: CapitationContract;
}

const forbidden = (message: string) => new DomainError('FORBIDDEN', message);

/**
 * Capitation contracts and their settlement. Who may do what (docs/care-model.md, "Performance-linked capitation"):
 *  - make a contract: a platform administrator, or the insurer itself (its system client) for its own organisation;
 *  - read one and settle it: a platform administrator, the contract's insurer, or a community administrator
 *    (COMMUNITY_ADMIN) of the medical community's root organisation — the three parties to it, each of whom sees the whole community's figures for
 *    the contract (an insurer its members covered in the period). A village clinic or township centre is a member
 *    of the community, not a party: its share is in the settlement, which its root organisation tells it.
 * The indicators are evaluated as the caller (the engine narrows them by the caller's policy over the period),
 * never as the internal caller: an insurer's score counts only the members who share their data with it.
 */
export class CapitationService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules,
  ) {}

  private isParty(contract: CapitationContract): boolean {
    const c = this.policy.caller;
    if (this.policy.seesEverything) return true;
    if (c.clientKind === ClientKind.INSURER) return c.organizationId === contract.insurer.id;
    return this.isCommunityAdministration() && c.organizationId === contract.medicalCommunity.id;
  }

  /** The community's administration, not every clinician of its root hospital: a contract's terms and money are the institutions' business. */
  private isCommunityAdministration(): boolean {
    const c = this.policy.caller;
    return c.kind === 'user' && hasRole(c, Role.COMMUNITY_ADMIN) && !!c.organizationId;
  }

  async create(input: CapitationContractInput): Promise<CapitationContract> {
    const c = this.policy.caller;
    const mayCreate = this.policy.seesEverything || (c.clientKind === ClientKind.INSURER && c.organizationId === input.insurerId);
    if (!mayCreate) throw forbidden('a capitation contract is made by its insurer or a platform administrator');
    const name = input.name.trim();
    if (!name) throw badInput('a contract has a name', 'name');
    checkPeriod(input.period);
    const insurer = await this.organization(input.insurerId, 'insurerId');
    if (insurer.type !== OrganizationType.INSURER) throw badInput(`${insurer.name} is not an insurer`, 'insurerId');
    const community = await this.organization(input.medicalCommunityId, 'medicalCommunityId');
    // The root of the member organisations' tree: the county level, under no other organisation.
    if (community.parent || community.level !== OrganizationLevel.COUNTY) throw badInput(`${community.name} is not the root of a county medical community`, 'medicalCommunityId');
    const terms = checkTerms(input, (id) => indicatorById(id));
    const contract = this.em.create(CapitationContract, {
      name,
      insurer,
      medicalCommunity: community,
      periodStart: input.period.start,
      periodEnd: input.period.end,
      baseRatePerHeadPerYearFen: terms.baseRatePerHeadPerYear,
      riskCombination: terms.riskCombination,
      riskAdjustments: terms.riskAdjustments,
      indicatorTerms: terms.indicatorTerms,
      keptShare: terms.keptShare,
      overspendSharing: terms.overspendSharing,
      splitFormula: terms.split,
      version: 1,
    } as never) as CapitationContract;
    await this.em.flush();
    return contract;
  }

  private async organization(id: string, field: string): Promise<Organization> {
    const org = isUuid(id) ? await this.em.findOne(Organization, { id }) : null;
    if (!org) throw badInput(`no Organization with id ${id}`, field);
    return org;
  }

  /** A contract the caller is a party to: NOT_FOUND when there is none, FORBIDDEN when it is someone else's. */
  async get(id: string): Promise<CapitationContract> {
    const contract = isUuid(id) ? await this.em.findOne(CapitationContract, { id }, { populate: ['insurer', 'medicalCommunity'] }) : null;
    if (!contract) throw notFound('CapitationContract', id);
    if (!this.isParty(contract)) throw forbidden("the contract is between its insurer and its medical community's root organisation: you are neither");
    return contract;
  }

  /** The contracts the caller is a party to, newest period first. */
  async list(): Promise<CapitationContract[]> {
    const c = this.policy.caller;
    let where: Record<string, unknown>;
    if (this.policy.seesEverything) where = {};
    else if (c.clientKind === ClientKind.INSURER && c.organizationId) where = { insurer: c.organizationId };
    else if (this.isCommunityAdministration()) where = { medicalCommunity: c.organizationId };
    else return [];
    return this.em.find(CapitationContract, where, { populate: ['insurer', 'medicalCommunity'], orderBy: { periodStart: 'desc', id: 'asc' } });
  }

  /** The settlement of a contract for what was actually spent in its period (fen), every figure with its inputs. */
  async settle(id: string, actualSpending: Fen): Promise<ContractSettlement> {
    if (!Number.isSafeInteger(actualSpending) || actualSpending < 0) throw badInput('the actual spending is 0 or more', 'actualSpending');
    const contract = await this.get(id);
    const period = { start: contract.periodStart, end: contract.periodEnd };
    const community = contract.medicalCommunity;
    const results = await evaluateIndicators(this.em, this.policy, {
      scope: { organizationId: community.id, organizationPath: community.path },
      period,
      ids: contract.indicatorTerms.map((t) => t.indicatorId),
      rules: this.rules,
    });
    const [heads, organizations] = [await headGroups(this.em, contract), await memberOrganizations(this.em, contract)];
    const indicators = results.map((r) => ({ indicatorId: r.definition.id, improvement: r.definition.improvement, numerator: r.numerator, denominator: r.denominator, value: r.value }));
    return { contract, ...settle({ terms: contract.terms, period, heads, indicators, actualSpending, organizations }) };
  }
}
