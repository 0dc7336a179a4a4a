/**
 * Domain → FHIR: what is recorded through GraphQL is in the FHIR store too — read, searched, in `$everything`
 * and versioned — valid R4; a change through GraphQL to a record a hospital sent keeps everything it sent.
 */
import type { Bundle, CarePlan, Goal, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { residentId, SYSTEMS, type County } from '../helpers/fixtures.js';
import {
  AddConditionDocument,
  CreateCarePlanDocument,
  CreateReferralDocument,
  RecordFollowUpDocument,
  RecordObservationDocument,
  RegisterPatientDocument,
  UpdatePatientDocument,
} from '../generated/graphql.js';
import { get, invalidIn, send } from './support.js';
import { backfillFhir } from '../../src/fhir/materialise.js';
import { seedCounty } from '../../src/seed/generate.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('M'));
});
afterAll(() => t?.close());

test('a patient managed through GraphQL comes out of FHIR whole: $everything, read, search, history', async () => {
  const rid = residentId('1956-03-02', false);
  const patient = (
    await t.ok(RegisterPatientDocument, {
      input: { name: '赵桂兰', gender: 'FEMALE', birthDate: '1956-03-02', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: rid }] },
    })
  ).registerPatient;
  await t.ok(AddConditionDocument, { input: { patientId: patient.id, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10', display: '原发性高血压' } });
  const bp = (await t.ok(RecordObservationDocument, { input: { patientId: patient.id, kind: 'BLOOD_PRESSURE', systolic: 152, diastolic: 94, effectiveAt: '2026-11-20T02:00:00Z', performerId: county.villageDoctor.id } })).recordObservation;
  await t.ok(RecordObservationDocument, { input: { patientId: patient.id, kind: 'FASTING_GLUCOSE', value: 126, unit: 'mg/dL', effectiveAt: '2026-11-20T02:05:00Z' } });
  await t.ok(CreateReferralDocument, { input: { patientId: patient.id, direction: 'UP', fromOrganizationId: county.village.id, toOrganizationId: county.county.id, reason: 'COMPLICATION', urgency: 'URGENT', clinicalSummary: '血压控制不佳' } });
  await t.ok(RecordFollowUpDocument, { input: { patientId: patient.id, type: 'HOME', doneDate: '2026-11-20', findings: '头晕' } });
  await t.ok(CreateCarePlanDocument, { input: { patientId: patient.id, title: '高血压管理', periodStart: '2026-11-20', addresses: ['HYPERTENSION'], activities: [{ category: 'DIET', description: '低盐饮食，每日食盐<5克' }], goals: [{ description: '血压<140/90', measure: 'BLOOD_PRESSURE', targetBelow: 140, diastolicBelow: 90 }] } });

  const everything = await get(t, `/fhir/Patient/${patient.id}/$everything`);
  expect(everything.status).toBe(200);
  const resources = ((everything.body as Bundle).entry ?? []).map((e) => e.resource as Resource);
  const types = resources.map((r) => r.resourceType).sort();
  expect(types).toEqual(expect.arrayContaining(['CarePlan', 'Condition', 'Encounter', 'Goal', 'Observation', 'Observation', 'Patient', 'ServiceRequest']));
  // The plan carries its activity and points at its goal, which holds the BP target.
  const plan = resources.find((r) => r.resourceType === 'CarePlan') as CarePlan;
  const goal = resources.find((r) => r.resourceType === 'Goal') as Goal;
  expect(plan.goal).toEqual([{ reference: `Goal/${goal.id}` }]);
  expect(plan.activity).toHaveLength(1);
  expect(goal.target?.map((g) => g.detailQuantity?.value)).toEqual([140, 90]);
  for (const r of resources) expect(invalidIn(`${r.resourceType}/${r.id}`, r)).toEqual([]);

  // Same ids as in GraphQL; the resident ID masked for a role that does not need it, and never stored in clear.
  const fhirPatient = resources.find((r) => r.resourceType === 'Patient') as Patient;
  expect(fhirPatient.id).toBe(patient.id);
  expect(fhirPatient.identifier).toEqual([{ system: SYSTEMS.residentId, value: maskIdentifier(rid) }]);
  const stored = (await t.em().getConnection().execute(`select content::text as c from fhir_resource where id = ?`, [patient.id])) as Array<{ c: string }>;
  expect(stored[0]!.c).not.toContain(rid);
  const reading = (await get(t, `/fhir/Observation/${bp.id}`)).body as Observation;
  expect(reading.component?.map((c) => c.valueQuantity?.value)).toEqual([152, 94]);
  expect(reading.subject?.reference).toBe(`Patient/${patient.id}`);

  // Found by search like anything a hospital sent: by the resident ID, by code.
  const byId = await get(t, `/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEMS.residentId}|${rid}`)}`);
  expect(((byId.body as Bundle).entry ?? []).map((e) => e.resource!.id)).toEqual([patient.id]);
  const glucose = await get(t, `/fhir/Observation?patient=${patient.id}&code=1558-6`);
  expect((glucose.body as Bundle).entry).toHaveLength(1);

  // A change makes a version; a save that changes nothing the resource says makes none.
  await t.ok(UpdatePatientDocument, { id: patient.id, version: patient.version, input: { phone: '13800000000' } });
  const history = await get(t, `/fhir/Patient/${patient.id}/_history`);
  // Registered; given its tier and colour by the care rules when the visit was recorded (src/care/state/); its phone changed.
  expect((history.body as Bundle).entry).toHaveLength(3);
  expect(((await get(t, `/fhir/Patient/${patient.id}`)).body as Patient).telecom).toEqual(expect.arrayContaining([expect.objectContaining({ value: '13800000000' })]));
});

test('a GraphQL change to a patient a hospital sent keeps what it sent, and versions it', async () => {
  const sent: Patient = {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.3.25', value: 'MRN-778' }],
    name: [{ family: 'Smith', given: ['Ann'] }],
    gender: 'female',
    birthDate: '1950-05-05',
    extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'F' }],
    text: { status: 'additional', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ann Smith</div>' },
  };
  const created = await send(t, 'post', '/fhir/Patient', sent);
  expect(created.status).toBe(201);
  const id = (created.body as Patient).id!;
  const version = (await t.em().getConnection().execute(`select version from patient where id = ?`, [id])) as Array<{ version: number }>;
  await t.ok(UpdatePatientDocument, { id, version: version[0]!.version, input: { managementTier: 'INTENSIVE', managementOverrideReason: '新发并发症' } });

  const after = (await get(t, `/fhir/Patient/${id}`)).body as Patient;
  expect(after.meta?.versionId).toBe('2');
  expect(after.extension).toEqual(expect.arrayContaining([sent.extension![0]]));
  expect(after.text).toEqual(sent.text);
  expect(after.identifier).toEqual(sent.identifier);
  expect(JSON.stringify(after.extension)).toContain('INTENSIVE');
  expect(invalidIn('patient', after)).toEqual([]);
});

test('records written in bulk (the seed generator) get their FHIR resources from the backfill, once', async () => {
  const em = t.em();
  await seedCounty(em, { patients: 40, seed: 7, protector: t.app.security.protector });
  const missing = async () =>
    Number(
      ((await em.getConnection().execute(`select (select count(*) from patient p where not exists (select 1 from fhir_resource f where f.id = p.id))
        + (select count(*) from observation o where not exists (select 1 from fhir_resource f where f.id = o.id)) as n`)) as Array<{ n: string | number }>)[0]!.n,
    );
  expect(await missing()).toBeGreaterThan(40);

  const written = await backfillFhir(t.em(), { pageSize: 50 });
  expect(written).toBeGreaterThan(40);
  expect(await missing()).toBe(0);
  expect(await backfillFhir(t.em())).toBe(0); // nothing twice

  // What the backfill wrote is valid R4 and comes out through FHIR like the rest.
  const rows = (await em.getConnection().execute(`select content from fhir_resource`)) as Array<{ content: Resource | string }>;
  const invalid = rows.flatMap((r) => {
    const resource = (typeof r.content === 'string' ? JSON.parse(r.content) : r.content) as Resource;
    return invalidIn(`${resource.resourceType}/${resource.id}`, resource);
  });
  expect(invalid).toEqual([]);
  const someone = ((await em.getConnection().execute(`select p.id from patient p join coverage c on c.patient_id = p.id join observation o on o.patient_id = p.id limit 1`)) as Array<{ id: string }>)[0]!.id;
  const everything = (await get(t, `/fhir/Patient/${someone}/$everything`)).body as Bundle;
  expect(everything.entry!.map((e) => e.resource!.resourceType)).toEqual(expect.arrayContaining(['Patient', 'Observation', 'Coverage']));
});
