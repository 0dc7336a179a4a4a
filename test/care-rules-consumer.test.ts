/**
 * The care state follows the facts by whatever path they come: the `care-rules` consumer (src/care/state/consumer.ts)
 * reads the outbox and reassesses the patients of its events (src/care/index.ts), keeping overrides and leaving
 * patients without a diagnosis to manage out of it. (It replaced the management-colour consumer.)
 */
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { managementColourSql } from '../src/care-rules/management.js';
import { careRulesConsumer } from '../src/care/state/consumer.js';
import { managementFactsSql } from '../src/care/state/management.js';
import { frameOf } from '../src/care/state/sql.js';
import { EventWorker } from '../src/events/consumer.js';
import { backfillFhir } from '../src/fhir/materialise.js';
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
  // As the server does after seeding: the county written as FHIR.
  await backfillFhir(t.em());
  worker = new EventWorker(t.em(), [careRulesConsumer(DEFAULT_CARE_RULES)]);
  await worker.drain();
}, 120_000);
afterAll(() => t?.close());

const patientRow = (id: string) => t.em().findOneOrFail(Patient, { id }, { filters: false });
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
const fhirVersion = async (id: string) => ((await t.em().execute(`select version_id from fhir_resource where id = ?`, [id])) as Array<{ version_id: number }>)[0]?.version_id;

/** The colour the rule gives the patient now (managementOf's SQL twin over the derivation's facts). */
async function ruleColour(id: string): Promise<string> {
  const frame = frameOf({ patientIds: [id] }, countyToday());
  const [row] = (await t.em().execute(`select ${managementColourSql('f')} as c from (select p.id, ${managementFactsSql(frame, DEFAULT_CARE_RULES)} from patient p where p.id = ?) f`, [id])) as Array<{ c: string }>;
  return row!.c;
}

async function managedPatient(where: Record<string, unknown>): Promise<Patient> {
  const [p] = await t.em().find(Patient, { managementColour: { $ne: null }, ...where }, { filters: false, limit: 1, orderBy: { id: 'asc' } });
  if (!p) throw new Error(`the seeded county has no patient ${JSON.stringify(where)}`);
  return p;
}

test('the seeded county needs no change: the seed reassessed it by the same rules', async () => {
  const events = (await t.em().execute(`select count(*)::int as n from domain_event where type in ('PatientChanged', 'FollowUpChanged')`)) as Array<{ n: number }>;
  expect(events[0]!.n).toBe(0);
});

test('an urgent reading over GraphQL turns a green or yellow patient red and intensive; a PatientChanged event and a new FHIR version say so', async () => {
  // Not red yet, green or yellow: the county is seeded as of today, and some days' 40 patients hold no green one.
  const p = await managedPatient({ managementColour: { $in: ['GREEN', 'YELLOW'] }, managementOverrideReason: null });
  const before = await fhirVersion(p.id);
  await t.ok(RecordObservationDocument, { input: { patientId: p.id, kind: 'BLOOD_PRESSURE', systolic: 186, diastolic: 98, effectiveAt: hoursAgo(1), organizationId: p.managingOrganization.id } });
  expect((await patientRow(p.id)).managementColour).toBe(p.managementColour); // events are handled a moment later, not in the write
  expect(await worker.drain()).toBeGreaterThan(0);
  const after = await patientRow(p.id);
  expect([after.managementColour, after.managementTier]).toEqual(['RED', 'INTENSIVE']);
  const changed = (await t.em().execute(`select payload from domain_event where type = 'PatientChanged' and aggregate_id = ?`, [p.id])) as Array<{ payload: unknown }>;
  expect(changed).toHaveLength(1);
  const payload = typeof changed[0]!.payload === 'string' ? JSON.parse(changed[0]!.payload) : changed[0]!.payload;
  expect(payload).toMatchObject({ managementColour: 'RED', managementTier: 'INTENSIVE', changed: expect.arrayContaining(['managementColour', 'managementTier']) });
  expect(await fhirVersion(p.id)).toBe((before ?? 0) + 1);
  // Its own writes came back as events (handled in the same drain) that changed nothing.
  expect(await worker.drain()).toBe(0);
  expect((await patientRow(p.id)).version).toBe(after.version);
});

test('a controlled reading sent over FHIR: the colour is the rule’s for the patient’s facts', async () => {
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
  expect(after.managementColour).toBe(await ruleColour(p.id));
  expect(after.managementTier).toBe({ RED: 'INTENSIVE', YELLOW: 'ROUTINE', GREEN: 'GENERAL' }[after.managementColour!]);
});

test('a colour a person overrode stays until its review date; a patient with no diagnosis to manage stays out of it', async () => {
  const overridden = await managedPatient({ managementColour: 'YELLOW', managementOverrideReason: null });
  await t.em().getConnection().execute(`update patient set management_override_reason = 'seen by the specialist', management_overridden_at = now(), management_override_review_on = current_date + 30 where id = ?`, [overridden.id]);
  const [unmanaged] = await t.em().find(Patient, { managementColour: null }, { filters: false, limit: 1 });
  expect(unmanaged).toBeDefined();
  for (const p of [overridden, unmanaged!]) {
    await t.ok(RecordObservationDocument, { input: { patientId: p.id, kind: 'BLOOD_PRESSURE', systolic: 186, diastolic: 104, effectiveAt: hoursAgo(2), organizationId: p.managingOrganization.id } });
  }
  await worker.drain();
  expect((await patientRow(overridden.id)).managementColour).toBe('YELLOW');
  expect((await patientRow(unmanaged!.id)).managementColour ?? null).toBeNull();
});
