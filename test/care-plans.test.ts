import { CarePlan, CarePlanActivity, CarePlanGoal } from '../src/domain/care-plan/care-plan.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  AddCarePlanActivityDocument,
  CarePlanDocument,
  CreateCarePlanDocument,
  type CreateCarePlanInput,
  ExtraCarePlanDetailDocument,
  ExtraPatientCarePlansDocument,
  ExtraUpdateCarePlanActivityDocument,
  RegisterPatientDocument,
  UpdateCarePlanActivityDocument,
  UpdateCarePlanDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
let patientId: string;

beforeAll(async () => {
  ({ t, county } = await startCountyApp('CP'));
  patientId = (await t.ok(RegisterPatientDocument, { input: { name: '计划', gender: 'FEMALE', birthDate: '1957-09-09', managingOrganizationId: county.village.id } })).registerPatient.id;
});
afterAll(() => t?.close());

async function rowCounts() {
  const em = t.em();
  return { plans: await em.count(CarePlan, {}), goals: await em.count(CarePlanGoal, {}), activities: await em.count(CarePlanActivity, {}) };
}

async function expectCreateRefused(input: Partial<CreateCarePlanInput>, field: string) {
  const run = () => t.gql(CreateCarePlanDocument, { input: { patientId, title: '高血压管理', periodStart: '2024-01-01', ...input } });
  await expectRefusedUnchanged(rowCounts, run, 'BAD_USER_INPUT', field);
}

async function createPlan(input: Partial<CreateCarePlanInput> = {}) {
  const data = await t.ok(CreateCarePlanDocument, {
    input: { patientId, title: '高血压管理', periodStart: '2024-01-01', activities: [{ category: 'DIET', description: '低盐饮食' }], ...input },
  });
  return data.createCarePlan;
}

async function readPlan(id: string) {
  return (await t.ok(ExtraCarePlanDetailDocument, { id })).carePlan;
}

describe('createCarePlan', () => {
  test('stores goals and non-medical and medication activities', async () => {
    const res = await t.gql(CreateCarePlanDocument, {
      input: {
        patientId,
        title: ' 高血压、糖尿病综合管理 ',
        addresses: ['HYPERTENSION', 'TYPE_2_DIABETES'],
        periodStart: '2024-01-01',
        periodEnd: '2024-12-31',
        authorId: county.gp.id,
        organizationId: county.township.id,
        note: '年度计划',
        goals: [
          { description: '血压 < 140/90', measure: 'BLOOD_PRESSURE', targetBelow: 140, diastolicBelow: 90, dueDate: '2024-06-30' },
          { description: '空腹血糖 < 7.0', measure: 'FASTING_GLUCOSE', targetBelow: 7 },
          { description: '戒烟' },
        ],
        activities: [
          { category: 'SALT_REDUCTION', description: '每日食盐 < 5 g' },
          { category: 'EXERCISE', description: '快走 30 分钟', frequency: '每周 5 天', status: 'IN_PROGRESS' },
          { category: 'MEDICATION', description: '氨氯地平 5 mg 每日一次', medicationName: '氨氯地平', medicationCode: 'XC08CAA', dosage: '5 mg qd' },
        ],
      },
    });
    expect(res.errors).toBeUndefined();
    const created = res.data!.createCarePlan;
    expect(created).toMatchObject({
      version: 1,
      title: '高血压、糖尿病综合管理',
      status: 'ACTIVE',
      addresses: ['HYPERTENSION', 'TYPE_2_DIABETES'],
      periodStart: '2024-01-01',
      periodEnd: '2024-12-31',
    });
    const plan = await readPlan(created.id);
    expect(plan).toMatchObject({ patient: { id: patientId }, author: { id: county.gp.id }, organization: { id: county.township.id }, note: '年度计划' });
    expect(plan.goals).toEqual([
      { description: '血压 < 140/90', measure: 'BLOOD_PRESSURE', targetBelow: 140, diastolicBelow: 90, dueDate: '2024-06-30' },
      { description: '空腹血糖 < 7.0', measure: 'FASTING_GLUCOSE', targetBelow: 7, diastolicBelow: null, dueDate: null },
      { description: '戒烟', measure: null, targetBelow: null, diastolicBelow: null, dueDate: null },
    ]);
    expect(plan.activities.map((a) => [a.category, a.status, a.nonMedical, a.medicationName, a.dosage])).toEqual([
      ['SALT_REDUCTION', 'NOT_STARTED', true, null, null],
      ['EXERCISE', 'IN_PROGRESS', true, null, null],
      ['MEDICATION', 'NOT_STARTED', false, '氨氯地平', '5 mg qd'],
    ]);
    expect(plan.activities[1]!.frequency).toBe('每周 5 天');
    expect(plan.activities[2]!.medicationCode).toBe('XC08CAA');
    const nonMedical = await t.gql(ExtraCarePlanDetailDocument, { id: created.id, nonMedicalOnly: true });
    expect(nonMedical.data!.carePlan.activities.map((a) => a.category)).toEqual(['SALT_REDUCTION', 'EXERCISE']);
    expect(await t.em().count(CarePlanActivity, { carePlan: created.id })).toBe(3);
    expect(await t.em().count(CarePlanGoal, { carePlan: created.id })).toBe(3);
  });

  test('every category but MEDICATION is a non-medical prescription', async () => {
    const categories = ['DIET', 'EXERCISE', 'SALT_REDUCTION', 'SMOKING_CESSATION', 'ALCOHOL_LIMITATION', 'SELF_MANAGEMENT_GROUP', 'OTHER'] as const;
    const plan = await createPlan({ activities: categories.map((category) => ({ category, description: category })) });
    expect(plan.activities.map((a) => a.nonMedical)).toEqual(categories.map(() => true));
  });

  test('a plan may start as a DRAFT, but not as COMPLETED, ON_HOLD or REVOKED', async () => {
    expect((await createPlan({ status: 'DRAFT' })).status).toBe('DRAFT');
    for (const status of ['COMPLETED', 'ON_HOLD', 'REVOKED'] as const) await expectCreateRefused({ status }, 'status');
  });

  test('a MEDICATION activity without a medicationName is refused, and nothing is stored', async () => {
    await expectCreateRefused(
      {
        goals: [{ description: '血压达标', measure: 'BLOOD_PRESSURE', targetBelow: 140 }],
        activities: [
          { category: 'DIET', description: '低盐' },
          { category: 'MEDICATION', description: '降压药' },
        ],
      },
      'activities.1.medicationName',
    );
    await expectCreateRefused({ activities: [{ category: 'MEDICATION', description: '降压药', medicationName: '  ', dosage: '5 mg' }] }, 'activities.0.medicationName');
  });

  test('medication fields on a non-medication activity are refused', async () => {
    await expectCreateRefused({ activities: [{ category: 'DIET', description: '低盐', dosage: '5 g' }] }, 'activities.0.category');
    await expectCreateRefused(
      { activities: [{ category: 'DIET', description: '低盐' }, { category: 'EXERCISE', description: '步行', medicationName: '阿司匹林' }] },
      'activities.1.category',
    );
    await expectCreateRefused({ activities: [{ category: 'OTHER', description: '其他', medicationCode: 'X1' }] }, 'activities.0.category');
  });

  test('an activity without a description is refused', async () => {
    await expectCreateRefused({ activities: [{ category: 'DIET', description: ' ' }] }, 'activities.0.description');
  });

  test('periodEnd before periodStart is refused; the same day is fine', async () => {
    await expectCreateRefused({ periodStart: '2024-06-01', periodEnd: '2024-05-31' }, 'periodEnd');
    expect((await createPlan({ periodStart: '2024-06-01', periodEnd: '2024-06-01' })).periodEnd).toBe('2024-06-01');
  });

  test('a blank title is refused', async () => {
    await expectCreateRefused({ title: '   ' }, 'title');
  });

  test('goals must be measurable where they give a number', async () => {
    await expectCreateRefused({ goals: [{ description: ' ' }] }, 'goals.0.description');
    await expectCreateRefused({ goals: [{ description: '血糖', measure: 'FASTING_GLUCOSE', targetBelow: 7, diastolicBelow: 90 }] }, 'goals.0.diastolicBelow');
    await expectCreateRefused({ goals: [{ description: '血压', measure: 'BLOOD_PRESSURE', targetBelow: 140 }, { description: '体重', targetBelow: 70 }] }, 'goals.1.measure');
    await expectCreateRefused({ goals: [{ description: '体重', measure: 'WEIGHT', targetBelow: 0 }] }, 'goals.0.targetBelow');
  });

  test('an unknown patient, author or organisation is refused', async () => {
    await expectCreateRefused({ patientId: MISSING_ID }, 'patientId');
    await expectCreateRefused({ patientId: 'no' }, 'patientId');
    await expectCreateRefused({ authorId: MISSING_ID }, 'authorId');
    await expectCreateRefused({ organizationId: MISSING_ID }, 'organizationId');
  });
});

describe('updateCarePlan', () => {
  test('walks the status lifecycle; a COMPLETED plan cannot become ACTIVE again', async () => {
    const plan = await createPlan();
    const step = async (version: number, status: 'ACTIVE' | 'ON_HOLD' | 'COMPLETED') => {
      const res = await t.gql(UpdateCarePlanDocument, { id: plan.id, version, input: { status } });
      expect(res.errors).toBeUndefined();
      expect(res.data!.updateCarePlan).toMatchObject({ status, version: version + 1 });
    };
    await step(1, 'ON_HOLD');
    await step(2, 'ACTIVE');
    await step(3, 'COMPLETED');
    for (const status of ['ACTIVE', 'ON_HOLD', 'DRAFT'] as const) {
      expectRefusal(await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 4, input: { status } }), 'BAD_USER_INPUT', 'status');
    }
    expect(await readPlan(plan.id)).toMatchObject({ status: 'COMPLETED', version: 4 });
  });

  test('a draft can be activated or revoked but not completed; a revoked plan is closed', async () => {
    const draft = await createPlan({ status: 'DRAFT' });
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: draft.id, version: 1, input: { status: 'COMPLETED' } }), 'BAD_USER_INPUT', 'status');
    const revoked = await t.gql(UpdateCarePlanDocument, { id: draft.id, version: 1, input: { status: 'REVOKED' } });
    expect(revoked.data!.updateCarePlan.status).toBe('REVOKED');
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: draft.id, version: 2, input: { status: 'ACTIVE' } }), 'BAD_USER_INPUT', 'status');
    const active = await t.gql(UpdateCarePlanDocument, { id: (await createPlan({ status: 'DRAFT' })).id, version: 1, input: { status: 'ACTIVE' } });
    expect(active.data!.updateCarePlan.status).toBe('ACTIVE');
  });

  test('changes other fields and keeps what was not sent', async () => {
    const plan = await createPlan({ note: '原备注', periodEnd: '2024-12-31', addresses: ['HYPERTENSION'] });
    const res = await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { title: ' 新标题 ', addresses: ['HYPERTENSION', 'CKD'] } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateCarePlan).toMatchObject({ version: 2, title: '新标题', addresses: ['HYPERTENSION', 'CKD'], periodEnd: '2024-12-31', status: 'ACTIVE' });
    expect((await readPlan(plan.id)).note).toBe('原备注');
  });

  test('a stale version is a CONFLICT and changes nothing', async () => {
    const plan = await createPlan();
    expect((await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { title: '第二版' } })).errors).toBeUndefined();
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { title: '过期', status: 'COMPLETED' } }), 'CONFLICT');
    expect(await readPlan(plan.id)).toMatchObject({ version: 2, title: '第二版', status: 'ACTIVE' });
  });

  test('a period ending before it starts, or a blank title, is refused and changes nothing', async () => {
    const plan = await createPlan({ periodStart: '2024-03-01', periodEnd: '2024-12-31' });
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { periodEnd: '2024-02-28' } }), 'BAD_USER_INPUT', 'periodEnd');
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { periodStart: '2025-01-01' } }), 'BAD_USER_INPUT', 'periodEnd');
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { title: '', status: 'COMPLETED' } }), 'BAD_USER_INPUT', 'title');
    expect(await readPlan(plan.id)).toMatchObject({ version: 1, periodStart: '2024-03-01', periodEnd: '2024-12-31', status: 'ACTIVE', title: '高血压管理' });
  });

  test('an unknown plan is NOT_FOUND', async () => {
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: MISSING_ID, version: 1, input: { title: 'x' } }), 'NOT_FOUND');
    expectRefusal(await t.gql(UpdateCarePlanDocument, { id: 'plan-1', version: 1, input: { title: 'x' } }), 'NOT_FOUND');
    expectRefusal(await t.gql(CarePlanDocument, { id: MISSING_ID }), 'NOT_FOUND');
  });

  test('the patient lists its plans, filtered by status', async () => {
    const reg = await t.gql(RegisterPatientDocument, { input: { name: '列表', gender: 'MALE', managingOrganizationId: county.village.id } });
    const pid = reg.data!.registerPatient.id;
    const a = await createPlan({ patientId: pid, periodStart: '2023-01-01' });
    const b = await createPlan({ patientId: pid, periodStart: '2024-01-01', status: 'DRAFT' });
    const all = await t.gql(ExtraPatientCarePlansDocument, { id: pid });
    expect(all.data!.patient.carePlans.map((p) => p.id)).toEqual([b.id, a.id]);
    const drafts = await t.gql(ExtraPatientCarePlansDocument, { id: pid, status: 'DRAFT' });
    expect(drafts.data!.patient.carePlans.map((p) => p.id)).toEqual([b.id]);
  });
});

describe('care plan activities', () => {
  test('adding an activity bumps the plan version; the old version is then stale', async () => {
    const plan = await createPlan();
    const added = await t.gql(AddCarePlanActivityDocument, { carePlanId: plan.id, version: 1, input: { category: 'SMOKING_CESSATION', description: '戒烟门诊' } });
    expect(added.errors).toBeUndefined();
    expect(added.data!.addCarePlanActivity).toMatchObject({ version: 1, category: 'SMOKING_CESSATION', nonMedical: true });
    expect((await readPlan(plan.id)).version).toBe(2);

    const before = await t.em().count(CarePlanActivity, { carePlan: plan.id });
    expectRefusal(await t.gql(AddCarePlanActivityDocument, { carePlanId: plan.id, version: 1, input: { category: 'DIET', description: '少油' } }), 'CONFLICT');
    expect(await t.em().count(CarePlanActivity, { carePlan: plan.id })).toBe(before);

    const med = await t.gql(AddCarePlanActivityDocument, {
      carePlanId: plan.id,
      version: 2,
      input: { category: 'MEDICATION', description: '二甲双胍', medicationName: '二甲双胍', dosage: '0.5 g bid' },
    });
    expect(med.data!.addCarePlanActivity).toMatchObject({ category: 'MEDICATION', nonMedical: false });
    const read = await readPlan(plan.id);
    expect(read.version).toBe(3);
    expect(read.activities.map((a) => a.category)).toEqual(['DIET', 'SMOKING_CESSATION', 'MEDICATION']);
  });

  test('an added activity is validated like one on a new plan', async () => {
    const plan = await createPlan();
    const before = await t.em().count(CarePlanActivity, { carePlan: plan.id });
    expectRefusal(await t.gql(AddCarePlanActivityDocument, { carePlanId: plan.id, version: 1, input: { category: 'MEDICATION', description: '降压药' } }), 'BAD_USER_INPUT', 'activity.medicationName');
    expectRefusal(
      await t.gql(AddCarePlanActivityDocument, { carePlanId: plan.id, version: 1, input: { category: 'DIET', description: '低盐', medicationName: '盐' } }),
      'BAD_USER_INPUT',
      'activity.category',
    );
    expectRefusal(await t.gql(AddCarePlanActivityDocument, { carePlanId: MISSING_ID, version: 1, input: { category: 'DIET', description: '低盐' } }), 'NOT_FOUND');
    expect(await t.em().count(CarePlanActivity, { carePlan: plan.id })).toBe(before);
    expect((await readPlan(plan.id)).version).toBe(1);
  });

  test('updating an activity changes only what was sent and bumps its version', async () => {
    const plan = await createPlan({ activities: [{ category: 'EXERCISE', description: '快走', frequency: '每周 3 次' }] });
    const activity = plan.activities[0]!;
    const res = await t.gql(ExtraUpdateCarePlanActivityDocument, { id: activity.id, version: 1, input: { status: 'IN_PROGRESS' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateCarePlanActivity).toMatchObject({ version: 2, status: 'IN_PROGRESS', description: '快走', frequency: '每周 3 次' });
    const again = await t.gql(ExtraUpdateCarePlanActivityDocument, { id: activity.id, version: 2, input: { frequency: '每周 5 次', description: '快走 30 分钟' } });
    expect(again.errors).toBeUndefined();
    expect(again.data!.updateCarePlanActivity).toMatchObject({ version: 3, status: 'IN_PROGRESS', description: '快走 30 分钟', frequency: '每周 5 次' });
  });

  test('a medication activity can change its dosage; a non-medication one cannot take one', async () => {
    const plan = await createPlan({
      activities: [
        { category: 'MEDICATION', description: '氨氯地平', medicationName: '氨氯地平', dosage: '5 mg qd' },
        { category: 'DIET', description: '低盐' },
      ],
    });
    const [med, diet] = plan.activities;
    const res = await t.gql(ExtraUpdateCarePlanActivityDocument, { id: med!.id, version: 1, input: { dosage: '10 mg qd' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateCarePlanActivity).toMatchObject({ dosage: '10 mg qd', medicationName: '氨氯地平' });
    expectRefusal(await t.gql(ExtraUpdateCarePlanActivityDocument, { id: diet!.id, version: 1, input: { dosage: '5 g' } }), 'BAD_USER_INPUT', 'activity.category');
    expectRefusal(await t.gql(ExtraUpdateCarePlanActivityDocument, { id: diet!.id, version: 1, input: { description: ' ' } }), 'BAD_USER_INPUT', 'activity.description');
    expect((await readPlan(plan.id)).activities[1]).toMatchObject({ version: 1, description: '低盐', dosage: null });
  });

  test('a stale activity version is a CONFLICT and changes nothing', async () => {
    const plan = await createPlan();
    const activity = plan.activities[0]!;
    expect((await t.gql(UpdateCarePlanActivityDocument, { id: activity.id, version: 1, input: { status: 'SCHEDULED' } })).errors).toBeUndefined();
    expectRefusal(await t.gql(UpdateCarePlanActivityDocument, { id: activity.id, version: 1, input: { status: 'CANCELLED' } }), 'CONFLICT');
    expect((await readPlan(plan.id)).activities[0]).toMatchObject({ version: 2, status: 'SCHEDULED' });
    expectRefusal(await t.gql(UpdateCarePlanActivityDocument, { id: MISSING_ID, version: 1, input: { status: 'CANCELLED' } }), 'NOT_FOUND');
  });

  test('activities of a completed or revoked plan cannot be added or changed', async () => {
    for (const closing of ['COMPLETED', 'REVOKED'] as const) {
      const plan = await createPlan();
      const activity = plan.activities[0]!;
      const closed = await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { status: closing } });
      expect(closed.data!.updateCarePlan.status).toBe(closing);
      expectRefusal(await t.gql(AddCarePlanActivityDocument, { carePlanId: plan.id, version: 2, input: { category: 'DIET', description: '少油' } }), 'BAD_USER_INPUT', 'carePlanId');
      expectRefusal(await t.gql(UpdateCarePlanActivityDocument, { id: activity.id, version: 1, input: { status: 'COMPLETED' } }), 'BAD_USER_INPUT', 'id');
      const read = await readPlan(plan.id);
      expect(read).toMatchObject({ version: 2, status: closing });
      expect(read.activities).toEqual([expect.objectContaining({ id: activity.id, version: 1, status: 'NOT_STARTED' })]);
    }
  });

  test('a plan on hold still takes activities', async () => {
    const plan = await createPlan();
    await t.gql(UpdateCarePlanDocument, { id: plan.id, version: 1, input: { status: 'ON_HOLD' } });
    const res = await t.gql(AddCarePlanActivityDocument, { carePlanId: plan.id, version: 2, input: { category: 'SELF_MANAGEMENT_GROUP', description: '自我管理小组' } });
    expect(res.errors).toBeUndefined();
  });
});
