import type { CarePlan, Goal } from '@medplum/fhirtypes';
import { ActivityCategory, ActivityStatus, CarePlanStatus } from '../vocabulary/index.js';
import { carePlanMapping as plans } from './care-plan.js';
import { ConditionKind, NCD_SYSTEMS, ObservationKind } from './codes.js';
import type { CarePlanShape, GoalShape } from './domain-shapes.js';
import { FhirMappingError } from './errors.js';
import { goalMapping as goals } from './goal.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const shared = loadSharedResources().map((r) => r.resource);
const carePlans = shared.filter((r): r is CarePlan => r.resourceType === 'CarePlan');
const valid = (r: CarePlan | Goal) => expect(errorsOf(validateFhir(r))).toEqual([]);

const hypertensionPlan: CarePlanShape = {
  patientRef: 'Patient/p1',
  title: '高血压健康管理计划',
  status: CarePlanStatus.ACTIVE,
  intent: 'plan',
  addresses: [ConditionKind.HYPERTENSION, ConditionKind.TYPE_2_DIABETES],
  addressesRefs: ['Condition/c1'],
  periodStart: '2026-11-01',
  periodEnd: '2027-10-31',
  authorRef: 'Practitioner/gp-1',
  organizationRef: 'Organization/township-1',
  note: 'Reassess in 12 months.',
  goalRefs: ['Goal/g1', 'Goal/g2'],
  activities: [
    { category: ActivityCategory.SALT_REDUCTION, status: ActivityStatus.IN_PROGRESS, description: '每日食盐 < 5 g', frequency: 'daily' },
    { category: ActivityCategory.EXERCISE, status: ActivityStatus.IN_PROGRESS, description: 'Brisk walking', frequency: '30 min, 5 days a week' },
    {
      category: ActivityCategory.MEDICATION,
      status: ActivityStatus.IN_PROGRESS,
      description: 'Amlodipine',
      medicationCode: '86009-1',
      medicationSystem: 'urn:oid:1.2.156.601.1.1',
      medicationName: '苯磺酸氨氯地平片',
      dosage: '5 mg once daily',
    },
    { category: ActivityCategory.OTHER, status: ActivityStatus.SCHEDULED, description: 'Eye exam', ref: 'ServiceRequest/eye-1' },
  ],
};

describe('CarePlan', () => {
  test('a domain-only plan with non-medical prescriptions is valid and reads back', () => {
    const out = plans.toFhir(hypertensionPlan, { id: 'cp1' });
    valid(out);
    expect(out.category?.map((c) => c.text)).toEqual(['高血压 Hypertension', '2型糖尿病 Type 2 diabetes mellitus']);
    expect(out.activity?.[0]?.detail?.code?.text).toBe('限盐 Salt reduction');
    expect(out.activity?.[3]).toEqual({
      extension: [{ url: 'https://ncd-gateway.example/fhir/StructureDefinition/activity-status', valueCode: 'SCHEDULED' }],
      reference: { reference: 'ServiceRequest/eye-1', display: 'Eye exam' },
    });
    expect(plans.fromFhir(out).domain).toEqual(hypertensionPlan);
  });

  test('Synthea activities are classified from SNOMED CT (diet, exercise, smoking, alcohol, salt)', () => {
    const categories = new Set(carePlans.flatMap((c) => plans.fromFhir(c).domain.activities.map((a) => a.category)));
    for (const c of [ActivityCategory.DIET, ActivityCategory.EXERCISE, ActivityCategory.SMOKING_CESSATION, ActivityCategory.ALCOHOL_LIMITATION, ActivityCategory.SALT_REDUCTION]) {
      expect(categories).toContain(c);
    }
  });

  test('a changed activity status changes only that status; everything else of the plan stays', () => {
    const received = carePlans.find((c) => c.activity?.some((a) => a.detail?.location) && c.meta?.profile)!;
    const { domain, original } = plans.fromFhir(received);
    const activities = domain.activities.map((a, i) => (i === 0 ? { ...a, status: ActivityStatus.COMPLETED } : a));
    const out = plans.toFhir({ ...domain, activities, addresses: [ConditionKind.TYPE_2_DIABETES] }, { id: 'x', original });
    valid(out);
    expect(out.activity?.[0]?.detail).toEqual({ ...received.activity![0]!.detail, status: 'completed' });
    expect(out.activity?.slice(1)).toEqual(received.activity?.slice(1));
    expect(out.category?.slice(0, received.category!.length)).toEqual(received.category);
    expect(out.category?.at(-1)?.coding?.[0]).toMatchObject({ system: NCD_SYSTEMS.conditionKind, code: 'TYPE_2_DIABETES' });
    expect(out.meta?.profile).toEqual(received.meta?.profile);
  });

  test('the HL7 GP-visit plan keeps its contained resources when changed', () => {
    const gp = carePlans.find((c) => c.id === 'gpvisit')!;
    const { domain, original } = plans.fromFhir(gp);
    expect(domain.goalRefs).toEqual(['#goal']);
    const out = plans.toFhir({ ...domain, status: CarePlanStatus.COMPLETED }, { id: 'x', original });
    expect(out.status).toBe('completed');
    expect(out.contained).toEqual(gp.contained);
    expect(out.activity).toEqual(gp.activity);
  });

  test('a contained hypertension condition gives the plan its kind', () => {
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/1' },
      contained: [{ resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/1' }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }] } }],
      addresses: [{ reference: '#c' }],
    };
    expect(plans.fromFhir(plan).domain.addresses).toEqual([ConditionKind.HYPERTENSION]);
  });
});

describe('Goal', () => {
  test('a blood-pressure target below 140/90 is two component targets and reads back', () => {
    const bp: GoalShape = { patientRef: 'Patient/p1', lifecycleStatus: 'active', description: '血压 < 140/90 mmHg', measure: ObservationKind.BLOOD_PRESSURE, targetBelow: 140, diastolicBelow: 90, dueDate: '2027-02-01' };
    const out = goals.toFhir(bp, { id: 'g1' });
    valid(out);
    expect(out.target?.map((t) => [t.measure?.coding?.[0]?.code, t.detailQuantity?.comparator, t.detailQuantity?.value])).toEqual([
      ['8480-6', '<', 140],
      ['8462-4', '<', 90],
    ]);
    expect(goals.fromFhir(out).domain).toEqual(bp);
  });

  test('a fasting-glucose target sent in mg/dL is held in mmol/L', () => {
    const received: Goal = {
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: { text: 'FPG < 126 mg/dL' },
      subject: { reference: 'Patient/1' },
      target: [{ measure: { coding: [{ system: 'http://loinc.org', code: '1558-6' }] }, detailQuantity: { value: 126, comparator: '<', unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' } }],
    };
    const { domain, original } = goals.fromFhir(received);
    expect(domain).toMatchObject({ measure: ObservationKind.FASTING_GLUCOSE, targetBelow: 6.99 });
    expect(goals.toFhir(domain, { id: 'g', original })).toEqual({ ...received, id: 'g' });
    const bad = { ...received, target: [{ ...received.target![0]!, detailQuantity: { value: 1.26, unit: 'g/L' } }] };
    expect(() => goals.fromFhir(bad)).toThrow(FhirMappingError);
  });

  test('Synthea goals are text-only and keep their text', () => {
    for (const g of shared.filter((r): r is Goal => r.resourceType === 'Goal')) {
      expect(goals.fromFhir(g).domain.description).toBe(g.description.text);
    }
  });
});
