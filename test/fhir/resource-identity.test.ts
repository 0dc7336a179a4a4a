/**
 * What identifies a resource across Bundles (ADR 12). A fullUrl `urn:uuid:`/`urn:oid:` is local to its Bundle:
 * two Bundles from one sender that number their entries alike name different resources, and a create never
 * overwrites another record. A re-send is still found: by business identifier, ifNoneExist, the sender's own id
 * (`Type/id` in the resource, an absolute fullUrl), else by a fingerprint of the content (with references to the
 * Bundle's other entries replaced by those entries' own identities). A match whose identifiers disagree with what
 * is sent is a 409 `conflict`. And client-assigned ids: `PUT Patient/<the sender's id>` creates, then updates,
 * each sender's ids its own.
 */
import type { Bundle, BundleEntry, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { ClientKind } from '../../src/access/caller.js';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { smartToken } from '../helpers/access-fixtures.js';
import type { County } from '../helpers/fixtures.js';
import { counts, emitted, get, invalidIn, readJson, send, SYNTHEA_SMART } from './support.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('RI'));
});
afterAll(() => t?.close());

const MRN = 'http://hospital.example.org/mrn';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const versions = async () =>
  (await t.em().getConnection().execute(`select id, version_id from fhir_resource order by id`)) as Array<{ id: string; version_id: number }>;
const snapshot = async () => ({ counts: await counts(t), versions: await versions() });
const stored = async <T extends Resource>(id: string): Promise<T> => {
  const [row] = (await t.em().getConnection().execute(`select content from fhir_resource where id = ?`, [id])) as Array<{ content: T | string }>;
  return typeof row!.content === 'string' ? (JSON.parse(row!.content) as T) : row!.content;
};

const patient = (mrn: string, family: string, extra: Partial<Patient> = {}): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: MRN, value: mrn }],
  name: [{ family, given: ['Test'] }],
  gender: 'female',
  birthDate: '1958-03-01',
  managingOrganization: { reference: `Organization/${county.village.id}` },
  ...extra,
});
const glucose = (subject: string, value: number, at = '2026-11-02T07:00:00+08:00'): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
  subject: { reference: subject },
  effectiveDateTime: at,
  valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
});
const post = (fullUrl: string | undefined, resource: Resource, request: BundleEntry['request'] = { method: 'POST', url: resource.resourceType }): BundleEntry => ({
  ...(fullUrl ? { fullUrl } : {}),
  resource,
  request,
});
const bundle = (type: 'transaction' | 'batch', ...entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type, entry });
const entriesOf = (res: { body: unknown }) => (res.body as Bundle).entry!;
const serverIdOf = (e: BundleEntry) => /\/([0-9a-f-]{36})\/_history\//.exec(e.response!.location!)![1]!;

/** Posts a Bundle twice: the second changes nothing (no new rows, no new versions, the same ids, all 200). */
async function postTwice(b: Bundle): Promise<Bundle> {
  const first = await send(t, 'post', '/fhir', b);
  expect(first.status).toBe(200);
  const after = await snapshot();
  const second = await send(t, 'post', '/fhir', b);
  expect(second.status).toBe(200);
  expect(await snapshot()).toEqual(after);
  expect(entriesOf(second).map((e) => e.response!.status)).toEqual(entriesOf(second).map(() => '200'));
  expect(entriesOf(second).map((e) => e.response!.location)).toEqual(entriesOf(first).map((e) => e.response!.location));
  return first.body as Bundle;
}

describe('a fullUrl is local to its Bundle', () => {
  test('two transactions reusing one urn:uuid for different patients make two patients, each as sent', async () => {
    const urn = 'urn:uuid:00000000-0000-4000-8000-000000000001';
    const obs = 'urn:uuid:00000000-0000-4000-8000-000000000002';
    const before = await counts(t);
    const first = await send(t, 'post', '/fhir', bundle('transaction', post(urn, patient('RU-1', 'Ahlberg')), post(obs, glucose(urn, 6.1))));
    const second = await send(t, 'post', '/fhir', bundle('transaction', post(urn, patient('RU-2', 'Borg')), post(obs, glucose(urn, 6.1))));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(entriesOf(first).map((e) => e.response!.status)).toEqual(['201', '201']);
    expect(entriesOf(second).map((e) => e.response!.status)).toEqual(['201', '201']);
    const [a, b] = [serverIdOf(entriesOf(first)[0]!), serverIdOf(entriesOf(second)[0]!)];
    expect(a).not.toBe(b);
    const [pa, pb] = [await stored<Patient>(a), await stored<Patient>(b)];
    expect([pa.name![0]!.family, pa.identifier![0]!.value, pa.meta!.versionId]).toEqual(['Ahlberg', 'RU-1', '1']);
    expect([pb.name![0]!.family, pb.identifier![0]!.value, pb.meta!.versionId]).toEqual(['Borg', 'RU-2', '1']);
    // The same reading of two patients is two readings, each in its own patient's record.
    const [oa, ob] = [await stored<Observation>(serverIdOf(entriesOf(first)[1]!)), await stored<Observation>(serverIdOf(entriesOf(second)[1]!))];
    expect([oa.subject!.reference, ob.subject!.reference]).toEqual([`Patient/${a}`, `Patient/${b}`]);
    const after = await counts(t);
    expect([after.patient - before.patient, after.fhir_resource - before.fhir_resource]).toEqual([2, 4]);
    // A urn: fullUrl is never kept as a name of the resource.
    const keys = (await t.em().getConnection().execute(`select k from fhir_resource, unnest(source_keys) k where k like '%urn:uuid:%' or k like '%urn:oid:%'`)) as unknown[];
    expect(keys).toEqual([]);
  });

  test('a hand-made Bundle of readings without identifiers or ids, posted twice, changes nothing', async () => {
    const p = 'urn:uuid:00000000-0000-4000-8000-000000000010';
    const readings = [6.4, 7.9, 11.2].map((v, n) => post(`urn:uuid:00000000-0000-4000-8000-00000000001${n + 1}`, glucose(p, v, `2026-11-0${n + 3}T07:00:00+08:00`)));
    // Readings first: what they refer to is matched by its identity, whichever order the entries come in.
    await postTwice(bundle('transaction', ...readings, post(p, patient('HM-1', 'Carlsson'))));
    // The same Bundle numbered differently (the urns are the sender's, per Bundle): still nothing new.
    const renumbered = bundle(
      'transaction',
      post('urn:uuid:00000000-0000-4000-8000-0000000000a0', patient('HM-1', 'Carlsson')),
      ...[6.4, 7.9, 11.2].map((v, n) => post(`urn:uuid:00000000-0000-4000-8000-0000000000a${n + 1}`, glucose('urn:uuid:00000000-0000-4000-8000-0000000000a0', v, `2026-11-0${n + 3}T07:00:00+08:00`))),
    );
    const before = await snapshot();
    const again = await send(t, 'post', '/fhir', renumbered);
    expect(entriesOf(again).map((e) => e.response!.status)).toEqual(['200', '200', '200', '200']);
    expect(await snapshot()).toEqual(before);
  });

  test('a different reading is a new resource, never a new version of another', async () => {
    const p = 'urn:uuid:00000000-0000-4000-8000-000000000020';
    const first = await send(t, 'post', '/fhir', bundle('transaction', post(p, patient('HM-2', 'Dahl')), post('urn:uuid:00000000-0000-4000-8000-000000000021', glucose(p, 5.5))));
    const before = await versions();
    const second = await send(t, 'post', '/fhir', bundle('transaction', post(p, patient('HM-2', 'Dahl')), post('urn:uuid:00000000-0000-4000-8000-000000000021', glucose(p, 9.5))));
    expect(entriesOf(second).map((e) => e.response!.status)).toEqual(['200', '201']);
    expect(serverIdOf(entriesOf(second)[0]!)).toBe(serverIdOf(entriesOf(first)[0]!));
    expect(serverIdOf(entriesOf(second)[1]!)).not.toBe(serverIdOf(entriesOf(first)[1]!));
    const after = await versions();
    expect(after.filter((v) => before.some((b) => b.id === v.id && b.version_id !== v.version_id))).toEqual([]);
    // A plain POST is FHIR's create: matched by its identifiers only (it has none), its content is not matched.
    const plain = { ...(await stored<Observation>(serverIdOf(entriesOf(first)[1]!))) } as Observation;
    delete plain.id;
    delete plain.meta;
    const once = await send(t, 'post', '/fhir/Observation', plain);
    const twice = await send(t, 'post', '/fhir/Observation', plain);
    expect([once.status, twice.status]).toEqual([201, 201]);
    expect(twice.body.id).not.toBe(once.body.id);
  });

  test('a real Synthea transaction with the sender ids taken out, posted twice, changes nothing', async () => {
    // Only urn:uuid fullUrls name its entries now: identifiers and fingerprints (over what the references resolve to) find them again.
    const synthea = readJson<Bundle>(`${SYNTHEA_SMART}/Louis_Maggio_2e275d4b-855a-4eb2-9021-5410aa8acd4f.json`);
    for (const e of synthea.entry!) delete e.resource!.id;
    const before = await counts(t);
    const first = await postTwice(synthea);
    expect(first.entry!.map((e) => e.response!.status)).toEqual(first.entry!.map(() => '201'));
    expect((await counts(t)).fhir_resource - before.fhir_resource).toBe(synthea.entry!.length);
  });

  test('the same Synthea transaction, as sent (its own ids), posted twice, changes nothing', async () => {
    const synthea = readJson<Bundle>(`${SYNTHEA_SMART}/Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json`);
    await postTwice(synthea);
  });
});

describe('a match whose identifiers disagree is a conflict, never an overwrite', () => {
  const conflictIn = (outcome: OperationOutcome, hidden: string[]) => {
    expect(outcome.issue!.map((i) => i.code)).toEqual(['conflict']);
    const text = JSON.stringify(outcome);
    for (const h of hidden) expect(text).not.toContain(h);
  };

  test('in a transaction: the same sender id with another MRN fails the transaction; nothing is stored', async () => {
    const first = await send(t, 'post', '/fhir', bundle('transaction', post('urn:uuid:00000000-0000-4000-8000-000000000030', patient('CF-1', 'Ek', { id: 'p-30' }))));
    const id = serverIdOf(entriesOf(first)[0]!);
    const before = await snapshot();
    const res = await send(
      t,
      'post',
      '/fhir',
      bundle('transaction', post('urn:uuid:00000000-0000-4000-8000-000000000031', patient('CF-2', 'Fors', { id: 'p-30' })), post('urn:uuid:00000000-0000-4000-8000-000000000032', glucose('urn:uuid:00000000-0000-4000-8000-000000000031', 8))),
    );
    expect(res.status).toBe(409);
    conflictIn(res.body as OperationOutcome, [id, 'CF-1', 'Ek']);
    expect(await snapshot()).toEqual(before);
    const kept = await stored<Patient>(id);
    expect([kept.identifier![0]!.value, kept.name![0]!.family, kept.meta!.versionId]).toEqual(['CF-1', 'Ek', '1']);
  });

  test('in a batch: only that entry is refused', async () => {
    await send(t, 'post', '/fhir', bundle('batch', post(undefined, patient('CF-3', 'Gren', { id: 'p-33' }))));
    const res = await send(t, 'post', '/fhir', bundle('batch', post(undefined, patient('CF-4', 'Holm', { id: 'p-33' })), post(undefined, patient('CF-5', 'Ivarsson', { id: 'p-35' }))));
    expect(res.status).toBe(200);
    const [refused, created] = entriesOf(res);
    expect([refused!.response!.status, created!.response!.status]).toEqual(['409', '201']);
    conflictIn(refused!.response!.outcome as OperationOutcome, ['CF-3', 'Gren']);
    const rows = (await t.em().getConnection().execute(`select content->'identifier'->0->>'value' as mrn from fhir_resource where content->'name'->0->>'family' in ('Gren', 'Holm')`)) as Array<{ mrn: string }>;
    expect(rows.map((r) => r.mrn)).toEqual(['CF-3']);
  });
});

describe('client-assigned ids on PUT', () => {
  test('PUT Patient/<the sender id> creates (201), again changes nothing, changed updates', async () => {
    const created = await send(t, 'put', '/fhir/Patient/h-1', patient('CA-1', 'Jansson', { id: 'h-1' }));
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(UUID);
    expect(created.headers.location).toContain(`/fhir/Patient/${created.body.id}/_history/1`);
    const same = await send(t, 'put', '/fhir/Patient/h-1', patient('CA-1', 'Jansson', { id: 'h-1' }));
    expect([same.status, same.body.id, same.body.meta.versionId]).toEqual([200, created.body.id, '1']);
    const changed = await send(t, 'put', '/fhir/Patient/h-1', patient('CA-1', 'Jansson', { id: 'h-1', gender: 'male' }));
    expect([changed.status, changed.body.id, changed.body.meta.versionId, changed.body.gender]).toEqual([200, created.body.id, '2', 'male']);
    // Read by the sender's id too (its own alias), and by the server's.
    const read = await get(t, '/fhir/Patient/h-1');
    expect([read.status, read.body.id]).toEqual([200, created.body.id]);
    expect((await get(t, `/fhir/Patient/${created.body.id}`)).body.meta.versionId).toBe('2');
  });

  test('ids outside [A-Za-z0-9-.]{1,64} are refused; an unknown UUID is still 404', async () => {
    expect((await send(t, 'put', '/fhir/Patient/a_b', patient('CA-9', 'X', { id: 'a_b' }))).status).toBe(400);
    expect((await send(t, 'put', `/fhir/Patient/${'x'.repeat(65)}`, patient('CA-9', 'X', { id: 'x'.repeat(65) }))).status).toBe(400);
    expect((await send(t, 'put', '/fhir/Patient/0190b5a2-5555-7000-8000-000000000000', patient('CA-9', 'X'))).status).toBe(404);
  });

  test('in a transaction, with references to the sender id in the same Bundle and in later ones', async () => {
    const first = await send(
      t,
      'post',
      '/fhir',
      bundle('transaction', post(undefined, glucose('Patient/h-2', 7.1)), post('urn:uuid:00000000-0000-4000-8000-000000000040', patient('CA-2', 'Karlsson', { id: 'h-2' }), { method: 'PUT', url: 'Patient/h-2' }), post(undefined, glucose('urn:uuid:00000000-0000-4000-8000-000000000040', 7.2))),
    );
    expect(first.status).toBe(200);
    expect(entriesOf(first).map((e) => e.response!.status)).toEqual(['201', '201', '201']);
    const id = serverIdOf(entriesOf(first)[1]!);
    expect((await stored<Observation>(serverIdOf(entriesOf(first)[0]!))).subject!.reference).toBe(`Patient/${id}`);
    expect((await stored<Observation>(serverIdOf(entriesOf(first)[2]!))).subject!.reference).toBe(`Patient/${id}`);
    const later = await send(t, 'post', '/fhir', bundle('transaction', post(undefined, patient('CA-2', 'Karlsson', { id: 'h-2' }), { method: 'PUT', url: 'Patient/h-2' }), post(undefined, glucose('Patient/h-2', 8.3))));
    expect(entriesOf(later).map((e) => e.response!.status)).toEqual(['200', '201']);
    expect(serverIdOf(entriesOf(later)[0]!)).toBe(id);
    expect(entriesOf(later)[0]!.resource!.meta!.versionId).toBe('1');
    expect((await stored<Observation>(serverIdOf(entriesOf(later)[1]!))).subject!.reference).toBe(`Patient/${id}`);
  });

  test("two hospitals' Patient/1 are two patients, each read back by its own sender", async () => {
    const hospital = async (org: string) => (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: org, scopes: ['system/Patient.cruds', 'system/Observation.cruds'] })).token;
    const [a, b] = [await hospital(county.county.code), await hospital(county.township.code)];
    const before = await counts(t);
    const ra = await send(t, 'put', '/fhir/Patient/1', patient('HA-1', 'Lind', { id: '1' }), { token: a });
    const rb = await send(t, 'put', '/fhir/Patient/1', patient('HB-1', 'Moberg', { id: '1' }), { token: b });
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(ra.body.id).not.toBe(rb.body.id);
    expect((await counts(t)).patient - before.patient).toBe(2);
    const [pa, pb] = [await stored<Patient>(ra.body.id), await stored<Patient>(rb.body.id)];
    expect([pa.name![0]!.family, pa.identifier![0]!.value]).toEqual(['Lind', 'HA-1']);
    expect([pb.name![0]!.family, pb.identifier![0]!.value]).toEqual(['Moberg', 'HB-1']);
    // Each sender's Patient/1 is its own, in references and reads.
    const obs = await send(t, 'post', '/fhir', bundle('transaction', post(undefined, glucose('Patient/1', 6.6))), { token: b });
    expect((await stored<Observation>(serverIdOf(entriesOf(obs)[0]!))).subject!.reference).toBe(`Patient/${rb.body.id}`);
    expect((await get(t, '/fhir/Patient/1', a)).body.id).toBe(ra.body.id);
    expect((await get(t, '/fhir/Patient/1', b)).body.id).toBe(rb.body.id);
    expect((await get(t, '/fhir/Patient/1')).status).toBe(404); // the administrator never sent a Patient/1
  });

  test('the CapabilityStatement says so', async () => {
    const res = await t.http.get('/fhir/metadata');
    const patientResource = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patientResource.updateCreate).toBe(true);
  });
});

test('every response body in this file is valid R4', () => {
  const invalid = emitted.flatMap((e) => invalidIn(e.what, e.body));
  expect(invalid.slice(0, 10)).toEqual([]);
});
