/**
 * Management colour follows the readings, by whatever path they come: the `patient-management-colour` consumer
 * reads the outbox and applies the rule (care-rules/management.ts), leaving overrides and unmanaged patients alone.
 */
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { managementColourSql, managementOf } from '../src/care-rules/management.js';
import { EventWorker } from '../src/events/consumer.js';
import { managementConsumer } from '../src/domain/patient/management.consumer.js';
import { Patient } from '../src/domain/patient/patient.entity.js';
import { seedCounty, seedNowFor } from '../src/seed/generate.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { RecordObservationDocument } from './generated/graphql.js';
import { FHIR_JSON } from './fhir/support.js';

let t: TestApp;
let worker: EventWorker;

beforeAll(async () => {
  t = await startTestApp();
  await seedCounty(t.em(), { patients: 40, seed: 11, protector: t.app.security.protector, now: seedNowFor() });
  worker = new EventWorker(t.em(), [managementConsumer(DEFAULT_CARE_RULES)]);
  await worker.drain(); // the seeded county's own events: colours already as the rule says, nothing moves
});
afterAll(() => t?.close());

const patientRow = (id: string) => t.em().findOneOrFail(Patient, { id }, { filters: false });
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

async function managedPatient(where: Record<string, unknown>): Promise<Patient> {
  const [p] = await t.em().find(Patient, { managementColour: { $ne: null }, ...where }, { filters: false, limit: 1, orderBy: { id: 'asc' } });
  if (!p) throw new Error(`the seeded county has no patient ${JSON.stringify(where)}`);
  return p;
}

test('the seeded county needs no change: its colours were derived by the same rule', async () => {
  const events = (await t.em().execute(`select count(*)::int as n from domain_event where type = 'PatientChanged'`)) as Array<{ n: number }>;
  expect(events[0]!.n).toBe(0);
});

test('an uncontrolled reading over GraphQL turns a green patient red and intensive; a PatientChanged event and a new FHIR version say so', async () => {
  const p = await managedPatient({ managementColour: 'GREEN', managementOverrideReason: null });
  const fhirBefore = (await t.em().execute(`select version_id from fhir_resource where id = ?`, [p.id])) as Array<{ version_id: number }>;
  await t.ok(RecordObservationDocument, { input: { patientId: p.id, kind: 'BLOOD_PRESSURE', systolic: 168, diastolic: 98, effectiveAt: hoursAgo(1), organizationId: p.managingOrganization.id } });
  expect((await patientRow(p.id)).managementColour).toBe('GREEN'); // events are handled a moment later, not in the write
  expect(await worker.drain()).toBeGreaterThan(0);
  const after = await patientRow(p.id);
  expect([after.managementColour, after.managementTier]).toEqual(['RED', 'INTENSIVE']);
  expect(managementOf({ latestBloodPressure: { systolic: 168, diastolic: 98 }, complication: false }).colour).toBe('RED');
  const changed = (await t.em().execute(`select payload from domain_event where type = 'PatientChanged' and aggregate_id = ?`, [p.id])) as Array<{ payload: unknown }>;
  expect(changed).toHaveLength(1);
  const payload = typeof changed[0]!.payload === 'string' ? JSON.parse(changed[0]!.payload) : changed[0]!.payload;
  expect(payload).toMatchObject({ managementColour: 'RED', managementTier: 'INTENSIVE', changed: expect.arrayContaining(['managementColour', 'managementTier']) });
  const fhirAfter = (await t.em().execute(`select version_id from fhir_resource where id = ?`, [p.id])) as Array<{ version_id: number }>;
  // The seeded patient had no FHIR resource yet (the seed writes SQL; start-up backfills): the change wrote one.
  expect([fhirBefore.length, fhirAfter.length]).toEqual([0, 1]);
});

test('a controlled reading sent over FHIR brings a red patient back (yellow or green, by the rule)', async () => {
  const p = await managedPatient({ managementColour: 'RED', managementOverrideReason: null });
  const res = await t.http
    .post('/fhir')
    .set('authorization', `Bearer ${t.adminToken}`)
    .set('content-type', FHIR_JSON)
    .send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
            subject: { reference: `Patient/${p.id}` },
            effectiveDateTime: new Date(Date.now() - 60_000).toISOString(),
            component: [
              { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 118, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
              { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 76, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
            ],
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
  expect(res.status).toBe(200);
  await worker.drain();
  const after = await patientRow(p.id);
  // Red came from the BP or the glucose: with the BP controlled, what is left decides.
  const expected = (await t.em().execute(`select ${managementColourSql(DEFAULT_CARE_RULES, 'p.id')} as c from patient p where p.id = ?`, [p.id])) as Array<{ c: string }>;
  expect(after.managementColour).toBe(expected[0]!.c);
  expect(after.managementTier).toBe({ RED: 'INTENSIVE', YELLOW: 'ROUTINE', GREEN: 'GENERAL' }[after.managementColour!]);
});

test('a colour a person overrode stays; a patient not in management stays out of it', async () => {
  const overridden = await managedPatient({ managementColour: 'GREEN', managementOverrideReason: null });
  await t.em().getConnection().execute(`update patient set management_override_reason = 'seen by the specialist' where id = ?`, [overridden.id]);
  const [unmanaged] = await t.em().find(Patient, { managementColour: null }, { filters: false, limit: 1 });
  expect(unmanaged).toBeDefined();
  for (const p of [overridden, unmanaged!]) {
    await t.ok(RecordObservationDocument, { input: { patientId: p.id, kind: 'BLOOD_PRESSURE', systolic: 176, diastolic: 104, effectiveAt: hoursAgo(2), organizationId: p.managingOrganization.id } });
  }
  await worker.drain();
  expect((await patientRow(overridden.id)).managementColour).toBe('GREEN');
  expect((await patientRow(unmanaged!.id)).managementColour ?? null).toBeNull();
});
