import { ActivityCategory, ActivityStatus, CarePlan, CarePlanActivity, CarePlanStatus } from '../src/domain/care-plan/care-plan.entity.js';
import { ClinicalStatus, Condition, ConditionKind, VerificationStatus } from '../src/domain/condition/condition.entity.js';
import { Observation, ObservationKind, ObservationSource } from '../src/domain/observation/observation.entity.js';
import { DrugClass, MedicationStatus, MedicationUse } from '../src/domain/medication/medication.entity.js';
import { Gender } from '../src/domain/patient/gender.js';
import { Patient } from '../src/domain/patient/patient.entity.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { buildCounty } from './helpers/fixtures.js';
import { PatientsMedicinesPageDocument, PatientsPageDocument } from './generated/graphql.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  const em = t.em();
  const county = await buildCounty(em, 'N1');
  for (let i = 0; i < 60; i++) {
    const patient = em.create(Patient, {
      name: `测试${i}`,
      gender: i % 2 ? Gender.MALE : Gender.FEMALE,
      birthDate: '1955-01-01',
      managingOrganization: i % 2 ? county.village : county.otherVillage,
      version: 1,
    } as never) as Patient;
    em.create(Condition, { patient, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10', kind: ConditionKind.HYPERTENSION, clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus: VerificationStatus.CONFIRMED, version: 1 } as never);
    em.create(Condition, { patient, code: 'E11', system: 'http://hl7.org/fhir/sid/icd-10', kind: ConditionKind.TYPE_2_DIABETES, clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus: VerificationStatus.CONFIRMED, version: 1 } as never);
    for (let m = 0; m < 4; m++) {
      const effectiveAt = new Date(Date.UTC(2026, m, 10));
      em.create(Observation, { patient, kind: ObservationKind.BLOOD_PRESSURE, code: '85354-9', system: 'http://loinc.org', systolic: 130 + m * 5 + (i % 7), diastolic: 80 + m, unit: 'mm[Hg]', effectiveAt, source: ObservationSource.CLINIC, version: 1 } as never);
      em.create(Observation, { patient, kind: ObservationKind.FASTING_GLUCOSE, code: '1558-6', system: 'http://loinc.org', value: 6 + m * 0.5, unit: 'mmol/L', effectiveAt, source: ObservationSource.HOME, version: 1 } as never);
    }
    em.create(MedicationUse, { patient, name: '氨氯地平片', code: 'C08CA01', system: 'http://www.whocc.no/atc', drugClass: DrugClass.ANTIHYPERTENSIVE, status: MedicationStatus.ACTIVE, since: '2026-01-01', sourceType: 'MedicationRequest', version: 1 } as never);
    em.create(MedicationUse, { patient, name: '二甲双胍片', drugClass: DrugClass.ANTIDIABETIC, status: MedicationStatus.STOPPED, since: '2025-01-01', until: '2025-12-31', sourceType: 'MedicationStatement', version: 1 } as never);
    const plan = em.create(CarePlan, { patient, title: '高血压管理计划', status: CarePlanStatus.ACTIVE, addresses: [ConditionKind.HYPERTENSION], periodStart: '2026-01-01', version: 1 } as never);
    em.create(CarePlanActivity, { carePlan: plan, category: ActivityCategory.SALT_REDUCTION, status: ActivityStatus.IN_PROGRESS, description: '每日食盐少于5克', version: 1 } as never);
    em.create(CarePlanActivity, { carePlan: plan, category: ActivityCategory.MEDICATION, status: ActivityStatus.IN_PROGRESS, description: '氨氯地平', medicationName: '氨氯地平', dosage: '5mg qd', version: 1 } as never);
  }
  await em.flush();
});
afterAll(() => t?.close());

async function statementsFor(first: number) {
  t.queries.length = 0;
  const res = await t.gql(PatientsPageDocument, { first, filter: { organizationId: undefined } });
  expect(res.errors).toBeUndefined();
  const edges = res.data!.patients.edges;
  expect(edges).toHaveLength(first);
  // The page really carries the nested data the count is about.
  for (const { node } of edges) {
    expect(node.conditions.map((c) => c.kind).sort()).toEqual(['HYPERTENSION', 'TYPE_2_DIABETES']);
    expect(node.latestBloodPressure?.effectiveAt).toBe('2026-04-10T00:00:00.000Z');
    expect(node.latestGlucose?.value).toBe(7.5);
    expect(node.carePlans[0]!.activities).toHaveLength(2);
  }
  if (process.env.SHOW_SQL) console.log(t.queries.join("\n"));
  return t.queries.length;
}

test('patients(first: N) with conditions, latest BP, latest glucose and active care plans: SQL count does not grow with N', async () => {
  const five = await statementsFor(5);
  const fifty = await statementsFor(50);
  expect(five).toBeGreaterThanOrEqual(5);
  expect(fifty).toBe(five);
  // patients + count + organisations + conditions + latest BP + latest glucose + care plans + activities,
  // and the request's one audit insert (however many patients it touched).
  expect(fifty).toBeLessThanOrEqual(9);
  expect(t.queries.filter((q) => /insert into audit_event/.test(q))).toHaveLength(1);
});

test('patients(first: N) with their current medicines: one query for the whole page, however many patients', async () => {
  const count = async (first: number) => {
    t.queries.length = 0;
    const res = await t.gql(PatientsMedicinesPageDocument, { first });
    expect(res.errors).toBeUndefined();
    for (const { node } of res.data!.patients.edges) expect(node.medications).toEqual([{ name: '氨氯地平片', drugClass: 'ANTIHYPERTENSIVE', since: '2026-01-01' }]);
    return t.queries.filter((q) => /medication_use/.test(q)).length;
  };
  expect(await count(5)).toBe(1);
  expect(await count(50)).toBe(1);
});
