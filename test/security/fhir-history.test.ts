/**
 * Finding 3: old versions are as protected as the resource they are versions of, deleted or not. A vread or a
 * history read shows a version only to a caller who may see the resource (its record, or its owner) and that
 * version's own record: a version written into another patient's record stays in that record. Reproduced:
 * `_history/1` of a deleted resource was returned to callers who could not read it.
 */
import type { Basic, Bundle, Observation } from '@medplum/fhirtypes';
import { expectOutcome, type FhirCounty, fhirCounty } from './fhir-security-support.js';

let f: FhirCounty;
beforeAll(async () => {
  f = await fhirCounty('FH');
});
afterAll(() => f?.t.close());

const reading = (patientId: string, value: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '75325-1', display: 'Symptom' }], text: '随访备注' },
  subject: { reference: `Patient/${patientId}` },
  valueString: value,
});

const versions = (res: { body: Bundle }) => (res.body.entry ?? []).map((e) => e.resource?.meta?.versionId ?? `deleted`);

test("a deleted resource of township B's owner: no version of it is read in township A", async () => {
  const basic = await f.created<Basic>('gpB', { resourceType: 'Basic', code: { text: '乙镇内部排班' } });
  expect((await f.fhir('gpB', 'delete', `/fhir/Basic/${basic.id}`)).status).toBe(204);
  expect((await f.fhir('gpB', 'get', `/fhir/Basic/${basic.id}/_history/1`)).status).toBe(200);
  for (const who of ['gp', 'vd']) {
    expectOutcome(await f.fhir(who, 'get', `/fhir/Basic/${basic.id}/_history/1`), 404, 'not-found');
    expectOutcome(await f.fhir(who, 'get', `/fhir/Basic/${basic.id}/_history`), 404, 'not-found');
    expectOutcome(await f.fhir(who, 'get', `/fhir/Basic/${basic.id}`), 404, 'not-found');
  }
});

test("a deleted reading of township B's patient: 404 in township A, 410 / the versions in township B", async () => {
  const obs = await f.created('gpB', reading(f.c.patients.b1.id, '乙镇患者备注'));
  expect((await f.fhir('gpB', 'delete', `/fhir/Observation/${obs.id}`)).status).toBe(204);
  expect((await f.fhir('gpB', 'get', `/fhir/Observation/${obs.id}`)).status).toBe(410);
  expect((await f.fhir('gpB', 'get', `/fhir/Observation/${obs.id}/_history/1`)).status).toBe(200);
  expectOutcome(await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history/1`), 404, 'not-found');
  expectOutcome(await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history`), 404, 'not-found');
});

test("a resource moved from township B's patient to township A's: A sees only the versions in its patient's record", async () => {
  // Written about b1 (a mistake), corrected to a1, then deleted: version 1 stays in b1's record.
  const obs = await f.created('admin', reading(f.c.patients.b1.id, '乙镇患者的隐私备注'));
  const moved = await f.fhir('admin', 'put', `/fhir/Observation/${obs.id}`, { ...reading(f.c.patients.a1.id, '甲一患者备注'), id: obs.id });
  expect(moved.status).toBe(200);
  expect((await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history/2`)).status).toBe(200);
  expectOutcome(await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history/1`), 404, 'not-found');
  expect(versions(await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history`))).toEqual(['2']);
  expect((await f.fhir('admin', 'delete', `/fhir/Observation/${obs.id}`)).status).toBe(204);
  expectOutcome(await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history/1`), 404, 'not-found');
  const history = await f.fhir('gp', 'get', `/fhir/Observation/${obs.id}/_history`);
  expect(versions(history)).toEqual(['deleted', '2']);
  expect(JSON.stringify(history.body)).not.toContain('乙镇患者的隐私备注');
  // Township B, whose patient version 1 was about, reads no version: the resource is in township A's record now.
  expect((await f.fhir('gpB', 'get', `/fhir/Observation/${obs.id}/_history/1`)).status).toBe(404);
  expect(versions(await f.fhir('admin', 'get', `/fhir/Observation/${obs.id}/_history`))).toEqual(['deleted', '2', '1']);
  // Each version keeps the record it was in.
  const rows = await f.sql<{ version_id: number; patient_id: string }>(`select version_id, patient_id from fhir_resource_history where id = ? order by version_id`, [obs.id]);
  expect(rows.map((r) => r.patient_id)).toEqual([f.c.patients.b1.id, f.c.patients.a1.id, f.c.patients.a1.id]);
});
