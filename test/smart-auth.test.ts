import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { asInternal } from '../src/access/index.js';
import { ClientKind } from '../src/access/caller.js';
import { ClientRegistrationError, deactivateClient, listClients, registerClient } from '../src/access/smart/client-registry.js';
import { UsedAssertion } from '../src/access/system-client.entity.js';
import { loadConfig } from '../src/config.js';
import type { EntityManager } from '../src/db/orm.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { buildCounty, type County } from './helpers/fixtures.js';

const config = loadConfig({ NODE_ENV: 'test' });
const TOKEN_URL = `${config.auth.publicUrl}/auth/token`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ORGANIZATIONS = '{ organizations { id } }';

interface TestKey {
  alg: 'ES384' | 'RS384';
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

async function makeKey(alg: 'ES384' | 'RS384', kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(publicJwk));
  return { alg, privateKey, publicJwk: { ...publicJwk, kid: id, alg, use: 'sig' }, kid: id };
}

const jwksOf = (...keys: TestKey[]) => ({ keys: keys.map((k) => k.publicJwk as Record<string, unknown>) });

interface AssertionOptions {
  key: TestKey;
  clientId: string;
  iss?: string;
  aud?: string;
  /** Seconds from now. */
  exp?: number;
  jti?: string | null;
}

function assertion({ key, clientId, iss = clientId, aud = TOKEN_URL, exp = 120, jti }: AssertionOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(iss)
    .setSubject(clientId)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + exp);
  if (jti !== null) jwt.setJti(jti ?? randomUUID());
  return jwt.sign(key.privateKey);
}

let t: TestApp;
let county: County;
let em: () => EntityManager;
let es: TestKey;
let rs: TestKey;
let esClientId: string;
let rsClientId: string;

function tokenRequest(fields: Record<string, string | undefined>) {
  const form = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return t.http.post('/auth/token').type('form').send(form);
}

function clientCredentials(clientAssertion: string, scope?: string) {
  return tokenRequest({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion, scope });
}

function expectOAuthError(res: { status: number; body: Record<string, unknown>; headers: Record<string, string> }, status: number, error: string) {
  expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  expect(typeof res.body.error_description).toBe('string');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body.access_token).toBeUndefined();
}

const graphql = (token?: string) => {
  const req = t.http.post('/graphql').set('content-type', 'application/json');
  if (token) req.set('authorization', `Bearer ${token}`);
  return req.send({ query: ORGANIZATIONS });
};

beforeAll(async () => {
  t = await startTestApp();
  em = () => asInternal(t.em());
  county = await buildCounty(em(), 'SA');
  [es, rs] = await Promise.all([makeKey('ES384'), makeKey('RS384')]);
  await em().insert(UsedAssertion, { key: 'stale|jti', expiresAt: new Date(Date.now() - 3600_000) });
  esClientId = (
    await registerClient(em(), {
      name: '县人民医院 HIS',
      kind: ClientKind.HOSPITAL,
      organizationCode: county.county.code,
      jwks: jwksOf(es),
      scopes: ['system/Patient.rs', 'system/Observation.cruds'],
    })
  ).clientId;
  rsClientId = (
    await registerClient(em(), {
      name: '县医保局',
      kind: ClientKind.INSURER,
      organizationCode: county.insurer.code,
      jwks: jwksOf(rs),
      scopes: ['system/Patient.rs', 'system/Coverage.rs'],
      clientId: 'county-insurer',
    })
  ).clientId;
});
afterAll(() => t?.close());

describe('discovery', () => {
  test('/.well-known/smart-configuration names the token endpoint and what it accepts', async () => {
    const res = await t.http.get('/.well-known/smart-configuration');
    expect(res.status).toBe(200);
    expect(res.body.token_endpoint).toBe(TOKEN_URL);
    expect(res.body.grant_types_supported).toEqual(['client_credentials']);
    expect(res.body.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
    expect(res.body.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384']);
    expect(res.body.capabilities).toContain('client-confidential-asymmetric');
    expect(res.body.scopes_supported).toEqual(expect.arrayContaining(['system/Patient.rs', 'system/Observation.cruds', 'system/*.rs']));
    expect(res.body.jwks_uri).toBe(`${config.auth.publicUrl}/.well-known/jwks.json`);
  });
});

describe('SMART backend services token endpoint', () => {
  test('an ES384 client gets a token for the scopes it asks for, and the token works on /graphql', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId }), 'system/Patient.rs');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: config.auth.accessTokenSeconds, scope: 'system/Patient.rs' });

    const gql = await graphql(res.body.access_token);
    expect(gql.status).toBe(200);
    expect(gql.body.errors).toBeUndefined();
    expect(Array.isArray(gql.body.data.organizations)).toBe(true);
  });

  test('a client may ask for less than it was granted (read-only of a cruds grant), and gets exactly that', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId }), 'system/Observation.rs');
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/Observation.rs');
    const fhir = (req: ReturnType<typeof t.http.get>) => req.set('authorization', `Bearer ${res.body.access_token}`);
    expect((await fhir(t.http.get('/fhir/Observation?_count=1'))).status).toBe(200);
    // what it did not ask for is not in its token, though granted
    const write = await fhir(t.http.post('/fhir/Observation') as never).set('content-type', 'application/fhir+json').send({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    expect(write.status).toBe(403);
    // more than granted stays refused: read-only Patient does not stretch to writes
    expectOAuthError(await clientCredentials(await assertion({ key: es, clientId: esClientId }), 'system/Patient.cruds'), 400, 'invalid_scope');
  });

  test('without a scope parameter the client gets every scope it was granted', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId }));
    expect(res.status).toBe(200);
    expect(res.body.scope.split(' ').sort()).toEqual(['system/Observation.cruds', 'system/Patient.rs']);
  });

  test('an RS384 (insurer) client gets a token', async () => {
    const res = await clientCredentials(await assertion({ key: rs, clientId: rsClientId }), 'system/Coverage.rs system/Patient.rs');
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/Coverage.rs system/Patient.rs');
    const gql = await graphql(res.body.access_token);
    expect(gql.status).toBe(200);
    expect(gql.body.errors).toBeUndefined();
  });

  test('an assertion signed by another key is refused', async () => {
    const other = await makeKey('ES384', es.kid); // same kid, different key: the signature check fails
    const forged = await clientCredentials(await assertion({ key: other, clientId: esClientId }));
    expectOAuthError(forged, 401, 'invalid_client');
    expect(forged.body.error_description).toMatch(/signature/);
    const unknownKid = await makeKey('ES384');
    const unmatched = await clientCredentials(await assertion({ key: unknownKid, clientId: esClientId }));
    expectOAuthError(unmatched, 401, 'invalid_client');
    expect(unmatched.body.error_description).toMatch(/no registered key/);
  });

  test('an expired assertion is refused', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId, exp: -120 }));
    expectOAuthError(res, 401, 'invalid_client');
    expect(res.body.error_description).toMatch(/expired/);
  });

  test('an assertion valid for more than five minutes is refused', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId, exp: 3600 }));
    expectOAuthError(res, 401, 'invalid_client');
    expect(res.body.error_description).toMatch(/5 minutes/);
  });

  test('an assertion is good once: the same jti again is a replay', async () => {
    const jti = randomUUID();
    const first = await clientCredentials(await assertion({ key: es, clientId: esClientId, jti }));
    expect(first.status).toBe(200);
    const replay = await clientCredentials(await assertion({ key: es, clientId: esClientId, jti }));
    expectOAuthError(replay, 401, 'invalid_client');
    expect(replay.body.error_description).toMatch(/already used/);
    // The same jti from another client is that client's own.
    expect((await clientCredentials(await assertion({ key: rs, clientId: rsClientId, jti }))).status).toBe(200);
    expect(await em().count(UsedAssertion, { key: `${esClientId}|${jti}` })).toBe(1);

    // Two requests racing with one assertion: exactly one wins.
    const raced = await assertion({ key: es, clientId: esClientId });
    const statuses = (await Promise.all([clientCredentials(raced), clientCredentials(raced)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401]);
    // Ids of assertions that have expired anyway are purged.
    expect(await em().count(UsedAssertion, { key: 'stale|jti' })).toBe(0);
  });

  test('an assertion without jti is refused', async () => {
    expectOAuthError(await clientCredentials(await assertion({ key: es, clientId: esClientId, jti: null })), 401, 'invalid_client');
  });

  test('an unknown client is refused', async () => {
    expectOAuthError(await clientCredentials(await assertion({ key: es, clientId: 'no-such-client' })), 401, 'invalid_client');
  });

  test('iss must equal sub', async () => {
    expectOAuthError(await clientCredentials(await assertion({ key: es, clientId: esClientId, iss: rsClientId })), 401, 'invalid_client');
  });

  test('a scope the client was not granted is refused', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId }), 'system/Patient.rs system/Consent.cruds');
    expectOAuthError(res, 400, 'invalid_scope');
    expect(res.body.error_description).toMatch(/system\/Consent.cruds/);
    expectOAuthError(await clientCredentials(await assertion({ key: es, clientId: esClientId }), 'openid'), 400, 'invalid_scope');
  });

  test('a grant type other than client_credentials is refused', async () => {
    const res = await tokenRequest({
      grant_type: 'authorization_code',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion({ key: es, clientId: esClientId }),
    });
    expectOAuthError(res, 400, 'unsupported_grant_type');
  });

  test('an HS256 (shared-secret) assertion is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(esClientId)
      .setSubject(esClientId)
      .setAudience(TOKEN_URL)
      .setJti(randomUUID())
      .setExpirationTime(now + 120)
      .sign(new TextEncoder().encode('a shared secret that nobody registered'));
    const res = await clientCredentials(hs);
    expectOAuthError(res, 401, 'invalid_client');
    expect(res.body.error_description).toMatch(/RS384 or ES384/);
  });

  test('an assertion for another audience is refused', async () => {
    const res = await clientCredentials(await assertion({ key: es, clientId: esClientId, aud: 'https://elsewhere.example/token' }));
    expectOAuthError(res, 401, 'invalid_client');
    expect(res.body.error_description).toMatch(/"aud"/);
  });

  test('malformed requests are invalid_request', async () => {
    expectOAuthError(await tokenRequest({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE }), 400, 'invalid_request');
    expectOAuthError(await tokenRequest({ grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: 'x.y.z' }), 400, 'invalid_request');
    expectOAuthError(await tokenRequest({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: 'not-a-jwt' }), 400, 'invalid_request');
    expectOAuthError(await tokenRequest({}), 400, 'invalid_request');
    const json = await t.http.post('/auth/token').set('content-type', 'application/json').send({ grant_type: 'client_credentials' });
    expectOAuthError(json, 400, 'invalid_request');
  });

  test('a deactivated client can neither get tokens nor use those it has', async () => {
    const client = await registerClient(em(), {
      name: '城关镇卫生院 HIS',
      kind: ClientKind.HOSPITAL,
      organizationCode: county.township.code,
      jwks: jwksOf(es),
      scopes: ['system/Patient.rs'],
    });
    const res = await clientCredentials(await assertion({ key: es, clientId: client.clientId }));
    expect(res.status).toBe(200);
    expect((await graphql(res.body.access_token)).status).toBe(200);

    await deactivateClient(em(), client.clientId);
    const after = await graphql(res.body.access_token);
    expect(after.status).toBe(401);
    expect(after.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expectOAuthError(await clientCredentials(await assertion({ key: es, clientId: client.clientId })), 401, 'invalid_client');
    expect((await listClients(em())).map((c) => c.clientId)).not.toContain(client.clientId);
    expect((await listClients(em(), { includeInactive: true })).map((c) => c.clientId)).toContain(client.clientId);
  });
});

describe('client registration', () => {
  const base = () => ({ name: 'x', kind: ClientKind.HOSPITAL, organizationCode: county.county.code, jwks: jwksOf(es), scopes: ['system/Patient.rs'] });

  test('refuses private keys, keys unusable for RS384/ES384, and missing keys', async () => {
    const { privateKey } = await generateKeyPair('ES384', { extractable: true });
    await expect(registerClient(em(), { ...base(), jwks: { keys: [{ ...(await exportJWK(privateKey)) }] } })).rejects.toThrow(/private/);
    const p256 = await generateKeyPair('ES256', { extractable: true });
    await expect(registerClient(em(), { ...base(), jwks: { keys: [{ ...(await exportJWK(p256.publicKey)) }] } })).rejects.toThrow(/RS384 or ES384/);
    await expect(registerClient(em(), { ...base(), jwks: undefined })).rejects.toThrow(ClientRegistrationError);
  });

  test('an insurer client must act for an insurer, a hospital client for a care organisation', async () => {
    await expect(registerClient(em(), { ...base(), kind: ClientKind.INSURER, scopes: ['system/Coverage.rs'] })).rejects.toThrow(/insurer/);
    await expect(registerClient(em(), { ...base(), organizationCode: county.insurer.code })).rejects.toThrow(/insurer/);
    await expect(registerClient(em(), { ...base(), organizationCode: 'NO-SUCH-ORG' })).rejects.toThrow(/no organisation/);
  });

  test('scopes must be SMART system scopes; insurers may not be given writes', async () => {
    await expect(registerClient(em(), { ...base(), scopes: ['patient.read'] })).rejects.toThrow(/not a SMART scope/);
    await expect(registerClient(em(), { ...base(), scopes: ['user/Patient.rs'] })).rejects.toThrow(/system/);
    await expect(
      registerClient(em(), { ...base(), kind: ClientKind.INSURER, organizationCode: county.insurer.code, scopes: ['system/Coverage.cruds'] }),
    ).rejects.toThrow(/insurer/);
  });

  test('client ids are unique', async () => {
    await expect(registerClient(em(), { ...base(), clientId: rsClientId })).rejects.toThrow(/already exists/);
  });
});

describe('bearer tokens on /graphql', () => {
  test('no token → 401 UNAUTHENTICATED', async () => {
    const res = await graphql();
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('a garbage token → 401', async () => {
    const res = await graphql('not.a.token');
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('a client assertion is not an access token', async () => {
    expect((await graphql(await assertion({ key: es, clientId: esClientId }))).status).toBe(401);
  });

  test('a development token → 200', async () => {
    const token = await t.app.security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'admin');
    const res = await graphql(token);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.organizations.length).toBeGreaterThanOrEqual(5);
  });
});
