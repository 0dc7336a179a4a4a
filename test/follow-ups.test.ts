import { FollowUp } from '../src/domain/follow-up/follow-up.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { isoDay, MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusedUnchanged } from './helpers/refusals.js';
import { AddConditionDocument, ExtraPatientFollowUpsDocument, RecordFollowUpDocument, type RecordFollowUpInput, RegisterPatientDocument } from './generated/graphql.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { addDays } from '../src/care-rules/follow-up-interval.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('FU'));
});
afterAll(() => t?.close());

async function newPatient(): Promise<string> {
  const id = (await t.ok(RegisterPatientDocument, { input: { name: '随访', gender: 'FEMALE', birthDate: '1950-02-02', managingOrganizationId: county.village.id } })).registerPatient.id;
  await t.ok(AddConditionDocument, { input: { patientId: id, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10' } });
  return id;
}

async function visit(patientId: string, input: Partial<RecordFollowUpInput>) {
  return (await t.ok(RecordFollowUpDocument, { input: { patientId, type: 'CLINIC', ...input } })).recordFollowUp;
}

async function expectVisitRefused(patientId: string, input: Partial<RecordFollowUpInput>, field: string) {
  const run = () => t.gql(RecordFollowUpDocument, { input: { patientId, type: 'CLINIC', ...input } });
  await expectRefusedUnchanged(() => t.em().count(FollowUp, {}), run, 'BAD_USER_INPUT', field);
}

const today = countyToday();
/** A blood pressure taken on a county day (10:00 there; a minute ago for today). */
const bp = (day: string, systolic: number, diastolic: number) => ({
  kind: 'BLOOD_PRESSURE' as const,
  systolic,
  diastolic,
  effectiveAt: day === today ? new Date(Date.now() - 60_000).toISOString() : `${day}T10:00:00+08:00`,
});
const day = (n: number) => addDays(today, n);
const controlled = (d: string) => ({ doneDate: d, readings: [bp(d, 128, 80)] });
const uncontrolled = (d: string) => ({ doneDate: d, readings: [bp(d, 152, 94)] });

describe('recordFollowUp: control status from the readings, next due date and referral advice', () => {
  test('a visit is judged by the readings taken at it', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { ...controlled(day(-3)), findings: 'BP 128/80', practitionerId: county.villageDoctor.id, organizationId: county.village.id });
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { type: 'CLINIC', doneDate: day(-3), plannedDate: null, controlStatus: 'CONTROLLED' } });
    const read = await t.gql(ExtraPatientFollowUpsDocument, { id: patientId });
    const done = read.data!.patient.followUps.find((f) => f.id === r.followUp.id);
    expect(done).toMatchObject({ doneDate: day(-3), findings: 'BP 128/80', controlStatus: 'CONTROLLED', adverseReaction: false, newComplication: false, nextDueDate: r.followUp.nextDueDate });
    // The next visit is planned (the one open planned visit), by the date the done visit says.
    const planned = read.data!.patient.followUps.filter((f) => f.plannedDate && !f.doneDate);
    expect(planned.map((f) => f.plannedDate)).toEqual([r.followUp.nextDueDate]);
  });

  test('a first uncontrolled visit is followed up in 14 days, without referral', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, uncontrolled(day(-2)));
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { controlStatus: 'UNCONTROLLED', nextDueDate: day(12) } });
  });

  test('a second uncontrolled visit in a row advises referral up; after a controlled one it does not', async () => {
    const patientId = await newPatient();
    expect((await visit(patientId, uncontrolled(day(-60)))).referralAdvised).toBe(false);
    const second = await visit(patientId, uncontrolled(day(-46)));
    expect(second).toMatchObject({ referralAdvised: true, urgent: false, followUp: { nextDueDate: day(-32) } });
    expect((await visit(patientId, controlled(day(-32)))).referralAdvised).toBe(false);
    expect((await visit(patientId, uncontrolled(day(-20)))).referralAdvised).toBe(false);
  });

  test('the previous visit is the one before this date, whatever order they were recorded in', async () => {
    const patientId = await newPatient();
    await visit(patientId, controlled(day(-30)));
    expect((await visit(patientId, uncontrolled(day(-90)))).referralAdvised).toBe(false);
    expect((await visit(patientId, uncontrolled(day(-60)))).referralAdvised).toBe(true);
    expect((await visit(patientId, uncontrolled(day(-10)))).referralAdvised).toBe(false);
  });

  test('visits without readings do not break a run of uncontrolled ones', async () => {
    const patientId = await newPatient();
    await visit(patientId, uncontrolled(day(-20)));
    const phone = await visit(patientId, { doneDate: day(-15), type: 'PHONE', findings: '电话随访，未测血压' });
    expect(phone.followUp.controlStatus).toBeNull();
    expect((await visit(patientId, uncontrolled(day(-6)))).referralAdvised).toBe(true);
  });

  test('an URGENT reading, or danger signs, call for urgent referral and a visit within 14 days', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { doneDate: day(-20), readings: [bp(day(-20), 186, 112)], findings: 'BP 186/112' });
    expect(r).toMatchObject({ urgent: true, referralAdvised: true, followUp: { controlStatus: 'URGENT', nextDueDate: day(-6) } });
    // An urgent visit counts as uncontrolled for the next one.
    expect((await visit(patientId, uncontrolled(day(-6)))).referralAdvised).toBe(true);
    const signs = await visit(await newPatient(), { ...controlled(day(-1)), dangerSigns: true, findings: '胸痛' });
    expect(signs).toMatchObject({ urgent: true, referralAdvised: true, followUp: { controlStatus: 'URGENT', dangerSigns: true } });
  });

  test('an adverse drug reaction shortens the interval; a new complication advises referral', async () => {
    const patientId = await newPatient();
    const adverse = await visit(patientId, { ...controlled(day(-30)), adverseReaction: true });
    expect(adverse).toMatchObject({ referralAdvised: false, urgent: false, followUp: { nextDueDate: day(-16) } });
    const complication = await visit(patientId, { ...controlled(day(-16)), newComplication: true });
    expect(complication).toMatchObject({ referralAdvised: true, urgent: false });
    const read = await t.gql(ExtraPatientFollowUpsDocument, { id: patientId });
    const byId = new Map(read.data!.patient.followUps.map((f) => [f.id, f]));
    expect(byId.get(adverse.followUp.id)).toMatchObject({ adverseReaction: true, newComplication: false });
    expect(byId.get(complication.followUp.id)).toMatchObject({ adverseReaction: false, newComplication: true });
  });

  test('a clinician may ask for an earlier next visit, not a later one, and not on or before the visit', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { ...controlled(day(-3)), nextDueDate: day(4) });
    expect(r.followUp.nextDueDate).toBe(day(4));
    const later = await visit(patientId, { ...controlled(day(-1)), nextDueDate: day(300) });
    expect(later.followUp.nextDueDate! < day(300)).toBe(true);
    await expectVisitRefused(patientId, { ...controlled(day(-1)), nextDueDate: day(-1) }, 'nextDueDate');
    await expectVisitRefused(patientId, { plannedDate: day(3), nextDueDate: day(2) }, 'nextDueDate');
  });

  test('a planned visit has no outcome yet and may lie in the future; the done visit fills it in', async () => {
    const patientId = await newPatient();
    const planned = day(3);
    const r = await visit(patientId, { plannedDate: planned, type: 'HOME' });
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { type: 'HOME', plannedDate: planned, doneDate: null, controlStatus: null, nextDueDate: null } });
    const done = await visit(patientId, controlled(day(-1)));
    expect(done.followUp).toMatchObject({ id: r.followUp.id, plannedDate: planned, doneDate: day(-1), controlStatus: 'CONTROLLED' });
    // The visit done, the rules plan the next: one done, one planned.
    expect(await t.em().count(FollowUp, { patient: patientId })).toBe(2);
  });
});

describe('recordFollowUp: refusals', () => {
  let patientId: string;
  beforeAll(async () => {
    patientId = await newPatient();
  });

  test('a visit done in the future is refused; one done today is fine', async () => {
    await expectVisitRefused(patientId, { doneDate: isoDay(2) }, 'doneDate');
    await expectVisitRefused(patientId, { doneDate: isoDay(400) }, 'doneDate');
    const today = isoDay(0);
    expect((await visit(patientId, { doneDate: today })).followUp.doneDate).toBe(today);
  });

  test('a visit with neither a planned nor a done date is refused', async () => {
    await expectVisitRefused(patientId, {}, 'doneDate');
    await expectVisitRefused(patientId, { type: 'PHONE', adverseReaction: true }, 'doneDate');
  });

  test('findings, danger signs or readings without a done date are refused', async () => {
    await expectVisitRefused(patientId, { plannedDate: isoDay(10), findings: 'BP 150/95' }, 'doneDate');
    await expectVisitRefused(patientId, { plannedDate: isoDay(10), dangerSigns: true }, 'doneDate');
    await expectVisitRefused(patientId, { plannedDate: isoDay(10), readings: [bp(today, 150, 95)] }, 'doneDate');
  });

  test('a visit before the patient was born is refused', async () => {
    await expectVisitRefused(patientId, { doneDate: '1950-02-01' }, 'doneDate');
  });

  test('an unknown patient, practitioner or organisation is refused', async () => {
    await expectVisitRefused(MISSING_ID, { doneDate: '2024-03-01' }, 'patientId');
    await expectVisitRefused('p-1', { doneDate: '2024-03-01' }, 'patientId');
    await expectVisitRefused(patientId, { doneDate: '2024-03-01', practitionerId: MISSING_ID }, 'practitionerId');
    await expectVisitRefused(patientId, { doneDate: '2024-03-01', organizationId: MISSING_ID }, 'organizationId');
  });
});
