/**
 * GraphQL input that no database column can take — the NUL character in text, a cursor this API never issued —
 * is refused as BAD_USER_INPUT naming the argument, before any SQL runs; never a 500 with the database's words.
 */
import { startCountyApp, type TestApp } from './helpers/app.js';
import type { County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import { AuditEventsAfterDocument, PatientIdsDocument, RegisterPatientDocument, UpdatePatientDocument } from './generated/graphql.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('INP'));
});
afterAll(() => t?.close());

/** Statements other than the audit record of the refused request. */
const statements = () => t.queries.filter((q) => !/^insert into "?audit_event"? /.test(q));
/** POSTs a query as written (a typed document would print its string literals again) and returns status and body. */
const raw = async (query: string, variables?: Record<string, unknown>) => {
  const res = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).set('content-type', 'application/json').send({ query, variables });
  return { status: res.status, body: res.body as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
};
const patientRows = async () => Number(((await t.em().getConnection().execute('select count(*) as n from patient')) as Array<{ n: string }>)[0]!.n);

describe('the NUL character (U+0000) in text', () => {
  test('in a variable: BAD_USER_INPUT naming the argument, and not one statement run', async () => {
    t.queries.length = 0;
    const res = await t.gql(PatientIdsDocument, { first: 5, filter: { search: 'Zh\u0000ang' } });
    expectRefusal(res, 'BAD_USER_INPUT', 'filter.search');
    expect(res.errors![0]!.message).toMatch(/NUL character/);
    expect(res.errors![0]!.extensions!.stacktrace).toBeUndefined();
    expect(statements()).toEqual([]);
  });

  test('in a string literal of the query, escaped (\\u0000) or in a block string', async () => {
    t.queries.length = 0;
    const escaped = await raw('{ patients(first: 5, filter: { search: "Zh\\u0000ang" }) { totalCount } }');
    expect(escaped.status).toBe(400);
    expectRefusal(escaped.body as never, 'BAD_USER_INPUT', 'filter.search');
    const block = await raw('{ patients(first: 5, filter: { search: """Zh\u0000ang""" }) { totalCount } }');
    expectRefusal(block.body as never, 'BAD_USER_INPUT', 'filter.search');
    // A variable's default value is text of the query too.
    expectRefusal((await raw('query($q: String = "\\u0000") { patients(first: 1, filter: { search: $q }) { totalCount } }')).body as never, 'BAD_USER_INPUT', 'filter.search');
    expect(statements()).toEqual([]);
  });

  test('deep in a mutation input: nothing stored', async () => {
    const input = { name: '张三', gender: 'MALE' as const, managingOrganizationId: county.village.id, address: '东村\u00001号' };
    await expectRefusedUnchanged(patientRows, () => t.gql(RegisterPatientDocument, { input }), 'BAD_USER_INPUT', 'input.address');
    const registered = await t.ok(RegisterPatientDocument, { input: { ...input, address: '东村1号' } });
    await expectRefusedUnchanged(
      patientRows,
      () => t.gql(UpdatePatientDocument, { id: registered.registerPatient.id, version: registered.registerPatient.version, input: { name: 'a\u0000' } }),
      'BAD_USER_INPUT',
      'input.name',
    );
  });

  test('the HTTP status is 400, as for a variable of the wrong type', async () => {
    const res = await raw('query($q: String) { patients(first: 1, filter: { search: $q }) { totalCount } }', { q: '\u0000' });
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'filter.search' });
  });
});

describe('an auditEvents cursor this API did not issue', () => {
  const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

  test.each([
    ['not a date', cursor(['yesterday', '01900000-0000-7000-8000-000000000000'])],
    ['not an id', cursor([new Date().toISOString(), 'x'])],
    ['numbers', cursor([1, 2])],
    ['a NUL in its date', cursor(['2026-01-01\u0000', '01900000-0000-7000-8000-000000000000'])],
    ['not JSON', 'bm90IGpzb24'],
  ])('%s: BAD_USER_INPUT on after', async (_name, after) => {
    expectRefusal(await t.gql(AuditEventsAfterDocument, { after }), 'BAD_USER_INPUT', 'after');
  });

  test('the cursors it does issue page on (the control)', async () => {
    for (let i = 0; i < 3; i++) await t.ok(PatientIdsDocument, { first: 1 });
    const first = await t.ok(AuditEventsAfterDocument, {});
    const after = first.auditEvents.edges.at(-1)!.cursor;
    const next = await t.ok(AuditEventsAfterDocument, { after });
    expect(next.auditEvents.edges.map((e) => e.node.id)).not.toContain(first.auditEvents.edges.at(-1)!.node.id);
  });
});
