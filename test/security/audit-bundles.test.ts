/**
 * Finding 2b of the outside security test: batch and transaction GET entries were recorded as
 * `CREATE "FHIR POST /fhir"` with no patients. Each entry is recorded under its own interaction — a GET of an id
 * a READ, a GET search a SEARCH, a POST a CREATE — with the patients it touched: one row per action and outcome,
 * all under the request's id. Refused entries are recorded as single requests are (DENIED against the patient
 * of a resource out of reach), and nothing of a transaction that was rolled back is recorded as a success.
 */
import type { Bundle, BundleEntry, Observation } from '@medplum/fhirtypes';
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { SYSTEMS } from '../helpers/fixtures.js';
import { auditRows, fhir, requestId } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
let vd: string;
let b1Reading: string;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'ABU');
  vd = await t.tokenFor({ sub: 'abu-vd', roles: ['VILLAGE_DOCTOR'], org: c.orgs.A1.code, practitioner: c.people.vd.code });
  const rows = (await t.em().getConnection().execute(`select id from fhir_resource where resource_type = 'Observation' and patient_id = ? limit 1`, [c.patients.b1.id])) as Array<{ id: string }>;
  b1Reading = rows[0]!.id;
});
afterAll(() => t?.close());

const reading = (patientId: string, systolic: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }] },
  subject: { reference: `Patient/${patientId}` },
  effectiveDateTime: new Date().toISOString(),
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 85, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ],
});

const bundle = (type: 'batch' | 'transaction', entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type, entry });
const get = (url: string): BundleEntry => ({ request: { method: 'GET', url } });

/** The request's rows as `action outcome: patients`. */
async function recorded(id: string) {
  return (await auditRows(t, id)).map((r) => ({ action: r.action, outcome: r.outcome, patients: r.patient_ids, what: r.what }));
}

test.each(['batch', 'transaction'] as const)('a %s: each GET entry a READ or SEARCH with its patients, each POST a CREATE with its', async (type) => {
  const id = requestId(type);
  const res = await fhir(t, vd, 'post', '/fhir', {
    id,
    body: bundle(type, [get(`Patient/${c.patients.a1.id}`), get(`Observation?patient=${c.patients.a2Grid.id}&_count=5`), { request: { method: 'POST', url: 'Observation' }, resource: reading(c.patients.a1Exp.id, 141) }]),
  });
  expect(res.status).toBe(200);
  expect(res.body.entry.map((e: BundleEntry) => e.response!.status)).toEqual(['200', '200', '201']);
  const rows = await recorded(id);
  expect(rows.map(({ what: _what, ...r }) => r)).toEqual([
    { action: 'CREATE', outcome: 'SUCCESS', patients: [c.patients.a1Exp.id] },
    { action: 'READ', outcome: 'SUCCESS', patients: [c.patients.a1.id] },
    { action: 'SEARCH', outcome: 'SUCCESS', patients: [c.patients.a2Grid.id] },
  ]);
  expect(rows[1]!.what).toBe(`FHIR POST /fhir (${type}): [0] GET Patient/${c.patients.a1.id}`);
  expect(rows[2]!.what).toBe(`FHIR POST /fhir (${type}): [1] GET Observation?patient=${c.patients.a2Grid.id}&_count=5`);
  expect(rows[0]!.what).toBe(`FHIR POST /fhir (${type}): [2] POST Observation`);
});

test('a GET entry searching by resident ID: found, and recorded with the ID masked (finding 1 in Bundles)', async () => {
  const id = requestId('identifier');
  const res = await fhir(t, vd, 'post', '/fhir', { id, body: bundle('batch', [get(`Patient?identifier=${SYSTEMS.residentId}|${c.residentIds.a1}`)]) });
  expect(res.body.entry[0].resource.total).toBe(1);
  const rows = await recorded(id);
  expect(rows).toEqual([{ action: 'SEARCH', outcome: 'SUCCESS', patients: [c.patients.a1.id], what: `FHIR POST /fhir (batch): [0] GET Patient?identifier=${SYSTEMS.residentId}|${maskIdentifier(c.residentIds.a1)}` }]);
});

test('a batch GET entry for a resource out of reach: 404 for that entry, recorded DENIED against its patient; the rest as they went', async () => {
  const id = requestId('hidden');
  const res = await fhir(t, vd, 'post', '/fhir', { id, body: bundle('batch', [get(`Observation/${b1Reading}`), get(`Patient/${c.patients.a1.id}`)]) });
  expect(res.status).toBe(200);
  expect(res.body.entry.map((e: BundleEntry) => e.response!.status)).toEqual(['404', '200']);
  expect((await recorded(id)).map(({ what: _what, ...r }) => r)).toEqual([
    { action: 'READ', outcome: 'DENIED', patients: [c.patients.b1.id] },
    { action: 'READ', outcome: 'SUCCESS', patients: [c.patients.a1.id] },
  ]);
});

test('a transaction refused at one entry: nothing recorded as a success — the refused entry DENIED, the rest FAILURE', async () => {
  const id = requestId('rolled-back');
  const res = await fhir(t, vd, 'post', '/fhir', {
    id,
    body: bundle('transaction', [{ request: { method: 'POST', url: 'Observation' }, resource: reading(c.patients.a1.id, 150) }, get(`Observation/${b1Reading}`)]),
  });
  expect(res.status).toBe(404);
  expect((await recorded(id)).map(({ what: _what, ...r }) => r)).toEqual([
    { action: 'CREATE', outcome: 'FAILURE', patients: [c.patients.a1.id] },
    { action: 'READ', outcome: 'DENIED', patients: [c.patients.b1.id] },
  ]);
});

test("an entry the server cannot do is that entry's FAILURE; a Bundle refused before any entry ran is one row, the request's", async () => {
  const patch = requestId('patch');
  const res = await fhir(t, vd, 'post', '/fhir', { id: patch, body: bundle('batch', [{ request: { method: 'PATCH', url: `Patient/${c.patients.a1.id}` } }]) });
  expect(res.body.entry[0].response.status).toBe('400');
  expect(await recorded(patch)).toEqual([{ action: 'UPDATE', outcome: 'FAILURE', patients: [], what: `FHIR POST /fhir (batch): [0] PATCH Patient/${c.patients.a1.id}` }]);

  const collection = requestId('collection');
  expect((await fhir(t, vd, 'post', '/fhir', { id: collection, body: { resourceType: 'Bundle', type: 'collection', entry: [get(`Patient/${c.patients.a1.id}`)] } })).status).toBe(400);
  expect(await recorded(collection)).toEqual([{ action: 'CREATE', outcome: 'FAILURE', patients: [], what: 'FHIR POST /fhir' }]);
});
