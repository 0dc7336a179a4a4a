/**
 * The seven-step pathway (src/care/pathway), health assessments, contact attempts for overdue patients and the
 * patient's care status, through the real app: facts arrive by GraphQL and by POST /fhir, the care rules run as the
 * event consumer runs them (`reassess`), and what GraphQL shows, the overdue predicate and the stored rows are checked.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { reassess } from '../src/care/index.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { onOverdueList, onOverdueListJoinSql, onOverdueListSql } from '../src/care-rules/overdue-contact.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { CareStatus, ContactOutcome } from '../vocabulary/index.js';
import { ClientKind } from '../src/access/caller.js';
import { smartToken } from './helpers/access-fixtures.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import type { County } from './helpers/fixtures.js';
import { isoDay, MISSING_ID } from './helpers/fixtures.js';
import { send } from './fhir/support.js';
import {
  AddConditionDocument as ADD_CONDITION,
  CreateCarePlanDocument as CREATE_PLAN,
  PathwayListDocument as PATHWAY_LIST,
  PatientPathwayDocument as PATHWAY,
  PatientsByCareStatusDocument as BY_STATUS,
  RecordAssessmentDocument as RECORD_ASSESSMENT,
  RecordContactAttemptDocument as RECORD_CONTACT,
  RecordFollowUpDocument as RECORD_FOLLOW_UP,
  RecordObservationDocument as RECORD_OBSERVATION,
  RegisterPatientDocument as REGISTER,
  SetPatientCareStatusDocument as SET_STATUS,
  UpdatePatientDocument as UPDATE_PATIENT,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
const today = countyToday();
const year = Number(today.slice(0, 4));

beforeAll(async () => {
  ({ t, county } = await startCountyApp('PW'));
});
afterAll(() => t?.close());

async function register(name: string, age: number, phone?: string): Promise<string> {
  const input = { name, gender: 'FEMALE' as const, birthDate: `${year - age}-01-15`, managingOrganizationId: county.village.id, phone };
  return (await t.ok(REGISTER, { input })).registerPatient.id;
}

/** What the event consumer does after a write that did not wait for it (ADR 16): the care rules for these patients. */
async function settle(...patientIds: string[]): Promise<void> {
  const em = t.em();
  await em.transactional((tx) => reassess(tx as never, { patientIds }, DEFAULT_CARE_RULES, countyToday()));
}

const pathwayOf = async (id: string) => (await t.ok(PATHWAY, { id })).patient;
const stepsOf = async (id: string) => (await pathwayOf(id)).pathway.map((p) => ({ kind: p.conditionKind, steps: p.steps.map((s) => `${s.cycle}:${s.step}${s.skipped ? ' (skipped)' : ''}`) }));
const rowCount = async () => ((await t.em().getConnection().execute(`select count(*)::int as n from pathway_step`)) as Array<{ n: number }>)[0]!.n;
const bp = (patientId: string, systolic: number, diastolic: number) =>
  t.ok(RECORD_OBSERVATION, { input: { patientId, kind: 'BLOOD_PRESSURE', systolic, diastolic, effectiveAt: new Date(Date.now() - 3_600_000).toISOString() } });

test('a screening reading ≥ 140/90 (or fasting glucose ≥ 7.0) makes a 40-year-old without a diagnosis suspected, not a 30-year-old', async () => {
  const forty = await register('赵秀兰', 40);
  const thirty = await register('钱小红', 30);
  const controlled = await register('孙桂英', 45);
  await bp(forty, 152, 96);
  await t.ok(RECORD_OBSERVATION, { input: { patientId: forty, kind: 'FASTING_GLUCOSE', value: 7.4, effectiveAt: new Date(Date.now() - 3_000_000).toISOString() } });
  await bp(thirty, 152, 96);
  await bp(controlled, 128, 82);
  await settle(forty, thirty, controlled);

  const p = await pathwayOf(forty);
  expect(p.pathway.map((s) => [s.conditionKind, s.step, s.cycle, s.stuck])).toEqual([
    ['HYPERTENSION', 'SUSPECTED', 1, false],
    ['TYPE_2_DIABETES', 'SUSPECTED', 1, false],
  ]);
  expect(p.pathway[0]!.steps).toEqual([expect.objectContaining({ step: 'SUSPECTED', evidenceType: 'Observation', skipped: false })]);
  expect((await pathwayOf(thirty)).pathway).toEqual([]);
  expect((await pathwayOf(controlled)).pathway).toEqual([]);

  // Suspected and not yet confirmed: the list of who is at which step finds her, and a filter by step does too.
  const list = await t.ok(PATHWAY_LIST, { filter: { organizationId: county.township.id, steps: ['SUSPECTED'], conditionKinds: ['HYPERTENSION'] } });
  expect(list.pathway.edges.map((e) => e.node.patient.id)).toEqual([forty]);
  expect(list.pathway.totalCount).toBe(1);
});

test('by GraphQL, step by step: suspected, confirmed, assessed, plan, intervention, follow-up, re-assessment, and the loop back to the plan', async () => {
  const id = await register('李淑珍', 62);
  await bp(id, 158, 98);
  await settle(id);
  await t.ok(ADD_CONDITION, { input: { patientId: id, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10' } });
  await settle(id);
  expect(await stepsOf(id)).toEqual([{ kind: 'HYPERTENSION', steps: ['1:SUSPECTED', '1:CONFIRMED'] }]);

  // The assessment's answer carries the new step: the mutation reassesses in its own transaction.
  const assessed = await t.ok(RECORD_ASSESSMENT, {
    input: { patientId: id, conditionKind: 'HYPERTENSION', kind: 'INITIAL', riskFactors: ['SMOKING', 'HIGH_SALT_DIET', 'SMOKING'], targetOrganDamage: ['LEFT_VENTRICULAR_HYPERTROPHY'] },
  });
  expect(assessed.recordAssessment.riskFactors).toEqual(['SMOKING', 'HIGH_SALT_DIET']);
  expect(assessed.recordAssessment.assessedOn).toBe(today);
  expect(assessed.recordAssessment.patient.pathway).toEqual([{ conditionKind: 'HYPERTENSION', step: 'ASSESSED', cycle: 1 }]);

  await t.ok(CREATE_PLAN, {
    input: {
      patientId: id,
      title: '高血压管理计划',
      status: 'ACTIVE',
      addresses: ['HYPERTENSION'],
      periodStart: today,
      activities: [{ category: 'SALT_REDUCTION', status: 'IN_PROGRESS', description: '每日食盐 < 5 g' }],
    },
  });
  await settle(id);
  expect((await stepsOf(id))[0]!.steps.slice(-2)).toEqual(['1:PLAN_MADE', '1:INTERVENTION']);

  await t.ok(RECORD_FOLLOW_UP, { input: { patientId: id, type: 'CLINIC', doneDate: today } });
  await settle(id);
  expect((await pathwayOf(id)).pathway[0]).toMatchObject({ step: 'FOLLOWED_UP', cycle: 1, daysAtStep: 0, stuck: false });

  // The yearly re-assessment: step 7, and the plan still in force starts cycle 2 at once (plan, intervention).
  const annual = await t.ok(RECORD_ASSESSMENT, { input: { patientId: id, conditionKind: 'HYPERTENSION', kind: 'ANNUAL' } });
  expect(annual.recordAssessment.patient.pathway).toEqual([{ conditionKind: 'HYPERTENSION', step: 'INTERVENTION', cycle: 2 }]);
  const steps = (await pathwayOf(id)).pathway[0]!.steps;
  expect(steps.map((s) => `${s.cycle}:${s.step}`)).toEqual([
    '1:SUSPECTED', '1:CONFIRMED', '1:ASSESSED', '1:PLAN_MADE', '1:INTERVENTION', '1:FOLLOWED_UP', '1:REASSESSED', '2:PLAN_MADE', '2:INTERVENTION',
  ]);
  expect(steps.map((s) => s.evidenceType)).toEqual(['Observation', 'Condition', 'Assessment', 'CarePlan', 'CarePlanActivity', 'FollowUp', 'Assessment', 'CarePlan', 'CarePlanActivity']);
  // Steps never go back in time.
  const times = steps.map((s) => Date.parse(s.reachedAt));
  expect([...times].sort((a, b) => a - b)).toEqual(times);

  // The visit that followed up cycle 1 does not follow up cycle 2: a new one does.
  await settle(id);
  expect((await pathwayOf(id)).pathway[0]).toMatchObject({ step: 'INTERVENTION', cycle: 2 });
  await t.ok(RECORD_FOLLOW_UP, { input: { patientId: id, type: 'HOME', doneDate: today } });
  await settle(id);
  expect((await pathwayOf(id)).pathway[0]).toMatchObject({ step: 'FOLLOWED_UP', cycle: 2 });

  // Idempotent: running the rules again adds nothing.
  const rows = await rowCount();
  await settle(id);
  await t.em().transactional((tx) => reassess(tx as never, { all: true }, DEFAULT_CARE_RULES, countyToday()));
  expect(await rowCount()).toBe(rows);
});

test('by FHIR: a hospital diagnosis with no screening skips SUSPECTED; a plan and a visit sent before the assessment wait for it', async () => {
  const id = await register('周玉梅', 58);
  const condition = `urn:uuid:${randomUUID()}`;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: condition,
        resource: {
          resourceType: 'Condition',
          subject: { reference: `Patient/${id}` },
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' }] },
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
          onsetDateTime: '2025-01-10',
        },
        request: { method: 'POST', url: 'Condition' },
      },
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'CarePlan',
          status: 'active',
          intent: 'plan',
          subject: { reference: `Patient/${id}` },
          addresses: [{ reference: condition }],
          period: { start: '2025-02-01' },
          activity: [{ detail: { status: 'in-progress', description: '糖尿病饮食' } }],
        },
        request: { method: 'POST', url: 'CarePlan' },
      },
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          type: [{ coding: [{ system: 'http://snomed.info/sct', code: '390906007' }] }],
          subject: { reference: `Patient/${id}` },
          period: { start: '2025-03-01T09:00:00+08:00', end: '2025-03-01T09:30:00+08:00' },
        },
        request: { method: 'POST', url: 'Encounter' },
      },
    ],
  };
  const res = await send(t, 'post', '/fhir', bundle);
  expect(res.status).toBe(200);
  await settle(id);
  // No assessment yet: the pathway waits at CONFIRMED (and has waited long enough to be stuck there).
  let p = (await pathwayOf(id)).pathway;
  expect(p.map((s) => [s.conditionKind, s.step, s.stuck])).toEqual([['TYPE_2_DIABETES', 'CONFIRMED', true]]);
  expect(p[0]!.steps).toEqual([
    expect.objectContaining({ step: 'SUSPECTED', skipped: true, evidenceType: null, evidenceId: null }),
    expect.objectContaining({ step: 'CONFIRMED', skipped: false, evidenceType: 'Condition' }),
  ]);
  expect(p[0]!.steps[0]!.reachedAt).toBe(p[0]!.steps[1]!.reachedAt);

  await t.ok(RECORD_ASSESSMENT, { input: { patientId: id, conditionKind: 'TYPE_2_DIABETES', kind: 'INITIAL', assessedOn: '2025-01-20', complications: ['RETINOPATHY'] } });
  p = (await pathwayOf(id)).pathway;
  // Dated in the county's calendar: each step on the day its evidence says, or the day of the step before.
  expect(p[0]!.steps.map((s) => [s.step, s.evidenceType, countyToday(new Date(s.reachedAt))])).toEqual([
    ['SUSPECTED', null, '2025-01-10'],
    ['CONFIRMED', 'Condition', '2025-01-10'],
    ['ASSESSED', 'Assessment', '2025-01-20'],
    ['PLAN_MADE', 'CarePlan', '2025-02-01'],
    ['INTERVENTION', 'CarePlanActivity', '2025-02-01'],
    ['FOLLOWED_UP', 'FollowUp', '2025-03-01'],
  ]);
  // Followed up in March 2025 and no re-assessment since: stuck (more than pathway.stuckDays.followedUp, 365 days).
  expect(p[0]).toMatchObject({ step: 'FOLLOWED_UP', stuck: true });
  const stuck = await t.ok(PATHWAY_LIST, { filter: { stuckOnly: true, conditionKinds: ['TYPE_2_DIABETES'] } });
  expect(stuck.pathway.edges.map((e) => e.node.patient.id)).toContain(id);
});

test('assessments are checked and attributed from the token; refusals change nothing', async () => {
  const id = await register('吴桂芳', 50);
  const doctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  const outsider = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.otherVillage.code });
  const cases = [
    { input: { patientId: id, conditionKind: 'HYPERTENSION' as const, kind: 'INITIAL' as const, assessedOn: isoDay(3, today) }, code: 'BAD_USER_INPUT' },
    { input: { patientId: id, conditionKind: 'OTHER' as const, kind: 'INITIAL' as const }, code: 'BAD_USER_INPUT' },
    { input: { patientId: MISSING_ID, conditionKind: 'HYPERTENSION' as const, kind: 'INITIAL' as const }, code: 'BAD_USER_INPUT' },
  ];
  for (const c of cases) expect((await t.gql(RECORD_ASSESSMENT, { input: c.input }, doctor)).errors?.[0]?.extensions?.code).toBe(c.code);
  // A patient of another village is not the outsider's to assess (not visible: as if absent).
  expect((await t.gql(RECORD_ASSESSMENT, { input: { patientId: id, conditionKind: 'HYPERTENSION', kind: 'INITIAL' } }, outsider)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect((await pathwayOf(id)).assessments).toEqual([]);

  const done = await t.ok(RECORD_ASSESSMENT, { input: { patientId: id, conditionKind: 'HYPERTENSION', kind: 'INITIAL' } }, doctor);
  const { assessments } = await pathwayOf(id);
  expect(assessments).toEqual([expect.objectContaining({ id: done.recordAssessment.id, assessedBy: { id: county.villageDoctor.id }, organization: { id: county.village.id } })]);
});

test('died, moved and withdrawn patients leave the overdue list (status and contact attempts), and come back', async () => {
  const moved = await register('郑美玲', 66, '13800000001');
  const died = await register('王秀梅', 71, '13800000002');
  const called = await register('冯丽娟', 59, '13800000003');
  const overdueOn = isoDay(-20, today);
  const planned: Record<string, string> = {};
  for (const id of [moved, died, called]) planned[id] = (await t.ok(RECORD_FOLLOW_UP, { input: { patientId: id, type: 'CLINIC', plannedDate: overdueOn } })).recordFollowUp.followUp.id;
  const onList = async () => {
    const ids = async (sql: string) => ((await t.em().getConnection().execute(sql, [moved, died, called])) as Array<{ id: string }>).map((r) => r.id);
    const inWhere = await ids(`select p.id from patient p where p.id in (?, ?, ?) and ${onOverdueListSql(DEFAULT_CARE_RULES, { patient: 'p' }, today)} order by p.id`);
    // The joined form the overdue worklist uses says the same at every step.
    const joined = onOverdueListJoinSql(DEFAULT_CARE_RULES, { patient: 'p' }, today);
    expect(await ids(`select p.id from patient p ${joined.join} where p.id in (?, ?, ?) and ${joined.onList} order by p.id`)).toEqual(inWhere);
    return inWhere;
  };
  expect(await onList()).toEqual([moved, died, called].sort());

  // Moved, set by a person: needs a reason and the version read; a stale version is a CONFLICT and changes nothing.
  const before = (await pathwayOf(moved)).version;
  const noReason = await t.gql(SET_STATUS, { patientId: moved, status: 'MOVED_AWAY', version: before });
  expect(noReason.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  const stale = await t.gql(SET_STATUS, { patientId: moved, status: 'MOVED_AWAY', version: before - 1, reason: '随子女迁往杭州' });
  expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  expect((await pathwayOf(moved)).careStatus).toBe('ACTIVE');
  const set = await t.ok(SET_STATUS, { patientId: moved, status: 'MOVED_AWAY', version: before, on: isoDay(-2, today), reason: '随子女迁往杭州' });
  expect(set.setPatientCareStatus).toMatchObject({ careStatus: 'MOVED_AWAY', careStatusOn: isoDay(-2, today), careStatusReason: '随子女迁往杭州' });
  expect(set.setPatientCareStatus.version).toBeGreaterThan(before);

  // Died, as a call found out: the attempt sets the care status, dated the day of the call.
  const death = await t.ok(RECORD_CONTACT, { input: { patientId: died, method: 'PHONE', outcome: 'DIED', note: '家属告知已于上月去世' } });
  expect(death.recordContactAttempt).toMatchObject({ outcome: 'DIED', followUp: { id: planned[died] }, patient: { careStatus: 'DIED', careStatusOn: today } });
  expect(await onList()).toEqual([called]);

  // Reached, will come in five days: off the list until then (and the grace days after it).
  const willCome = isoDay(5, today);
  await t.ok(RECORD_CONTACT, { input: { patientId: called, method: 'PHONE', outcome: 'REACHED', willComeOn: willCome } });
  expect(await onList()).toEqual([]);
  // A wrong number keeps her off until her telephone changes.
  await t.ok(RECORD_CONTACT, { input: { patientId: called, method: 'PHONE', outcome: 'WRONG_NUMBER' } });
  expect(await onList()).toEqual([]);
  const v = (await pathwayOf(called)).version;
  await t.ok(UPDATE_PATIENT, { id: called, version: v, input: { phone: '13900000003' } });
  expect(await onList()).toEqual([called]);

  // Bad attempts are refused and leave nothing behind.
  const bad = [
    { patientId: called, method: 'PHONE' as const, outcome: 'NOT_REACHABLE' as const, willComeOn: willCome },
    { patientId: called, method: 'HOME_VISIT' as const, outcome: 'WRONG_NUMBER' as const },
    { patientId: called, method: 'PHONE' as const, outcome: 'REACHED' as const, attemptedAt: new Date(Date.now() + 86_400_000).toISOString() },
    { patientId: called, method: 'PHONE' as const, outcome: 'REACHED' as const, followUpId: planned[died] },
  ];
  for (const input of bad) expect((await t.gql(RECORD_CONTACT, { input })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect((await pathwayOf(called)).contactAttempts.map((a) => a.outcome)).toEqual(['WRONG_NUMBER', 'REACHED']);

  // Coming back: the moved patient is ACTIVE again and on the list again.
  const back = await t.ok(SET_STATUS, { patientId: moved, status: 'ACTIVE', version: set.setPatientCareStatus.version });
  expect(back.setPatientCareStatus).toMatchObject({ careStatus: 'ACTIVE', careStatusOn: today, careStatusReason: null });
  expect(await onList()).toEqual([moved, called].sort());
  // The visit planned before she moved was cancelled then: a call now is about no visit, and naming that one is refused.
  const cancelled = { patientId: moved, method: 'PHONE' as const, outcome: 'NOT_REACHABLE' as const, followUpId: planned[moved] };
  expect((await t.gql(RECORD_CONTACT, { input: cancelled })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  const call = await t.ok(RECORD_CONTACT, { input: { patientId: moved, method: 'PHONE', outcome: 'NOT_REACHABLE' } });
  expect(call.recordContactAttempt.followUp).toBeNull();

  // Patient lists: every status by default, or the ones asked for.
  const byStatus = async (careStatuses?: Array<'DIED' | 'ACTIVE'>) =>
    (await t.ok(BY_STATUS, { filter: { organizationId: county.village.id, careStatuses } })).patients.edges.map((e) => e.node.id).filter((x) => [moved, died, called].includes(x));
  expect((await byStatus()).sort()).toEqual([moved, died, called].sort());
  expect(await byStatus(['DIED'])).toEqual([died]);
});

test('a FHIR Patient with deceased[x] is DIED; the overdue rule in TypeScript and SQL agree', async () => {
  const id = await register('陈凤英', 80);
  const res = await send(t, 'put', `/fhir/Patient/${id}`, {
    resourceType: 'Patient',
    id,
    name: [{ text: '陈凤英' }],
    gender: 'female',
    birthDate: `${year - 80}-01-15`,
    managingOrganization: { reference: `Organization/${county.village.id}` },
    deceasedDateTime: `${isoDay(-3, today)}T08:00:00+08:00`,
  });
  expect(res.status).toBeLessThan(300);
  expect(await pathwayOf(id)).toMatchObject({ careStatus: 'DIED', careStatusOn: isoDay(-3, today) });

  const facts = { outcome: ContactOutcome.REACHED, attemptedOn: isoDay(-10, today), willComeOn: isoDay(-8, today) };
  expect(onOverdueList({ careStatus: CareStatus.ACTIVE }, [facts], today)).toBe(true);
  expect(onOverdueList({ careStatus: CareStatus.ACTIVE }, [{ ...facts, willComeOn: isoDay(-2, today) }], today)).toBe(false);
  expect(onOverdueList({ careStatus: CareStatus.DIED }, [], today)).toBe(false);
  expect(onOverdueList({ careStatus: CareStatus.ACTIVE, phone: '1' }, [{ outcome: ContactOutcome.WRONG_NUMBER, attemptedOn: today, phone: '1' }], today)).toBe(false);
});

test('the pathway list is the caller’s patients only, and audited with each patient it shows', async () => {
  const id = await register('褚秀珍', 48);
  await bp(id, 150, 92);
  await settle(id);
  const outsider = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.otherVillage.code });
  const seen = await t.ok(PATHWAY_LIST, { first: 200 }, outsider);
  expect(seen.pathway.edges.map((e) => e.node.patient.id)).not.toContain(id);
  const admin = await t.ok(PATHWAY_LIST, { filter: { steps: ['SUSPECTED'] }, first: 1 });
  const page2 = await t.ok(PATHWAY_LIST, { filter: { steps: ['SUSPECTED'] }, first: 200, after: admin.pathway.pageInfo.endCursor });
  const all = [...admin.pathway.edges, ...page2.pathway.edges].map((e) => `${e.node.patient.id} ${e.node.conditionKind}`);
  expect(new Set(all).size).toBe(all.length);
  expect(all.length).toBe(admin.pathway.totalCount);
  const [audit] = (await t.em().getConnection().execute(`select patient_ids, action from audit_event where what like '%PathwayList%' order by recorded_at desc limit 1`)) as Array<{ patient_ids: string[] | string; action: string }>;
  expect(audit!.action).toBe('SEARCH');
  expect(String(audit!.patient_ids)).toContain(page2.pathway.edges.at(-1)!.node.patient.id);
});

test('a suspicion waits 30 days before it is stuck; one a refuted diagnosis answered is stuck nowhere', async () => {
  const id = await register('蒋春梅', 52);
  await t.ok(RECORD_OBSERVATION, { input: { patientId: id, kind: 'BLOOD_PRESSURE', systolic: 146, diastolic: 88, effectiveAt: new Date(Date.now() - 45 * 86_400_000).toISOString() } });
  await settle(id);
  const stuckIds = async () => (await t.ok(PATHWAY_LIST, { filter: { stuckOnly: true, steps: ['SUSPECTED'] }, first: 200 })).pathway.edges.map((e) => e.node.patient.id);
  expect((await pathwayOf(id)).pathway[0]).toMatchObject({ step: 'SUSPECTED', stuck: true });
  expect(await stuckIds()).toContain(id);
  await t.ok(ADD_CONDITION, { input: { patientId: id, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10', verificationStatus: 'REFUTED' } });
  await settle(id);
  expect(await stuckIds()).not.toContain(id);
  expect((await pathwayOf(id)).pathway[0]).toMatchObject({ step: 'SUSPECTED', stuck: false });
});

test('a call whose outcome ends the patient’s care needs the right to update the patient: without it FORBIDDEN, nothing stored', async () => {
  // A system that logs calls (Communication) but may not change patients (no Patient update).
  const caller = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: county.county.code, scopes: ['system/Communication.c', 'system/Patient.rs', 'system/Encounter.rs'] })).token;
  const id = await register('周桂花', 66);
  await t.ok(ADD_CONDITION, { input: { patientId: id, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10' } });
  await settle(id);
  for (const outcome of ['MOVED', 'DIED'] as const) {
    const res = await t.gql(RECORD_CONTACT, { input: { patientId: id, method: 'PHONE', outcome, note: '邻居说已搬走' } }, caller);
    expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['FORBIDDEN', 'not allowed to change Patient records']]);
  }
  const after = await pathwayOf(id);
  expect([after.careStatus, after.contactAttempts]).toEqual(['ACTIVE', []]);
  // An outcome that leaves the care status alone asks no more than the call itself.
  const other = await t.gql(RECORD_CONTACT, { input: { patientId: id, method: 'PHONE', outcome: 'NOT_REACHABLE' } }, caller);
  expect(other.errors?.[0]?.extensions?.code).not.toBe('FORBIDDEN');
});
