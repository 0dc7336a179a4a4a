import { UniqueConstraintViolationException } from '@mikro-orm/core';
import express, { type Request, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type CryptoKey,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type JWTVerifyOptions,
} from 'jose';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { EntityManager, Orm } from '../../db/orm.js';
import { asInternal, type Security } from '../index.js';
import { CLINICAL_RESOURCE_TYPES, parseScope, scopeWithin } from '../scopes.js';
import { SystemClient, UsedAssertion } from '../system-client.entity.js';

/**
 * SMART App Launch v2 "Backend Services": a registered system (a hospital HIS, an insurer) authenticates
 * with a JWT client assertion signed by its own private key (`private_key_jwt`, RFC 7523) and gets a
 * short-lived access token signed by this service, carrying the scopes it was granted.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The only algorithms SMART Backend Services allows for client assertions. */
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;
/** SMART: an assertion's `exp` is no more than five minutes in the future. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Tolerated clock difference between the client and this service. */
const CLOCK_SKEW_SECONDS = 30;
const PURGE_INTERVAL_MS = 60_000;

export const tokenEndpointUrl = (config: Config) => `${config.auth.publicUrl}/auth/token`;

/** `/.well-known/smart-configuration`: what a backend client needs to find and use the token endpoint. */
export function smartConfiguration(config: Config) {
  const publicUrl = config.auth.publicUrl;
  return {
    token_endpoint: tokenEndpointUrl(config),
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    grant_types_supported: ['client_credentials'],
    scopes_supported: [...CLINICAL_RESOURCE_TYPES.flatMap((t) => [`system/${t}.rs`, `system/${t}.cruds`]), 'system/*.rs'],
    capabilities: ['client-confidential-asymmetric'],
    jwks_uri: `${publicUrl}/.well-known/jwks.json`,
  };
}

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_scope' | 'unsupported_grant_type';

/** A refusal, answered as an OAuth error body (RFC 6749 §5.2). */
class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly clientId?: string,
  ) {
    super(description);
  }

  get status(): number {
    return this.code === 'invalid_client' ? 401 : 400;
  }
}

const remoteKeySets = new Map<string, JWTVerifyGetKey>();

/** Remote key sets are cached per URL (jose caches the fetched keys and refetches on an unknown `kid`). */
function remoteKeySet(url: string): JWTVerifyGetKey {
  let keySet = remoteKeySets.get(url);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    remoteKeySets.set(url, keySet);
  }
  return keySet;
}

function keySetOf(client: SystemClient): JWTVerifyGetKey {
  if (client.jwks?.keys?.length) return createLocalJWKSet(client.jwks as never);
  if (client.jwksUrl) return remoteKeySet(client.jwksUrl);
  throw new OAuthError('invalid_client', 'the client has no registered keys', client.clientId);
}

/**
 * Verifies the assertion's signature and standard claims. When several registered keys fit (no `kid` in
 * the header), each is tried in turn.
 */
async function verifyAssertion(assertion: string, keySet: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(assertion, keySet, options)).payload;
  } catch (err) {
    if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
    let last: unknown = err;
    for await (const key of err as unknown as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(assertion, key, options)).payload;
      } catch (inner) {
        last = inner;
        // A claim failure is the same for every key once the signature checked out.
        if (!(inner instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }
}

/** Why jose refused an assertion, in words fit for `error_description` (never echoing the assertion). */
function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the client assertion has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `client assertion claim "${err.claim}" is invalid: ${err.reason}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return `client assertions must be signed with ${ASSERTION_ALGORITHMS.join(' or ')}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the client assertion signature does not verify against the registered keys';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key of the client matches the assertion';
  if (err instanceof joseErrors.JWKSTimeout) return "the client's key set could not be fetched in time";
  if (err instanceof joseErrors.JOSEError) return `the client assertion could not be verified (${err.code})`;
  return 'the client assertion could not be verified';
}

function stringParam(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `parameter "${name}" must be given once`);
  return value;
}

export interface AuthRouterDeps {
  config: Config;
  orm: Orm;
  security: Security;
  logger: Logger;
}

/** `/auth/token`: the SMART Backend Services token endpoint (client_credentials + private_key_jwt). */
export function createAuthRouter(deps: AuthRouterDeps): Router {
  const { config, orm, security, logger } = deps;
  const audience = tokenEndpointUrl(config);
  const router = express.Router();
  let lastPurge = 0;

  /** Forgets assertion ids whose assertions have expired anyway (at most once a minute). */
  async function purgeExpired(em: EntityManager): Promise<void> {
    const now = Date.now();
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    try {
      await em.nativeDelete(UsedAssertion, { expiresAt: { $lt: new Date(now) } });
    } catch (err) {
      logger.warn({ err }, 'could not purge expired client assertion ids');
    }
  }

  /** Records the assertion id; a second use of the same `jti` by the same client is a replay. */
  async function consumeAssertion(em: EntityManager, clientId: string, jti: string, exp: number): Promise<void> {
    await purgeExpired(em);
    try {
      await em.insert(UsedAssertion, { key: `${clientId}|${jti}`, expiresAt: new Date((exp + CLOCK_SKEW_SECONDS) * 1000) });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException || (err as { code?: string }).code === '23505') {
        throw new OAuthError('invalid_client', 'the client assertion was already used (jti replay)', clientId);
      }
      throw err;
    }
  }

  async function issueToken(body: Record<string, unknown>) {
    const grantType = stringParam(body, 'grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'only the client_credentials grant is supported');
    const assertionType = stringParam(body, 'client_assertion_type');
    if (!assertionType) throw new OAuthError('invalid_request', 'client_assertion_type is required');
    if (assertionType !== CLIENT_ASSERTION_TYPE) throw new OAuthError('invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    const assertion = stringParam(body, 'client_assertion');
    if (!assertion) throw new OAuthError('invalid_request', 'client_assertion is required');
    const scopeParam = stringParam(body, 'scope');
    const clientIdParam = stringParam(body, 'client_id');

    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      throw new OAuthError('invalid_request', 'client_assertion is not a well-formed signed JWT');
    }
    const clientId = typeof claims.sub === 'string' ? claims.sub : undefined;
    if (!clientId || claims.iss !== clientId) throw new OAuthError('invalid_client', 'the client assertion must have iss and sub both equal to the client id');
    if (clientIdParam !== undefined && clientIdParam !== clientId) throw new OAuthError('invalid_client', 'client_id does not match the client assertion', clientId);
    if (!ASSERTION_ALGORITHMS.includes(header.alg as never)) {
      throw new OAuthError('invalid_client', `client assertions must be signed with ${ASSERTION_ALGORITHMS.join(' or ')}`, clientId);
    }

    const em = asInternal(orm.em.fork() as EntityManager);
    const client = await em.findOne(SystemClient, { clientId, active: true });
    if (!client) throw new OAuthError('invalid_client', 'unknown or deactivated client', clientId);

    let payload: JWTPayload;
    try {
      payload = await verifyAssertion(assertion, keySetOf(client), {
        algorithms: [...ASSERTION_ALGORITHMS],
        issuer: clientId,
        subject: clientId,
        audience,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      });
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw new OAuthError('invalid_client', describeJoseError(err), clientId);
    }
    const exp = payload.exp!;
    if (exp > Math.floor(Date.now() / 1000) + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
      throw new OAuthError('invalid_client', `the client assertion's exp is more than ${MAX_ASSERTION_LIFETIME_SECONDS / 60} minutes in the future`, clientId);
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 255) throw new OAuthError('invalid_client', 'the client assertion needs a jti (1–255 characters)', clientId);
    await consumeAssertion(em, clientId, jti, exp);

    // Scopes: exactly those asked for, each of which the client was granted; none asked → all granted.
    const requested = scopeParam === undefined ? [] : [...new Set(scopeParam.split(' ').filter(Boolean))];
    if (scopeParam !== undefined && requested.length === 0) throw new OAuthError('invalid_scope', 'scope is empty', clientId);
    for (const scope of requested) {
      if (!parseScope(scope)) throw new OAuthError('invalid_scope', `"${scope}" is not a SMART scope`, clientId);
      if (!scopeWithin(scope, client.scopes)) throw new OAuthError('invalid_scope', `scope "${scope}" was not granted to this client`, clientId);
    }
    const granted = requested.length ? requested : [...client.scopes];
    if (granted.length === 0) throw new OAuthError('invalid_scope', 'the client has no scopes granted', clientId);

    const scope = granted.join(' ');
    const accessToken = await security.tokens.sign({ ncd_kind: 'system', scope }, client.clientId);
    logger.info({ clientId, scope }, 'SMART backend access token issued');
    return { access_token: accessToken, token_type: 'bearer', expires_in: config.auth.accessTokenSeconds, scope };
  }

  router.use(
    '/token',
    rateLimit({
      windowMs: 60_000,
      limit: config.http.rateLimitPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, res) => {
        res.status(429).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({ error: 'invalid_request', error_description: 'too many token requests' });
      },
    }),
  );

  router.post('/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      res.status(200).json(await issueToken(body));
    } catch (err) {
      if (!(err instanceof OAuthError)) {
        logger.error({ err }, 'token endpoint failed');
        res.status(500).json({ error: 'server_error', error_description: 'the token could not be issued' });
        return;
      }
      // Logged without the assertion: it is a credential until it expires.
      logger.info({ clientId: err.clientId, error: err.code, reason: err.description, ip: req.ip }, 'SMART token request refused');
      res.status(err.status).json({ error: err.code, error_description: err.description });
    }
  });

  // Anything but POST on /token: RFC 6749 §3.2 — the token endpoint takes POST only.
  router.all('/token', (_req, res) => {
    res.status(405).set({ Allow: 'POST', 'Cache-Control': 'no-store' }).json({ error: 'invalid_request', error_description: 'use POST' });
  });

  return router;
}
