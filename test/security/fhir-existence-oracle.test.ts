/**
 * Finding 6: creating a Patient whose identifier the county already holds for a patient the caller cannot see —
 * POST, conditional create (If-None-Exist), a transaction entry — is refused with 409 and an OperationOutcome
 * that says neither the record's internal id nor which identifier matched; the attempt is audited against that
 * patient. One patient, one county record: the answer is to ask the managing organisation for a transfer.
 * Reproduced: the answer was a 404 naming the other township's patient's internal id.
 */
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { randomUUID } from 'node:crypto';
import { SYSTEMS } from '../helpers/fixtures.js';
import { expectOutcome, type FhirCounty, fhirCounty } from './fhir-security-support.js';

let f: FhirCounty;
let b1: string;
beforeAll(async () => {
  f = await fhirCounty('FO');
  b1 = f.c.patients.b1.id; // township B's: the township A GP cannot see it
});
afterAll(() => f?.t.close());

const patient = (residentId: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: 'https://his.example.org/mrn', value: `MRN-${randomUUID().slice(0, 8)}` }, { system: SYSTEMS.residentId, value: residentId }],
  name: [{ text: '重名患者' }],
  gender: 'female',
  birthDate: '1958-03-18',
});

async function counts() {
  return f.sql(`select (select count(*)::int from fhir_resource) as store, (select count(*)::int from fhir_resource_history) as history, (select count(*)::int from patient) as patients`);
}

async function auditOf(requestId: string) {
  return f.sql<{ patient_ids: unknown; outcome: string }>(`select patient_ids, outcome from audit_event where request_id = ?`, [requestId]);
}

const asArray = (v: unknown) => (Array.isArray(v) ? v : String(v).replace(/[{}]/g, '').split(',').filter(Boolean));

async function refusedAsDuplicate(send: (requestId: string) => Promise<Response>) {
  const before = await counts();
  const requestId = randomUUID();
  const res = await send(requestId);
  const outcome = expectOutcome(res, 409, 'duplicate');
  const text = JSON.stringify(outcome);
  expect(text).not.toContain(b1);
  expect(text).not.toContain(SYSTEMS.residentId);
  expect(text).not.toContain(f.c.residentIds.b1);
  expect(outcome.issue![0]!.diagnostics).toMatch(/already exists in the county.*managing organisation/);
  expect(await counts()).toEqual(before);
  const audit = await auditOf(requestId);
  expect(audit.map((a) => ({ patients: asArray(a.patient_ids), outcome: a.outcome }))).toEqual([{ patients: [b1], outcome: 'FAILURE' }]);
}

test("POST Patient with another township's patient's resident ID: 409, no id, audited against that patient", async () => {
  await refusedAsDuplicate((id) => f.fhir('gp', 'post', '/fhir/Patient', patient(f.c.residentIds.b1), { 'x-request-id': id }));
});

test('conditional create (If-None-Exist on the resident ID): the same', async () => {
  await refusedAsDuplicate((id) =>
    f.fhir('gp', 'post', '/fhir/Patient', patient(f.c.residentIds.b1), { 'x-request-id': id, 'if-none-exist': `identifier=${SYSTEMS.residentId}|${f.c.residentIds.b1}` }),
  );
});

test('a transaction entry: the same, for the whole transaction', async () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: patient(f.c.residentIds.b1), request: { method: 'POST', url: 'Patient' } }],
  };
  await refusedAsDuplicate((id) => f.fhir('gp', 'post', '/fhir', bundle, { 'x-request-id': id }));
});

test('a patient the caller sees is found as before (the re-send is answered with the record)', async () => {
  const a1 = f.c.patients.a1.id;
  const { id: _id, meta: _meta, ...record } = (await f.fhir('vd', 'get', `/fhir/Patient/${a1}`)).body as Patient;
  const res = await f.fhir('vd', 'post', '/fhir/Patient', record);
  expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id: a1 });
});

test('any resource found by its identifiers out of reach: 409 naming nothing, audited against its patient', async () => {
  const identifier = [{ system: 'https://lab.example.org/report', value: `R-${randomUUID().slice(0, 8)}` }];
  const reading = (patientId: string): Observation => ({
    resourceType: 'Observation',
    identifier,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '75325-1' }], text: '化验单' },
    subject: { reference: `Patient/${patientId}` },
    valueString: '见报告',
  });
  const theirs = await f.created('gpB', reading(b1));
  const before = await counts();
  const requestId = randomUUID();
  const res = await f.fhir('gp', 'post', '/fhir/Observation', reading(f.c.patients.a1.id), { 'x-request-id': requestId });
  const outcome = expectOutcome(res, 409, 'duplicate');
  expect(JSON.stringify(outcome)).not.toContain(theirs.id);
  expect(JSON.stringify(outcome)).not.toContain(identifier[0]!.value);
  expect(await counts()).toEqual(before);
  expect((await auditOf(requestId)).map((a) => asArray(a.patient_ids))).toEqual([[b1]]);
});

test("an update giving a patient another patient's resident ID (a caller who sees both): the same 409, naming neither", async () => {
  const a1 = f.c.patients.a1.id;
  const record = (await f.fhir('admin', 'get', `/fhir/Patient/${a1}`)).body as Patient;
  const changed: Patient = { ...record, identifier: [...(record.identifier ?? []).filter((i) => i.system !== SYSTEMS.residentId), { system: SYSTEMS.residentId, value: f.c.residentIds.b1 }] };
  await refusedAsDuplicate((id) => f.fhir('admin', 'put', `/fhir/Patient/${a1}`, changed, { 'x-request-id': id }));
});
