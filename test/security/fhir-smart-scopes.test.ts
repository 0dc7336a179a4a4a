/**
 * Finding 5: per-type SMART scopes hold on every path that returns stored resources — $everything, _include,
 * Bundle GET entries, history — not only on the type a request names. Reproduced: an insurer with only
 * `system/Patient.rs` got Condition, Encounter, Observation and Coverage from $everything, and one with only
 * `system/Observation.rs` got the Patient through `_include`.
 */
import { ClientKind } from '../../src/access/caller.js';
import { entriesOf, expectOutcome, type FhirCounty, fhirCounty, typesOf } from './fhir-security-support.js';

let f: FhirCounty;
let a1: string;
beforeAll(async () => {
  f = await fhirCounty('FS');
  a1 = f.c.patients.a1.id; // covered by insurer I1 today
  await f.client('patientsOnly', ClientKind.INSURER, 'I1', ['system/Patient.rs']);
  await f.client('observationsOnly', ClientKind.INSURER, 'I1', ['system/Observation.rs']);
  await f.client('hospitalPatients', ClientKind.HOSPITAL, 'A', ['system/Patient.rs']);
  // An Encounter in the record, beside what every patient of the county has (Condition, Observations, CarePlan, Coverage).
  expect((await f.fhir('admin', 'post', '/fhir/Encounter', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${a1}` } })).status).toBe(201);
});
afterAll(() => f?.t.close());

test('the record holds more than patients (as an administrator sees it)', async () => {
  expect(typesOf(await f.fhir('admin', 'get', `/fhir/Patient/${a1}/$everything`))).toEqual(expect.arrayContaining(['CarePlan', 'Condition', 'Coverage', 'Encounter', 'Observation', 'Patient']));
});

test('an insurer with only system/Patient.rs gets only the Patient from $everything', async () => {
  const res = await f.fhir('patientsOnly', 'get', `/fhir/Patient/${a1}/$everything`);
  expect(res.status).toBe(200);
  expect(typesOf(res)).toEqual(['Patient']);
  expect(res.body.total).toBe(1);
  // _type cannot ask for more than the scopes allow.
  expect(typesOf(await f.fhir('patientsOnly', 'get', `/fhir/Patient/${a1}/$everything?_type=Condition,Observation`))).toEqual([]);
});

test('a hospital system with only system/Patient.rs likewise', async () => {
  expect(typesOf(await f.fhir('hospitalPatients', 'get', `/fhir/Patient/${a1}/$everything`))).toEqual(['Patient']);
});

test('an insurer with only system/Observation.rs gets no Patient through _include', async () => {
  const res = await f.fhir('observationsOnly', 'get', `/fhir/Observation?patient=${a1}&_include=Observation:patient`);
  expect(res.status).toBe(200);
  expect(typesOf(res)).toEqual(['Observation']);
  expect(entriesOf(res).filter((e) => e.startsWith('Patient/'))).toEqual([]);
  expectOutcome(await f.fhir('observationsOnly', 'get', `/fhir/Patient/${a1}`), 403, 'forbidden');
  expectOutcome(await f.fhir('observationsOnly', 'get', `/fhir/Patient/${a1}/_history`), 403, 'forbidden');
});

test('a scope to write one type is not a scope to read the patient: writing into a visible record still works', async () => {
  await f.client('hospitalObservations', ClientKind.HOSPITAL, 'A', ['system/Observation.crs']);
  const obs = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '75325-1' }], text: '症状' }, subject: { reference: `Patient/${a1}` }, valueString: '头晕' };
  const res = await f.fhir('hospitalObservations', 'post', '/fhir/Observation', obs);
  expect(res.status).toBe(201);
  expectOutcome(await f.fhir('hospitalObservations', 'get', `/fhir/Patient/${a1}`), 403, 'forbidden');
  // Nor into a record it may not see (township B's patient), scopes or not.
  expectOutcome(await f.fhir('hospitalObservations', 'post', '/fhir/Observation', { ...obs, subject: { reference: `Patient/${f.c.patients.b1.id}` } }), 422, 'not-found');
});
