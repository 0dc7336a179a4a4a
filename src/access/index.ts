import type { Config } from '../config.js';
import type { EntityManager, Orm } from '../db/orm.js';
import { Authenticator } from './authenticate.js';
import { type Caller, INTERNAL_CALLER } from './caller.js';
import { IdentifierProtector } from './identifier-protection.js';
import { loadKeys, type ServiceKeys } from './keys.js';
import { ACCESS_FILTER, AccessPolicy, DEFAULT_POLICY_SETTINGS, type PolicySettings } from './policy.js';
import { TokenService } from './tokens.js';

/** Everything the access layer needs, made once per process from configuration. */
export interface Security {
  keys: ServiceKeys;
  tokens: TokenService;
  authenticator: Authenticator;
  protector: IdentifierProtector;
  /** What the access policy takes from configuration: pass it to entityManagerFor. */
  policySettings: PolicySettings;
}

export function policySettingsOf(config: Config): PolicySettings {
  return { referralAccessDaysAfterCompletion: config.referralAccessDaysAfterCompletion };
}

export async function createSecurity(config: Config): Promise<Security> {
  const keys = await loadKeys(config);
  const tokens = new TokenService(config, keys);
  return { keys, tokens, authenticator: new Authenticator(config, tokens), protector: new IdentifierProtector(keys.identifier), policySettings: policySettingsOf(config) };
}

/**
 * A unit of work that sees only what the caller may see: every entity query goes through the policy. The one
 * place a request's policy is made; servers pass `security.policySettings` (the defaults are for callers that
 * see everything anyway: the CLI's internal caller, benchmarks).
 */
export function entityManagerFor(orm: Orm, caller: Caller, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): { em: EntityManager; policy: AccessPolicy } {
  const em = orm.em.fork() as EntityManager;
  const policy = new AccessPolicy(caller, settings);
  em.setFilterParams(ACCESS_FILTER, { policy });
  return { em, policy };
}

/** Gives an entity manager the internal caller (CLI commands, seeding, test set-up). */
export function asInternal(em: EntityManager): EntityManager {
  em.setFilterParams(ACCESS_FILTER, { policy: new AccessPolicy(INTERNAL_CALLER) });
  return em;
}
