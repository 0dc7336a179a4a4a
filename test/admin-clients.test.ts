/**
 * The admin API `npm run client` goes through while a server holds the embedded database: platform
 * administrators only, audited; a client registered through it gets a token at once (nothing caches the
 * registry), and one deactivated through it is refused at once.
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '../src/config.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { buildCounty, type County } from './helpers/fixtures.js';

const config = loadConfig({ NODE_ENV: 'test' });
const TOKEN_URL = `${config.auth.publicUrl}/auth/token`;

let t: TestApp;
let county: County;
let key: { privateKey: CryptoKey; jwks: { keys: Record<string, unknown>[] }; kid: string };

beforeAll(async () => {
  t = await startTestApp();
  county = await buildCounty(t.em(), 'ADM');
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  key = { privateKey, kid, jwks: { keys: [{ ...jwk, kid, alg: 'ES384', use: 'sig' }] } };
});
afterAll(() => t?.close());

const assertion = (clientId: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: key.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(TOKEN_URL)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key.privateKey);

const requestToken = async (clientId: string) =>
  t.http
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(clientId) });

const registration = (clientId: string) => ({
  name: '县人民医院 HIS',
  kind: 'HOSPITAL',
  organizationCode: county.county.code,
  jwks: key.jwks,
  scopes: 'system/Patient.rs system/Observation.cruds',
  clientId,
});

const audits = async (like: string) =>
  (await t.em().getConnection().execute(`select actor, action, outcome, what from audit_event where what like ? order by recorded_at`, [like])) as Array<{
    actor: string;
    action: string;
    outcome: string;
    what: string;
  }>;

test('a platform administrator registers a client; it gets a token at once and can call the API', async () => {
  expect((await requestToken('adm-his')).body).toMatchObject({ error: 'invalid_client', error_description: 'unknown or deactivated client' });

  const res = await t.http.post('/admin/clients').set('authorization', `Bearer ${t.adminToken}`).send(registration('adm-his'));
  expect(res.status).toBe(201);
  expect(res.body.client).toMatchObject({
    clientId: 'adm-his',
    kind: 'HOSPITAL',
    organization: { code: county.county.code },
    scopes: ['system/Patient.rs', 'system/Observation.cruds'],
    keys: 1,
    active: true,
  });
  expect(JSON.stringify(res.body)).not.toContain(String(key.jwks.keys[0]!.x)); // keys are not echoed

  const token = await requestToken('adm-his');
  expect(token.status).toBe(200);
  expect(token.body.scope).toBe('system/Patient.rs system/Observation.cruds');
  const search = await t.http.get('/fhir/Patient').set('authorization', `Bearer ${token.body.access_token}`);
  expect(search.status).toBe(200);

  expect(await audits('admin: registered%adm-his%')).toEqual([expect.objectContaining({ actor: 'test-admin', action: 'CREATE', outcome: 'SUCCESS' })]);
});

test('list and deactivate; a deactivated client is refused at once', async () => {
  const list = await t.http.get('/admin/clients?active=true').set('authorization', `Bearer ${t.adminToken}`);
  expect(list.status).toBe(200);
  expect(list.body.clients.map((c: { clientId: string }) => c.clientId)).toContain('adm-his');

  const off = await t.http.post('/admin/clients/adm-his/deactivate').set('authorization', `Bearer ${t.adminToken}`);
  expect(off.status).toBe(200);
  expect(off.body.client).toMatchObject({ clientId: 'adm-his', active: false, organization: { code: county.county.code } });
  expect((await requestToken('adm-his')).body).toMatchObject({ error: 'invalid_client' });
  expect((await t.http.get('/admin/clients?active=true').set('authorization', `Bearer ${t.adminToken}`)).body.clients).toEqual([]);
  expect(await audits('admin: deactivated client adm-his%')).toHaveLength(1);
});

test('refusals: no token 401, not a platform administrator 403 (audited as DENIED), a bad registration 400', async () => {
  const anonymous = await t.http.post('/admin/clients').send(registration('adm-x'));
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers['www-authenticate']).toContain('Bearer');

  const gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, sub: 'adm-gp' });
  const forbidden = await t.http.post('/admin/clients').set('authorization', `Bearer ${gp}`).send(registration('adm-x'));
  expect(forbidden.status).toBe(403);
  expect(forbidden.body).toEqual({ error: 'forbidden', message: 'platform administrators only' });
  expect(await audits('admin: client registration refused%')).toEqual([expect.objectContaining({ actor: 'adm-gp', outcome: 'DENIED' })]);

  const bad = await t.http
    .post('/admin/clients')
    .set('authorization', `Bearer ${t.adminToken}`)
    .send({ ...registration('adm-y'), organizationCode: 'NO-SUCH-ORG' });
  expect(bad.status).toBe(400);
  expect(bad.body).toEqual({ error: 'invalid_registration', message: 'no organisation with code "NO-SUCH-ORG"' });
  const duplicate = await t.http.post('/admin/clients').set('authorization', `Bearer ${t.adminToken}`).send(registration('adm-his'));
  expect(duplicate.body.message).toBe('a client with id "adm-his" already exists');
  expect((await t.http.get('/admin/clients').set('authorization', `Bearer ${gp}`)).status).toBe(403);
  expect((await t.http.get('/admin/nothing').set('authorization', `Bearer ${t.adminToken}`)).status).toBe(404);
});
