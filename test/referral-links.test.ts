/**
 * What links referrals to each other and to the care record, in GraphQL: the direction the levels give, the
 * down-referral that closes an up-referral (and its FHIR basedOn), the readings and diagnoses a completion names
 * (and the Task outputs they become), and the referrals waiting for a receiver (one definition: waiting.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, ServiceRequest, Task } from '@medplum/fhirtypes';
import { print } from 'graphql';
import { Referral } from '../src/domain/referral/referral.entity.js';
import { ReferralResult } from '../src/domain/referral/referral-result.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { buildCounty, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import { get } from './fhir/support.js';
import { auditRows } from './security/audit-support.js';
import {
  AcceptReferralDocument,
  AddConditionDocument,
  type CreateReferralInput,
  ExtraRecordObservationDocument,
  ReferralLoopCompleteDocument,
  ReferralLoopCreateDocument,
  ReferralOutcomeDocument,
  ReferralsWaitingDocument,
  RegisterPatientDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('RLK'));
});
afterAll(() => t?.close());

let seq = 0;
const newPatient = async (c: County = county) =>
  (await t.ok(RegisterPatientDocument, { input: { name: `转诊链${++seq}`, gender: 'FEMALE', managingOrganizationId: c.village.id } })).registerPatient.id;
const create = async (input: CreateReferralInput, token?: string) => (await t.ok(ReferralLoopCreateDocument, { input }, token)).createReferral;
const read = async (id: string) => (await t.ok(ReferralOutcomeDocument, { id })).referral;
const upToCounty = (patientId: string): CreateReferralInput => ({ patientId, fromOrganizationId: county.village.id, toOrganizationId: county.county.id, reason: 'POOR_CONTROL' });
const downFromCounty = (patientId: string, closesReferralId?: string): CreateReferralInput => ({
  patientId,
  fromOrganizationId: county.county.id,
  toOrganizationId: county.village.id,
  reason: 'STABLE',
  closesReferralId,
});
const taskOf = async (referralId: string) => ((await get(t, `/fhir/Task?focus=ServiceRequest/${referralId}`)).body as Bundle).entry![0]!.resource as Task;

describe('direction', () => {
  test('is what the two levels give when not said', async () => {
    expect(await create({ ...upToCounty(await newPatient()), toOrganizationId: county.township.id })).toMatchObject({ direction: 'UP' });
    expect(await create(downFromCounty(await newPatient()))).toMatchObject({ direction: 'DOWN' });
  });

  test('between organisations of one level is refused, said or not', async () => {
    const input = { ...upToCounty(await newPatient()), toOrganizationId: county.otherVillage.id };
    await expectRefusedUnchanged(() => t.em().count(Referral, {}), () => t.gql(ReferralLoopCreateDocument, { input }), 'BAD_USER_INPUT', 'toOrganizationId');
    await expectRefusedUnchanged(() => t.em().count(Referral, {}), () => t.gql(ReferralLoopCreateDocument, { input: { ...input, direction: 'UP' } }), 'BAD_USER_INPUT', 'direction');
  });
});

describe('a down-referral closing an up-referral', () => {
  test('links the two, completes an up-referral still accepted, and is based on it in FHIR', async () => {
    const patientId = await newPatient();
    const up = await create(upToCounty(patientId));
    await t.ok(AcceptReferralDocument, { id: up.id });
    const down = await create(downFromCounty(patientId, up.id));
    expect(down).toMatchObject({ direction: 'DOWN', status: 'REQUESTED', closes: { id: up.id, status: 'COMPLETED' } });
    const closed = await read(up.id);
    expect(closed).toMatchObject({ status: 'COMPLETED', completedAt: down.requestedAt, closedBy: [{ id: down.id, direction: 'DOWN', status: 'REQUESTED' }], closes: null });
    const sr = (await get(t, `/fhir/ServiceRequest/${down.id}`)).body as ServiceRequest;
    expect(sr.basedOn).toEqual([{ reference: `ServiceRequest/${up.id}` }]);
    expect(((await get(t, `/fhir/ServiceRequest/${up.id}`)).body as ServiceRequest).status).toBe('completed');
    // Searchable both ways: the down-referrals based on an up-referral.
    const based = (await get(t, `/fhir/ServiceRequest?based-on=ServiceRequest/${up.id}`)).body as Bundle;
    expect(based.entry!.map((e) => e.resource!.id)).toEqual([down.id]);
  });

  test('refuses what it cannot close, and stores nothing', async () => {
    const patientId = await newPatient();
    const requested = await create(upToCounty(patientId));
    const count = () => t.em().count(Referral, {});
    const refused = (input: CreateReferralInput) => expectRefusedUnchanged(count, () => t.gql(ReferralLoopCreateDocument, { input }), 'BAD_USER_INPUT', 'closesReferralId');
    // Not yet taken on by its receiver.
    await refused(downFromCounty(patientId, requested.id));
    await t.ok(AcceptReferralDocument, { id: requested.id });
    // Another patient's; an up-referral does not close one; sent by another organisation than its receiver; unknown.
    await refused(downFromCounty(await newPatient(), requested.id));
    await refused({ ...upToCounty(patientId), toOrganizationId: county.township.id, closesReferralId: requested.id });
    await refused({ ...downFromCounty(patientId, requested.id), fromOrganizationId: county.township.id });
    await refused(downFromCounty(patientId, '01900000-0000-7000-8000-000000000000'));
    // A down-referral is not closed by another one.
    const down = await create(downFromCounty(patientId, requested.id));
    await refused({ ...downFromCounty(patientId, down.id), toOrganizationId: county.otherVillage.id });
    expect(await read(requested.id)).toMatchObject({ status: 'COMPLETED', closedBy: [{ id: down.id }] });
  });
});

describe('completing with the readings and diagnoses of the visit', () => {
  test('links them to the referral, and its Task names them as outputs', async () => {
    const patientId = await newPatient();
    const up = await create(upToCounty(patientId));
    await t.ok(AcceptReferralDocument, { id: up.id });
    const reading = (await t.ok(ExtraRecordObservationDocument, { input: { patientId, kind: 'BLOOD_PRESSURE', systolic: 138, diastolic: 86, effectiveAt: new Date().toISOString() } })).recordObservation;
    const diagnosis = (await t.ok(AddConditionDocument, { input: { patientId, code: 'E11.9', system: 'http://hl7.org/fhir/sid/icd-10', display: '2型糖尿病' } })).addCondition;
    const done = (await t.ok(ReferralLoopCompleteDocument, { id: up.id, outcomeSummary: '会诊：加用二甲双胍', outcomeObservationIds: [reading.id], outcomeConditionIds: [diagnosis.id] })).completeReferral;
    expect(done).toMatchObject({ status: 'COMPLETED', outcomeSummary: '会诊：加用二甲双胍', outcomeReadings: [{ id: reading.id, systolic: 138 }], outcomeDiagnoses: [{ id: diagnosis.id, code: 'E11.9' }] });
    const task = await taskOf(up.id);
    expect(task.status).toBe('completed');
    expect(task.output?.map((o) => o.valueString ?? o.valueReference?.reference)).toEqual(['会诊：加用二甲双胍', `Observation/${reading.id}`, `Condition/${diagnosis.id}`]);
  });

  test("another patient's reading is refused, and the referral stays accepted", async () => {
    const patientId = await newPatient();
    const up = await create(upToCounty(patientId));
    const accepted = (await t.ok(AcceptReferralDocument, { id: up.id })).acceptReferral;
    const other = (await t.ok(ExtraRecordObservationDocument, { input: { patientId: await newPatient(), kind: 'BLOOD_PRESSURE', systolic: 120, diastolic: 80, effectiveAt: new Date().toISOString() } }))
      .recordObservation;
    expectRefusal(await t.gql(ReferralLoopCompleteDocument, { id: up.id, outcomeObservationIds: [other.id] }), 'BAD_USER_INPUT', 'outcomeObservationIds');
    expect(await read(up.id)).toMatchObject({ status: 'ACCEPTED', version: accepted.version, outcomeReadings: [] });
    expect(await t.em().count(ReferralResult, { referral: up.id })).toBe(0);
  });
});

describe('referralsWaiting', () => {
  let c: County;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    c = await buildCounty(t.em(), 'RLKW');
    const up = (patientId: string, to = c.township.id, urgency: 'ROUTINE' | 'URGENT' = 'ROUTINE'): CreateReferralInput => ({ patientId, fromOrganizationId: c.village.id, toOrganizationId: to, reason: 'POOR_CONTROL', urgency });
    ids.first = (await create(up(await newPatient(c)))).id;
    ids.urgent = (await create(up(await newPatient(c), c.township.id, 'URGENT'))).id;
    ids.accepted = (await create(up(await newPatient(c)))).id;
    await t.ok(AcceptReferralDocument, { id: ids.accepted });
    ids.rejectedOrDone = (await create(up(await newPatient(c)))).id;
    await t.ok(AcceptReferralDocument, { id: ids.rejectedOrDone });
    await t.ok(ReferralLoopCompleteDocument, { id: ids.rejectedOrDone });
    ids.county = (await create(up(await newPatient(c), c.county.id))).id;
    ids.down = (await create({ patientId: await newPatient(c), fromOrganizationId: c.county.id, toOrganizationId: c.otherVillage.id, reason: 'STABLE' })).id;
  });

  const walk = async (filter: Record<string, unknown>, first: number, token?: string) => {
    const out: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = (await t.ok(ReferralsWaitingDocument, { filter, first, after }, token)).referralsWaiting;
      expect(res.totalCount).toBeGreaterThanOrEqual(res.edges.length);
      out.push(...res.edges.map((e) => e.node.id));
      if (!res.pageInfo.hasNextPage) return { ids: out, total: res.totalCount };
      after = res.pageInfo.endCursor!;
    }
    throw new Error('too many pages');
  };

  test('for an organisation: open referrals to it and below, urgent first then the longest waiting, in pages', async () => {
    const township = await walk({ organizationId: c.township.id }, 1);
    expect(township).toEqual({ ids: [ids.urgent, ids.first, ids.accepted, ids.down], total: 4 });
    expect((await walk({ organizationId: c.township.id, status: 'ACCEPTED' }, 5)).ids).toEqual([ids.accepted]);
    expect((await walk({ organizationId: c.township.id, direction: 'DOWN' }, 5)).ids).toEqual([ids.down]);
    expect((await walk({ organizationId: c.county.id }, 2)).ids).toEqual([ids.urgent, ids.first, ids.accepted, ids.county, ids.down]);
  });

  test('is audited as a search naming the patient of every referral listed', async () => {
    const id = `waiting-${randomUUID()}`;
    const res = await t.http
      .post('/graphql')
      .set('authorization', `Bearer ${t.adminToken}`)
      .set('x-request-id', id)
      .send({ query: print(ReferralsWaitingDocument), variables: { filter: { organizationId: c.township.id, status: 'ACCEPTED' } } });
    expect(res.body.data.referralsWaiting.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids.accepted]);
    const accepted = await t.em().findOneOrFail(Referral, { id: ids.accepted });
    expect(await auditRows(t, id)).toEqual([expect.objectContaining({ action: 'SEARCH', outcome: 'SUCCESS', patient_ids: [accepted.patient.id] })]);
  });

  test("by default the caller's own organisation; as others may see them; bad arguments refused", async () => {
    const nurse = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: c.otherVillage.code });
    expect((await walk({}, 10, nurse)).ids).toEqual([ids.down]);
    const elsewhere = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.village.code });
    expect((await walk({ organizationId: c.township.id }, 10, elsewhere)).ids).toEqual([]);
    expectRefusal(await t.gql(ReferralsWaitingDocument, { filter: { organizationId: 'township' } }), 'BAD_USER_INPUT', 'organizationId');
    expectRefusal(await t.gql(ReferralsWaitingDocument, { after: 'nope' }), 'BAD_USER_INPUT', 'after');
  });
});
