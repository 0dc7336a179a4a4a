/**
 * Finding 3 of the outside security test — amplification: a batch of 10 `GET Observation?_count=1000` entries
 * built 12 MB in 3.4 s, a Bundle could hold 10,000 entries, and /fhir had no rate limit at all. Now:
 *  - a Bundle holds at most FHIR_MAX_BUNDLE_ENTRIES entries (default 5,000) and FHIR_MAX_BUNDLE_GET_ENTRIES GET
 *    entries (default 50); what its GET entries answer, together, is at most FHIR_MAX_BUNDLE_READ_BYTES (default
 *    4 MiB), counted as they are answered — beyond any of them, 413 `too-costly` with what to do instead;
 *  - /fhir is rate limited per caller, with /graphql's limit (RATE_LIMIT_PER_MINUTE, one budget for both), draft-8
 *    RateLimit headers and a 429 OperationOutcome (`throttled`); a system client's writes have their own, higher
 *    limit (FHIR_WRITE_RATE_LIMIT_PER_MINUTE), so that a hospital's bulk import is not starved; a system client's
 *    Bundle with GET entries counts against the per-caller limit too;
 *  - /auth/token is limited per client address (there is no caller before the token), with the same headers.
 */
import type { Bundle, BundleEntry, Observation } from '@medplum/fhirtypes';
import supertest from 'supertest';
import { ClientKind } from '../../src/access/caller.js';
import { type App, createApp } from '../../src/app.js';
import { DEFAULT_FHIR_LIMITS, loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty, smartToken } from '../helpers/access-fixtures.js';
import { FHIR_JSON } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
let hospital: string;
const apps: App[] = [];

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'AMP');
  hospital = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: c.orgs.A.code, scopes: ['system/Observation.cruds', 'system/Patient.rs'] })).token;
});
afterAll(async () => {
  for (const app of apps) await app.stop();
  await t?.close();
});

/** The app over the same database, configured by these settings. */
async function appWith(env: Record<string, string>): Promise<ReturnType<typeof supertest>> {
  const app = await createApp({ config: loadConfig({ NODE_ENV: 'test', ...env }), orm: t.orm, security: t.app.security });
  apps.push(app);
  return supertest(app.express);
}

const bundle = (type: 'batch' | 'transaction', entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type, entry });
const gets = (n: number, url: (i: number) => string): BundleEntry[] => Array.from({ length: n }, (_, i) => ({ request: { method: 'GET', url: url(i) } }));

function post(http: ReturnType<typeof supertest>, url: string, body: unknown, token = t.adminToken) {
  return http.post(url).set('authorization', `Bearer ${token}`).set('content-type', FHIR_JSON).set('accept', FHIR_JSON).send(JSON.stringify(body));
}
const read = (http: ReturnType<typeof supertest>, url: string, token = t.adminToken) => http.get(url).set('authorization', `Bearer ${token}`).set('accept', FHIR_JSON);

function expectTooCostly(res: supertest.Response, says: RegExp) {
  expect({ status: res.status, type: res.body.resourceType, code: res.body.issue?.[0]?.code }).toEqual({ status: 413, type: 'OperationOutcome', code: 'too-costly' });
  expect(res.body.issue[0].diagnostics).toMatch(says);
}

const reading = (patientId: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: `Patient/${patientId}` },
  effectiveDateTime: new Date().toISOString(),
  valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
});

describe('Bundle caps', () => {
  test('the defaults', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).fhir).toEqual({ maxBundleEntries: 5000, maxBundleGetEntries: 50, maxBundleReadBytes: 4 * 1024 * 1024 });
    expect(DEFAULT_FHIR_LIMITS).toEqual(loadConfig({ NODE_ENV: 'test' }).fhir);
  });

  test('more entries than FHIR_MAX_BUNDLE_ENTRIES (default 5,000): 413 before any entry runs', async () => {
    const empty = (n: number) => bundle('batch', Array.from({ length: n }, () => ({})));
    expectTooCostly(await post(t.http, '/fhir', empty(5001)), /at most 5000 entries \(this one holds 5001\)/);
    expect((await post(t.http, '/fhir', empty(5000))).status).toBe(200);
    const small = await appWith({ FHIR_MAX_BUNDLE_ENTRIES: '10' });
    expectTooCostly(await post(small, '/fhir', empty(11)), /at most 10 entries/);
  });

  test('more GET entries than FHIR_MAX_BUNDLE_GET_ENTRIES (default 50): 413, batch or transaction', async () => {
    for (const type of ['batch', 'transaction'] as const) {
      expectTooCostly(await post(t.http, '/fhir', bundle(type, gets(51, () => `Patient/${c.patients.a1.id}`))), /at most 50 GET entries \(this one holds 51\).*search/);
      expect((await post(t.http, '/fhir', bundle(type, gets(50, () => `Patient/${c.patients.a1.id}`)))).status).toBe(200);
    }
  });

  test('GET entries answering more than FHIR_MAX_BUNDLE_READ_BYTES together: the whole Bundle 413, batch or transaction', async () => {
    const one = await read(t.http, '/fhir/Observation?_count=1000');
    const size = Buffer.byteLength(JSON.stringify(one.body));
    expect(one.body.entry.length).toBeGreaterThan(10);
    // A budget of 3½ answers: 3 fit, 10 do not.
    const budget = await appWith({ FHIR_MAX_BUNDLE_READ_BYTES: String(Math.floor(size * 3.5)) });
    const ten = gets(10, () => 'Observation?_count=1000');
    for (const type of ['batch', 'transaction'] as const) {
      const started = Date.now();
      expectTooCostly(await post(budget, '/fhir', bundle(type, ten)), /answer more than [\d,]+ bytes.*_count/);
      expect(Date.now() - started).toBeLessThan(30_000);
      const fits = await post(budget, '/fhir', bundle(type, ten.slice(0, 3)));
      expect(fits.status).toBe(200);
      expect(fits.body.entry.map((e: BundleEntry) => e.response!.status)).toEqual(['200', '200', '200']);
    }
    // Writes are not counted: a Bundle of writes is bounded by FHIR_BODY_LIMIT.
    const writes = Array.from({ length: 20 }, () => ({ request: { method: 'POST' as const, url: 'Observation' }, resource: reading(c.patients.a1.id) }));
    expect((await post(await appWith({ FHIR_MAX_BUNDLE_READ_BYTES: '100' }), '/fhir', bundle('transaction', writes))).status).toBe(200);
  });
});

describe('rate limits', () => {
  test('/fhir: per caller, draft-8 RateLimit headers, then a 429 OperationOutcome', async () => {
    const http = await appWith({ RATE_LIMIT_PER_MINUTE: '3' });
    const url = `/fhir/Patient/${c.patients.a1.id}`;
    const first = await read(http, url);
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toMatch(/q=3;\s*w=60/);
    expect(first.headers.ratelimit).toMatch(/r=2/);
    await read(http, url);
    await read(http, url);
    const over = await read(http, url);
    expect({ status: over.status, type: over.headers['content-type'], code: over.body.issue?.[0]?.code }).toEqual({ status: 429, type: expect.stringMatching(/^application\/fhir\+json/), code: 'throttled' });
    expect(over.body.issue[0].diagnostics).toMatch(/at most 3 requests a minute/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Another caller has a limit of its own; the capability statement is not limited.
    const gp = await t.tokenFor({ sub: 'amp-gp', roles: ['GENERAL_PRACTITIONER'], org: c.orgs.A.code, practitioner: c.people.gp.code });
    expect((await read(http, url, gp)).status).toBe(200);
    expect((await http.get('/fhir/metadata')).status).toBe(200);
  });

  test('one budget per caller for /graphql and /fhir together', async () => {
    const http = await appWith({ RATE_LIMIT_PER_MINUTE: '2' });
    const query = { query: `{ patient(id: "${c.patients.a1.id}") { id } }` };
    expect((await http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).send(query)).status).toBe(200);
    expect((await http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).send(query)).status).toBe(200);
    expect((await read(http, `/fhir/Patient/${c.patients.a1.id}`)).status).toBe(429);
  });

  test("a system client's writes have their own higher limit; its reads, and Bundles that read, count against the per-caller one", async () => {
    const http = await appWith({ RATE_LIMIT_PER_MINUTE: '2', FHIR_WRITE_RATE_LIMIT_PER_MINUTE: '5' });
    for (let i = 0; i < 5; i++) {
      const res = await post(http, '/fhir/Observation', reading(c.patients.a1.id), hospital);
      expect({ i, status: res.status }).toEqual({ i, status: 201 });
      expect(res.headers['ratelimit-policy']).toMatch(/"fhir-system-writes";\s*q=5/);
    }
    expect((await post(http, '/fhir/Observation', reading(c.patients.a1.id), hospital)).status).toBe(429);
    // Its reads were not used up by its writes …
    expect((await read(http, `/fhir/Patient/${c.patients.a1.id}`, hospital)).status).toBe(200);
    // … and a Bundle that reads counts against them (the second request of two) — though its writes are spent, too.
    const http2 = await appWith({ RATE_LIMIT_PER_MINUTE: '2', FHIR_WRITE_RATE_LIMIT_PER_MINUTE: '100' });
    const readingBundle = bundle('batch', gets(1, () => `Patient/${c.patients.a1.id}`));
    expect((await post(http2, '/fhir', readingBundle, hospital)).status).toBe(200);
    expect((await post(http2, '/fhir', readingBundle, hospital)).status).toBe(200);
    const third = await post(http2, '/fhir', readingBundle, hospital);
    expect({ status: third.status, code: third.body.issue?.[0]?.code }).toEqual({ status: 429, code: 'throttled' });
    // A Bundle of writes only is not counted as reads.
    expect((await post(http2, '/fhir', bundle('batch', [{ request: { method: 'POST', url: 'Observation' }, resource: reading(c.patients.a1.id) }]), hospital)).status).toBe(200);
  });

  test('/auth/token: per client address, draft-8 headers, then 429', async () => {
    const http = await appWith({ RATE_LIMIT_PER_MINUTE: '2' });
    const ask = () => http.post('/auth/token').type('form').send({ grant_type: 'client_credentials' });
    const first = await ask();
    expect(first.status).toBe(400);
    expect(first.headers['ratelimit-policy']).toMatch(/q=2;\s*w=60/);
    await ask();
    expect((await ask()).status).toBe(429);
  });
});
