/**
 * Finding 2 (a, d) of the outside security test — audit gaps on FHIR reads:
 *  a. `_history` and vread recorded no patient;
 *  d. a refused read (404 for a resource that is there but out of the caller's reach) was not attributed to the
 *     patient. It is recorded against that patient as DENIED, and the caller is told no more than for an id that
 *     does not exist. Writes refused that way (PUT, DELETE) and `$everything` are attributed the same way; a
 *     search names the patients it asks about (`patient=`, `subject=`), found or not.
 */
import type { Observation } from '@medplum/fhirtypes';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { MISSING_ID } from '../helpers/fixtures.js';
import { auditRows, fhir, requestId } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
/** The A1 village doctor: sees a1 (and the rest of A1's patients), not b1. */
let vd: string;
/** A blood-pressure reading of a1 and one of b1, as the FHIR store holds them. */
let a1Reading: string;
let b1Reading: string;

async function readingOf(patientId: string): Promise<string> {
  const rows = (await t.em().getConnection().execute(`select id from fhir_resource where resource_type = 'Observation' and patient_id = ? order by id limit 1`, [patientId])) as Array<{ id: string }>;
  return rows[0]!.id;
}

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'AFR');
  vd = await t.tokenFor({ sub: 'afr-vd', roles: ['VILLAGE_DOCTOR'], org: c.orgs.A1.code, practitioner: c.people.vd.code });
  a1Reading = await readingOf(c.patients.a1.id);
  b1Reading = await readingOf(c.patients.b1.id);
});
afterAll(() => t?.close());

/** The one audit row of a request: its action, outcome and patients. */
async function audited(id: string) {
  const rows = await auditRows(t, id);
  expect(rows).toHaveLength(1);
  const { action, outcome, patient_ids } = rows[0]!;
  return { action, outcome, patients: patient_ids };
}

describe('a. history and vread name the patient', () => {
  test('GET …/_history: READ, the patient', async () => {
    const id = requestId('history');
    const res = await fhir(t, vd, 'get', `/fhir/Observation/${a1Reading}/_history`, { id });
    expect(res.status).toBe(200);
    expect(res.body.entry.length).toBeGreaterThan(0);
    expect(await audited(id)).toEqual({ action: 'READ', outcome: 'SUCCESS', patients: [c.patients.a1.id] });
  });

  test('GET …/_history/1: READ, the patient', async () => {
    const id = requestId('vread');
    const res = await fhir(t, vd, 'get', `/fhir/Observation/${a1Reading}/_history/1`, { id });
    expect(res.status).toBe(200);
    expect(await audited(id)).toEqual({ action: 'READ', outcome: 'SUCCESS', patients: [c.patients.a1.id] });
  });

  test('a history whose versions name different patients names every one of them', async () => {
    const reading = await readingOf(c.patients.a1Exp.id);
    const current = (await fhir(t, t.adminToken, 'get', `/fhir/Observation/${reading}`)).body as Observation;
    // Filed under the wrong patient, then corrected: version 1 is a1Exp's, version 2 a1Team's.
    const moved = await fhir(t, t.adminToken, 'put', `/fhir/Observation/${reading}`, { body: { ...current, subject: { reference: `Patient/${c.patients.a1Team.id}` } } });
    expect(moved.status).toBe(200);
    const id = requestId('history-moved');
    expect((await fhir(t, vd, 'get', `/fhir/Observation/${reading}/_history`, { id })).status).toBe(200);
    expect((await audited(id)).patients).toEqual([c.patients.a1Exp.id, c.patients.a1Team.id].sort());
  });
});

describe('d. a refused look is recorded against the patient, and the caller learns nothing from it', () => {
  test.each([
    ['read', (r: string) => `/fhir/Observation/${r}`, 'READ'],
    ['vread', (r: string) => `/fhir/Observation/${r}/_history/1`, 'READ'],
    ['history', (r: string) => `/fhir/Observation/${r}/_history`, 'READ'],
  ])('%s of a reading of a patient out of reach: 404, as for an id that does not exist; DENIED against the patient', async (_label, url, action) => {
    const id = requestId('hidden');
    const hidden = await fhir(t, vd, 'get', url(b1Reading), { id });
    const missing = await fhir(t, vd, 'get', url(MISSING_ID), { id: requestId('missing') });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(hidden.body).replaceAll(b1Reading, 'ID')).toBe(JSON.stringify(missing.body).replaceAll(MISSING_ID, 'ID'));
    expect(await audited(id)).toEqual({ action, outcome: 'DENIED', patients: [c.patients.b1.id] });
  });

  test('a resource that does not exist is a FAILURE naming no one', async () => {
    const id = requestId('missing');
    expect((await fhir(t, vd, 'get', `/fhir/Observation/${MISSING_ID}`, { id })).status).toBe(404);
    expect(await audited(id)).toEqual({ action: 'READ', outcome: 'FAILURE', patients: [] });
  });

  test('the patient out of reach, and its $everything', async () => {
    for (const url of [`/fhir/Patient/${c.patients.b1.id}`, `/fhir/Patient/${c.patients.b1.id}/$everything`]) {
      const id = requestId('hidden-patient');
      expect((await fhir(t, vd, 'get', url, { id })).status).toBe(404);
      expect({ url, ...(await audited(id)) }).toEqual({ url, action: 'READ', outcome: 'DENIED', patients: [c.patients.b1.id] });
    }
  });

  test('an update of a reading out of reach: 404; a delete: 204, as of nothing — each DENIED against the patient', async () => {
    const reading = (await fhir(t, t.adminToken, 'get', `/fhir/Observation/${b1Reading}`)).body as Observation;
    const put = requestId('hidden-put');
    expect((await fhir(t, vd, 'put', `/fhir/Observation/${b1Reading}`, { id: put, body: { ...reading, status: 'amended' } })).status).toBe(404);
    expect(await audited(put)).toEqual({ action: 'UPDATE', outcome: 'DENIED', patients: [c.patients.b1.id] });
    const del = requestId('hidden-delete');
    expect((await fhir(t, vd, 'delete', `/fhir/Observation/${b1Reading}`, { id: del })).status).toBe(204);
    expect(await audited(del)).toEqual({ action: 'DELETE', outcome: 'DENIED', patients: [c.patients.b1.id] });
    const gone = requestId('missing-delete');
    expect((await fhir(t, vd, 'delete', `/fhir/Observation/${MISSING_ID}`, { id: gone })).status).toBe(204);
    expect(await audited(gone)).toEqual({ action: 'DELETE', outcome: 'SUCCESS', patients: [] });
    // Still there, unchanged.
    expect((await fhir(t, t.adminToken, 'get', `/fhir/Observation/${b1Reading}`)).body.meta.versionId).toBe(reading.meta!.versionId);
  });

  test("a search for a patient's readings names that patient, whether it finds them or not", async () => {
    for (const [url, patient, found] of [
      [`/fhir/Observation?patient=${c.patients.b1.id}`, c.patients.b1.id, 0],
      [`/fhir/Observation?subject=Patient/${c.patients.b1.id}`, c.patients.b1.id, 0],
      [`/fhir/Patient?_id=${c.patients.b1.id}`, c.patients.b1.id, 0],
      [`/fhir/Observation?patient=${c.patients.a1.id}`, c.patients.a1.id, 2],
    ] as const) {
      const id = requestId('named');
      const res = await fhir(t, vd, 'get', url, { id });
      expect({ url, status: res.status, found: res.body.entry?.length ?? 0 }).toEqual({ url, status: 200, found });
      expect({ url, ...(await audited(id)) }).toEqual({ url, action: 'SEARCH', outcome: 'SUCCESS', patients: [patient] });
    }
  });
});

test("$everything names every patient whose record the answer holds", async () => {
  const id = requestId('everything');
  const res = await fhir(t, vd, 'get', `/fhir/Patient/${c.patients.a1.id}/$everything`, { id });
  expect(res.status).toBe(200);
  expect(await audited(id)).toEqual({ action: 'READ', outcome: 'SUCCESS', patients: [c.patients.a1.id] });
});
