import { startTestApp, type TestApp } from './helpers/app.js';
import { PatientsPageDocument, WideNestedDocument } from './generated/graphql.js';
import { MAX_ESTIMATED_ROWS } from '../src/graphql/guards.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const selects = () => t.queries.filter((q) => /^select/i.test(q) && !/from "organization"|from "system_client"|from "practitioner"/.test(q));

test('page sizes passed as variables count: a 200 × 200 nested query is refused before any SQL runs', async () => {
  t.queries.length = 0;
  const res = await t.gql(WideNestedDocument, { first: 200 });
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', maxRows: MAX_ESTIMATED_ROWS });
  expect(res.errors![0]!.extensions!.estimatedRows as number).toBeGreaterThan(MAX_ESTIMATED_ROWS);
  expect(selects()).toEqual([]);
});

test('the same query with small pages, and the nested worklist query at 50, are served', async () => {
  const small = await t.gql(WideNestedDocument, { first: 10 });
  expect(small.errors).toBeUndefined();
  const worklist = await t.gql(PatientsPageDocument, { first: 50 });
  expect(worklist.errors).toBeUndefined();
});
