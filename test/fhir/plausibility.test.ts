/**
 * Plausibility flags, not refusals, for what hospitals send (issue 10). A valid FHIR resource is always stored as
 * sent: a reading outside its plausible range is projected flagged IMPLAUSIBLE, with a warning on its entry, and
 * counts for nothing (no control status, not the latest reading). Through GraphQL the same value is refused unless
 * the caller confirms it. One rule for both paths (assessReading, src/domain/observation/observation.service.ts).
 */
import type { Bundle, BundleEntry, Observation as FhirObservation, OperationOutcome } from '@medplum/fhirtypes';
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { residentId, SYSTEMS, type County } from '../helpers/fixtures.js';
import { RegisterPatientDocument } from '../generated/graphql.js';
import { counts, readJson, send, SYNTHEA_SMART } from './support.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('PLAUS'));
});
afterAll(() => t?.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const doc = (text: string) => parse(text) as TypedDocumentNode<any, any>;

const READINGS = doc(`query Readings($patientId: ID!) {
  observations(patientId: $patientId, kinds: [HBA1C, BLOOD_PRESSURE, FASTING_GLUCOSE, GLUCOSE], first: 100) {
    edges { node { id kind value systolic diastolic effectiveAt plausibility plausibilityReason controlStatus } }
  }
  patient(id: $patientId) { latestHbA1c { id value controlStatus } latestBloodPressure { id systolic diastolic controlStatus } }
}`);

const RECORD = doc(`mutation Record($input: RecordObservationInput!) {
  recordObservation(input: $input) { id kind value plausibility plausibilityReason controlStatus }
}`);

interface Node {
  id: string;
  kind: string;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
  effectiveAt: string;
  plausibility: 'PLAUSIBLE' | 'IMPLAUSIBLE';
  plausibilityReason: string | null;
  controlStatus: string | null;
}

const LOUIS = `${SYNTHEA_SMART}/Louis_Maggio_2e275d4b-855a-4eb2-9021-5410aa8acd4f.json`;
const isHbA1c = (e: BundleEntry) => e.resource?.resourceType === 'Observation' && (e.resource as FhirObservation).code?.coding?.some((c) => c.code === '4548-4');
const serverIdOf = (e: BundleEntry) => /\/([0-9a-f-]{36})\/_history\//.exec(e.response!.location!)![1]!;

async function readings(patientId: string): Promise<{ nodes: Node[]; latestHbA1c: { id: string; value: number } | null; latestBloodPressure: { id: string } | null }> {
  const data = await t.ok(READINGS, { patientId });
  return { nodes: data.observations.edges.map((e: { node: Node }) => e.node), latestHbA1c: data.patient.latestHbA1c, latestBloodPressure: data.patient.latestBloodPressure };
}

describe('a Synthea patient transaction with an implausible HbA1c', () => {
  let bundle: Bundle;
  let response: Bundle;
  let patientId: string;
  let implausibleAt: number;

  beforeAll(async () => {
    bundle = readJson<Bundle>(LOUIS);
    for (const e of bundle.entry!) delete e.resource!.id; // a fresh copy of the record: none of the sender's ids
    const hba1c = bundle.entry!.map((e, i) => ({ e, i })).filter(({ e }) => isHbA1c(e));
    expect(hba1c.length).toBe(2);
    // The later of the two: the one "latest HbA1c" would otherwise show.
    implausibleAt = hba1c[1]!.i;
    (bundle.entry![implausibleAt]!.resource as FhirObservation).valueQuantity!.value = 2.96;
    const res = await send(t, 'post', '/fhir', bundle);
    if (res.status !== 200) console.log(JSON.stringify(res.body).slice(0, 2000));
    expect(res.status).toBe(200);
    response = res.body as Bundle;
    patientId = serverIdOf(response.entry![bundle.entry!.findIndex((e) => e.resource!.resourceType === 'Patient')]!);
  });

  test('imports whole: every entry 201, the resource stored as sent', async () => {
    expect(response.type).toBe('transaction-response');
    expect(response.entry!.map((e) => e.response!.status)).toEqual(bundle.entry!.map(() => '201'));
    const id = serverIdOf(response.entry![implausibleAt]!);
    const [row] = (await t.em().getConnection().execute(`select content from fhir_resource where id = ?`, [id])) as Array<{ content: FhirObservation | string }>;
    const stored = typeof row!.content === 'string' ? (JSON.parse(row!.content) as FhirObservation) : row!.content;
    expect(stored.valueQuantity).toMatchObject({ value: 2.96, code: '%' });
  });

  test('the implausible entry, and only it, carries a warning OperationOutcome naming Observation.value', () => {
    const withOutcome = response.entry!.map((e, i) => ({ i, outcome: e.response!.outcome as OperationOutcome | undefined })).filter((e) => e.outcome);
    expect(withOutcome.map((e) => e.i)).toEqual([implausibleAt]);
    const outcome = withOutcome[0]!.outcome!;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'business-rule', expression: ['Observation.valueQuantity.value'], diagnostics: expect.stringContaining('HBA1C 2.96 is outside the plausible range 3–20') }),
    ]);
  });

  test('GraphQL shows the reading flagged, without a control status, and not as the latest HbA1c', async () => {
    const { nodes, latestHbA1c } = await readings(patientId);
    const id = serverIdOf(response.entry![implausibleAt]!);
    const flagged = nodes.find((n) => n.id === id)!;
    expect(flagged).toMatchObject({ kind: 'HBA1C', value: 2.96, plausibility: 'IMPLAUSIBLE', controlStatus: null });
    expect(flagged.plausibilityReason).toContain('outside the plausible range 3–20');
    // Everything else the real record holds is plausible (the fixtures hold no implausible reading of their own).
    expect(nodes.filter((n) => n.plausibility === 'IMPLAUSIBLE').map((n) => n.id)).toEqual([id]);
    const earlier = nodes.find((n) => n.kind === 'HBA1C' && n.id !== id)!;
    expect(earlier).toMatchObject({ plausibility: 'PLAUSIBLE', controlStatus: 'UNCONTROLLED' });
    expect(latestHbA1c).toMatchObject({ id: earlier.id, controlStatus: 'UNCONTROLLED' });
    // The stored control status is the rule's: every plausible BP and HbA1c has one.
    expect(nodes.filter((n) => n.plausibility === 'PLAUSIBLE' && ['BLOOD_PRESSURE', 'HBA1C'].includes(n.kind)).every((n) => n.controlStatus)).toBe(true);
  });

  test('GraphQL refuses the same value without confirmImplausible, and stores it flagged with it', async () => {
    const input = { patientId, kind: 'HBA1C', value: 2.96, unit: '%', effectiveAt: new Date(Date.now() - 3600_000).toISOString() };
    const before = (await counts(t)).observation;
    const refused = await t.gql(RECORD, { input });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.value' });
    expect(refused.errors?.[0]?.message).toContain('confirmImplausible');
    expect((await counts(t)).observation).toBe(before);

    const confirmed = await t.ok(RECORD, { input: { ...input, confirmImplausible: true } });
    expect(confirmed.recordObservation).toMatchObject({ kind: 'HBA1C', value: 2.96, plausibility: 'IMPLAUSIBLE', controlStatus: null });
    expect(confirmed.recordObservation.plausibilityReason).toContain('outside the plausible range 3–20');
    // The newest HbA1c now, but implausible: the latest that counts is still the earlier plausible one.
    const { latestHbA1c } = await readings(patientId);
    expect(latestHbA1c!.id).not.toBe(confirmed.recordObservation.id);
  });
});

describe('single writes and the other checks', () => {
  let patientId: string;
  beforeAll(async () => {
    const data = await t.ok(RegisterPatientDocument, {
      input: { name: '合理', gender: 'FEMALE', birthDate: '1962-05-01', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: residentId('1962-05-01') }] },
    });
    patientId = data.registerPatient.id;
  });

  const bp = (systolic: number, diastolic: number, at = '2026-11-02T08:00:00+08:00'): FhirObservation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: at,
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: diastolic, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ],
  });

  test('POST with Prefer: return=OperationOutcome answers 201 with the warnings; without it, the resource', async () => {
    const swapped = await send(t, 'post', '/fhir/Observation', bp(80, 120), { headers: { prefer: 'return=OperationOutcome' } });
    expect(swapped.status).toBe(201);
    expect(swapped.headers.location).toMatch(/\/fhir\/Observation\/[0-9a-f-]{36}\/_history\/1$/);
    expect(swapped.body).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'warning', code: 'business-rule', expression: ['Observation.component'], diagnostics: expect.stringContaining('systolic 80 mmHg is not above diastolic 120 mmHg') }],
    });
    const plain = await send(t, 'post', '/fhir/Observation', bp(132, 84));
    expect(plain.status).toBe(201);
    expect(plain.body.resourceType).toBe('Observation');
    const fine = await send(t, 'post', '/fhir/Observation', bp(128, 80, '2026-11-03T08:00:00+08:00'), { headers: { prefer: 'return=OperationOutcome' } });
    expect(fine.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] });
    const { nodes, latestBloodPressure } = await readings(patientId);
    const flagged = nodes.find((n) => n.systolic === 80)!;
    expect(flagged).toMatchObject({ plausibility: 'IMPLAUSIBLE', controlStatus: null });
    expect(nodes.find((n) => n.systolic === 132)).toMatchObject({ plausibility: 'PLAUSIBLE', controlStatus: 'CONTROLLED' });
    expect(latestBloodPressure).toMatchObject({ systolic: 128, diastolic: 80, controlStatus: 'CONTROLLED' });
  });

  test('a reading in the future or before birth is flagged over FHIR, refused over GraphQL', async () => {
    const future = await send(t, 'post', '/fhir/Observation', bp(150, 95, new Date(Date.now() + 86_400_000).toISOString()), { headers: { prefer: 'return=OperationOutcome' } });
    expect(future.status).toBe(201);
    expect(future.body.issue[0]).toMatchObject({ severity: 'warning', expression: ['Observation.effective'], diagnostics: expect.stringContaining('in the future') });
    const unborn = await send(t, 'post', '/fhir/Observation', bp(150, 95, '1950-01-01T08:00:00Z'), { headers: { prefer: 'return=OperationOutcome' } });
    expect(unborn.body.issue[0].diagnostics).toContain('before the patient was born');
    const refused = await t.gql(RECORD, { input: { patientId, kind: 'BLOOD_PRESSURE', systolic: 150, diastolic: 95, effectiveAt: '1950-01-01T08:00:00Z' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.effectiveAt' });
  });

  test('a unit the service cannot convert: stored as sent, left out of the care record, with a warning (GraphQL refuses it)', async () => {
    const before = (await counts(t)).observation;
    const odd: FhirObservation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: '2026-11-02T08:00:00+08:00',
      valueQuantity: { value: 7, unit: 'g', system: 'http://unitsofmeasure.org', code: 'g' },
    };
    const res = await send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: odd, request: { method: 'POST', url: 'Observation' } }] });
    expect(res.status).toBe(200);
    const entry = (res.body as Bundle).entry![0]!;
    expect(entry.response!.status).toBe('201');
    expect((entry.response!.outcome as OperationOutcome).issue![0]).toMatchObject({ severity: 'warning', diagnostics: expect.stringContaining('not taken into the care record') });
    expect((await counts(t)).observation).toBe(before);
    const refused = await t.gql(RECORD, { input: { patientId, kind: 'HBA1C', value: 7, unit: 'g', effectiveAt: '2026-11-02T08:00:00+08:00' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.unit' });
  });
});
