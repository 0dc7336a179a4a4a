import { startTestApp, type TestApp } from './helpers/app.js';
import { buildCounty, MISSING_ID, residentId, SYSTEMS, type County } from './helpers/fixtures.js';
import { expectRefusal } from './helpers/refusals.js';
import {
  AddConditionDocument,
  CareTeamPatientsDocument,
  CreateCarePlanDocument,
  ExtraCareTeamPatientsPageDocument,
  ExtraObservationsWindowDocument,
  ExtraOrganizationDocument,
  ExtraPatientLatestDocument,
  ExtraPatientObservationsDocument,
  ExtraRegisterPatientDocument,
  ObservationsDocument,
  OrganizationsDocument,
  PatientByIdentifierDocument,
  type PatientFilterInput,
  PatientIdsDocument,
  PatientsPageDocument,
  RecordObservationsDocument,
  type RegisterPatientInput,
} from './generated/graphql.js';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

let t: TestApp;
/** The county these queries look at; `other` is a neighbouring county whose patients must never show up. */
let q: County;
let other: County;
const ids: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'outside', string> = { a: '', b: '', c: '', d: '', e: '', outside: '' };
const paging: string[] = [];
let aResidentId: string;
/** A patient in the other county whose only conditions were refuted or entered in error. */
let refuted: string;

async function register(input: Partial<RegisterPatientInput> & { managingOrganizationId: string }): Promise<string> {
  return (await t.ok(ExtraRegisterPatientDocument, { input: { name: '查询', gender: 'MALE', ...input } })).registerPatient.id;
}

async function addCondition(patientId: string, code: string, clinicalStatus?: 'RESOLVED') {
  expect((await t.gql(AddConditionDocument, { input: { patientId, system: ICD10, code, clinicalStatus } })).errors).toBeUndefined();
}

beforeAll(async () => {
  t = await startTestApp();
  q = await buildCounty(t.em(), 'Q');
  other = await buildCounty(t.em(), 'Q2');
  aResidentId = residentId('1956-06-06', true);
  ids.a = await register({
    name: '欧阳明',
    managingOrganizationId: q.village.id,
    gridId: q.grid.id,
    familyDoctorTeamId: q.team.id,
    contractSignedOn: '2024-01-01',
    managementTier: 'INTENSIVE',
    managementColour: 'RED',
    managementOverrideReason: '靶器官损害',
    identifiers: [
      { system: SYSTEMS.residentId, value: aResidentId },
      { system: SYSTEMS.insurance, value: 'YB-Q-A' },
    ],
  });
  ids.b = await register({ name: '欧阳华', gender: 'FEMALE', managingOrganizationId: q.village.id, managementTier: 'ROUTINE', managementOverrideReason: '稳定' });
  ids.c = await register({ name: '李四', managingOrganizationId: q.otherVillage.id });
  ids.d = await register({ name: '王大', managingOrganizationId: q.township.id, familyDoctorTeamId: q.team.id, managementTier: 'INTENSIVE', managementOverrideReason: '新诊断' });
  ids.e = await register({ name: '赵二', managingOrganizationId: q.county.id });
  ids.outside = await register({ name: '欧阳外', managingOrganizationId: other.village.id, gridId: other.grid.id, familyDoctorTeamId: other.team.id });
  refuted = await register({ name: '排除', managingOrganizationId: other.otherVillage.id });
  expect((await t.gql(AddConditionDocument, { input: { patientId: refuted, system: ICD10, code: 'E11.9', verificationStatus: 'REFUTED' } })).errors).toBeUndefined();
  expect((await t.gql(AddConditionDocument, { input: { patientId: refuted, system: ICD10, code: 'J44.9', verificationStatus: 'ENTERED_IN_ERROR' } })).errors).toBeUndefined();
  await addCondition(ids.a, 'I10');
  await addCondition(ids.b, 'E11.9');
  await addCondition(ids.c, 'I10', 'RESOLVED');
  await addCondition(ids.outside, 'I10');
  for (let i = 0; i < 7; i++) paging.push(await register({ name: `翻页${i}`, managingOrganizationId: q.otherVillage.id }));
});
afterAll(() => t?.close());

async function patientIds(filter: PatientFilterInput, first = 200): Promise<string[]> {
  const res = await t.gql(PatientIdsDocument, { filter, first });
  expect(res.errors).toBeUndefined();
  const page = res.data!.patients;
  expect(page.pageInfo.hasNextPage).toBe(false);
  expect(page.totalCount).toBe(page.edges.length);
  return page.edges.map((e) => e.node.id).sort();
}
const sorted = (...xs: string[]) => [...xs].sort();

describe('patients: filters', () => {
  test('an organisation sees the patients of its whole subtree, and nothing outside it', async () => {
    expect(await patientIds({ organizationId: q.county.id })).toEqual(sorted(ids.a, ids.b, ids.c, ids.d, ids.e, ...paging));
    expect(await patientIds({ organizationId: q.township.id })).toEqual(sorted(ids.a, ids.b, ids.c, ids.d, ...paging));
    expect(await patientIds({ organizationId: q.village.id })).toEqual(sorted(ids.a, ids.b));
    expect(await patientIds({ organizationId: q.otherVillage.id })).toEqual(sorted(ids.c, ...paging));
    expect(await patientIds({ organizationId: other.county.id })).toEqual(sorted(ids.outside, refuted));
    expect(await patientIds({ organizationId: q.insurer.id })).toEqual([]);
    expect(await patientIds({ organizationId: MISSING_ID })).toEqual([]);
  });

  test('by care team and by grid', async () => {
    expect(await patientIds({ careTeamId: q.team.id })).toEqual(sorted(ids.a, ids.d));
    expect(await patientIds({ gridId: q.grid.id })).toEqual([ids.a]);
    expect(await patientIds({ gridId: other.grid.id })).toEqual([ids.outside]);
  });

  test('by active condition kind', async () => {
    expect(await patientIds({ organizationId: q.county.id, conditionKind: 'HYPERTENSION' })).toEqual([ids.a]);
    expect(await patientIds({ organizationId: q.county.id, conditionKind: 'TYPE_2_DIABETES' })).toEqual([ids.b]);
    expect(await patientIds({ organizationId: q.county.id, conditionKind: 'COPD' })).toEqual([]);
    expect(await patientIds({ conditionKind: 'HYPERTENSION' })).toEqual(sorted(ids.a, ids.outside));
    // Refuted diagnoses and entries in error do not count.
    expect(await patientIds({ organizationId: other.county.id, conditionKind: 'TYPE_2_DIABETES' })).toEqual([]);
    expect(await patientIds({ organizationId: other.county.id, conditionKind: 'COPD' })).toEqual([]);
  });

  test('by management tier and colour', async () => {
    expect(await patientIds({ organizationId: q.county.id, managementTier: 'INTENSIVE' })).toEqual(sorted(ids.a, ids.d));
    expect(await patientIds({ organizationId: q.county.id, managementTier: 'ROUTINE' })).toEqual([ids.b]);
    expect(await patientIds({ organizationId: q.county.id, managementTier: 'GENERAL' })).toEqual([]);
    // d's override names only the tier; the colour is the tier's (TIER_OF, care-rules/management.ts): red.
    expect(await patientIds({ organizationId: q.county.id, managementColour: 'RED' })).toEqual(sorted(ids.a, ids.d));
    expect(await patientIds({ organizationId: q.county.id, managementColour: 'YELLOW' })).toEqual([ids.b]);
  });

  test('search by name prefix or by exact identifier value', async () => {
    expect(await patientIds({ search: '欧阳' })).toEqual(sorted(ids.a, ids.b, ids.outside));
    expect(await patientIds({ search: '欧阳', organizationId: q.county.id })).toEqual(sorted(ids.a, ids.b));
    expect(await patientIds({ search: '欧阳明' })).toEqual([ids.a]);
    expect(await patientIds({ search: '阳明' })).toEqual([]); // a prefix, not a substring
    expect(await patientIds({ search: aResidentId })).toEqual([ids.a]);
    expect(await patientIds({ search: 'YB-Q-A' })).toEqual([ids.a]);
    expect(await patientIds({ search: aResidentId.slice(0, 10) })).toEqual([]); // identifiers match exactly
    // LIKE wildcards in the search text are literal characters.
    expect(await patientIds({ search: '%', organizationId: q.county.id })).toEqual([]);
    expect(await patientIds({ search: '欧_', organizationId: q.county.id })).toEqual([]);
  });

  test('filters combine', async () => {
    expect(await patientIds({ organizationId: q.village.id, conditionKind: 'HYPERTENSION', careTeamId: q.team.id, gridId: q.grid.id })).toEqual([ids.a]);
    expect(await patientIds({ organizationId: q.otherVillage.id, careTeamId: q.team.id })).toEqual([]);
  });

  test('a filter id that is not an id is refused', async () => {
    expectRefusal(await t.gql(PatientIdsDocument, { filter: { organizationId: 'township' } }), 'BAD_USER_INPUT', 'organizationId');
    expectRefusal(await t.gql(PatientIdsDocument, { filter: { careTeamId: '1' } }), 'BAD_USER_INPUT', 'careTeamId');
    expectRefusal(await t.gql(PatientIdsDocument, { filter: { gridId: 'g' } }), 'BAD_USER_INPUT', 'gridId');
  });

  test('the patient list carries the nested fields a front end shows', async () => {
    await t.gql(RecordObservationsDocument, {
      inputs: [
        { patientId: ids.a, kind: 'BLOOD_PRESSURE', systolic: 150, diastolic: 92, effectiveAt: '2024-05-01T08:00:00Z' },
        { patientId: ids.a, kind: 'FASTING_GLUCOSE', value: 6.2, effectiveAt: '2024-05-01T08:00:00Z' },
      ],
    });
    await t.gql(CreateCarePlanDocument, {
      input: { patientId: ids.a, title: '管理计划', periodStart: '2024-01-01', activities: [{ category: 'SALT_REDUCTION', description: '限盐' }] },
    });
    const res = await t.gql(PatientsPageDocument, { filter: { organizationId: q.village.id }, first: 10 });
    expect(res.errors).toBeUndefined();
    const a = res.data!.patients.edges.find((e) => e.node.id === ids.a)!.node;
    expect(a).toMatchObject({
      name: '欧阳明',
      gender: 'MALE',
      managementTier: 'INTENSIVE',
      managementColour: 'RED',
      managingOrganization: { id: q.village.id, level: 'VILLAGE' },
      conditions: [{ kind: 'HYPERTENSION', code: 'I10', system: ICD10 }],
      latestBloodPressure: { systolic: 150, diastolic: 92, controlStatus: 'UNCONTROLLED' },
      latestGlucose: { kind: 'FASTING_GLUCOSE', value: 6.2, controlStatus: 'CONTROLLED' },
      carePlans: [{ title: '管理计划', activities: [{ category: 'SALT_REDUCTION', nonMedical: true }] }],
    });
    expect(a.age).toBeGreaterThanOrEqual(67);
    const b = res.data!.patients.edges.find((e) => e.node.id === ids.b)!.node;
    expect(b).toMatchObject({ latestBloodPressure: null, latestGlucose: null, carePlans: [], age: null });
  });
});

describe('patients: pagination', () => {
  test('first/after walks every page once, in registration order, with a steady totalCount', async () => {
    const filter = { organizationId: q.township.id };
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await t.gql(PatientIdsDocument, { filter, first: 4, after });
      expect(res.errors).toBeUndefined();
      const page = res.data!.patients;
      expect(page.totalCount).toBe(11);
      seen.push(...page.edges.map((e) => e.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(4);
      after = page.pageInfo.endCursor!;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(11);
    expect(seen).toEqual([ids.a, ids.b, ids.c, ids.d, ...paging]);
  });

  test('the last page has no next page and the cursor of its last edge', async () => {
    const res = await t.gql(PatientsPageDocument, { filter: { organizationId: q.village.id }, first: 2 });
    const page = res.data!.patients;
    expect(page.pageInfo.hasNextPage).toBe(false);
    expect(page.pageInfo.endCursor).toBe(page.edges[1]!.cursor);
    const after = await t.gql(PatientIdsDocument, { filter: { organizationId: q.village.id }, first: 2, after: page.pageInfo.endCursor });
    expect(after.data!.patients).toMatchObject({ totalCount: 2, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test('first is at most 200', async () => {
    expectRefusal(await t.gql(PatientIdsDocument, { first: 201 }), 'BAD_USER_INPUT', 'first');
    expectRefusal(await t.gql(PatientIdsDocument, { first: -1 }), 'BAD_USER_INPUT', 'first');
    const max = await t.gql(PatientIdsDocument, { first: 200, filter: { organizationId: q.village.id } });
    expect(max.errors).toBeUndefined();
    const none = await t.gql(PatientIdsDocument, { first: 0, filter: { organizationId: q.village.id } });
    expect(none.data!.patients).toMatchObject({ totalCount: 2, edges: [], pageInfo: { hasNextPage: true } });
  });

  test('a cursor this API did not issue is refused', async () => {
    expectRefusal(await t.gql(PatientIdsDocument, { first: 2, after: 'garbage!' }), 'BAD_USER_INPUT', 'after');
    expectRefusal(await t.gql(PatientIdsDocument, { first: 2, after: Buffer.from('{"id":1}').toString('base64url') }), 'BAD_USER_INPUT', 'after');
    // An observation cursor is not a patient cursor.
    const obs = await t.gql(ObservationsDocument, { patientId: ids.a, first: 1 });
    expectRefusal(await t.gql(PatientIdsDocument, { first: 2, after: obs.data!.observations.pageInfo.endCursor }), 'BAD_USER_INPUT', 'after');
    // Right shape, but not an id.
    expectRefusal(await t.gql(PatientIdsDocument, { first: 2, after: Buffer.from('["not-an-id"]').toString('base64url') }), 'BAD_USER_INPUT', 'after');
    expectRefusal(await t.gql(PatientIdsDocument, { first: 2, after: Buffer.from('[42]').toString('base64url') }), 'BAD_USER_INPUT', 'after');
  });
});

describe('observations', () => {
  let pid: string;
  /** Six BP readings, one a day, recorded out of order, plus two glucose readings. */
  const day = (n: number) => `2024-04-0${n}T08:00:00.000Z`;
  beforeAll(async () => {
    pid = await register({ name: '观测', managingOrganizationId: q.otherVillage.id });
    const bp = (n: number, systolic: number) => ({ patientId: pid, kind: 'BLOOD_PRESSURE' as const, systolic, diastolic: 80, effectiveAt: day(n) });
    const res = await t.gql(RecordObservationsDocument, {
      inputs: [
        bp(3, 133),
        bp(6, 136),
        bp(1, 131),
        { patientId: pid, kind: 'FASTING_GLUCOSE', value: 7.2, effectiveAt: '2024-04-05T07:00:00.000Z', source: 'HOME' },
        bp(5, 135),
        bp(2, 132),
        { patientId: pid, kind: 'GLUCOSE', value: 9.1, effectiveAt: '2024-04-02T12:00:00.000Z', source: 'HOME' },
        bp(4, 134),
      ],
    });
    expect(res.errors).toBeUndefined();
  });

  async function walkPatientObservations(vars: { kind?: 'BLOOD_PRESSURE'; from?: string; to?: string }, first: number) {
    const times: string[] = [];
    const seen = new Set<string>();
    let after: string | undefined;
    let total: number | undefined;
    for (;;) {
      const res = await t.gql(ExtraPatientObservationsDocument, { id: pid, first, after, ...vars });
      expect(res.errors).toBeUndefined();
      const page = res.data!.patient.observations;
      total ??= page.totalCount;
      expect(page.totalCount).toBe(total);
      for (const e of page.edges) {
        expect(seen.has(e.node.id)).toBe(false);
        seen.add(e.node.id);
        times.push(e.node.effectiveAt);
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(times).toHaveLength(total!);
    return times;
  }

  test("a patient's observations come newest first, page by page", async () => {
    const times = await walkPatientObservations({}, 3);
    expect(times).toEqual([day(6), day(5), '2024-04-05T07:00:00.000Z', day(4), day(3), '2024-04-02T12:00:00.000Z', day(2), day(1)]);
  });

  test('filtered by kind and by a time window (inclusive)', async () => {
    expect(await walkPatientObservations({ kind: 'BLOOD_PRESSURE' }, 4)).toEqual([day(6), day(5), day(4), day(3), day(2), day(1)]);
    expect(await walkPatientObservations({ kind: 'BLOOD_PRESSURE', from: day(2), to: day(4) }, 2)).toEqual([day(4), day(3), day(2)]);
    expect(await walkPatientObservations({ from: '2024-04-05T00:00:00Z' }, 10)).toEqual([day(6), day(5), '2024-04-05T07:00:00.000Z']);
    expect(await walkPatientObservations({ to: '2024-03-31T23:59:59Z' }, 10)).toEqual([]);
  });

  test('a window that ends before it starts, or a bad cursor, is refused', async () => {
    expectRefusal(await t.gql(ExtraPatientObservationsDocument, { id: pid, from: day(5), to: day(1) }), 'BAD_USER_INPUT', 'from');
    expectRefusal(await t.gql(ExtraPatientObservationsDocument, { id: pid, after: 'zzz' }), 'BAD_USER_INPUT', 'after');
    const forged = Buffer.from(JSON.stringify(['not a time', 'not an id'])).toString('base64url');
    expectRefusal(await t.gql(ExtraPatientObservationsDocument, { id: pid, after: forged }), 'BAD_USER_INPUT', 'after');
    expectRefusal(await t.gql(ExtraPatientObservationsDocument, { id: pid, first: 1000 }), 'BAD_USER_INPUT', 'first');
  });

  test('latest blood pressure and glucose are the newest by time, not by recording order', async () => {
    const res = await t.gql(ExtraPatientLatestDocument, { id: pid });
    expect(res.errors).toBeUndefined();
    expect(res.data!.patient).toMatchObject({
      latestBloodPressure: { systolic: 136, effectiveAt: day(6), controlStatus: 'CONTROLLED' },
      latestGlucose: { kind: 'FASTING_GLUCOSE', value: 7.2 },
      latestHbA1c: null,
    });
    // A reading recorded now but taken earlier does not displace the latest.
    await t.gql(RecordObservationsDocument, { inputs: [{ patientId: pid, kind: 'BLOOD_PRESSURE', systolic: 170, diastolic: 100, effectiveAt: '2024-03-01T08:00:00Z' }] });
    const again = await t.gql(ExtraPatientLatestDocument, { id: pid });
    expect(again.data!.patient.latestBloodPressure).toMatchObject({ systolic: 136, effectiveAt: day(6) });
    // A newer one does.
    await t.gql(RecordObservationsDocument, { inputs: [{ patientId: pid, kind: 'BLOOD_PRESSURE', systolic: 182, diastolic: 100, effectiveAt: '2024-04-07T08:00:00Z' }] });
    const newer = await t.gql(ExtraPatientLatestDocument, { id: pid });
    expect(newer.data!.patient.latestBloodPressure).toMatchObject({ systolic: 182, controlStatus: 'URGENT' });
  });

  test('across an organisation subtree, by kind and source', async () => {
    const village = await t.gql(ExtraObservationsWindowDocument, { organizationId: q.otherVillage.id, first: 50 });
    expect(village.errors).toBeUndefined();
    const nodes = village.data!.observations.edges.map((e) => e.node);
    expect(nodes.every((n) => n.patient.id === pid)).toBe(true);
    expect(village.data!.observations.totalCount).toBe(nodes.length);
    const township = await t.gql(ExtraObservationsWindowDocument, { organizationId: q.township.id, first: 50 });
    expect(township.data!.observations.totalCount).toBe(nodes.length + 2); // patient A's two readings
    const sibling = await t.gql(ExtraObservationsWindowDocument, { organizationId: q.village.id, first: 50 });
    expect(sibling.data!.observations.edges.every((e) => e.node.patient.id === ids.a)).toBe(true);
    const home = await t.gql(ExtraObservationsWindowDocument, { organizationId: q.township.id, source: 'HOME' });
    expect(home.data!.observations.edges.map((e) => e.node.kind).sort()).toEqual(['FASTING_GLUCOSE', 'GLUCOSE']);
    const glucose = await t.gql(ExtraObservationsWindowDocument, { patientId: pid, kinds: ['GLUCOSE', 'FASTING_GLUCOSE'] });
    expect(glucose.data!.observations.totalCount).toBe(2);
    expectRefusal(await t.gql(ExtraObservationsWindowDocument, { patientId: 'abc' }), 'BAD_USER_INPUT', 'patientId');
    expectRefusal(await t.gql(ExtraObservationsWindowDocument, { organizationId: 'abc' }), 'BAD_USER_INPUT', 'organizationId');
  });
});

describe('lookups', () => {
  test('patientByIdentifier finds by any identifier and returns null for an unknown one', async () => {
    const found = await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.residentId, value: aResidentId });
    expect(found.data!.patientByIdentifier).toEqual({ id: ids.a, name: '欧阳明' });
    expect((await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.insurance, value: 'YB-Q-A' })).data!.patientByIdentifier?.id).toBe(ids.a);
    const unknown = await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.residentId, value: residentId('1990-01-01') });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data!.patientByIdentifier).toBeNull();
    // The value under another system is not the same identifier.
    expect((await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.healthRecord, value: aResidentId })).data!.patientByIdentifier).toBeNull();
  });

  test('organizations by parent and by level', async () => {
    const children = await t.gql(OrganizationsDocument, { parentId: q.township.id });
    expect(children.errors).toBeUndefined();
    expect(children.data!.organizations.map((o) => o.id).sort()).toEqual(sorted(q.village.id, q.otherVillage.id));
    expect(children.data!.organizations.every((o) => o.level === 'VILLAGE' && o.parent?.id === q.township.id)).toBe(true);
    const village = children.data!.organizations.find((o) => o.id === q.village.id)!;
    expect(village.grids).toEqual([{ id: q.grid.id, name: '东村网格' }]);
    const counties = await t.gql(OrganizationsDocument, { level: 'COUNTY' });
    expect(counties.data!.organizations.map((o) => o.id).sort()).toEqual(sorted(q.county.id, other.county.id));
    expect(counties.data!.organizations.every((o) => o.parent === null)).toBe(true);
    const both = await t.gql(OrganizationsDocument, { parentId: q.county.id, level: 'VILLAGE' });
    expect(both.data!.organizations).toEqual([]);
    expect((await t.gql(OrganizationsDocument, { parentId: MISSING_ID })).data!.organizations).toEqual([]);
    expectRefusal(await t.gql(OrganizationsDocument, { parentId: 'county' }), 'NOT_FOUND');
  });

  test('organization with its parent, children and grids', async () => {
    const res = await t.gql(ExtraOrganizationDocument, { id: q.township.id });
    expect(res.errors).toBeUndefined();
    expect(res.data!.organization).toMatchObject({ id: q.township.id, level: 'TOWNSHIP', parent: { id: q.county.id }, grids: [] });
    expect(res.data!.organization.children.map((c) => c.id).sort()).toEqual(sorted(q.village.id, q.otherVillage.id));
    expectRefusal(await t.gql(ExtraOrganizationDocument, { id: MISSING_ID }), 'NOT_FOUND');
    expectRefusal(await t.gql(ExtraOrganizationDocument, { id: 'x' }), 'NOT_FOUND');
  });

  test("a care team lists its members and the patients who signed with it", async () => {
    const res = await t.gql(CareTeamPatientsDocument, { id: q.team.id });
    expect(res.errors).toBeUndefined();
    expect(res.data!.careTeam.patients.totalCount).toBe(2);
    expect(res.data!.careTeam.patients.edges.map((e) => e.node.id)).toEqual([ids.a, ids.d]);
    const paged = await t.gql(ExtraCareTeamPatientsPageDocument, { id: q.team.id, first: 1 });
    expect(paged.data!.careTeam).toMatchObject({ organization: { id: q.township.id }, grid: { id: q.grid.id }, patients: { totalCount: 2, pageInfo: { hasNextPage: true } } });
    expect(paged.data!.careTeam.members.map((m) => m.role).sort()).toEqual(['GENERAL_PRACTITIONER', 'VILLAGE_DOCTOR']);
    const next = await t.gql(ExtraCareTeamPatientsPageDocument, { id: q.team.id, first: 1, after: paged.data!.careTeam.patients.pageInfo.endCursor });
    expect(next.data!.careTeam.patients).toMatchObject({ edges: [{ node: { id: ids.d } }], pageInfo: { hasNextPage: false } });
    expectRefusal(await t.gql(CareTeamPatientsDocument, { id: MISSING_ID }), 'NOT_FOUND');
    expectRefusal(await t.gql(CareTeamPatientsDocument, { id: 'team' }), 'NOT_FOUND');
  });
});
