/**
 * Batch Bundles: each entry stands alone. A batch that succeeds whole is written in one go; one with a failing
 * entry — a refusal or a database error — answers that entry with its OperationOutcome and stores the rest.
 * Also: concurrent first imports into an empty county agree on one 'Unassigned' organisation.
 */
import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { counts, send } from './support.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const patient = (family: string, id: string): BundleEntry => ({
  fullUrl: `urn:uuid:${id}`,
  resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value: `${family}-${id}` }], name: [{ family, given: ['Test'] }], gender: 'female', birthDate: '1960-01-01' } as Patient,
  request: { method: 'POST', url: 'Patient' },
});
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const batch = (...entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'batch', entry });
const families = async () =>
  ((await t.em().getConnection().execute(`select content->'name'->0->>'family' as family from fhir_resource where resource_type = 'Patient' order by 1`)) as Array<{ family: string }>).map((r) => r.family);

/** A real database failure, on one resource: while `work` runs, a trigger refuses to store Patients named 'Boom'. */
async function whileBoomFails(work: () => Promise<void>): Promise<void> {
  const conn = t.em().getConnection();
  await conn.execute(`create function refuse_boom() returns trigger language plpgsql as $$
    begin
      if new.content->'name'->0->>'family' = 'Boom' then raise exception 'disk on fire'; end if;
      return new;
    end $$`);
  await conn.execute(`create trigger refuse_boom before insert on fhir_resource for each row execute function refuse_boom()`);
  try {
    await work();
  } finally {
    await conn.execute(`drop trigger refuse_boom on fhir_resource`);
    await conn.execute(`drop function refuse_boom()`);
  }
}

test('concurrent first imports into an empty database create one Unassigned organisation, not an error', async () => {
  // No county exists yet: each import has to fall back to the Unassigned organisation.
  const responses = await Promise.all([1, 2, 3, 4].map((n) => send(t, 'post', '/fhir', { ...batch(patient(`First${n}`, uuid(n))), type: 'transaction' })));
  expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  const orgs = (await t.em().getConnection().execute(`select code from organization where code = 'UNASSIGNED'`)) as unknown[];
  expect(orgs).toHaveLength(1);
  const managed = (await t.em().getConnection().execute(`select count(*) as n from patient where managing_organization_id = '00000000-0000-7000-8000-000000000001'`)) as Array<{ n: string | number }>;
  expect(Number(managed[0]!.n)).toBe(4);
});

test('a batch whose entries all succeed answers batch-response with one status each', async () => {
  const res = await send(t, 'post', '/fhir', batch(patient('Alpha', uuid(11)), patient('Beta', uuid(12))));
  expect(res.status).toBe(200);
  const body = res.body as Bundle;
  expect(body.type).toBe('batch-response');
  expect(body.entry!.map((e) => e.response!.status)).toEqual(['201', '201']);
  expect(await families()).toEqual(expect.arrayContaining(['Alpha', 'Beta']));
});

test('a refused entry is answered alone; the others are stored', async () => {
  const before = await counts(t);
  const bad = { ...patient('Gamma', uuid(21)), resource: { resourceType: 'Patient', birthDate: 'the sixties' } as unknown as Patient };
  const res = await send(t, 'post', '/fhir', batch(patient('Delta', uuid(22)), bad, patient('Epsilon', uuid(23))));
  expect(res.status).toBe(200);
  const entries = (res.body as Bundle).entry!;
  expect(entries.map((e) => e.response!.status)).toEqual(['201', '400', '201']);
  expect(entries[1]!.response!.outcome!.resourceType).toBe('OperationOutcome');
  const after = await counts(t);
  expect(after.fhir_resource - before.fhir_resource).toBe(2);
  expect(after.patient - before.patient).toBe(2);
});

test('a database error in one entry is a 500 for that entry only; the entries after it are stored', async () => {
  await whileBoomFails(async () => {
    const before = await counts(t);
    const res = await send(t, 'post', '/fhir', batch(patient('Zeta', uuid(31)), patient('Boom', uuid(32)), patient('Eta', uuid(33))));
    expect(res.status).toBe(200);
    const entries = (res.body as Bundle).entry!;
    expect(entries.map((e) => e.response!.status)).toEqual(['201', '500', '201']);
    expect(entries[1]!.response!.outcome!.issue![0]!.code).toBe('exception');
    expect(JSON.stringify(entries[1]!.response!.outcome)).not.toContain('disk on fire'); // no database internals leak
    const after = await counts(t);
    expect(after.fhir_resource - before.fhir_resource).toBe(2);
    expect(after.fhir_resource_history - before.fhir_resource_history).toBe(2);
    expect(after.patient - before.patient).toBe(2); // the failed entry left no projected patient behind
    expect(await families()).toEqual(expect.arrayContaining(['Zeta', 'Eta']));
    expect(await families()).not.toContain('Boom');
  });
});

test('a transaction with a database error stores nothing and answers 500', async () => {
  await whileBoomFails(async () => {
    const before = await counts(t);
    const res = await send(t, 'post', '/fhir', { ...batch(patient('Theta', uuid(41)), patient('Boom', uuid(42))), type: 'transaction' });
    expect(res.status).toBe(500);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await counts(t)).toEqual(before);
  });
});

test("two senders' own ids are kept apart: `Patient/1` from one is not `Patient/1` from the other", async () => {
  const [a, b] = await Promise.all([t.tokenFor({ roles: ['PLATFORM_ADMIN'], sub: 'his-a' }), t.tokenFor({ roles: ['PLATFORM_ADMIN'], sub: 'his-b' })]);
  const numbered = (family: string): Bundle => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'http://his.example/fhir/Patient/1', resource: { resourceType: 'Patient', id: '1', name: [{ family }], gender: 'male' } as Patient, request: { method: 'POST', url: 'Patient' } },
    ],
  });
  const first = await send(t, 'post', '/fhir', numbered('Kappa'), { token: a });
  const second = await send(t, 'post', '/fhir', numbered('Lambda'), { token: b });
  expect([first.status, second.status]).toEqual([200, 200]);
  const idOf = (res: typeof first) => /Patient\/([^/]+)\/_history/.exec((res.body as Bundle).entry![0]!.response!.location!)![1];
  expect((second.body as Bundle).entry![0]!.response!.status).toBe('201');
  expect(idOf(second)).not.toBe(idOf(first));
  // Each sender's re-send still finds its own.
  const again = await send(t, 'post', '/fhir', numbered('Kappa'), { token: a });
  expect((again.body as Bundle).entry![0]!.response!.status).toBe('200');
  expect(idOf(again)).toBe(idOf(first));
  expect(await families()).toEqual(expect.arrayContaining(['Kappa', 'Lambda']));
});
