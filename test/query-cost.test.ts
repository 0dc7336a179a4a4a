import { print } from 'graphql';
import { startCountyApp, type TestApp } from './helpers/app.js';
import {
  HypertensionWorklist100Document,
  PatientsPageDocument,
  WideNested200Document,
  WideNestedDocument,
  WorklistPage100Document,
  WorklistPage200Document,
} from './generated/graphql.js';
import { MAX_ESTIMATED_ROWS, QUERY_LIMITS } from '../src/graphql/guards.js';

let t: TestApp;
beforeAll(async () => {
  ({ t } = await startCountyApp('QC'));
});
afterAll(() => t?.close());

const selects = () => t.queries.filter((q) => /^select/i.test(q) && !/from "organization"|from "system_client"|from "practitioner"/.test(q));

test('page sizes passed as variables count: a 200 × 200 nested query is refused before any SQL runs', async () => {
  t.queries.length = 0;
  const res = await t.gql(WideNestedDocument, { first: 200 });
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', maxRows: MAX_ESTIMATED_ROWS });
  expect(res.errors![0]!.extensions!.estimatedRows as number).toBeGreaterThan(MAX_ESTIMATED_ROWS);
  expect(res.errors![0]!.extensions!.stacktrace).toBeUndefined();
  expect(selects()).toEqual([]);
});

test('the same query with small pages, and the nested worklist query at 50, are served', async () => {
  const small = await t.gql(WideNestedDocument, { first: 10 });
  expect(small.errors).toBeUndefined();
  const worklist = await t.gql(PatientsPageDocument, { first: 50 });
  expect(worklist.errors).toBeUndefined();
});

test('a worklist page of 100, its size written in the query, is served: the README query and the front ends’ patient list', async () => {
  await t.ok(HypertensionWorklist100Document);
  await t.ok(WorklistPage100Document);
  await t.ok(PatientsPageDocument, { first: 100 });
});

test.each([
  ['the patient list at 200', WorklistPage200Document],
  ['the 200 × 200 nested query, its sizes written in the query', WideNested200Document],
])('over the cost limit (%s): QUERY_TOO_COSTLY with the cost and the limit, a 400 without a stack trace, no SQL', async (_name, doc) => {
  t.queries.length = 0;
  const res = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).set('content-type', 'application/json').send({ query: print(doc) });
  expect(res.status).toBe(400);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toHaveLength(1);
  const [error] = res.body.errors;
  expect(error.message).toMatch(new RegExp(`^The query's estimated cost is \\d+, over the limit of ${QUERY_LIMITS.cost}: ask for smaller pages`));
  expect(error.extensions).toEqual({ code: 'QUERY_TOO_COSTLY', cost: expect.any(Number), limit: QUERY_LIMITS.cost });
  expect(error.extensions.cost).toBeGreaterThan(QUERY_LIMITS.cost);
  expect(t.queries).toEqual([]);
});
