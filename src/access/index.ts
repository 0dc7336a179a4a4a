import type { Config } from '../config.js';
import type { EntityManager, Orm } from '../db/orm.js';
import { Authenticator } from './authenticate.js';
import { type Caller, INTERNAL_CALLER } from './caller.js';
import { IdentifierProtector } from './identifier-protection.js';
import { loadKeys, type ServiceKeys } from './keys.js';
import { ACCESS_FILTER, AccessPolicy } from './policy.js';
import { TokenService } from './tokens.js';

/** Everything the access layer needs, made once per process from configuration. */
export interface Security {
  keys: ServiceKeys;
  tokens: TokenService;
  authenticator: Authenticator;
  protector: IdentifierProtector;
}

export async function createSecurity(config: Config): Promise<Security> {
  const keys = await loadKeys(config);
  const tokens = new TokenService(config, keys);
  return { keys, tokens, authenticator: new Authenticator(config, tokens), protector: new IdentifierProtector(keys.identifier) };
}

/** A unit of work that sees only what the caller may see: every entity query goes through the policy. */
export function entityManagerFor(orm: Orm, caller: Caller): { em: EntityManager; policy: AccessPolicy } {
  const em = orm.em.fork() as EntityManager;
  const policy = new AccessPolicy(caller);
  em.setFilterParams(ACCESS_FILTER, { policy });
  return { em, policy };
}

/** Gives an entity manager the internal caller (CLI commands, seeding, test set-up). */
export function asInternal(em: EntityManager): EntityManager {
  em.setFilterParams(ACCESS_FILTER, { policy: new AccessPolicy(INTERNAL_CALLER) });
  return em;
}
