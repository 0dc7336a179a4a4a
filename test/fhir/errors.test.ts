/**
 * Bad input at /fhir: each refusal is a clear OperationOutcome with the right status, and nothing is stored.
 * Then versioning: If-Match, delete (410), vread and history.
 */
import type { Bundle, BundleEntry, Observation, OperationOutcome, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { type CryptoKey, generateKeyPair, SignJWT } from 'jose';
import supertest from 'supertest';
import { SERVICE_SIGNING_ALG } from '../../src/access/keys.js';
import { BEARER_CHALLENGE } from '../../src/access/tokens.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { MAX_BUNDLE_ENTRIES } from '../../src/fhir/interactions.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { buildCounty } from '../helpers/fixtures.js';
import { counts, emitted, FHIR_JSON, get, invalidIn, issuesOf, send } from './support.js';

let t: TestApp;
let patientId: string;
const NPI = 'http://hl7.org/fhir/sid/us-npi';

const patient = (mrn: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: 'http://hospital.example.org/mrn', value: mrn }],
  name: [{ family: 'Zhang', given: ['San'] }],
  gender: 'male',
  birthDate: '1958-03-12',
});
const bp = (subject: string, systolic = 150): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
  subject: { reference: subject },
  effectiveDateTime: '2026-11-01T08:00:00Z',
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 95, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ],
});
const transaction = (entries: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
const postEntry = (resource: Resource, fullUrl?: string): BundleEntry => ({ ...(fullUrl ? { fullUrl } : {}), resource, request: { method: 'POST', url: resource.resourceType } });

beforeAll(async () => {
  t = await startTestApp();
  const res = await send(t, 'post', '/fhir/Patient', patient('E-1'));
  expect(res.status).toBe(201);
  patientId = res.body.id;
});
afterAll(() => t?.close());

/** Runs a request that must be refused, and checks that no table changed. */
async function refused(request: () => Promise<supertest.Response>, status: number): Promise<OperationOutcome> {
  const before = await counts(t);
  const res = await request();
  expect({ status: res.status, body: res.status === status ? undefined : res.body }).toEqual({ status, body: undefined });
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue.length).toBeGreaterThan(0);
  for (const issue of res.body.issue) {
    expect(['error', 'fatal']).toContain(issue.severity);
    expect(issue.diagnostics ?? issue.details?.text).toBeTruthy();
  }
  expect(await counts(t)).toEqual(before);
  return res.body as OperationOutcome;
}

describe('refused, nothing stored', () => {
  test('malformed JSON: 400', async () => {
    const outcome = await refused(() => send(t, 'post', '/fhir/Patient', '{"resourceType": "Patient", "name": ['), 400);
    expect(outcome.issue[0]!.code).toBe('structure');
    await refused(() => send(t, 'post', '/fhir', '{"resourceType": "Bundle", "type": "transaction", "entry": [}'), 400);
  });

  test('wrong content type: 415', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const outcome = await refused(() => t.http.post('/fhir/Patient').set('authorization', `Bearer ${t.adminToken}`).set('content-type', type).send(JSON.stringify(patient('E-2'))), 415);
      expect(outcome.issue[0]!.code).toBe('not-supported');
    }
    await refused(() => t.http.put(`/fhir/Patient/${patientId}`).set('authorization', `Bearer ${t.adminToken}`).set('content-type', 'text/plain').send('{}'), 415);
  });

  test('unknown resource type: 404 for the URL, 400 for the body', async () => {
    await refused(() => send(t, 'post', '/fhir/Foo', { resourceType: 'Foo' }), 404);
    await refused(() => get(t, '/fhir/Foo/0190b5a2-0000-7000-8000-000000000000'), 404);
    const body = await refused(() => send(t, 'post', '/fhir/Patient', { resourceType: 'Foo', name: 'x' }), 400);
    expect(body.issue[0]!.expression).toEqual(['Foo']);
    await refused(() => send(t, 'post', '/fhir', transaction([postEntry({ resourceType: 'Foo' } as unknown as Resource)])), 400);
    await refused(() => send(t, 'post', '/fhir/Patient', { name: [{ family: 'no resourceType' }] }), 400);
  });

  test('invalid resource: 400, each issue with its FHIRPath expression', async () => {
    const outcome = await refused(() => send(t, 'post', '/fhir/Patient', { ...patient('E-3'), gender: 1, birthDate: '12/03/1958', nickname: 'San' }), 400);
    const expressions = outcome.issue.flatMap((i) => i.expression ?? []);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate', 'Patient.nickname']));
    expect(outcome.issue).toHaveLength(3);
    const obs = await refused(() => send(t, 'post', '/fhir/Observation', { resourceType: 'Observation', subject: { reference: `Patient/${patientId}` } }), 400);
    expect(obs.issue.flatMap((i) => i.expression ?? [])).toEqual(expect.arrayContaining(['Observation.status', 'Observation.code']));
    const obs6 = await refused(() => send(t, 'post', '/fhir/Observation', { ...bp(`Patient/${patientId}`), valueString: 'high', dataAbsentReason: { text: 'not measured' } }), 400);
    expect(JSON.stringify(obs6.issue)).toMatch(/obs-6/);
    expect(obs6.issue[0]!.expression).toEqual(['Observation']);
    // A code outside a required FHIR value set (observation-status) is invalid too.
    const status = await refused(() => send(t, 'post', '/fhir/Observation', { ...bp(`Patient/${patientId}`), status: 'done' }), 400);
    expect(status.issue).toEqual([expect.objectContaining({ code: 'code-invalid', expression: ['Observation.status'] })]);
    // A valid resource is never refused for its clinical content: an implausible blood pressure is stored, with a
    // warning (issue 10; test/fhir/plausibility.test.ts).
    const implausible = await send(t, 'post', '/fhir/Observation', bp(`Patient/${patientId}`, 900), { headers: { prefer: 'return=OperationOutcome' } });
    expect(implausible.status).toBe(201);
    expect(implausible.body.issue).toEqual([expect.objectContaining({ severity: 'warning', code: 'business-rule', expression: ['Observation.component'] })]);
  });

  test('a resource in the body of another type than the URL: 400', async () => {
    await refused(() => send(t, 'post', '/fhir/Observation', patient('E-4')), 400);
  });

  test('a transaction with one invalid resource is refused whole', async () => {
    const { code: _code, ...bad } = bp('urn:uuid:0190b5a2-1111-7000-8000-000000000001');
    const outcome = await refused(
      () =>
        send(
          t,
          'post',
          '/fhir',
          transaction([
            postEntry(patient('E-5'), 'urn:uuid:0190b5a2-1111-7000-8000-000000000001'),
            postEntry(bp('urn:uuid:0190b5a2-1111-7000-8000-000000000001'), 'urn:uuid:0190b5a2-1111-7000-8000-000000000002'),
            postEntry(bad as Observation, 'urn:uuid:0190b5a2-1111-7000-8000-000000000003'),
          ]),
        ),
      400,
    );
    expect(outcome.issue[0]!.expression).toEqual(['Bundle.entry[2].resource.code']);
  });

  test('a transaction refused by the domain half-way (after writes) leaves nothing behind', async () => {
    await refused(
      () =>
        send(
          t,
          'post',
          '/fhir',
          transaction([
            postEntry(patient('E-6'), 'urn:uuid:0190b5a2-2222-7000-8000-000000000001'),
            postEntry(bp('urn:uuid:0190b5a2-2222-7000-8000-000000000001'), 'urn:uuid:0190b5a2-2222-7000-8000-000000000002'),
            // Written after the first patient: a resident ID failing the GB 11643 check.
            postEntry({ ...patient('E-6b'), identifier: [{ system: 'urn:oid:2.16.156.10011.1.3', value: '110101195803120010' }] }, 'urn:uuid:0190b5a2-2222-7000-8000-000000000003'),
          ]),
        ),
      422,
    );
  });

  test.each(['document', 'collection', 'searchset', 'message', undefined])('a %s Bundle posted to /fhir: 400 (store one with POST /fhir/Bundle)', async (type) => {
    const bundle = { resourceType: 'Bundle', ...(type ? { type } : {}), timestamp: '2026-11-20T10:00:00+08:00', entry: [{ fullUrl: 'urn:uuid:0190b5a2-9999-7000-8000-000000000001', resource: patient('E-9') }] };
    const outcome = await refused(() => send(t, 'post', '/fhir', bundle), 400);
    expect(outcome.issue[0]).toMatchObject({ code: 'not-supported', expression: ['Bundle.type'] });
    expect(outcome.issue[0]!.diagnostics).toContain('POST /fhir/Bundle');
  });

  test('a dangling urn:uuid reference: 400', async () => {
    const outcome = await refused(() => send(t, 'post', '/fhir', transaction([postEntry(bp('urn:uuid:0190b5a2-3333-7000-8000-00000000dead'))])), 400);
    expect(outcome.issue[0]!.code).toBe('not-found');
    expect(outcome.issue[0]!.diagnostics).toContain('urn:uuid:0190b5a2-3333-7000-8000-00000000dead');
    expect(outcome.issue[0]!.expression).toEqual(['Bundle.entry[0].resource']);
  });

  test('a conditional reference matching no resource, or two: 412', async () => {
    const doctor = (npi: string): Practitioner => ({ resourceType: 'Practitioner', identifier: [{ system: NPI, value: npi }], name: [{ family: `Dr ${npi}` }] });
    const withPerformer = (ref: string) => ({ ...bp(`Patient/${patientId}`), performer: [{ reference: ref }] });
    const none = await refused(() => send(t, 'post', '/fhir', transaction([postEntry(withPerformer(`Practitioner?identifier=${NPI}|0000000000`))])), 412);
    expect(none.issue[0]!.diagnostics).toMatch(/matches 0/);

    // Two practitioners come to hold the same NPI (a data error at the sender). The second keeps its first
    // identifier, which is its code: no FHIR write changes a practitioner's code (test/security/directory-writes).
    const a = await send(t, 'post', '/fhir/Practitioner', doctor('1111111111'));
    const b = await send(t, 'post', '/fhir/Practitioner', doctor('2222222222'));
    expect([a.status, b.status]).toEqual([201, 201]);
    const dup = await send(t, 'put', `/fhir/Practitioner/${b.body.id}`, { ...doctor('2222222222'), identifier: [{ system: NPI, value: '2222222222' }, { system: NPI, value: '1111111111' }], id: b.body.id });
    expect(dup.status).toBe(200);
    const two = await refused(() => send(t, 'post', '/fhir', transaction([postEntry(withPerformer(`Practitioner?identifier=${NPI}|1111111111`))])), 412);
    expect(two.issue[0]!.code).toBe('multiple-matches');
    // If-None-Exist matching two is refused too.
    await refused(() => send(t, 'post', '/fhir/Practitioner', doctor('3333333333'), { headers: { 'if-none-exist': `identifier=${NPI}|1111111111` } }), 412);
  });

  test(`more than ${MAX_BUNDLE_ENTRIES} entries: 413`, async () => {
    const entries = Array.from({ length: MAX_BUNDLE_ENTRIES + 1 }, () => ({ request: { method: 'GET' as const, url: `Patient/${patientId}` } }));
    const outcome = await refused(() => send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: entries }), 413);
    expect(outcome.issue[0]!.code).toBe('too-costly');
  });

  test('a body over the configured limit: 413', async () => {
    const base = loadConfig({ NODE_ENV: 'test' });
    const small: App = await createApp({ config: { ...base, http: { ...base.http, fhirBodyLimit: '20kb' } }, orm: t.orm, security: t.app.security });
    try {
      const big = transaction(Array.from({ length: 120 }, (_, i) => postEntry(patient(`BIG-${i}`))));
      expect(JSON.stringify(big).length).toBeGreaterThan(20 * 1024);
      const outcome = await refused(
        () => supertest(small.express).post('/fhir').set('authorization', `Bearer ${t.adminToken}`).set('content-type', FHIR_JSON).send(JSON.stringify(big)),
        413,
      );
      expect(outcome.issue[0]!.code).toBe('too-costly');
    } finally {
      await small.stop();
    }
  });

  test('a batch refuses only its bad entries', async () => {
    const before = await counts(t);
    const res = await send(t, 'post', '/fhir', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [postEntry(patient('E-8')), postEntry({ ...bp(`Patient/${patientId}`), status: undefined } as unknown as Resource), postEntry(bp('Patient/0190b5a2-4444-7000-8000-000000000000'))],
    });
    expect(res.status).toBe(200);
    const entries = (res.body as Bundle).entry!;
    expect(entries.map((e) => e.response!.status)).toEqual(['201', '400', '422']);
    expect(entries[1]!.response!.outcome!.resourceType).toBe('OperationOutcome');
    expect((entries[1]!.response!.outcome as OperationOutcome).issue[0]!.expression).toEqual(['Bundle.entry[1].resource.status']);
    expect((entries[2]!.response!.outcome as OperationOutcome).issue[0]!.expression).toEqual(['Observation.subject']);
    expect((await counts(t)).fhir_resource).toBe(before.fhir_resource + 1);
  });
});

describe('input the database cannot take: 400 OperationOutcomes naming the parameter, never a 500', () => {
  const invalid = (outcome: OperationOutcome) => expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid' })]);

  test('a body in a charset or content encoding the server does not read: 415, not 500', async () => {
    for (const [type, encoding] of [[`${FHIR_JSON}; charset=latin2`, undefined], [FHIR_JSON, 'compress-me']]) {
      const headers: Record<string, string> = { 'content-type': type! };
      if (encoding) headers['content-encoding'] = encoding;
      const outcome = await refused(() => t.http.post('/fhir/Patient').set('authorization', `Bearer ${t.adminToken}`).set(headers).send(JSON.stringify(patient('E-ENC'))), 415);
      expect(outcome.issue[0]!.code).toBe('not-supported');
    }
  });

  test('integer parameters beyond what SQL holds, or not plain digits', async () => {
    for (const [url, name] of [
      ['/fhir/Patient?_offset=99999999999999999999', '_offset'],
      ['/fhir/Patient?_offset=2147483648', '_offset'],
      ['/fhir/Patient?_count=99999999999999999999', '_count'],
      ['/fhir/Patient?_offset=-1', '_offset'],
      ['/fhir/Patient?_count=1e2', '_count'],
      [`/fhir/Patient/${patientId}/$everything?_offset=99999999999999999999`, '_offset'],
      [`/fhir/Patient/${patientId}/$everything?_count=0`, '_count'],
      [`/fhir/Patient/${patientId}/_history/99999999999999999999`, 'version id'],
    ]) {
      const outcome = await refused(() => get(t, url!), 400);
      invalid(outcome);
      expect(outcome.issue[0]!.diagnostics).toMatch(new RegExp(`^${name!.replace('$', '\\$')} must be an integer from [01] to 2147483647`));
      expect(outcome.issue[0]!.expression).toEqual([name]);
    }
    // The largest offset is served: an empty page.
    const last = await get(t, '/fhir/Patient?_offset=2147483647');
    expect(last.status).toBe(200);
    expect(last.body.entry).toEqual([]);
  });

  test('a NUL character (%00) in any search parameter, however the search is made', async () => {
    for (const query of ['name=a%00b', 'family=%00', 'identifier=a%00', 'identifier=urn:x|a%00', 'gender=%00', 'status=%00', '_sort=%00', '_id=%00']) {
      const type = query.startsWith('status') ? 'Observation' : 'Patient';
      const outcome = await refused(() => get(t, `/fhir/${type}?${query}`), 400);
      invalid(outcome);
      expect(outcome.issue[0]!.diagnostics).toMatch(/contains the NUL character/);
      expect(outcome.issue[0]!.expression).toEqual([query.split('=')[0]]);
    }
    // In a parameter's name, in If-None-Exist, in a conditional update, in a Bundle's search entry and conditional reference.
    invalid(await refused(() => get(t, '/fhir/Patient?na%00me=x'), 400));
    invalid(await refused(() => send(t, 'post', '/fhir/Patient', patient('E-NUL-1'), { headers: { 'if-none-exist': 'identifier=a%00' } }), 400));
    invalid(await refused(() => send(t, 'put', '/fhir/Patient?identifier=a%00', patient('E-NUL-2')), 400));
    invalid(await refused(() => send(t, 'post', '/fhir', transaction([{ request: { method: 'GET', url: 'Patient?name=\u0000' } }])), 400));
    const performer = { ...bp(`Patient/${patientId}`), performer: [{ reference: `Practitioner?identifier=${NPI}|%00` }] };
    invalid(await refused(() => send(t, 'post', '/fhir', transaction([postEntry(performer)])), 400));
  });

  test('a NUL character in the text of a resource, in any element (uri and xhtml too)', async () => {
    for (const [body, expression] of [
      [{ ...patient('E-NUL-3'), extension: [{ url: 'http://example.org/\u0000', valueString: 'x' }] }, 'Patient.extension[0].url'],
      [{ ...patient('E-NUL-4'), meta: { source: 'urn:x\u0000' } }, 'Patient.meta.source'],
      [{ ...patient('E-NUL-5'), text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">a\u0000</div>' } }, 'Patient.text.div'],
    ] as const) {
      const outcome = await refused(() => send(t, 'post', '/fhir/Patient', body), 400);
      expect(outcome.issue).toEqual([expect.objectContaining({ code: 'structure', expression: [expression] })]);
      expect(outcome.issue[0]!.details?.text).toMatch(/NUL character/);
    }
  });

  test('an element named __proto__ (or after any other property of Object.prototype): unknown, at every depth, for every type', async () => {
    // JSON.parse makes "__proto__" an own property: it arrives as an element, here sent as raw JSON text.
    const raw = (json: string) => send(t, 'post', `/fhir/${/"resourceType":"(\w+)"/.exec(json)![1]}`, json);
    for (const [json, expression] of [
      ['{"resourceType":"Patient","__proto__":{"active":true}}', 'Patient.__proto__'],
      ['{"resourceType":"Patient","name":[{"family":"Zhang","__proto__":{"x":1}}]}', 'Patient.name[0].__proto__'],
      [`{"resourceType":"Observation","status":"final","code":{"text":"BP","__proto__":{}},"subject":{"reference":"Patient/${patientId}"}}`, 'Observation.code.__proto__'],
      ['{"resourceType":"Organization","name":"Clinic","contact":[{"telecom":[{"system":"phone","value":"1","__proto__":null}]}]}', 'Organization.contact[0].telecom[0].__proto__'],
      ['{"resourceType":"Patient","constructor":{"name":"x"}}', 'Patient.constructor'],
      ['{"resourceType":"Patient","toString":"x"}', 'Patient.toString'],
    ]) {
      const outcome = await refused(() => raw(json!), 400);
      expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'structure', expression: [expression] })]);
      expect(outcome.issue[0]!.details?.text).toMatch(/^Invalid additional property "(__proto__|constructor|toString)"$/);
    }
    // In a Bundle entry, the issue names the entry; the whole transaction is refused.
    const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","__proto__":{"active":true}},"request":{"method":"POST","url":"Patient"}}]}`;
    const outcome = await refused(() => send(t, 'post', '/fhir', bundle), 400);
    expect(outcome.issue[0]!.expression).toEqual(['Bundle.entry[0].resource.__proto__']);
    // An update is refused the same way.
    await refused(() => send(t, 'put', `/fhir/Patient/${patientId}`, `{"resourceType":"Patient","id":"${patientId}","__proto__":{"active":true}}`), 400);
  });
});

describe('authentication: refusals are OperationOutcomes too', () => {
  const config = loadConfig({ NODE_ENV: 'test' });
  /** A development token as the service signs them, with the claims, key and expiry given. */
  const token = (key: CryptoKey, exp: number, claims: Record<string, unknown> = { ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: SERVICE_SIGNING_ALG, kid: t.app.security.keys.signing.kid, typ: 'at+jwt' })
      .setIssuer(config.auth.issuer)
      .setAudience(config.auth.audience)
      .setSubject('someone')
      .setIssuedAt(exp - 3600)
      .setExpirationTime(exp)
      .sign(key);
  const now = () => Math.floor(Date.now() / 1000);

  /** A 401 as FHIR: an OperationOutcome with code `login`, and the bearer challenge; nothing stored. Returns its diagnostics. */
  async function unauthenticated(request: () => supertest.Test): Promise<string> {
    let res: supertest.Response | undefined;
    const outcome = await refused(async () => (res = await request()), 401);
    expect(res!.headers['www-authenticate']).toBe(BEARER_CHALLENGE);
    expect(outcome.issue).toHaveLength(1);
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'login' });
    return outcome.issue[0]!.diagnostics!;
  }

  test('no token: 401 with an OperationOutcome for every kind of FHIR request, nothing stored', async () => {
    const requests: Array<() => supertest.Test> = [
      () => t.http.post('/fhir/Patient').set('content-type', FHIR_JSON).send(JSON.stringify(patient('E-7'))),
      () => t.http.post('/fhir').set('content-type', FHIR_JSON).send(JSON.stringify(transaction([postEntry(patient('E-7'))]))),
      () => t.http.put(`/fhir/Patient/${patientId}`).set('content-type', FHIR_JSON).send(JSON.stringify({ ...patient('E-7'), id: patientId })),
      () => t.http.delete(`/fhir/Patient/${patientId}`),
      () => t.http.get(`/fhir/Patient/${patientId}`).set('accept', FHIR_JSON),
      () => t.http.get(`/fhir/Patient/${patientId}/$everything`),
      () => t.http.get(`/fhir/Observation?patient=${patientId}`),
      () => t.http.get(`/fhir/Patient/${patientId}/_history/1`),
      // Refused before the body is looked at, whatever it is.
      () => t.http.post('/fhir/Patient').set('content-type', 'text/plain').send('not FHIR'),
    ];
    for (const request of requests) expect(await unauthenticated(request)).toBe('authentication failed: missing bearer token');
    expect((await get(t, `/fhir/Patient/${patientId}`)).status).toBe(200);
  });

  test('a token that is not accepted: 401 with an OperationOutcome saying why', async () => {
    const signing = t.app.security.keys.signing.privateKey;
    const { privateKey: otherKey } = await generateKeyPair(SERVICE_SIGNING_ALG);
    const attempts: Array<[authorization: string, diagnostics: RegExp]> = [
      ['Basic dXNlcjpwYXNz', /^authentication failed: missing bearer token$/],
      ['Bearer not.a.jwt', /^authentication failed: malformed bearer token$/],
      [`Bearer ${await token(signing, now() - 60)}`, /^authentication failed: invalid bearer token: .*"exp"/],
      [`Bearer ${await token(otherKey, now() + 60)}`, /^authentication failed: invalid bearer token: /],
      [`Bearer ${await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: 'NO-SUCH-ORG' })}`, /^authentication failed: token names no known organisation$/],
    ];
    for (const [authorization, diagnostics] of attempts) {
      const said = await unauthenticated(() => t.http.get(`/fhir/Patient/${patientId}`).set('authorization', authorization));
      expect({ authorization, said }).toEqual({ authorization, said: expect.stringMatching(diagnostics) });
    }
    // The control: the same request with a good token.
    expect((await get(t, `/fhir/Patient/${patientId}`, await token(signing, now() + 60))).status).toBe(200);
  });

  test('a caller whose scopes do not allow the interaction: 403 forbidden', async () => {
    const county = await buildCounty(t.em(), 'ERR');
    const readOnly = await t.tokenFor({ roles: ['COMMUNITY_ADMIN'], org: county.county.code }); // user/*.rs: reads and searches only
    const outcome = await refused(() => send(t, 'post', '/fhir/Patient', patient('E-10'), { token: readOnly }), 403);
    expect(outcome.issue[0]).toMatchObject({ code: 'forbidden', diagnostics: 'not allowed to write Patient' });
  });

  test('the CapabilityStatement needs no token; GraphQL keeps its own 401', async () => {
    const metadata = await t.http.get('/fhir/metadata');
    expect(metadata.status).toBe(200);
    expect(metadata.body.resourceType).toBe('CapabilityStatement');

    const graphql = await t.http.post('/graphql').set('content-type', 'application/json').send({ query: '{ __typename }' });
    expect(graphql.status).toBe(401);
    expect(graphql.headers['content-type']).toMatch(/^application\/json/);
    expect(graphql.headers['www-authenticate']).toBe(BEARER_CHALLENGE);
    expect(graphql.body).toEqual({ errors: [{ message: 'missing bearer token', extensions: { code: 'UNAUTHENTICATED' } }] });
  });
});

describe('versions', () => {
  let id: string;
  beforeAll(async () => {
    const res = await send(t, 'post', '/fhir/Observation', bp(`Patient/${patientId}`, 150));
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(new RegExp(`/fhir/Observation/${res.body.id}/_history/1$`));
    expect(res.headers.etag).toBe('W/"1"');
    id = res.body.id;
  });

  test('If-Match with a stale version: 412, nothing changed; with the current one: a new version', async () => {
    const update = { ...bp(`Patient/${patientId}`, 148), id };
    const ok = await send(t, 'put', `/fhir/Observation/${id}`, update, { headers: { 'if-match': 'W/"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.body.meta.versionId).toBe('2');
    expect(ok.headers.etag).toBe('W/"2"');
    const outcome = await refused(() => send(t, 'put', `/fhir/Observation/${id}`, { ...bp(`Patient/${patientId}`, 140), id }, { headers: { 'if-match': 'W/"1"' } }), 412);
    expect(outcome.issue[0]!.diagnostics).toContain('version 2');
    expect((await get(t, `/fhir/Observation/${id}`)).body.component[0].valueQuantity.value).toBe(148);
    // An update that changes nothing makes no version.
    const same = await send(t, 'put', `/fhir/Observation/${id}`, update);
    expect(same.body.meta.versionId).toBe('2');
  });

  test('PUT: the id in the body must be the URL’s; an unknown id is not created', async () => {
    await refused(() => send(t, 'put', `/fhir/Observation/${id}`, { ...bp(`Patient/${patientId}`), id: '0190b5a2-5555-7000-8000-000000000000' }), 400);
    await refused(() => send(t, 'put', '/fhir/Observation/0190b5a2-5555-7000-8000-000000000000', { ...bp(`Patient/${patientId}`), id: '0190b5a2-5555-7000-8000-000000000000' }), 404);
  });

  test('delete: 204, then read is 410, search leaves it out; vread and history keep every version', async () => {
    const del = await t.http.delete(`/fhir/Observation/${id}`).set('authorization', `Bearer ${t.adminToken}`);
    expect(del.status).toBe(204);
    const gone = await get(t, `/fhir/Observation/${id}`);
    expect(gone.status).toBe(410);
    expect(issuesOf(gone)[0]!.code).toBe('deleted');
    const found = await get(t, `/fhir/Observation?patient=${patientId}`);
    expect(((found.body as Bundle).entry ?? []).map((e) => e.resource!.id)).not.toContain(id);
    const v1 = await get(t, `/fhir/Observation/${id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.meta.versionId).toBe('1');
    expect(v1.body.component[0].valueQuantity.value).toBe(150);
    expect((await get(t, `/fhir/Observation/${id}/_history/2`)).body.component[0].valueQuantity.value).toBe(148);
    expect((await get(t, `/fhir/Observation/${id}/_history/3`)).status).toBe(410);
    expect((await get(t, `/fhir/Observation/${id}/_history/4`)).status).toBe(404);
    expect((await get(t, `/fhir/Observation/${id}/_history/x`)).status).toBe(400);
    const history = await get(t, `/fhir/Observation/${id}/_history`);
    expect(history.status).toBe(200);
    const h = history.body as Bundle;
    expect(h.type).toBe('history');
    expect(h.total).toBe(3);
    expect(h.entry!.map((e) => [e.request!.method, e.response!.status, e.resource?.meta?.versionId])).toEqual([
      ['DELETE', '204', undefined],
      ['PUT', '200', '2'],
      ['POST', '201', '1'],
    ]);
    // Deleting again is harmless.
    expect((await t.http.delete(`/fhir/Observation/${id}`).set('authorization', `Bearer ${t.adminToken}`)).status).toBe(204);
  });

  test('read, vread and history of what never existed: 404', async () => {
    for (const url of ['/fhir/Observation/0190b5a2-6666-7000-8000-000000000000', '/fhir/Observation/not-a-uuid', '/fhir/Observation/0190b5a2-6666-7000-8000-000000000000/_history', '/fhir/Observation/0190b5a2-6666-7000-8000-000000000000/_history/1']) {
      const res = await get(t, url);
      expect({ url, status: res.status }).toEqual({ url, status: 404 });
      expect(issuesOf(res)[0]!.code).toBe('not-found');
    }
  });
});

test('every response body in this file is valid R4', () => {
  expect(emitted.filter((e) => (e.body as Resource).resourceType === 'OperationOutcome').length).toBeGreaterThan(20);
  const invalid = emitted.flatMap((e) => invalidIn(e.what, e.body));
  expect(invalid.slice(0, 10)).toEqual([]);
});
