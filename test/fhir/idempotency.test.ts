/**
 * Re-sending is harmless: the same transaction Bundle, batch or NDJSON load posted again creates nothing and
 * makes no new versions — in the FHIR store or the domain tables; a re-send with one change versions only it.
 */
import type { Bundle, BundleEntry, Observation, Patient } from '@medplum/fhirtypes';
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { residentId, SYSTEMS, type County } from '../helpers/fixtures.js';
import { counts, emitted, get, invalidIn, ndjsonBatch, NDJSON, readJson, readNdjson, send, SYNTHEA_NY, SYNTHEA_SMART } from './support.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('I'));
});
afterAll(() => t?.close());

const versions = async () =>
  (await t.em().getConnection().execute(`select id, version_id, last_updated from fhir_resource order by id`)) as Array<{ id: string; version_id: number; last_updated: unknown }>;
const domain = async () => {
  const c = await counts(t);
  const extra = (await t.em().getConnection().execute(`select (select max(version) from observation) as obs, (select max(version) from patient) as pat, (select max(version) from condition) as cond`)) as unknown[];
  return { ...c, extra };
};

async function postTwice(bundle: Bundle) {
  const first = await send(t, 'post', '/fhir', bundle);
  expect(first.status).toBe(200);
  const afterFirst = { counts: await domain(), versions: await versions() };
  const second = await send(t, 'post', '/fhir', bundle);
  expect(second.status).toBe(200);
  expect({ counts: await domain(), versions: await versions() }).toEqual(afterFirst);
  const firstEntries = (first.body as Bundle).entry!;
  const secondEntries = (second.body as Bundle).entry!;
  expect(secondEntries.map((e) => e.response!.status)).toEqual(secondEntries.map(() => '200'));
  // The same resources, at the same versions.
  expect(secondEntries.map((e) => e.response!.location)).toEqual(firstEntries.map((e) => e.response!.location));
  expect(secondEntries.map((e) => e.resource!.meta!.versionId)).toEqual(secondEntries.map(() => '1'));
  return { first: first.body as Bundle, second: second.body as Bundle };
}

test('a patient transaction Bundle (urn:uuid references) posted twice', async () => {
  const bundle = readJson<Bundle>(`${SYNTHEA_SMART}/Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json`);
  const before = await counts(t);
  const { first } = await postTwice(bundle);
  expect(first.entry!.map((e) => e.response!.status)).toEqual(first.entry!.map(() => '201'));
  const after = await counts(t);
  expect(after.fhir_resource - before.fhir_resource).toBe(73);
  expect(after.patient - before.patient).toBe(1);
  expect(after.condition - before.condition).toBe(1);
  expect(after.observation - before.observation).toBeGreaterThan(0);
});

test('NDJSON loads (batch and transaction Bundles, sender ids) posted twice', async () => {
  await postTwice(ndjsonBatch(readNdjson(`${NDJSON}/Patient.ndjson`)));
  const conditions = readNdjson(`${NDJSON}/Condition.ndjson`).slice(0, 20);
  await postTwice(ndjsonBatch(conditions));
  // The same lines as a transaction: found by their sender ids, nothing new either.
  const again = await send(t, 'post', '/fhir', ndjsonBatch(conditions, 'transaction'));
  expect((again.body as Bundle).entry!.map((e) => e.response!.status)).toEqual(conditions.map(() => '200'));
  await postTwice(ndjsonBatch(readNdjson(`${NDJSON}/Observation.ndjson`).slice(0, 150), 'transaction'));
});

test('directory batch entries with ifNoneExist posted twice', async () => {
  const directory = readJson<Bundle>(`${SYNTHEA_NY}/practitionerInformation1753719349370.json`);
  // A practitioner and the role that names it (conditionally), for a handful of practitioners.
  const entries = directory.entry!.filter((e) => e.resource!.resourceType === 'Practitioner').slice(0, 5);
  const npis = entries.map((e) => (e.resource as { identifier: Array<{ value: string }> }).identifier[0]!.value);
  const roles = directory.entry!.filter((e) => e.resource!.resourceType === 'PractitionerRole' && npis.some((n) => JSON.stringify(e.resource).includes(n)));
  expect(roles.length).toBeGreaterThan(0);
  expect(entries.every((e) => e.request!.ifNoneExist)).toBe(true);
  const { second } = await postTwice({ ...directory, entry: [...entries, ...roles] });
  expect(second.type).toBe('batch-response');
});

test('a re-send with one changed resource versions only that one, in the store and the domain', async () => {
  const bundle = readJson<Bundle>(`${SYNTHEA_SMART}/Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json`);
  const index = bundle.entry!.findIndex((e) => (e.resource as Observation).code?.coding?.some((c) => c.code === '55284-4'));
  expect(index).toBeGreaterThan(0);
  const entry = bundle.entry![index] as BundleEntry & { resource: Observation };
  const systolic = entry.resource.component!.find((c) => c.code.coding!.some((x) => x.code === '8480-6'))!;
  const before = await versions();
  const countsBefore = await counts(t);
  systolic.valueQuantity = { ...systolic.valueQuantity!, value: 163 };
  const res = await send(t, 'post', '/fhir', bundle);
  expect(res.status).toBe(200);
  const statuses = (res.body as Bundle).entry!.map((e) => e.response!.status);
  expect(statuses.filter((s) => s !== '200')).toEqual([]);
  const after = await versions();
  const changed = after.filter((v, i) => v.version_id !== before[i]!.version_id);
  const id = (res.body as Bundle).entry![index]!.resource!.id!;
  expect(changed.map((v) => [v.id, v.version_id])).toEqual([[id, 2]]);
  expect(await counts(t)).toEqual({ ...countsBefore, fhir_resource_history: countsBefore.fhir_resource_history + 1 });
  const [row] = (await t.em().getConnection().execute(`select systolic, version from observation where id = ?`, [id])) as Array<{ systolic: number; version: number }>;
  expect(Number(row!.systolic)).toBe(163);
});

describe('resident ID numbers (encrypted inside the stored JSON)', () => {
  const rid = residentId('1961-04-02', false);
  const bundle = (): Bundle => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:0190b5a2-8888-7000-8000-000000000001',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: SYSTEMS.residentId, value: rid }, { system: 'http://county-hospital.example.org/mrn', value: 'R-1' }],
          name: [{ text: '李四' }],
          gender: 'female',
          birthDate: '1961-04-02',
          managingOrganization: { reference: `Organization/${county.village.id}` },
        },
        request: { method: 'POST', url: 'Patient' },
      },
      { fullUrl: 'urn:uuid:0190b5a2-8888-7000-8000-000000000002', resource: { ...glucoseFor('urn:uuid:0190b5a2-8888-7000-8000-000000000001') }, request: { method: 'POST', url: 'Observation' } },
    ],
  });
  const glucoseFor = (subject: string): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
    subject: { reference: subject },
    effectiveDateTime: '2026-11-02T07:00:00+08:00',
    valueQuantity: { value: 7.2, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  });
  let patientId: string;

  test('a Bundle carrying one, posted twice, makes no new version', async () => {
    const { first } = await postTwice(bundle());
    patientId = first.entry![0]!.resource!.id!;
  });

  test('the stored JSON and its history hold it encrypted only', async () => {
    const rows = (await t.em().getConnection().execute(
      `select content::text as c from fhir_resource where id = ? union all select content::text from fhir_resource_history where id = ?`,
      [patientId, patientId],
    )) as Array<{ c: string }>;
    expect(rows.length).toBe(2);
    for (const row of rows) {
      expect(row.c).not.toContain(rid);
      expect(row.c).toContain('R-1');
    }
  });

  test('it is found by identifier search and conditional create, shown in full or masked by role', async () => {
    const found = await get(t, `/fhir/Patient?identifier=${SYSTEMS.residentId}|${rid}`);
    expect(((found.body as Bundle).entry ?? []).map((e) => e.resource!.id)).toEqual([patientId]);
    const bare = await get(t, `/fhir/Patient?identifier=${rid}`);
    expect(((bare.body as Bundle).entry ?? []).map((e) => e.resource!.id)).toEqual([patientId]);
    const again = await send(t, 'post', '/fhir/Patient', bundle().entry![0]!.resource, { headers: { 'if-none-exist': `identifier=${SYSTEMS.residentId}|${rid}` } });
    expect([again.status, again.body.id]).toEqual([200, patientId]);
    const doctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code });
    const nurse = await t.tokenFor({ roles: ['NURSE'], org: county.village.code });
    const idOf = (p: Patient) => p.identifier!.find((i) => i.system === SYSTEMS.residentId)!.value;
    expect(idOf((await get(t, `/fhir/Patient/${patientId}`, doctor)).body)).toBe(rid);
    expect(idOf((await get(t, `/fhir/Patient/${patientId}`, nurse)).body)).toBe(maskIdentifier(rid));
  });
});

test('every response body in this file is valid R4', () => {
  const invalid = emitted.flatMap((e) => invalidIn(e.what, e.body));
  expect(invalid.slice(0, 10)).toEqual([]);
});
