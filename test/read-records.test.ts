/**
 * GraphQL reads records straight from rows (ADR 15): the loaders cache what they read for the request, and are
 * emptied at each root mutation field, so that a mutation document shows each field as it is after the writes
 * before it — as the ORM's identity map did when loaders returned the managed entities the services updated.
 */
import { startTestApp, type TestApp } from './helpers/app.js';
import { buildAccessCounty } from './helpers/access-fixtures.js';
import { readOnly } from '../src/db/read-only.js';
import { Condition } from '../src/domain/condition/condition.entity.js';

let t: TestApp;
let patient: { id: string; version: number };
beforeAll(async () => {
  t = await startTestApp();
  const c = await buildAccessCounty(t.em(), t.app.security.protector, 'RR');
  patient = { id: c.patients.a1.id, version: c.patients.a1.version };
}, 120_000);
afterAll(() => t?.close());

const ask = async (query: string, variables: Record<string, unknown>) => {
  const res = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).send({ query, variables });
  expect(res.body.errors).toBeUndefined();
  return res.body.data;
};

test('in one mutation document, a field after an update shows the updated record, a field before it the record before', async () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000 - (Date.now() % 1000)).toISOString();
  const [first, second] = [hoursAgo(2), hoursAgo(1)];
  const reading = (at: string) => ({ patientId: patient.id, kind: 'BLOOD_PRESSURE', systolic: 150, diastolic: 95, effectiveAt: at });
  const data = await ask(
    `mutation Three($id: ID!, $version: Int!, $a: RecordObservationInput!, $b: RecordObservationInput!) {
      before: recordObservation(input: $a) { patient { name version latestBloodPressure { effectiveAt } } }
      update: updatePatient(id: $id, version: $version, input: { name: "改名后" }) { version }
      after: recordObservation(input: $b) { patient { name version latestBloodPressure { effectiveAt } } }
    }`,
    { id: patient.id, version: patient.version, a: reading(first), b: reading(second) },
  );
  expect(data.before.patient).toMatchObject({ version: patient.version, latestBloodPressure: { effectiveAt: first } });
  expect(data.before.patient.name).not.toBe('改名后');
  expect(data.update.version).toBe(patient.version + 1);
  expect(data.after.patient).toEqual({ name: '改名后', version: patient.version + 1, latestBloodPressure: { effectiveAt: second } });
});

test('a query reads each record once per request (the loaders cache), however many fields ask for it', async () => {
  t.queries.length = 0;
  const data = await ask(`query Twice($id: ID!) { a: patient(id: $id) { id managingOrganization { id } } b: patient(id: $id) { id managingOrganization { name } } }`, { id: patient.id });
  expect(data.a.id).toBe(patient.id);
  expect(t.queries.filter((q) => /from "patient"/i.test(q))).toHaveLength(1);
  expect(t.queries.filter((q) => /from "organization"/i.test(q))).toHaveLength(1);
});

test('a read-only record cannot be written: persisting one fails the flush, and no copy of its row is made', async () => {
  const em = t.em();
  const [row] = (await em.getConnection().execute(`select * from condition where patient_id = ? limit 1`, [patient.id])) as Array<Record<string, unknown>>;
  const count = async () => ((await em.getConnection().execute(`select count(*)::int as n from condition`)) as Array<{ n: number }>)[0]!.n;
  const before = await count();
  const record = readOnly(em, Condition).record(row!);
  expect(record).toBeInstanceOf(Condition);
  em.persist(record);
  await expect(em.flush()).rejects.toThrow(/read-only Condition record/);
  expect(await count()).toBe(before);
});
