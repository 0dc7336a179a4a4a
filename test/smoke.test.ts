import { startTestApp, type TestApp } from './helpers/app.js';
import { buildCounty, residentId, SYSTEMS, type County } from './helpers/fixtures.js';
import { RegisterPatientDocument, PatientDetailDocument } from './generated/graphql.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  t = await startTestApp();
  county = await buildCounty(t.em());
});
afterAll(() => t?.close());

test('register and read back a patient', async () => {
  const rid = residentId('1958-03-12', true);
  const res = await t.gql(RegisterPatientDocument, {
    input: { name: '张 三', gender: 'MALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: rid }] },
  });
  expect(res.errors).toBeUndefined();
  expect(res.data!.registerPatient.name).toBe('张三');
  expect(res.data!.registerPatient.birthDate).toBe('1958-03-12');
  const read = await t.gql(PatientDetailDocument, { id: res.data!.registerPatient.id });
  expect(read.errors).toBeUndefined();
  expect(read.data!.patient.identifiers[0]!.kind).toBe('RESIDENT_ID');
});
