/**
 * Finding 2f of the outside security test: request ids are taken from the client. One check, for every path
 * (app.ts, before any router: /graphql, /fhir, /admin, /auth, …): a client's `x-request-id` is kept only when it is
 * a plain token the audit can hold and holds nothing shaped like a resident ID — else the service makes one. Either
 * way the response says which id the request went by (`X-Request-Id`), so a caller can find its audit record.
 */
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { FHIR_JSON, requestId } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'RID');
});
afterAll(() => t?.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One audited request on each audited path, with this request id; what the response said and what the audit holds. */
async function everywhere(given: string) {
  const paths = {
    graphql: () => t.http.post('/graphql').set('content-type', 'application/json').send({ query: `{ patient(id: "${c.patients.a1.id}") { id } }` }),
    fhir: () => t.http.get(`/fhir/Patient/${c.patients.a1.id}`).set('accept', FHIR_JSON),
    admin: () => t.http.get('/admin/clients'),
  };
  const out: Record<string, { header: string | undefined; audited: string[] }> = {};
  for (const [name, request] of Object.entries(paths)) {
    const before = (await t.em().getConnection().execute('select coalesce(max(id::text), \'\') as at from audit_event')) as Array<{ at: string }>;
    const res = await request().set('authorization', `Bearer ${t.adminToken}`).set('x-request-id', given);
    expect({ name, status: res.status }).toEqual({ name, status: 200 });
    const rows = (await t.em().getConnection().execute('select request_id from audit_event where id::text > ? order by id', [before[0]!.at])) as Array<{ request_id: string }>;
    out[name] = { header: res.headers['x-request-id'], audited: rows.map((r) => r.request_id) };
  }
  return out;
}

test('a plain request id is kept on every path, and said back', async () => {
  const id = requestId('plain');
  for (const [name, { header, audited }] of Object.entries(await everywhere(id))) expect({ name, header, audited }).toEqual({ name, header: id, audited: [id] });
});

test.each([
  ['too long', 'x'.repeat(201)],
  ['with characters outside the token set', `"><script>alert(1)</script>`],
  ['with white space', 'a b'],
  ["holding a resident ID", `visit-${'330326199001011234'}`],
])('a request id %s is replaced on every path — and the response says by what', async (_label, given) => {
  for (const [name, { header, audited }] of Object.entries(await everywhere(given))) {
    expect({ name, header }).toEqual({ name, header: expect.stringMatching(UUID) });
    expect({ name, audited }).toEqual({ name, audited: [header] });
  }
});

test('paths that audit nothing say the request id back too: /auth, /health, /fhir/metadata', async () => {
  const id = requestId('unaudited');
  for (const res of [await t.http.post('/auth/token').type('form').send({ grant_type: 'password' }).set('x-request-id', id), await t.http.get('/health').set('x-request-id', id), await t.http.get('/fhir/metadata').set('x-request-id', id)]) {
    expect(res.headers['x-request-id']).toBe(id);
  }
  expect((await t.http.get('/health').set('x-request-id', 'no good')).headers['x-request-id']).toMatch(UUID);
});
