import { countyToday } from '../src/care-rules/calendar.js';
import { careRulesFrom, DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { CarePlan, CarePlanActivity, CarePlanGoal } from '../src/domain/care-plan/care-plan.entity.js';
import { carePlanTemplates } from '../src/domain/care-plan/templates.js';
import { FhirResource } from '../src/fhir/fhir-resource.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { isoDay, MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  AddCarePlanActivityWithPlanDocument,
  CarePlanProgressDocument,
  CarePlanTemplatesDocument,
  ChangeCarePlanActivityDocument,
  CreateCarePlanDocument,
  CreateCarePlanFromTemplateDocument,
  type CreateCarePlanFromTemplateInput,
  CreateSelfManagementGroupDocument,
  PatientPlansProgressDocument,
  RecordObservationDocument,
  type RecordObservationInput,
  RegisterPatientDocument,
  RemoveCarePlanActivityDocument,
  UpdateCarePlanDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
const { control } = DEFAULT_CARE_RULES;

beforeAll(async () => {
  ({ t, county } = await startCountyApp('CT'));
});
afterAll(() => t?.close());

async function registerPatient(name: string, extra: Record<string, unknown> = {}) {
  const input = { name, gender: 'MALE' as const, birthDate: '1958-03-03', managingOrganizationId: county.village.id, ...extra };
  return (await t.ok(RegisterPatientDocument, { input })).registerPatient.id;
}

async function fromTemplate(input: CreateCarePlanFromTemplateInput) {
  return (await t.ok(CreateCarePlanFromTemplateDocument, { input })).createCarePlanFromTemplate;
}

/** A reading a minute (or `daysAgo` days) ago. */
async function reading(patientId: string, fields: Partial<RecordObservationInput>, daysAgo = 0) {
  const effectiveAt = new Date(Date.now() - 60_000 - daysAgo * 86_400_000).toISOString();
  await t.ok(RecordObservationDocument, { input: { patientId, effectiveAt, ...fields } as RecordObservationInput });
}

const progressOf = async (planId: string) =>
  (await t.ok(CarePlanProgressDocument, { id: planId })).carePlan.goals.map((g) => [g.measure, g.progress?.status ?? null, g.progress?.achieved ?? null]);

async function rowCounts() {
  const em = t.em();
  return { plans: await em.count(CarePlan, {}), goals: await em.count(CarePlanGoal, {}), activities: await em.count(CarePlanActivity, {}) };
}

describe('care-plan templates', () => {
  test('one per condition and tier, the targets those of the care rules', async () => {
    const all = (await t.ok(CarePlanTemplatesDocument, {})).carePlanTemplates;
    expect(all.map((tpl) => tpl.id).sort()).toEqual(
      ['HYPERTENSION', 'TYPE_2_DIABETES'].flatMap((k) => ['GENERAL', 'INTENSIVE', 'ROUTINE'].map((tier) => `${k}-${tier}`)).sort(),
    );
    const [intensive] = (await t.ok(CarePlanTemplatesDocument, { conditionKind: 'HYPERTENSION', tier: 'INTENSIVE' })).carePlanTemplates;
    expect(intensive!.goals[0]).toMatchObject({ measure: 'BLOOD_PRESSURE', targetBelow: control.systolicBelow, diastolicBelow: control.diastolicBelow });
    expect(intensive!.goals[1]).toMatchObject({ measure: 'BMI', targetBelow: DEFAULT_CARE_RULES.goals.bmiBelow });
    expect(intensive!.activities.map((a) => a.category)).toEqual(['SALT_REDUCTION', 'DIET', 'EXERCISE', 'SMOKING_CESSATION', 'ALCOHOL_LIMITATION', 'OTHER', 'SELF_MANAGEMENT_GROUP']);
    expect(intensive!.activities.find((a) => a.category === 'SMOKING_CESSATION')!.forSmokersOnly).toBe(true);
    const [general] = (await t.ok(CarePlanTemplatesDocument, { conditionKind: 'HYPERTENSION', tier: 'GENERAL' })).carePlanTemplates;
    // The tier sets how closely the patient is watched: home BP daily when intensive, weekly when general.
    const monitoring = (tpl: typeof general) => tpl!.activities.find((a) => a.category === 'OTHER')!.frequency;
    expect(monitoring(intensive)).not.toEqual(monitoring(general));
    const [diabetes] = (await t.ok(CarePlanTemplatesDocument, { conditionKind: 'TYPE_2_DIABETES', tier: 'ROUTINE' })).carePlanTemplates;
    expect(diabetes!.goals.map((g) => [g.measure, g.targetBelow])).toEqual([
      ['FASTING_GLUCOSE', control.fastingGlucoseBelow],
      ['HBA1C', control.hba1cBelow],
      ['BMI', DEFAULT_CARE_RULES.goals.bmiBelow],
    ]);
    expect((await t.ok(CarePlanTemplatesDocument, { conditionKind: 'COPD' })).carePlanTemplates).toEqual([]);
  });

  test("a deployment's care rules are the templates' targets", () => {
    const rules = careRulesFrom({ control: { systolicBelow: 130, fastingGlucoseBelow: 6.5 }, goals: { bmiBelow: 23 } });
    const [htn] = carePlanTemplates(rules, 'HYPERTENSION' as never, 'ROUTINE' as never);
    expect(htn!.goals.map((g) => g.targetBelow)).toEqual([130, 23]);
    expect(htn!.goals[0]!.description).toContain('130/90');
    const [dm] = carePlanTemplates(rules, 'TYPE_2_DIABETES' as never, 'ROUTINE' as never);
    expect(dm!.goals[0]!.targetBelow).toBe(6.5);
  });

  test('a plan from a template: its goals due at the end of a year, its non-medical prescriptions, smoking only for a smoker', async () => {
    const patientId = await registerPatient('模板甲');
    const group = (await t.ok(CreateSelfManagementGroupDocument, { input: { name: '东村高血压自我管理小组', organizationId: county.village.id, conditionKinds: ['HYPERTENSION'], leaderPractitionerId: county.villageDoctor.id } })).createSelfManagementGroup;
    const start = countyToday();
    const plan = await fromTemplate({ patientId, conditionKind: 'HYPERTENSION', tier: 'INTENSIVE', smoker: true, selfManagementGroupId: group.id });
    const yearEnd = isoDay(-1, `${Number(start.slice(0, 4)) + 1}${start.slice(4)}`);
    expect(plan).toMatchObject({ version: 1, status: 'ACTIVE', addresses: ['HYPERTENSION'], periodStart: start, periodEnd: yearEnd, title: '高血压重点管理干预计划' });
    expect(plan.goals.map((g) => [g.measure, g.targetBelow, g.diastolicBelow, g.dueDate])).toEqual([
      ['BLOOD_PRESSURE', control.systolicBelow, control.diastolicBelow, yearEnd],
      ['BMI', DEFAULT_CARE_RULES.goals.bmiBelow, null, yearEnd],
    ]);
    expect(plan.activities.map((a) => a.category)).toEqual(['SALT_REDUCTION', 'DIET', 'EXERCISE', 'SMOKING_CESSATION', 'ALCOHOL_LIMITATION', 'OTHER', 'SELF_MANAGEMENT_GROUP']);
    expect(plan.activities.every((a) => a.status === 'NOT_STARTED')).toBe(true);
    expect(plan.activities.find((a) => a.category === 'SELF_MANAGEMENT_GROUP')!.selfManagementGroup).toEqual({ id: group.id, name: group.name });

    const nonSmoker = await fromTemplate({ patientId, templateId: 'HYPERTENSION-GENERAL' });
    expect(nonSmoker.activities.map((a) => a.category)).not.toContain('SMOKING_CESSATION');
    expect(nonSmoker.activities.find((a) => a.category === 'SELF_MANAGEMENT_GROUP')!.selfManagementGroup).toBeNull();
    // Written out as FHIR as any plan is: its activities in the CarePlan resource.
    const resource = await t.em().findOneOrFail(FhirResource, { id: plan.id });
    expect((resource.content as { activity: unknown[] }).activity).toHaveLength(7);
  });

  test("without a tier the patient's own; an unknown template, none at all, or no tier to go by is refused and stores nothing", async () => {
    const routine = await registerPatient('模板乙', { managementTier: 'ROUTINE', managementOverrideReason: '建档评估' });
    const plan = await fromTemplate({ patientId: routine, conditionKind: 'TYPE_2_DIABETES', periodStart: '2026-01-01', periodEnd: '2026-06-30' });
    expect(plan).toMatchObject({ title: '2型糖尿病常规管理干预计划', periodEnd: '2026-06-30' });
    expect(plan.goals.every((g) => g.dueDate === '2026-06-30')).toBe(true);

    const untiered = await registerPatient('模板丙');
    const refused = (input: Partial<CreateCarePlanFromTemplateInput>, code: string, field?: string) =>
      expectRefusedUnchanged(rowCounts, () => t.gql(CreateCarePlanFromTemplateDocument, { input: { patientId: untiered, ...input } }), code, field);
    await refused({ conditionKind: 'HYPERTENSION' }, 'BAD_USER_INPUT', 'tier');
    await refused({ templateId: 'HYPERTENSION-URGENT' }, 'BAD_USER_INPUT', 'templateId');
    await refused({ templateId: 'HYPERTENSION-ROUTINE', tier: 'GENERAL' }, 'BAD_USER_INPUT', 'templateId');
    await refused({}, 'BAD_USER_INPUT', 'conditionKind');
    await refused({ conditionKind: 'COPD', tier: 'ROUTINE' }, 'BAD_USER_INPUT', 'conditionKind');
    await refused({ templateId: 'HYPERTENSION-ROUTINE', selfManagementGroupId: MISSING_ID }, 'BAD_USER_INPUT', 'activities.5.selfManagementGroupId');
    await refused({ templateId: 'HYPERTENSION-ROUTINE', periodStart: '2026-05-01', periodEnd: '2026-04-30' }, 'BAD_USER_INPUT', 'periodEnd');
  });
});

describe("goals' progress from the readings", () => {
  test('flips as readings arrive; an implausible reading and one before the plan count for nothing', async () => {
    const patientId = await registerPatient('进展甲');
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 120, diastolic: 76 }, 3); // before the plan started
    const plan = await fromTemplate({ patientId, templateId: 'HYPERTENSION-ROUTINE' });
    expect(plan.goals.map((g) => g.progress)).toEqual([
      { status: 'NO_DATA', achieved: false, latestReading: null },
      { status: 'NO_DATA', achieved: false, latestReading: null },
    ]);

    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 152, diastolic: 94 });
    expect(await progressOf(plan.id)).toEqual([['BLOOD_PRESSURE', 'IN_PROGRESS', false], ['BMI', 'NO_DATA', false]]);

    // Below the target, but implausible (systolic not above diastolic): confirmed, stored flagged, ignored.
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 80, diastolic: 85, confirmImplausible: true });
    const afterImplausible = (await t.ok(CarePlanProgressDocument, { id: plan.id })).carePlan.goals[0]!.progress!;
    expect(afterImplausible).toMatchObject({ status: 'IN_PROGRESS', latestReading: { systolic: 152, diastolic: 94 } });

    // At the target is not below it (the rule's strict bounds); below it is achieved.
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: control.systolicBelow, diastolic: 80 });
    expect((await progressOf(plan.id))[0]).toEqual(['BLOOD_PRESSURE', 'IN_PROGRESS', false]);
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 128, diastolic: 78 });
    await reading(patientId, { kind: 'BMI', value: 26.1 });
    expect(await progressOf(plan.id)).toEqual([['BLOOD_PRESSURE', 'ACHIEVED', true], ['BMI', 'IN_PROGRESS', false]]);
    await reading(patientId, { kind: 'BMI', value: 23.2 });
    expect((await progressOf(plan.id))[1]).toEqual(['BMI', 'ACHIEVED', true]);
    // And back: the latest reading decides.
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 150, diastolic: 92 });
    expect((await progressOf(plan.id))[0]).toEqual(['BLOOD_PRESSURE', 'IN_PROGRESS', false]);
  });

  test("a goal past its due date and not met is NOT_ACHIEVED; a goal's own target is its own; one with nothing to measure has no progress", async () => {
    const patientId = await registerPatient('进展乙');
    const plan = await fromTemplate({ patientId, templateId: 'TYPE_2_DIABETES-GENERAL', periodStart: isoDay(-400), periodEnd: isoDay(-35) });
    await reading(patientId, { kind: 'FASTING_GLUCOSE', value: 8.2 });
    await reading(patientId, { kind: 'HBA1C', value: 6.4 });
    expect(await progressOf(plan.id)).toEqual([
      ['FASTING_GLUCOSE', 'NOT_ACHIEVED', false],
      ['HBA1C', 'ACHIEVED', true],
      ['BMI', 'NO_DATA', false],
    ]);

    const own = (
      await t.ok(CreateCarePlanFromTemplateDocument, { input: { patientId, templateId: 'HYPERTENSION-GENERAL' } })
    ).createCarePlanFromTemplate;
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 134, diastolic: 82 });
    expect((await progressOf(own.id))[0]).toEqual(['BLOOD_PRESSURE', 'ACHIEVED', true]);
    const stricter = await t.ok(CarePlanProgressDocument, { id: own.id });
    expect(stricter.carePlan.goals[0]!.progress!.latestReading).toMatchObject({ systolic: 134 });
    // A goal of 130/80 (a diabetic's) for the same reading is not met; "stop smoking" has no progress at all.
    const personal = (
      await t.ok(CreateCarePlanDocument, {
        input: {
          patientId,
          title: '个体化目标',
          periodStart: countyToday(),
          goals: [
            { description: '血压 < 130/80', measure: 'BLOOD_PRESSURE', targetBelow: 130, diastolicBelow: 80 },
            { description: '血压达标（规则目标）', measure: 'BLOOD_PRESSURE' },
            { description: '腰围 < 90 cm', measure: 'WAIST_CIRCUMFERENCE', targetBelow: 90 },
            { description: '戒烟' },
          ],
        },
      })
    ).createCarePlan;
    const goals = (await t.ok(CarePlanProgressDocument, { id: personal.id })).carePlan.goals;
    expect(goals.map((g) => [g.description, g.progress?.status ?? null])).toEqual([
      ['血压 < 130/80', 'IN_PROGRESS'],
      ['血压达标（规则目标）', 'ACHIEVED'],
      ['腰围 < 90 cm', 'NO_DATA'],
      ['戒烟', null],
    ]);
  });

  test("a patient's plans' goals are judged in a fixed number of queries, not one per goal", async () => {
    const patientId = await registerPatient('进展丙');
    for (const templateId of ['HYPERTENSION-ROUTINE', 'TYPE_2_DIABETES-ROUTINE', 'HYPERTENSION-GENERAL']) await fromTemplate({ patientId, templateId });
    await reading(patientId, { kind: 'BLOOD_PRESSURE', systolic: 126, diastolic: 80 });
    t.queries.length = 0;
    const plans = (await t.ok(PatientPlansProgressDocument, { id: patientId })).patient.carePlans;
    expect(plans.flatMap((p) => p.goals)).toHaveLength(7);
    expect(plans.flatMap((p) => p.goals.filter((g) => g.measure === 'BLOOD_PRESSURE').map((g) => g.progress!.status))).toEqual(['ACHIEVED', 'ACHIEVED']);
    expect(t.queries.filter((q) => /from observation/i.test(q))).toHaveLength(1);
    // The plans by patient, then (for the goals' progress) the plans by id: once each, whatever the number of goals.
    expect(t.queries.filter((q) => /from "care_plan" t where/i.test(q))).toHaveLength(2);
  });
});

describe('changing and removing activities, with the plan version', () => {
  test("removing an activity moves the plan's version, rewrites its FHIR CarePlan; a stale version is a CONFLICT", async () => {
    const patientId = await registerPatient('变更甲');
    const plan = await fromTemplate({ patientId, templateId: 'HYPERTENSION-ROUTINE' });
    const salt = plan.activities.find((a) => a.category === 'SALT_REDUCTION')!;
    const removed = (await t.ok(RemoveCarePlanActivityDocument, { carePlanId: plan.id, version: 1, activityId: salt.id })).removeCarePlanActivity;
    expect(removed.version).toBe(2);
    expect(removed.activities.map((a) => a.id)).not.toContain(salt.id);
    expect(removed.activities).toHaveLength(plan.activities.length - 1);
    const resource = await t.em().findOneOrFail(FhirResource, { id: plan.id });
    const fhirActivities = (resource.content as { activity: Array<{ detail?: { description?: string } }> }).activity;
    expect(fhirActivities).toHaveLength(plan.activities.length - 1);
    expect(fhirActivities.map((a) => a.detail?.description)).not.toContain(salt.description);

    const diet = removed.activities.find((a) => a.category === 'DIET')!;
    const before = await rowCounts();
    expectRefusal(await t.gql(RemoveCarePlanActivityDocument, { carePlanId: plan.id, version: 1, activityId: diet.id }), 'CONFLICT');
    expectRefusal(await t.gql(RemoveCarePlanActivityDocument, { carePlanId: plan.id, version: 2, activityId: salt.id }), 'NOT_FOUND');
    const other = await fromTemplate({ patientId, templateId: 'HYPERTENSION-GENERAL' });
    expectRefusal(await t.gql(RemoveCarePlanActivityDocument, { carePlanId: plan.id, version: 2, activityId: other.activities[0]!.id }), 'NOT_FOUND');
    expect((await rowCounts()).activities).toBe(before.activities + other.activities.length);
    expect((await t.ok(CarePlanProgressDocument, { id: plan.id })).carePlan.version).toBe(2);
  });

  test("changing an activity answers with the plan's new version; a stale plan version is a CONFLICT and changes nothing", async () => {
    const patientId = await registerPatient('变更乙');
    const plan = await fromTemplate({ patientId, templateId: 'TYPE_2_DIABETES-INTENSIVE' });
    const exercise = plan.activities.find((a) => a.category === 'EXERCISE')!;
    const changed = (
      await t.ok(ChangeCarePlanActivityDocument, { id: exercise.id, version: 1, carePlanVersion: 1, input: { status: 'IN_PROGRESS', frequency: '每天早餐后 30 分钟' } })
    ).updateCarePlanActivity;
    expect(changed).toMatchObject({ version: 2, status: 'IN_PROGRESS', frequency: '每天早餐后 30 分钟', carePlan: { id: plan.id, version: 2 } });
    // Without carePlanVersion the activity's own version is checked, and the plan's still moves.
    const again = (await t.ok(ChangeCarePlanActivityDocument, { id: exercise.id, version: 2, input: { description: '快走' } })).updateCarePlanActivity;
    expect(again.carePlan.version).toBe(3);
    expectRefusal(await t.gql(ChangeCarePlanActivityDocument, { id: exercise.id, version: 3, carePlanVersion: 2, input: { status: 'STOPPED' } }), 'CONFLICT');
    const added = (await t.ok(AddCarePlanActivityWithPlanDocument, { carePlanId: plan.id, version: 3, input: { category: 'OTHER', description: '足部护理' } })).addCarePlanActivity;
    expect(added.carePlan).toEqual({ id: plan.id, version: 4 });
    const read = (await t.ok(CarePlanProgressDocument, { id: plan.id })).carePlan;
    expect(read.version).toBe(4);
    expect(read.activities.find((a) => a.id === exercise.id)).toMatchObject({ version: 3, status: 'IN_PROGRESS', description: '快走' });
  });

  test('only a SELF_MANAGEMENT_GROUP activity names a group, one the caller sees; a closed plan takes no removal', async () => {
    const patientId = await registerPatient('变更丙');
    const plan = await fromTemplate({ patientId, templateId: 'HYPERTENSION-GENERAL' });
    const group = (await t.ok(CreateSelfManagementGroupDocument, { input: { name: '西村小组', organizationId: county.otherVillage.id, leaderPractitionerId: county.gp.id } })).createSelfManagementGroup;
    const diet = plan.activities.find((a) => a.category === 'DIET')!;
    const smg = plan.activities.find((a) => a.category === 'SELF_MANAGEMENT_GROUP')!;
    expectRefusal(await t.gql(ChangeCarePlanActivityDocument, { id: diet.id, version: 1, input: { selfManagementGroupId: group.id } }), 'BAD_USER_INPUT', 'activity.selfManagementGroupId');
    expectRefusal(
      await t.gql(AddCarePlanActivityWithPlanDocument, { carePlanId: plan.id, version: 1, input: { category: 'DIET', description: '少油', selfManagementGroupId: group.id } }),
      'BAD_USER_INPUT',
      'activity.selfManagementGroupId',
    );
    // The village doctor of 东村 does not see 西村's group.
    const vd = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
    expectRefusal(await t.gql(ChangeCarePlanActivityDocument, { id: smg.id, version: 1, input: { selfManagementGroupId: group.id } }, vd), 'BAD_USER_INPUT', 'activity.selfManagementGroupId');
    const named = (await t.ok(ChangeCarePlanActivityDocument, { id: smg.id, version: 1, input: { selfManagementGroupId: group.id } })).updateCarePlanActivity;
    expect(named).toMatchObject({ selfManagementGroup: { id: group.id }, carePlan: { version: 2 } });
    // …and reads it as no group: the activity is hers, the group is not.
    const asVd = (await t.ok(CarePlanProgressDocument, { id: plan.id }, vd)).carePlan;
    expect(asVd.activities.find((a) => a.id === smg.id)!.selfManagementGroup).toBeNull();
    const cleared = (await t.ok(ChangeCarePlanActivityDocument, { id: smg.id, version: 2, input: { selfManagementGroupId: null } })).updateCarePlanActivity;
    expect(cleared.selfManagementGroup).toBeNull();

    await t.ok(UpdateCarePlanDocument, { id: plan.id, version: 3, input: { status: 'COMPLETED' } });
    expectRefusal(await t.gql(RemoveCarePlanActivityDocument, { carePlanId: plan.id, version: 4, activityId: diet.id }), 'BAD_USER_INPUT', 'carePlanId');
    expect((await t.ok(CarePlanProgressDocument, { id: plan.id })).carePlan.activities.map((a) => a.id)).toContain(diet.id);
  });
});
