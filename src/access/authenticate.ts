import type { EntityManager } from '../db/orm.js';
import type { Config } from '../config.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { Practitioner } from '../domain/practitioner/practitioner.entity.js';
import { type Caller, ClientKind, Role } from './caller.js';
import { scopesForRoles, scopeWithin } from './scopes.js';
import { SystemClient } from './system-client.entity.js';
import { AuthenticationError, type TokenService } from './tokens.js';

const ROLES = new Set<string>(Object.values(Role));

/**
 * A registered system client as a caller, with the scopes it holds (those of its token, within its grant): the one
 * way a client becomes a caller, for its tokens and for an operator acting as it (`npm run export -- --as`).
 * `client.organization` must be loaded.
 */
export function systemCaller(client: SystemClient, scopes: string[], onBehalfOf?: string): Caller {
  return {
    kind: 'system',
    subject: client.clientId,
    clientId: client.clientId,
    clientKind: client.kind,
    roles: [],
    scopes,
    organizationId: client.organization.id,
    organizationPath: client.kind === ClientKind.HOSPITAL ? client.organization.path : undefined,
    onBehalfOf,
  };
}

/**
 * Turns a verified bearer token into the Caller: people are mapped by their claims to a practitioner,
 * an organisation and roles; systems to their registered client and the scopes they were granted.
 */
export class Authenticator {
  /** People's callers by token, until `until` (see PERSON_CALLER_SECONDS). Insertion order: the oldest go first when full. */
  private readonly people = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly config: Config,
    private readonly tokens: TokenService,
  ) {}

  async authenticate(authorization: string | undefined, em: EntityManager): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) throw new AuthenticationError('missing bearer token');
    const token = match[1]!;
    const known = this.people.get(token);
    if (known && known.until > Date.now()) return known.caller;
    if (known) this.people.delete(token);
    const { source, payload } = await this.tokens.verify(token);
    const unfiltered = { filters: false } as const;

    if (source === 'service' && payload.ncd_kind === 'system') {
      const client = await em.findOne(SystemClient, { clientId: payload.sub!, active: true }, { ...unfiltered, populate: ['organization'] });
      if (!client) throw new AuthenticationError('client is not registered or was deactivated');
      const granted = String(payload.scope ?? '').split(' ').filter((s) => scopeWithin(s, client.scopes));
      return systemCaller(client, granted, typeof payload.on_behalf_of === 'string' ? payload.on_behalf_of : undefined);
    }

    // A person: from the OIDC provider in production, or a development token signed by this service.
    if (source === 'service' && !this.config.auth.devTokens) throw new AuthenticationError('development tokens are not accepted here');
    const claims = source === 'oidc' ? this.config.auth.oidc!.claims : { roles: 'roles', organization: 'org', practitioner: 'practitioner' };
    const rawRoles = payload[claims.roles];
    const roles = (Array.isArray(rawRoles) ? rawRoles : String(rawRoles ?? '').split(/[ ,]+/)).map(String).filter((r) => ROLES.has(r)) as Role[];
    if (roles.length === 0) throw new AuthenticationError('token carries no role this service knows');
    // Codes are stable: no FHIR write changes an organisation's or a practitioner's code (policy.ts,
    // tokenIdentityOf), so a token names the same organisation and person for as long as it lives.
    const orgCode = payload[claims.organization];
    const organization = orgCode ? await em.findOne(Organization, { code: String(orgCode) }, unfiltered) : null;
    if (!organization && !roles.includes(Role.PLATFORM_ADMIN)) throw new AuthenticationError('token names no known organisation');
    const practitionerCode = payload[claims.practitioner];
    const practitioner = practitionerCode ? await em.findOne(Practitioner, { code: String(practitionerCode) }, unfiltered) : null;
    if (practitionerCode && !practitioner) throw new AuthenticationError('token names no known practitioner');
    const caller: Caller = Object.freeze({
      kind: 'user',
      subject: payload.sub!,
      roles: Object.freeze(roles) as Role[],
      scopes: Object.freeze(scopesForRoles(roles)) as string[],
      organizationId: organization?.id,
      organizationPath: organization?.path,
      practitionerId: practitioner?.id,
    });
    this.remember(token, caller, payload.exp!);
    return caller;
  }

  private remember(token: string, caller: Caller, exp: number): void {
    if (this.people.size >= PERSON_CALLERS_KEPT) this.people.delete(this.people.keys().next().value!);
    this.people.set(token, { caller, until: Math.min(exp * 1000, Date.now() + PERSON_CALLER_SECONDS * 1000) });
  }
}

/**
 * How long a person's token, once verified, stands for the caller it named without being checked again: a
 * signature check (ECDSA) and two lookups by code were a fifth of a patient card's CPU. What a person's caller is
 * made of does not change under a token (the token's claims; organisation and practitioner codes are stable, see
 * tokenIdentityOf) except an operator moving an organisation in the tree, seen within this time. System clients
 * are not kept: a deactivated client is refused on its next call.
 */
const PERSON_CALLER_SECONDS = 60;
const PERSON_CALLERS_KEPT = 10_000;
