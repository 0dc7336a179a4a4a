import type { MedicationRequest, MedicationStatement } from '@medplum/fhirtypes';
import { DrugClass, MedicationStatus } from '../vocabulary/index.js';
import type { MedicationShape } from './domain-shapes.js';
import { classifyMedication, MEDICATION_SYSTEMS, medicationRequestMapping as requests, medicationStatementMapping as statements, medicationStatusOf } from './medication.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const shared = loadSharedResources().filter((r) => !r.contained);
const sharedRequests = shared.map((r) => r.resource).filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest');

describe('MedicationRequest in the shared data', () => {
  test('every one reads: patient, status, intent, and the medicine by code or by reference', () => {
    expect(sharedRequests.length).toBeGreaterThan(70);
    for (const r of sharedRequests) {
      const s = requests.fromFhir(r).domain;
      expect(s).toMatchObject({ patientRef: r.subject.reference, status: r.status, intent: r.intent });
      if (r.medicationCodeableConcept) {
        const coding = r.medicationCodeableConcept.coding![0]!;
        expect(s).toMatchObject({ code: coding.code, system: coding.system, display: coding.display, text: r.medicationCodeableConcept.text });
        expect(s.medicationRef).toBeUndefined();
      } else {
        expect(s.medicationRef).toBe(r.medicationReference!.reference);
        expect(s.code).toBeUndefined();
      }
    }
  });

  test('the Synthea antihypertensives, metformin and statins are classed; other medicines are OTHER', () => {
    const byName = new Map(sharedRequests.filter((r) => r.medicationCodeableConcept).map((r) => [r.medicationCodeableConcept!.text!, requests.fromFhir(r).domain.drugClass]));
    expect(byName.get('lisinopril 10 MG Oral Tablet')).toBe(DrugClass.ANTIHYPERTENSIVE);
    expect(byName.get('Hydrochlorothiazide 25 MG Oral Tablet')).toBe(DrugClass.ANTIHYPERTENSIVE);
    expect(byName.get('24 HR metoprolol succinate 100 MG Extended Release Oral Tablet')).toBe(DrugClass.ANTIHYPERTENSIVE);
    expect(byName.get('24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet')).toBe(DrugClass.ANTIDIABETIC);
    expect(byName.get('Simvastatin 20 MG Oral Tablet')).toBe(DrugClass.LIPID_LOWERING);
    expect(byName.get('atorvastatin 40 MG Oral Tablet')).toBe(DrugClass.LIPID_LOWERING);
    expect(byName.get('Clopidogrel 75 MG Oral Tablet')).toBe(DrugClass.OTHER);
    expect(byName.get('Acetaminophen 325 MG Oral Tablet')).toBe(DrugClass.OTHER);
    const classes = new Set(byName.values());
    expect([...classes].sort()).toEqual(Object.values(DrugClass).sort());
  });

  test('the HL7 example: dosage text, authored date, requester; the referenced Medication left to the resolver', () => {
    const r = shared.find((x) => x.file.endsWith('medicationrequestexample2.json'))!.resource as MedicationRequest;
    expect(requests.fromFhir(r).domain).toEqual({
      patientRef: 'Patient/pat1',
      medicationRef: 'Medication/med0316',
      text: 'prescribed medication',
      drugClass: DrugClass.OTHER,
      status: 'active',
      intent: 'order',
      dosage: 'Take one tablet daily as directed',
      authoredOn: '2015-03-01',
      sourceRef: 'Practitioner/f007',
      encounterRef: 'Encounter/f001',
    });
  });

  test('a Synthea request with a time zone keeps the date as written', () => {
    const r = sharedRequests.find((x) => x.authoredOn === '2004-02-15T15:14:37+00:00')!;
    expect(requests.fromFhir(r).domain.authoredOn).toBe('2004-02-15');
  });
});

describe('contained Medication and ATC codes', () => {
  const withContained: MedicationRequest = {
    resourceType: 'MedicationRequest',
    contained: [{ resourceType: 'Medication', id: 'm1', code: { coding: [{ system: MEDICATION_SYSTEMS.atc, code: 'C08CA01', display: 'amlodipine' }], text: '氨氯地平片 5mg' } }],
    status: 'active',
    intent: 'order',
    medicationReference: { reference: '#m1' },
    subject: { reference: 'Patient/p1' },
    dosageInstruction: [{ text: '每日一次，每次一片' }],
  };

  test('a contained Medication gives its code and class', () => {
    expect(requests.fromFhir(withContained).domain).toMatchObject({ code: 'C08CA01', system: MEDICATION_SYSTEMS.atc, display: 'amlodipine', text: '氨氯地平片 5mg', drugClass: DrugClass.ANTIHYPERTENSIVE, dosage: '每日一次，每次一片' });
    expect(requests.fromFhir(withContained).domain.medicationRef).toBeUndefined();
    expect(requests.toFhir(requests.fromFhir(withContained).domain, { id: 'x', original: withContained })).toEqual({ ...withContained, id: 'x' });
  });

  test.each([
    ['C09AA05', DrugClass.ANTIHYPERTENSIVE],
    ['C03CA01', DrugClass.ANTIHYPERTENSIVE],
    ['C07AB07', DrugClass.ANTIHYPERTENSIVE],
    ['C02AC01', DrugClass.ANTIHYPERTENSIVE],
    ['A10BA02', DrugClass.ANTIDIABETIC],
    ['A10AB01', DrugClass.ANTIDIABETIC],
    ['C10AA05', DrugClass.LIPID_LOWERING],
    ['C01DA02', undefined],
    ['B01AC06', undefined],
  ])('ATC %s is %s', (code, cls) => expect(classifyMedication(MEDICATION_SYSTEMS.atc, code)).toBe(cls));
});

describe('MedicationStatement', () => {
  const shape: MedicationShape = {
    patientRef: 'Patient/p1',
    code: '860975',
    system: MEDICATION_SYSTEMS.rxnorm,
    display: '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet',
    text: '二甲双胍缓释片',
    drugClass: DrugClass.ANTIDIABETIC,
    status: 'active',
    dosage: '每日一次，每次一片，晚餐时',
    authoredOn: '2026-11-20',
    periodStart: '2025-06-01',
    sourceRef: 'Patient/p1',
  };

  test('a domain-only statement is valid R4 and reads back', () => {
    const out = statements.toFhir(shape, { id: 's1' });
    expect(errorsOf(validateFhir(out))).toEqual([]);
    expect(out.effectivePeriod).toEqual({ start: '2025-06-01' });
    expect(statements.fromFhir(out).domain).toEqual(shape);
  });

  test('effectiveDateTime is the start of use; a change of status keeps what else was received', () => {
    const received: MedicationStatement = { resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'aspirin' }, subject: { reference: 'Patient/p1' }, effectiveDateTime: '2026-01-05T08:00:00+08:00', note: [{ text: 'self-reported' }] };
    const { domain, original } = statements.fromFhir(received);
    expect(domain).toMatchObject({ periodStart: '2026-01-05', text: 'aspirin', drugClass: DrugClass.OTHER });
    expect(statements.toFhir({ ...domain, status: 'stopped' }, { id: 's', original })).toEqual({ ...received, id: 's', status: 'stopped' });
  });
});

test.each([
  ['active', MedicationStatus.ACTIVE],
  ['on-hold', MedicationStatus.ON_HOLD],
  ['draft', MedicationStatus.PLANNED],
  ['intended', MedicationStatus.PLANNED],
  ['completed', MedicationStatus.COMPLETED],
  ['stopped', MedicationStatus.STOPPED],
  ['cancelled', MedicationStatus.CANCELLED],
  ['not-taken', MedicationStatus.NOT_TAKEN],
  ['unknown', MedicationStatus.UNKNOWN],
  ['entered-in-error', undefined],
] as const)('status %s is %s', (status, expected) => expect(medicationStatusOf(status)).toBe(expected));
