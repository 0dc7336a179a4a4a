/**
 * The care-state engine (ADR 16, src/care/state/): realistic histories driven through the rules by GraphQL and by
 * FHIR alike, asserting after each event the condition's control status, the tier and colour, and the one open
 * planned visit with its date, type and reason.
 */
import { countyToday } from '../src/care-rules/calendar.js';
import { addDays, nextFollowUpOf, type NextFollowUpFacts } from '../src/care-rules/follow-up-interval.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { reassess } from '../src/care/index.js';
import { careRulesConsumer } from '../src/care/state/consumer.js';
import { EventWorker } from '../src/events/consumer.js';
import { FollowUp } from '../src/domain/follow-up/follow-up.entity.js';
import { Observation } from '../src/domain/observation/observation.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import type { County } from './helpers/fixtures.js';
import { expectRefusedUnchanged } from './helpers/refusals.js';
import { FHIR_JSON } from './fhir/support.js';
import {
  AcceptReferralDocument,
  AddConditionDocument,
  CareOverrideDocument,
  CareReadingDocument,
  CareStateDocument,
  CareVisitRecordDocument,
  CreateReferralDocument,
  type RecordFollowUpInput,
  RegisterPatientDocument,
  type VisitReadingInput,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
let worker: EventWorker;
let villageDoctor: string;
let townshipGp: string;
let specialist: string;
const today = countyToday();

beforeAll(async () => {
  ({ t, county } = await startCountyApp('CS'));
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  townshipGp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
  specialist = await t.tokenFor({ roles: ['SPECIALIST'], org: county.county.code });
  worker = new EventWorker(t.em(), [careRulesConsumer(DEFAULT_CARE_RULES)]);
  await worker.drain(); // the consumer starts at the end of the outbox as it is now
});
afterAll(() => t?.close());

/** An instant on a county day (Asia/Shanghai, the test configuration's): 10:00 that day, or a minute ago for today. */
const on = (day: string): string => (day === today ? new Date(Date.now() - 60_000).toISOString() : `${day}T10:00:00+08:00`);
const bp = (day: string, systolic: number, diastolic: number): VisitReadingInput => ({ kind: 'BLOOD_PRESSURE', systolic, diastolic, effectiveAt: on(day) });

async function managedPatient(codes: string[] = ['I10'], name = '管理'): Promise<string> {
  const id = (await t.ok(RegisterPatientDocument, { input: { name, gender: 'MALE', birthDate: '1955-03-03', managingOrganizationId: county.village.id } })).registerPatient.id;
  for (const code of codes) await t.ok(AddConditionDocument, { input: { patientId: id, code, system: 'http://hl7.org/fhir/sid/icd-10' } });
  return id;
}

async function visit(patientId: string, input: Partial<RecordFollowUpInput>, as = villageDoctor) {
  return (await t.ok(CareVisitRecordDocument, { input: { patientId, type: 'CLINIC', ...input } }, as)).recordFollowUp;
}

const state = async (id: string) => (await t.ok(CareStateDocument, { id })).patient;

/** The next visit the rule gives for these facts (the face-to-face minimum depends on the calendar: the test may run in December). */
const expected = (facts: Omit<Partial<NextFollowUpFacts>, 'tier' | 'lastType'> & { baseDate: string; tier: string; lastType?: string }) =>
  nextFollowUpOf({ adverseReaction: false, allControlled: false, faceToFaceInYear: 0, ...facts } as NextFollowUpFacts, DEFAULT_CARE_RULES);

/** Face-to-face visits done in `day`'s year among `days`. */
const inYearOf = (day: string, days: string[]) => days.filter((d) => d.slice(0, 4) === day.slice(0, 4) && d <= day).length;

async function sendFhir(entries: unknown[]) {
  const res = await t.http
    .post('/fhir')
    .set('authorization', `Bearer ${t.adminToken}`)
    .set('content-type', FHIR_JSON)
    .send({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  expect(res.status).toBe(200);
  return res.body as { entry: Array<{ response: { location?: string } }> };
}

const fhirBp = (patientId: string, at: string, systolic: number, diastolic: number, encounter?: string) => ({
  resource: {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    subject: { reference: `Patient/${patientId}` },
    ...(encounter ? { encounter: { reference: encounter } } : {}),
    effectiveDateTime: at,
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: systolic, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: diastolic, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ],
  },
  request: { method: 'POST', url: 'Observation' },
});

describe('issue 12, as observed: a visit is judged by its readings', () => {
  test('an intensive-tier patient, four uncontrolled visits, BP 156/96 that day: UNCONTROLLED, due in 14 days, referral advised', async () => {
    const id = await managedPatient();
    // Urgent two months ago: intensive (red) for three months.
    await t.ok(CareReadingDocument, { input: { patientId: id, kind: 'BLOOD_PRESSURE', systolic: 184, diastolic: 112, effectiveAt: on(addDays(today, -60)) } }, villageDoctor);
    for (const days of [-56, -42, -28, -14]) {
      const day = addDays(today, days);
      const r = await visit(id, { doneDate: day, readings: [bp(day, 150, 95)] });
      expect(r.followUp.controlStatus).toBe('UNCONTROLLED');
    }
    const before = await state(id);
    expect([before.managementColour, before.managementTier]).toEqual(['RED', 'INTENSIVE']);
    const planned = before.nextFollowUp!;
    expect(planned).toMatchObject({ plannedDate: addDays(today, 0), dueReason: 'UNCONTROLLED', doneDate: null });

    const r = await visit(id, { doneDate: today, readings: [bp(today, 156, 96)], findings: '头晕' });
    expect(r).toMatchObject({ referralAdvised: true, urgent: false });
    // The planned visit it fulfils is the done visit now: its row, its planned date.
    expect(r.followUp).toMatchObject({ id: planned.id, plannedDate: planned.plannedDate, doneDate: today, controlStatus: 'UNCONTROLLED', nextDueDate: addDays(today, 14) });
    expect(r.followUp.readings).toEqual([expect.objectContaining({ controlStatus: 'UNCONTROLLED' })]);
    const after = r.followUp.patient;
    expect([after.managementColour, after.managementTier]).toEqual(['RED', 'INTENSIVE']);
    expect(after.controlStatuses).toEqual([expect.objectContaining({ conditionKind: 'HYPERTENSION', status: 'UNCONTROLLED', decidedBy: expect.objectContaining({ systolic: 156, diastolic: 96 }) })]);
    expect(after.conditions).toEqual([{ kind: 'HYPERTENSION', control: { status: 'UNCONTROLLED' } }]);
    expect(after.nextFollowUp).toMatchObject({ plannedDate: addDays(today, 14), dueReason: 'UNCONTROLLED', type: 'CLINIC', doneDate: null, cancelledAt: null });
    expect(after.nextFollowUp!.id).not.toBe(planned.id);
    // One open planned visit, always.
    expect(await t.em().count(FollowUp, { patient: id, doneDate: null, cancelledAt: null })).toBe(1);
  });

  test('performer and organisation come from the token, for the visit and its readings', async () => {
    const id = await managedPatient();
    const r = await visit(id, { doneDate: today, readings: [bp(today, 128, 78)] });
    expect(r.followUp).toMatchObject({ practitioner: { id: county.villageDoctor.id }, organization: { id: county.village.id } });
    const reading = await t.em().findOneOrFail(Observation, { followUp: r.followUp.id }, { filters: false });
    expect([reading.performer?.id, reading.organization?.id]).toEqual([county.villageDoctor.id, county.village.id]);
    // A reading recorded on its own, linked to the visit by followUpId, is attributed the same way.
    const single = (await t.ok(CareReadingDocument, { input: { patientId: id, kind: 'BLOOD_PRESSURE', systolic: 132, diastolic: 80, effectiveAt: on(today), followUpId: r.followUp.id } }, villageDoctor))
      .recordObservation;
    expect(single).toMatchObject({ followUp: { id: r.followUp.id }, performer: { id: county.villageDoctor.id }, organization: { id: county.village.id } });
  });

  test('a township GP’s visit for a patient already referred up and accepted advises no referral', async () => {
    const id = await managedPatient();
    const day = addDays(today, -14);
    expect((await visit(id, { doneDate: day, readings: [bp(day, 152, 94)] })).referralAdvised).toBe(false);
    const referral = (await t.ok(CreateReferralDocument, { input: { patientId: id, fromOrganizationId: county.village.id, toOrganizationId: county.county.id, reason: 'POOR_CONTROL' } }, villageDoctor)).createReferral;
    await t.ok(AcceptReferralDocument, { id: referral.id }, specialist);
    const r = await visit(id, { doneDate: today, readings: [bp(today, 158, 98)] }, townshipGp);
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { controlStatus: 'UNCONTROLLED', practitioner: { id: county.gp.id }, organization: { id: county.township.id } } });
    // The referral was made since the last visit but one: 2 weeks after it, or after the reading — the same day.
    expect(r.followUp.patient.nextFollowUp).toMatchObject({ plannedDate: addDays(today, 14) });
  });
});

describe('histories through the rules', () => {
  test('controlled: yellow while controlled for less than six months, green once controlled at the last two visits for six months', async () => {
    const id = await managedPatient();
    const first = addDays(today, -300);
    await visit(id, { doneDate: first, readings: [bp(first, 130, 80)] });
    const s = await state(id);
    // As of today the one reading is too old to count: no recent reading, yellow, due by the tier's maximum (overdue).
    expect(s.controlStatuses.map((c) => c.status)).toEqual(['NO_RECENT_READING']);
    expect([s.managementColour, s.managementTier]).toEqual(['YELLOW', 'ROUTINE']);
    expect(s.nextFollowUp).toMatchObject(pick(expected({ baseDate: first, tier: 'ROUTINE', faceToFaceInYear: 1, lastType: 'CLINIC' })));

    const second = addDays(today, -100);
    await visit(id, { doneDate: second, readings: [bp(second, 126, 78)], type: 'HOME' });
    const third = addDays(today, -10);
    const r = await visit(id, { doneDate: third, readings: [bp(third, 124, 76)] });
    const now = r.followUp.patient;
    expect(now.controlStatuses.map((c) => c.status)).toEqual(['CONTROLLED']);
    expect([now.managementColour, now.managementTier]).toEqual(['GREEN', 'GENERAL']);
    const f2f = inYearOf(third, [first, second, third]);
    expect(now.nextFollowUp).toMatchObject(pick(expected({ baseDate: third, tier: 'GENERAL', allControlled: true, faceToFaceInYear: f2f, lastType: 'CLINIC' })));
    if (f2f >= 4 || third.slice(5) < '09-01') expect(now.nextFollowUp).toMatchObject({ plannedDate: addDays(third, 90), dueReason: 'CONTROLLED' });
  });

  test('first uncontrolled reading (over FHIR, between visits): due two weeks after the reading; a second uncontrolled visit advises referral', async () => {
    const id = await managedPatient();
    const last = addDays(today, -30);
    await visit(id, { doneDate: last, readings: [bp(last, 128, 80)] });
    await sendFhir([fhirBp(id, on(today), 150, 95)]);
    expect(await worker.drain()).toBeGreaterThan(0);
    const s = await state(id);
    expect(s.controlStatuses.map((c) => c.status)).toEqual(['UNCONTROLLED']);
    expect([s.managementColour, s.managementTier]).toEqual(['YELLOW', 'ROUTINE']);
    expect(s.nextFollowUp).toMatchObject(pick(expected({ baseDate: last, uncontrolledDay: today, tier: 'ROUTINE', faceToFaceInYear: inYearOf(last, [last]), lastType: 'CLINIC' })));
    if (last.slice(5) < '09-01') expect(s.nextFollowUp).toMatchObject({ plannedDate: addDays(today, 14), dueReason: 'UNCONTROLLED' });
    expect(await worker.drain()).toBe(0);

    // The visit that day: its readings are that day's (none linked), so it is uncontrolled; the one before was not.
    const r = await visit(id, { doneDate: today, findings: '复查' });
    expect(r).toMatchObject({ referralAdvised: false, followUp: { controlStatus: 'UNCONTROLLED', readings: [] } });
    const again = addDays(today, 0);
    const second = await visit(id, { doneDate: again, readings: [bp(again, 148, 94)] });
    expect(second).toMatchObject({ referralAdvised: true, followUp: { controlStatus: 'UNCONTROLLED' } });
  });

  test('urgent over FHIR, with the follow-up Encounter its reading names: the visit is URGENT, red and intensive', async () => {
    const id = await managedPatient();
    const encounter = 'urn:uuid:7a1c4f3e-2b9d-4c55-9e1a-0d3f6b8c2e41';
    const body = await sendFhir([
      {
        fullUrl: encounter,
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          type: [{ coding: [{ system: 'http://snomed.info/sct', code: '390906007' }] }],
          subject: { reference: `Patient/${id}` },
          period: { start: on(today) },
        },
        request: { method: 'POST', url: 'Encounter' },
      },
      fhirBp(id, on(today), 186, 114, encounter),
    ]);
    await worker.drain();
    const s = await state(id);
    const visitId = body.entry[0]!.response.location!.split('/Encounter/')[1]!.split('/')[0]!;
    const done = s.followUps.find((f) => f.id === visitId);
    expect(done).toMatchObject({ doneDate: today, controlStatus: 'URGENT', readings: [expect.objectContaining({ controlStatus: 'URGENT' })] });
    expect(s.controlStatuses.map((c) => c.status)).toEqual(['URGENT']);
    expect([s.managementColour, s.managementTier]).toEqual(['RED', 'INTENSIVE']);
    expect(s.nextFollowUp).toMatchObject({ plannedDate: addDays(today, 14), dueReason: 'UNCONTROLLED' });
  });

  test('an admission in the last six months is red; once it is older, the rule’s colour for the readings applies', async () => {
    const id = await managedPatient(['I10', 'E11']);
    const admission = (start: string) => ({
      resource: {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject: { reference: `Patient/${id}` },
        serviceProvider: { reference: `Organization/${county.county.id}` },
        period: { start: `${start}T09:00:00+08:00`, end: `${addDays(start, 6)}T09:00:00+08:00` },
      },
      request: { method: 'POST', url: 'Encounter' },
    });
    await visit(id, { doneDate: addDays(today, -5), readings: [bp(addDays(today, -5), 126, 80), { kind: 'FASTING_GLUCOSE', value: 6.2, effectiveAt: on(addDays(today, -5)) }] });
    await sendFhir([admission(addDays(today, -200))]);
    await worker.drain();
    let s = await state(id);
    expect(s.controlStatuses.map((c) => [c.conditionKind, c.status])).toEqual([
      ['HYPERTENSION', 'CONTROLLED'],
      ['TYPE_2_DIABETES', 'CONTROLLED'],
    ]);
    expect(s.managementColour).toBe('YELLOW'); // controlled, but not yet for six months
    await sendFhir([admission(addDays(today, -100))]);
    await worker.drain();
    s = await state(id);
    expect([s.managementColour, s.managementTier]).toEqual(['RED', 'INTENSIVE']);
    expect(s.nextFollowUp).toMatchObject(pick(expected({ baseDate: addDays(today, -5), tier: 'INTENSIVE', allControlled: true, faceToFaceInYear: inYearOf(addDays(today, -5), [addDays(today, -5)]), lastType: 'CLINIC' })));
  });

  test.each(['DIED', 'MOVED_AWAY'] as const)('%s: the open planned visit is cancelled with the reason; back to ACTIVE, one is planned again', async (status) => {
    const id = await managedPatient();
    await visit(id, { doneDate: today, readings: [bp(today, 150, 96)] });
    const planned = (await state(id)).nextFollowUp!;
    await t.em().getConnection().execute(`update patient set care_status = ?, care_status_on = ?, care_status_reason = 'test' where id = ?`, [status, today, id]);
    await t.em().transactional((em) => reassess(em, { patientIds: [id] }, DEFAULT_CARE_RULES, today));
    const s = await state(id);
    expect(s.nextFollowUp).toBeNull();
    expect(s.followUps.find((f) => f.id === planned.id)).toMatchObject({ cancelReason: status, cancelledAt: expect.any(String), doneDate: null });
    await t.em().getConnection().execute(`update patient set care_status = 'ACTIVE', care_status_on = null, care_status_reason = null where id = ?`, [id]);
    await t.em().transactional((em) => reassess(em, { patientIds: [id] }, DEFAULT_CARE_RULES, today));
    expect((await state(id)).nextFollowUp).toMatchObject({ plannedDate: addDays(today, 14), dueReason: 'UNCONTROLLED' });
  });
});

describe('a clinician’s override', () => {
  test('is kept with who and when, survives reassessment, and expires at its review date', async () => {
    const id = await managedPatient();
    await visit(id, { doneDate: today, readings: [bp(today, 126, 78)] });
    const derived = await state(id);
    expect(derived.managementColour).toBe('YELLOW');
    const gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
    const o = (await t.ok(CareOverrideDocument, { id, version: derived.version, input: { managementTier: 'INTENSIVE', managementOverrideReason: '独居高龄' } }, gp)).updatePatient;
    expect(o).toMatchObject({ managementTier: 'INTENSIVE', managementColour: 'RED', managementOverrideReason: '独居高龄', managementOverriddenBy: { id: county.gp.id }, managementOverrideReviewOn: addDays(today, 365) });
    expect(o.managementOverriddenAt).toEqual(expect.any(String));
    await worker.drain();
    await visit(id, { doneDate: today, readings: [bp(today, 124, 76)] });
    const kept = await state(id);
    expect([kept.managementColour, kept.managementOverrideReason]).toEqual(['RED', '独居高龄']);
    expect(kept.nextFollowUp).toMatchObject(pick(expected({ baseDate: today, tier: 'INTENSIVE', allControlled: true, faceToFaceInYear: inYearOf(today, [today, today]), lastType: 'CLINIC' })));

    await t.em().getConnection().execute(`update patient set management_override_review_on = ? where id = ?`, [today, id]);
    await t.em().transactional((em) => reassess(em, { patientIds: [id] }, DEFAULT_CARE_RULES, today));
    const expired = await state(id);
    expect(expired).toMatchObject({ managementColour: 'YELLOW', managementTier: 'ROUTINE', managementOverrideReason: null, managementOverriddenBy: null, managementOverriddenAt: null, managementOverrideReviewOn: null });
  });

  test('refused without a reason, with a tier and colour that disagree, or a review date not after today; data unchanged', async () => {
    const id = await managedPatient();
    const s = await state(id);
    for (const [input, field] of [
      [{ managementTier: 'INTENSIVE' }, 'managementOverrideReason'],
      [{ managementTier: 'INTENSIVE', managementColour: 'GREEN', managementOverrideReason: 'x' }, 'managementTier'],
      [{ managementColour: 'RED', managementOverrideReason: 'x', managementOverrideReviewOn: today }, 'managementOverrideReviewOn'],
    ] as const) {
      const res = await t.gql(CareOverrideDocument, { id, version: s.version, input });
      expect([res.errors?.[0]?.extensions?.code, res.errors?.[0]?.extensions?.field]).toEqual(['BAD_USER_INPUT', field]);
    }
    expect(await state(id)).toMatchObject({ version: s.version, managementColour: s.managementColour, managementOverrideReason: null });
  });
});

describe('recordFollowUp: the planned visit it fulfils, and its readings', () => {
  test('a named planned visit of another patient is refused, a done one is a CONFLICT; a reading of another day is refused', async () => {
    const a = await managedPatient();
    const b = await managedPatient();
    await visit(a, { doneDate: today, readings: [bp(today, 128, 80)] });
    await visit(b, { doneDate: today, readings: [bp(today, 128, 80)] });
    const [planA, planB] = [(await state(a)).nextFollowUp!, (await state(b)).nextFollowUp!];
    const count = () => t.em().count(FollowUp, {});
    const run = (input: Partial<RecordFollowUpInput>) => () => t.gql(CareVisitRecordDocument, { input: { patientId: a, type: 'CLINIC', doneDate: today, ...input } }, villageDoctor);
    await expectRefusedUnchanged(count, run({ plannedFollowUpId: planB.id }), 'BAD_USER_INPUT', 'plannedFollowUpId');
    await expectRefusedUnchanged(count, run({ readings: [bp(addDays(today, -1), 128, 80)] }), 'BAD_USER_INPUT', 'readings.0.effectiveAt');
    const done = await visit(a, { doneDate: today, plannedFollowUpId: planA.id });
    expect(done.followUp.id).toBe(planA.id);
    await expectRefusedUnchanged(count, run({ plannedFollowUpId: planA.id }), 'CONFLICT');
  });
});

describe('over a seeded county', () => {
  test('reassessing it again changes nothing', async () => {
    const { seedCounty } = await import('../src/seed/generate.js');
    await seedCounty(t.em(), { patients: 120, seed: 5, protector: t.app.security.protector });
    const snapshot = async () =>
      (await t.em().execute(
        `select (select count(*) from domain_event)::int as events, (select max(updated_at) from follow_up) as visits,
           (select max(updated_at) from patient) as patients, (select count(*) from condition_control)::int as controls,
           (select count(*) from fhir_resource_history)::int as fhir_versions,
           (select count(*) from follow_up where planned_date is not null and done_date is null and cancelled_at is null)::int as planned,
           (select max(decided_at) from condition_control) as decided`,
      )) as Array<Record<string, unknown>>;
    const before = await snapshot();
    expect(Number(before[0]!.controls)).toBeGreaterThan(20);
    await t.em().transactional((em) => reassess(em, { all: true }, DEFAULT_CARE_RULES, today));
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  test('the daily sweep reassesses every patient once a county day: not again the same day, nor the day the seed did', async () => {
    const { sweepOnce } = await import('../src/care/state/sweep.js');
    expect(await sweepOnce(t.em(), DEFAULT_CARE_RULES, today)).toBe(false); // the seed reassessed its county today
    const tomorrow = addDays(today, 1);
    expect(await sweepOnce(t.em(), DEFAULT_CARE_RULES, tomorrow)).toBe(true);
    expect(await sweepOnce(t.em(), DEFAULT_CARE_RULES, tomorrow)).toBe(false);
    const [row] = (await t.em().execute(`select swept_on::text as d from care_sweep`)) as Array<{ d: string }>;
    expect(row!.d).toBe(tomorrow);
  }, 120_000);
});

/** The fields of a planned visit a rule's answer gives. */
function pick(n: ReturnType<typeof nextFollowUpOf>) {
  return { plannedDate: n.date, dueReason: n.reason, type: n.type };
}

test('a patient who stays ACTIVE but whose diagnosis is refuted or resolved loses the rules’ planned visit (NOT_MANAGED); one a person planned for an unmanaged patient stays', async () => {
  const openOf = async (id: string) =>
    (await t.em().getConnection().execute(`select id::text as id from follow_up where patient_id = ? and planned_date is not null and done_date is null and cancelled_at is null`, [id])) as Array<{ id: string }>;
  const reasonOf = async (visitId: string) => ((await t.em().getConnection().execute(`select cancel_reason from follow_up where id = ?`, [visitId])) as Array<{ cancel_reason: string }>)[0]!.cancel_reason;
  const changeDiagnosis = async (patientId: string, change: Record<string, unknown>) => {
    const [{ id }] = (await t.em().getConnection().execute(`select id::text as id from condition where patient_id = ?`, [patientId])) as [{ id: string }];
    const auth = { authorization: `Bearer ${t.adminToken}` };
    const current = await t.http.get(`/fhir/Condition/${id}`).set(auth);
    expect(current.status).toBe(200);
    const res = await t.http.put(`/fhir/Condition/${id}`).set(auth).set('content-type', FHIR_JSON).send({ ...current.body, ...change });
    expect(res.status).toBe(200);
  };
  const system = (s: string) => `http://terminology.hl7.org/CodeSystem/${s}`;
  for (const change of [
    { verificationStatus: { coding: [{ system: system('condition-ver-status'), code: 'refuted' }] } },
    { clinicalStatus: { coding: [{ system: system('condition-clinical'), code: 'resolved' }] } },
  ]) {
    const id = await managedPatient();
    await visit(id, { doneDate: today, readings: [bp(today, 132, 84)] });
    const [planned] = await openOf(id);
    expect(planned).toBeDefined();
    await changeDiagnosis(id, change);
    await worker.drain();
    expect(await t.em().getConnection().execute(`select care_status from patient where id = ?`, [id])).toEqual([{ care_status: 'ACTIVE' }]);
    expect(await openOf(id)).toEqual([]);
    expect(await reasonOf(planned!.id)).toBe('NOT_MANAGED');
  }
  const unmanaged = await managedPatient([]);
  const own = (await visit(unmanaged, { plannedDate: addDays(today, 10) })).followUp.id;
  await t.em().transactional((em) => reassess(em as never, { patientIds: [unmanaged] }, DEFAULT_CARE_RULES, today));
  expect(await openOf(unmanaged)).toEqual([{ id: own }]);
});
