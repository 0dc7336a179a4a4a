import { randomUUID } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import type { EntityManager } from '../../db/orm.js';
import { Organization, OrganizationType } from '../../domain/organization/organization.entity.js';
import { ClientKind } from '../caller.js';
import { parseScope } from '../scopes.js';
import { SystemClient } from '../system-client.entity.js';

/**
 * Registration of SMART backend clients (hospital systems, insurers): who they act for, which public keys
 * their assertions are checked against, and which scopes they may be granted. Used by `npm run client`, and
 * by the admin API (src/access/admin-router.ts) it goes through while a server holds the embedded database.
 * Nothing here, nor in the token endpoint or the authenticator, caches a client: each token request and each
 * authenticated call reads the registration from the database, so a client registered or deactivated
 * while the server runs counts at once.
 */

export class ClientRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientRegistrationError';
  }
}

export interface RegisterClientInput {
  name: string;
  kind: ClientKind;
  /** Code of the hospital (HOSPITAL) or insurer (INSURER) organisation the client acts for. */
  organizationCode: string;
  /** The client's public key set … */
  jwks?: { keys: Record<string, unknown>[] };
  /** … or where it publishes it. */
  jwksUrl?: string;
  scopes: string[];
  /** Defaults to a random UUID. */
  clientId?: string;
}

/** Members a JWK carries only when it is private or symmetric. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const CLIENT_ID = /^[A-Za-z0-9._:~-]{1,200}$/;
const MIN_RSA_BITS = 2048;

/** The algorithm a public JWK can verify SMART assertions with (RS384 or ES384), if any. */
function assertionAlgorithmOf(jwk: Record<string, unknown>): 'RS384' | 'ES384' | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.kty === 'RSA' && (jwk.alg === undefined || jwk.alg === 'RS384')) return 'RS384';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384' && (jwk.alg === undefined || jwk.alg === 'ES384')) return 'ES384';
  return undefined;
}

/** A key set may hold public keys only, and at least one that can verify RS384 or ES384 assertions. */
export async function validateJwks(jwks: unknown): Promise<{ keys: Record<string, unknown>[] }> {
  if (jwks && typeof jwks === 'object' && 'kty' in jwks) {
    throw new ClientRegistrationError(
      `that is a single JWK, not a key set${'d' in jwks ? ' — and a private one: register the public key set, never the private key' : '; wrap it as { "keys": [ … ] }'}`,
    );
  }
  if (!jwks || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new ClientRegistrationError('the key set must be a JWKS: { "keys": [ … ] }');
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0) throw new ClientRegistrationError('the key set has no keys');
  let usable = 0;
  for (const [i, key] of keys.entries()) {
    if (!key || typeof key !== 'object' || typeof (key as JWK).kty !== 'string') throw new ClientRegistrationError(`key ${i} is not a JWK`);
    const jwk = key as Record<string, unknown>;
    const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
    if (secret.length) {
      throw new ClientRegistrationError(`key ${i}${jwk.kid ? ` (kid ${String(jwk.kid)})` : ''} contains private or secret material (${secret.join(', ')}); register the public keys only`);
    }
    const alg = assertionAlgorithmOf(jwk);
    if (!alg) continue;
    try {
      await importJWK(jwk as JWK, alg);
    } catch (err) {
      throw new ClientRegistrationError(`key ${i} is not a valid ${alg} public key: ${(err as Error).message}`);
    }
    if (alg === 'RS384' && typeof jwk.n === 'string' && Buffer.from(jwk.n, 'base64url').length * 8 < MIN_RSA_BITS) {
      throw new ClientRegistrationError(`key ${i} is an RSA key shorter than ${MIN_RSA_BITS} bits`);
    }
    usable++;
  }
  if (usable === 0) throw new ClientRegistrationError('the key set has no key usable for RS384 or ES384 (an RSA key, or an EC key on curve P-384)');
  return { keys: keys as Record<string, unknown>[] };
}

function validateJwksUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ClientRegistrationError(`"${raw}" is not a URL`);
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) throw new ClientRegistrationError('the JWKS URL must use https');
  return url.toString();
}

/** Scopes must be SMART `system/…` scopes; insurers only ever read, so write scopes are refused for them. */
export function validateClientScopes(kind: ClientKind, scopes: string[]): string[] {
  const unique = [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
  if (unique.length === 0) throw new ClientRegistrationError('at least one scope is required, e.g. system/Patient.rs');
  for (const scope of unique) {
    const parsed = parseScope(scope);
    if (!parsed) throw new ClientRegistrationError(`"${scope}" is not a SMART scope (system/<ResourceType>.<cruds>)`);
    if (parsed.context !== 'system') throw new ClientRegistrationError(`"${scope}": backend clients get system/ scopes only`);
    if (kind === ClientKind.INSURER && [...parsed.interactions].some((i) => i !== 'r' && i !== 's')) {
      throw new ClientRegistrationError(`"${scope}": insurer clients may only read and search (.rs)`);
    }
  }
  return unique;
}

export async function registerClient(em: EntityManager, input: RegisterClientInput): Promise<SystemClient> {
  const name = input.name?.trim();
  if (!name) throw new ClientRegistrationError('a client name is required');
  if (!Object.values(ClientKind).includes(input.kind)) throw new ClientRegistrationError(`kind must be one of ${Object.values(ClientKind).join(', ')}`);
  const clientId = input.clientId ?? randomUUID();
  if (!CLIENT_ID.test(clientId)) throw new ClientRegistrationError('a client id is 1–200 characters of letters, digits and . _ : ~ -');
  if (!input.jwks && !input.jwksUrl) throw new ClientRegistrationError('the client needs a public key set (jwks) or a JWKS URL');
  if (input.jwks && input.jwksUrl) throw new ClientRegistrationError('give either a key set or a JWKS URL, not both');
  const jwks = input.jwks ? await validateJwks(input.jwks) : undefined;
  const jwksUrl = input.jwksUrl ? validateJwksUrl(input.jwksUrl) : undefined;
  const scopes = validateClientScopes(input.kind, input.scopes);

  const organization = await em.findOne(Organization, { code: input.organizationCode });
  if (!organization) throw new ClientRegistrationError(`no organisation with code "${input.organizationCode}"`);
  if (input.kind === ClientKind.INSURER && organization.type !== OrganizationType.INSURER) {
    throw new ClientRegistrationError(`an INSURER client must act for an insurer; "${organization.code}" is a ${organization.type}`);
  }
  if (input.kind === ClientKind.HOSPITAL && organization.type === OrganizationType.INSURER) {
    throw new ClientRegistrationError(`a HOSPITAL client must act for a care organisation; "${organization.code}" is an insurer`);
  }
  if (await em.count(SystemClient, { clientId })) throw new ClientRegistrationError(`a client with id "${clientId}" already exists`);

  const client = em.create(SystemClient, { clientId, name, kind: input.kind, organization, jwks, jwksUrl, scopes, active: true, version: 1 } as never) as SystemClient;
  await em.flush();
  return client;
}

export async function listClients(em: EntityManager, options: { includeInactive?: boolean } = {}): Promise<SystemClient[]> {
  return em.find(SystemClient, options.includeInactive ? {} : { active: true }, { populate: ['organization'], orderBy: { createdAt: 'asc', id: 'asc' } });
}

/** Deactivating takes effect at once: tokens already issued to the client stop being accepted. */
export async function deactivateClient(em: EntityManager, clientId: string): Promise<SystemClient> {
  const client = await em.findOne(SystemClient, { clientId }, { populate: ['organization'] });
  if (!client) throw new ClientRegistrationError(`no client with id "${clientId}"`);
  client.active = false;
  await em.flush();
  return client;
}

/**
 * A registered client as the admin API answers it and `npm run client` prints it: never its keys, only how
 * many there are or where they are published.
 */
export interface ClientView {
  clientId: string;
  name: string;
  kind: ClientKind;
  organization: { code: string; name: string };
  scopes: string[];
  jwksUrl?: string;
  keys: number;
  active: boolean;
  createdAt: string;
}

export function clientView(client: SystemClient): ClientView {
  return {
    clientId: client.clientId,
    name: client.name,
    kind: client.kind,
    organization: { code: client.organization.code, name: client.organization.name },
    scopes: [...client.scopes],
    ...(client.jwksUrl ? { jwksUrl: client.jwksUrl } : {}),
    keys: client.jwks?.keys?.length ?? 0,
    active: client.active,
    createdAt: new Date(client.createdAt).toISOString(),
  };
}
