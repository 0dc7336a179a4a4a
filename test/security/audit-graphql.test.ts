/**
 * Finding 2c of the outside security test: a GraphQL query reaching `patients { edges { cursor } }` through a
 * fragment spread left no audit record at all — and cursors encode patient ids. Whether a request touched patient
 * data, and whose, is decided from what the resolvers returned (every edge, node or row of a patient, whichever
 * field reached it) and from the operation with its fragments resolved — never from the literal root field names.
 */
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { auditRows, graphql, requestId } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
let vd: string;
/** What the village doctor's first page of patients is (ids, in page order). */
let page: string[];

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'AGQ');
  vd = await t.tokenFor({ sub: 'agq-vd', roles: ['VILLAGE_DOCTOR'], org: c.orgs.A1.code, practitioner: c.people.vd.code });
  const res = await graphql(t, vd, '{ patients(first: 3) { edges { node { id } } } }');
  page = res.body.data.patients.edges.map((e: { node: { id: string } }) => e.node.id);
  expect(page).toHaveLength(3);
});
afterAll(() => t?.close());

async function run(query: string, variables?: Record<string, unknown>) {
  const id = requestId('gql');
  const res = await graphql(t, vd, query, { id, variables });
  expect(res.body.errors).toBeUndefined();
  return { data: res.body.data, rows: (await auditRows(t, id)).map((r) => ({ action: r.action, outcome: r.outcome, patients: r.patient_ids, what: r.what })) };
}

test.each([
  ['a fragment spread', 'query Q { ...F } fragment F on Query { patients(first: 3) { edges { cursor } } }'],
  ['an inline fragment', 'query Q { ... on Query { patients(first: 3) { edges { cursor } } } }'],
  ['fragments within fragments', 'query Q { ...A } fragment A on Query { ...B } fragment B on Query { patients(first: 3) { ...E } } fragment E on PatientConnection { edges { cursor } }'],
  ['an alias', 'query Q { who: patients(first: 3) { edges { cursor } } }'],
])('patients { edges { cursor } } through %s: a SEARCH naming every patient of the page', async (_label, query) => {
  const { rows } = await run(query);
  expect(rows).toEqual([{ action: 'SEARCH', outcome: 'SUCCESS', patients: [...page].sort(), what: 'query Q { patients }' }]);
});

test('pageInfo { endCursor } alone names the patient whose id it encodes', async () => {
  const { rows } = await run('query Q { ...F } fragment F on Query { patients(first: 3) { pageInfo { endCursor } } }');
  expect(rows).toEqual([{ action: 'SEARCH', outcome: 'SUCCESS', patients: [page.at(-1)], what: 'query Q { patients }' }]);
});

test("a care team's patients reached through a fragment on CareTeam", async () => {
  const { data, rows } = await run('query Q($id: ID!) { careTeam(id: $id) { ...T } } fragment T on CareTeam { patients { edges { cursor } } }', { id: c.teams.teamA1.id });
  expect(data.careTeam.patients.edges).toHaveLength(1);
  expect(rows).toEqual([{ action: 'SEARCH', outcome: 'SUCCESS', patients: [c.patients.a1.id], what: 'query Q { careTeam }' }]);
});

test('a count only is still a SEARCH of patient data (naming no one); a query of no patient data writes nothing', async () => {
  expect((await run('query Q { ...F } fragment F on Query { patients { totalCount } }')).rows).toEqual([{ action: 'SEARCH', outcome: 'SUCCESS', patients: [], what: 'query Q { patients }' }]);
  expect((await run('query Q { ...F } fragment F on Query { __typename viewer { subject } }')).rows).toEqual([]);
});

test("adding or changing a care plan's activity names the plan's patient (its UPDATE/CREATE row named no one)", async () => {
  const plan = c.carePlans.a1;
  const admin = t.adminToken;
  const add = requestId('gql');
  const added = await graphql(t, admin, 'mutation Add($plan: ID!, $v: Int!) { addCarePlanActivity(carePlanId: $plan, version: $v, input: { category: EXERCISE, description: "每日步行30分钟" }) { id } }', {
    id: add,
    variables: { plan: plan.id, v: plan.version },
  });
  expect(added.body.errors).toBeUndefined();
  expect((await auditRows(t, add)).map((r) => r.patient_ids)).toEqual([[c.patients.a1.id]]);
});
