import { FollowUp } from '../src/domain/follow-up/follow-up.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { isoDay, MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusedUnchanged } from './helpers/refusals.js';
import { ExtraPatientFollowUpsDocument, RecordFollowUpDocument, type RecordFollowUpInput, RegisterPatientDocument } from './generated/graphql.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('FU'));
});
afterAll(() => t?.close());

async function newPatient(): Promise<string> {
  return (await t.ok(RegisterPatientDocument, { input: { name: '随访', gender: 'FEMALE', birthDate: '1950-02-02', managingOrganizationId: county.village.id } })).registerPatient.id;
}

async function visit(patientId: string, input: Partial<RecordFollowUpInput>) {
  return (await t.ok(RecordFollowUpDocument, { input: { patientId, type: 'CLINIC', ...input } })).recordFollowUp;
}

async function expectVisitRefused(patientId: string, input: Partial<RecordFollowUpInput>, field: string) {
  const run = () => t.gql(RecordFollowUpDocument, { input: { patientId, type: 'CLINIC', ...input } });
  await expectRefusedUnchanged(() => t.em().count(FollowUp, {}), run, 'BAD_USER_INPUT', field);
}

describe('recordFollowUp: next due date and referral advice', () => {
  test('a controlled visit is followed up in 90 days', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { doneDate: '2024-03-01', controlStatus: 'CONTROLLED', findings: 'BP 128/80', practitionerId: county.villageDoctor.id, organizationId: county.village.id });
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { type: 'CLINIC', doneDate: '2024-03-01', plannedDate: null, controlStatus: 'CONTROLLED', nextDueDate: '2024-05-30' } });
    const read = await t.gql(ExtraPatientFollowUpsDocument, { id: patientId });
    expect(read.data!.patient.followUps).toEqual([
      {
        id: r.followUp.id,
        type: 'CLINIC',
        plannedDate: null,
        doneDate: '2024-03-01',
        findings: 'BP 128/80',
        controlStatus: 'CONTROLLED',
        adverseReaction: false,
        newComplication: false,
        nextDueDate: '2024-05-30',
      },
    ]);
  });

  test('90 days from a recent visit', async () => {
    const patientId = await newPatient();
    const done = isoDay(-3);
    expect((await visit(patientId, { doneDate: done, controlStatus: 'CONTROLLED' })).followUp.nextDueDate).toBe(isoDay(90, done));
  });

  test('a first uncontrolled visit is followed up in 14 days, without referral', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { doneDate: '2024-03-01', controlStatus: 'UNCONTROLLED' });
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { nextDueDate: '2024-03-15' } });
  });

  test('a second uncontrolled visit in a row advises referral up; after a controlled one it does not', async () => {
    const patientId = await newPatient();
    expect((await visit(patientId, { doneDate: '2024-01-10', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(false);
    const second = await visit(patientId, { doneDate: '2024-01-24', controlStatus: 'UNCONTROLLED' });
    expect(second).toMatchObject({ referralAdvised: true, urgent: false, followUp: { nextDueDate: '2024-02-07' } });
    const controlled = await visit(patientId, { doneDate: '2024-02-07', controlStatus: 'CONTROLLED' });
    expect(controlled).toMatchObject({ referralAdvised: false, followUp: { nextDueDate: '2024-05-07' } });
    expect((await visit(patientId, { doneDate: '2024-05-07', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(false);
  });

  test('the previous visit is the one before this date, whatever order they were recorded in', async () => {
    const patientId = await newPatient();
    await visit(patientId, { doneDate: '2024-05-01', controlStatus: 'CONTROLLED' });
    expect((await visit(patientId, { doneDate: '2024-03-01', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(false);
    expect((await visit(patientId, { doneDate: '2024-04-01', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(true);
    expect((await visit(patientId, { doneDate: '2024-06-01', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(false);
  });

  test('visits without an assessment do not break a run of uncontrolled ones', async () => {
    const patientId = await newPatient();
    await visit(patientId, { doneDate: '2024-01-10', controlStatus: 'UNCONTROLLED' });
    await visit(patientId, { doneDate: '2024-01-15', type: 'PHONE', findings: '电话随访，未测血压' });
    expect((await visit(patientId, { doneDate: '2024-01-24', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(true);
  });

  test('an URGENT reading calls for urgent referral and a visit within 14 days', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { doneDate: '2024-03-01', controlStatus: 'URGENT', findings: 'BP 186/112' });
    expect(r).toMatchObject({ urgent: true, referralAdvised: true, followUp: { controlStatus: 'URGENT', nextDueDate: '2024-03-15' } });
    // An urgent visit counts as uncontrolled for the next one.
    expect((await visit(patientId, { doneDate: '2024-03-15', controlStatus: 'UNCONTROLLED' })).referralAdvised).toBe(true);
  });

  test('an adverse drug reaction shortens the interval; a new complication advises referral', async () => {
    const patientId = await newPatient();
    const adverse = await visit(patientId, { doneDate: '2024-03-01', controlStatus: 'CONTROLLED', adverseReaction: true });
    expect(adverse).toMatchObject({ referralAdvised: false, urgent: false, followUp: { nextDueDate: '2024-03-15' } });
    const complication = await visit(patientId, { doneDate: '2024-03-15', controlStatus: 'CONTROLLED', newComplication: true });
    expect(complication).toMatchObject({ referralAdvised: true, urgent: false, followUp: { nextDueDate: '2024-03-29' } });
    const read = await t.gql(ExtraPatientFollowUpsDocument, { id: patientId });
    const byId = new Map(read.data!.patient.followUps.map((f) => [f.id, f]));
    expect(byId.get(adverse.followUp.id)).toMatchObject({ adverseReaction: true, newComplication: false });
    expect(byId.get(complication.followUp.id)).toMatchObject({ adverseReaction: false, newComplication: true });
  });

  test('a clinician may set the next due date, but not on or before the visit', async () => {
    const patientId = await newPatient();
    const r = await visit(patientId, { doneDate: '2024-03-01', controlStatus: 'CONTROLLED', nextDueDate: '2024-04-01' });
    expect(r.followUp.nextDueDate).toBe('2024-04-01');
    await expectVisitRefused(patientId, { doneDate: '2024-03-01', controlStatus: 'CONTROLLED', nextDueDate: '2024-03-01' }, 'nextDueDate');
    await expectVisitRefused(patientId, { plannedDate: '2024-03-01', nextDueDate: '2024-02-01' }, 'nextDueDate');
  });

  test('a planned visit has no outcome yet and may lie in the future', async () => {
    const patientId = await newPatient();
    const planned = isoDay(30);
    const r = await visit(patientId, { plannedDate: planned, type: 'HOME' });
    expect(r).toMatchObject({ referralAdvised: false, urgent: false, followUp: { type: 'HOME', plannedDate: planned, doneDate: null, controlStatus: null, nextDueDate: null } });
    const [plannedDate, doneDate] = [isoDay(-2), isoDay(-1)];
    const both = await visit(patientId, { plannedDate, doneDate, controlStatus: 'CONTROLLED' });
    expect(both.followUp).toMatchObject({ plannedDate, doneDate, nextDueDate: isoDay(90, doneDate) });
    expect(await t.em().count(FollowUp, { patient: patientId })).toBe(2);
  });
});

describe('recordFollowUp: refusals', () => {
  let patientId: string;
  beforeAll(async () => {
    patientId = await newPatient();
  });

  test('a visit done in the future is refused; one done today is fine', async () => {
    await expectVisitRefused(patientId, { doneDate: isoDay(2), controlStatus: 'CONTROLLED' }, 'doneDate');
    await expectVisitRefused(patientId, { doneDate: isoDay(400) }, 'doneDate');
    const today = isoDay(0);
    expect((await visit(patientId, { doneDate: today, controlStatus: 'CONTROLLED' })).followUp.doneDate).toBe(today);
  });

  test('a visit with neither a planned nor a done date is refused', async () => {
    await expectVisitRefused(patientId, {}, 'doneDate');
    await expectVisitRefused(patientId, { type: 'PHONE', adverseReaction: true }, 'doneDate');
  });

  test('findings or a control status without a done date are refused', async () => {
    await expectVisitRefused(patientId, { plannedDate: isoDay(10), findings: 'BP 150/95' }, 'doneDate');
    await expectVisitRefused(patientId, { plannedDate: isoDay(10), controlStatus: 'UNCONTROLLED' }, 'doneDate');
  });

  test('a visit before the patient was born is refused', async () => {
    await expectVisitRefused(patientId, { doneDate: '1950-02-01', controlStatus: 'CONTROLLED' }, 'doneDate');
  });

  test('an unknown patient, practitioner or organisation is refused', async () => {
    await expectVisitRefused(MISSING_ID, { doneDate: '2024-03-01' }, 'patientId');
    await expectVisitRefused('p-1', { doneDate: '2024-03-01' }, 'patientId');
    await expectVisitRefused(patientId, { doneDate: '2024-03-01', practitionerId: MISSING_ID }, 'practitionerId');
    await expectVisitRefused(patientId, { doneDate: '2024-03-01', organizationId: MISSING_ID }, 'organizationId');
  });
});
