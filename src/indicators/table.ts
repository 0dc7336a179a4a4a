import type { AccessPolicy } from '../access/policy.js';
import type { CareRules } from '../care-rules/rules.js';
import type { EntityManager } from '../db/orm.js';
import { badInput } from '../domain/errors.js';
import { resolveScope } from '../worklists/scope.js';
import { checkPeriod, evaluateIndicators, type IndicatorRequest, type IndicatorResult } from './engine.js';
import { indicatorById } from './index.js';
import type { Period } from './indicator.js';

/**
 * A table of indicators as its readers ask for it — GraphQL `indicators` and GET /indicators.csv — made into the
 * engine's request in one place: the period checked, the scope's ids checked and its organisation looked up through
 * the policy (as the worklists', BAD_USER_INPUT when there is none the caller may see), the indicators named known.
 */
export interface IndicatorAsk {
  scope: { organizationId?: string | null; careTeamId?: string | null; gridId?: string | null };
  period: Period;
  /** Indicator ids; none or empty: every indicator. */
  only?: readonly string[] | null;
  breakdown?: boolean;
}

export async function indicatorRequest(em: EntityManager, policy: AccessPolicy, rules: CareRules, ask: IndicatorAsk): Promise<IndicatorRequest> {
  // Counting patients is searching them (a count of a set is what a search answers first): a caller who may not
  // search patients (a hospital system with directory scopes only) is refused outright, as by the worklists.
  policy.assertCan('Patient', 's');
  checkPeriod(ask.period);
  (ask.only ?? []).forEach((id, i) => {
    if (!indicatorById(id)) throw badInput(`only[${i}]: no indicator ${id}`, 'only');
  });
  const { organizationId, careTeamId, gridId } = ask.scope;
  const scope = await resolveScope(em, { organizationId, careTeamId, gridId }, policy);
  return { scope, period: ask.period, ids: ask.only?.length ? [...new Set(ask.only)] : undefined, breakdown: ask.breakdown ?? false, rules };
}

export async function indicatorTable(em: EntityManager, policy: AccessPolicy, rules: CareRules, ask: IndicatorAsk): Promise<{ request: IndicatorRequest; results: IndicatorResult[] }> {
  const request = await indicatorRequest(em, policy, rules, ask);
  return { request, results: await evaluateIndicators(em, policy, request) };
}

/** Whether a result meets its target, read by the definition's direction; undefined without a value or a target. */
export function meetsTarget(r: IndicatorResult): boolean | undefined {
  if (r.value == null || r.target == null) return undefined;
  return r.definition.improvement === 'decrease' ? r.value <= r.target : r.value >= r.target;
}
