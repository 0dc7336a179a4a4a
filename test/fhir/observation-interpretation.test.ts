/**
 * Issue 13: the Observations this service emits say what the control rule made of them (`interpretation`, HL7 v3
 * ObservationInterpretation codes with our control status beside them); an Observation a hospital sent with its own
 * interpretation comes back as it sent it, ours not added — also when the domain later changes the reading.
 */
import type { CodeableConcept, Observation } from '@medplum/fhirtypes';
import { Observation as ObservationRecord } from '../../src/domain/observation/observation.entity.js';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { residentId, SYSTEMS, type County } from '../helpers/fixtures.js';
import { RecordObservationDocument, RegisterPatientDocument } from '../generated/graphql.js';
import { get, invalidIn, send } from './support.js';

const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const CONTROL = 'https://ncd-gateway.example/fhir/CodeSystem/control-status';

let t: TestApp;
let county: County;
let patientId: string;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('INTERP'));
  const rid = residentId('1958-04-12', true);
  patientId = (
    await t.ok(RegisterPatientDocument, {
      input: { name: '钱建国', gender: 'MALE', birthDate: '1958-04-12', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: rid }] },
    })
  ).registerPatient.id;
});
afterAll(() => t?.close());

/** A reading recorded through GraphQL, as FHIR serves it. */
async function recorded(input: Record<string, unknown>): Promise<Observation> {
  const { id } = (await t.ok(RecordObservationDocument, { input: { patientId, effectiveAt: '2026-11-20T02:00:00Z', ...input } as never })).recordObservation;
  const res = await get(t, `/fhir/Observation/${id}`);
  expect(res.status).toBe(200);
  const o = res.body as Observation;
  expect(invalidIn(`Observation/${id}`, o)).toEqual([]);
  return o;
}

/** The interpretation as [v3 code, v3 display, our control status]. */
const said = (o: Observation) => o.interpretation?.map((c) => [c.coding?.find((x) => x.system === V3)?.code, c.coding?.find((x) => x.system === V3)?.display, c.coding?.find((x) => x.system === CONTROL)?.code]);

test('readings recorded through GraphQL carry the control rule’s interpretation', async () => {
  // 152/94: not below 140/90, below 180/110 → uncontrolled, high.
  expect(said(await recorded({ kind: 'BLOOD_PRESSURE', systolic: 152, diastolic: 94 }))).toEqual([['H', 'High', 'UNCONTROLLED']]);
  // 128/82: below 140/90 → controlled, normal; with a Chinese and English text.
  const controlled = await recorded({ kind: 'BLOOD_PRESSURE', systolic: 128, diastolic: 82 });
  expect(said(controlled)).toEqual([['N', 'Normal', 'CONTROLLED']]);
  expect(controlled.interpretation![0]!.text).toBe('正常（控制满意） Normal (Controlled)');
  // A fasting glucose of 3.5 mmol/L: at or below the urgent low 3.9 → critical low.
  expect(said(await recorded({ kind: 'FASTING_GLUCOSE', value: 3.5, unit: 'mmol/L' }))).toEqual([['LL', 'Critical low', 'URGENT']]);
  // 186/104: systolic at or above 180 → critical high. A random glucose of 18 mmol/L (≥ 16.7) too.
  expect(said(await recorded({ kind: 'BLOOD_PRESSURE', systolic: 186, diastolic: 104 }))).toEqual([['HH', 'Critical high', 'URGENT']]);
  expect(said(await recorded({ kind: 'GLUCOSE', value: 18, unit: 'mmol/L' }))).toEqual([['HH', 'Critical high', 'URGENT']]);
  // Not judged: a random glucose in range, a weight, an implausible reading stored as confirmed.
  expect((await recorded({ kind: 'GLUCOSE', value: 6.2, unit: 'mmol/L' })).interpretation).toBeUndefined();
  expect((await recorded({ kind: 'WEIGHT', value: 68, unit: 'kg' })).interpretation).toBeUndefined();
  expect((await recorded({ kind: 'BLOOD_PRESSURE', systolic: 90, diastolic: 95, confirmImplausible: true })).interpretation).toBeUndefined();
});

test('a hospital’s Observation with its own interpretation comes back as sent, also after the domain changes it', async () => {
  // The laboratory flags 6.1 mmol/L abnormal (A) by its reference range; our rule says controlled (N).
  const theirs: CodeableConcept[] = [{ coding: [{ system: V3, code: 'A', display: 'Abnormal' }], text: '异常（检验科参考范围）' }];
  const sent: Observation = {
    resourceType: 'Observation',
    status: 'final',
    identifier: [{ system: 'urn:oid:2.16.156.99.1', value: 'LAB-77' }],
    code: { coding: [{ system: 'http://loinc.org', code: '1558-6', display: 'Fasting glucose [Moles/volume] in Serum or Plasma' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2026-11-21T01:00:00Z',
    valueQuantity: { value: 6.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    interpretation: theirs,
  };
  const created = await send(t, 'post', '/fhir/Observation', sent);
  expect(created.status).toBe(201);
  const id = (created.body as Observation).id!;
  const back = (await get(t, `/fhir/Observation/${id}`)).body as Observation;
  expect({ ...back, id: undefined, meta: undefined }).toEqual({ ...sent, id: undefined, meta: undefined });

  // In the domain the rule judged it (N); a change through the domain is merged into what was sent, theirs kept alone.
  const em = t.em();
  const record = await em.findOneOrFail(ObservationRecord, { id });
  expect([record.controlStatus, record.controlInterpretation]).toEqual(['CONTROLLED', 'N']);
  record.value = 6.2;
  record.receivedValue = 6.2;
  await em.flush();
  const changed = (await get(t, `/fhir/Observation/${id}`)).body as Observation;
  expect(changed.meta?.versionId).toBe('2');
  expect(changed.valueQuantity?.value).toBe(6.2);
  expect(changed.interpretation).toEqual(theirs);
  expect(invalidIn(`Observation/${id}`, changed)).toEqual([]);
});

test('a hospital’s Observation without one is served as sent: no interpretation is added on import', async () => {
  const sent: Observation = {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2026-11-22T01:00:00Z',
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 150, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 92, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ],
  };
  const created = await send(t, 'post', '/fhir/Observation', sent);
  expect(created.status).toBe(201);
  const back = (await get(t, `/fhir/Observation/${(created.body as Observation).id!}`)).body as Observation;
  expect(back.interpretation).toBeUndefined();
});
