import { Referral, ReferralDirection } from '../src/domain/referral/referral.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { buildCounty, MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  AcceptReferralDocument,
  CancelReferralDocument,
  CompleteReferralDocument,
  CreateReferralDocument,
  type CreateReferralInput,
  ExtraPatientReferralsDocument,
  ExtraReferralsPageDocument,
  type ReferralFilterInput,
  ReferralDocument,
  ReferralsDocument,
  RegisterPatientDocument,
  RejectReferralDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('REF'));
});
afterAll(() => t?.close());

let patientSeq = 0;
async function newPatient(c: County = county): Promise<string> {
  return (await t.ok(RegisterPatientDocument, { input: { name: `转诊${++patientSeq}`, gender: 'MALE', managingOrganizationId: c.village.id } })).registerPatient.id;
}

const up = (patientId: string, c: County = county): CreateReferralInput => ({
  patientId,
  direction: 'UP',
  fromOrganizationId: c.village.id,
  toOrganizationId: c.township.id,
  reason: 'POOR_CONTROL',
});

async function create(input: CreateReferralInput) {
  return (await t.ok(CreateReferralDocument, { input })).createReferral;
}

async function readReferral(id: string) {
  return (await t.ok(ReferralDocument, { id })).referral;
}

async function expectCreateRefused(input: CreateReferralInput, code: string, field?: string) {
  await expectRefusedUnchanged(() => t.em().count(Referral, {}), () => t.gql(CreateReferralDocument, { input }), code, field);
}

/** The instant of an ISO timestamp lies between two others (inclusive). */
function expectBetween(iso: string | null | undefined, from: Date, to: Date) {
  expect(iso).toEqual(expect.any(String));
  const at = new Date(iso!).getTime();
  expect(at).toBeGreaterThanOrEqual(from.getTime());
  expect(at).toBeLessThanOrEqual(to.getTime());
}

describe('createReferral', () => {
  test('up from a village clinic to its township centre', async () => {
    const patientId = await newPatient();
    const before = new Date();
    const r = await create({ ...up(patientId), fromPractitionerId: county.villageDoctor.id, urgency: 'URGENT', clinicalSummary: 'BP 165/100 on two visits', reasonText: '两次控制不满意' });
    const after = new Date();
    expect(r).toMatchObject({
      version: 1,
      direction: 'UP',
      status: 'REQUESTED',
      reason: 'POOR_CONTROL',
      urgency: 'URGENT',
      clinicalSummary: 'BP 165/100 on two visits',
      acceptedAt: null,
      rejectedAt: null,
      completedAt: null,
      cancelledAt: null,
      statusReason: null,
      outcomeSummary: null,
      fromOrganization: { id: county.village.id, level: 'VILLAGE' },
      toOrganization: { id: county.township.id, level: 'TOWNSHIP' },
      patient: { id: patientId },
    });
    expectBetween(r.requestedAt, before, after);
    expect(await readReferral(r.id)).toEqual(r);
  });

  test('up from a village straight to the county, and from the township to the county', async () => {
    const patientId = await newPatient();
    const a = await create({ ...up(patientId), toOrganizationId: county.county.id, reason: 'UNCLEAR_DIAGNOSIS' });
    expect(a).toMatchObject({ direction: 'UP', urgency: 'ROUTINE', toOrganization: { level: 'COUNTY' } });
    const b = await create({ ...up(await newPatient()), fromOrganizationId: county.township.id, toOrganizationId: county.county.id, reason: 'ACUTE_EXACERBATION' });
    expect(b).toMatchObject({ direction: 'UP', fromOrganization: { level: 'TOWNSHIP' }, toOrganization: { level: 'COUNTY' } });
  });

  test('down from the county to a village for a stable or recovering patient', async () => {
    for (const reason of ['STABLE', 'RECOVERY', 'OTHER'] as const) {
      const r = await create({ patientId: await newPatient(), direction: 'DOWN', fromOrganizationId: county.county.id, toOrganizationId: county.village.id, reason });
      expect(r).toMatchObject({ direction: 'DOWN', status: 'REQUESTED', reason });
    }
  });

  test('a direction that does not match the organisation levels is refused', async () => {
    const patientId = await newPatient();
    await expectCreateRefused({ ...up(patientId), fromOrganizationId: county.county.id, toOrganizationId: county.village.id }, 'BAD_USER_INPUT', 'direction');
    await expectCreateRefused({ ...up(patientId), fromOrganizationId: county.village.id, toOrganizationId: county.otherVillage.id }, 'BAD_USER_INPUT', 'direction');
    await expectCreateRefused(
      { patientId, direction: 'DOWN', fromOrganizationId: county.village.id, toOrganizationId: county.township.id, reason: 'STABLE' },
      'BAD_USER_INPUT',
      'direction',
    );
  });

  test('a down-referral for poor control (or any reason but stable/recovery) is refused, and vice versa', async () => {
    const patientId = await newPatient();
    for (const reason of ['POOR_CONTROL', 'ACUTE_EXACERBATION', 'COMPLICATION', 'UNCLEAR_DIAGNOSIS'] as const) {
      await expectCreateRefused({ patientId, direction: 'DOWN', fromOrganizationId: county.county.id, toOrganizationId: county.village.id, reason }, 'BAD_USER_INPUT', 'reason');
    }
    for (const reason of ['STABLE', 'RECOVERY'] as const) {
      await expectCreateRefused({ ...up(patientId), reason }, 'BAD_USER_INPUT', 'reason');
    }
  });

  test('a referral to the same organisation or to one outside the medical community is refused', async () => {
    const patientId = await newPatient();
    await expectCreateRefused({ ...up(patientId), toOrganizationId: county.village.id }, 'BAD_USER_INPUT', 'toOrganizationId');
    await expectCreateRefused({ ...up(patientId), toOrganizationId: county.insurer.id }, 'BAD_USER_INPUT', 'toOrganizationId');
  });

  test('unknown patients, organisations and practitioners are refused', async () => {
    const patientId = await newPatient();
    await expectCreateRefused(up(MISSING_ID), 'BAD_USER_INPUT', 'patientId');
    await expectCreateRefused({ ...up(patientId), fromOrganizationId: MISSING_ID }, 'BAD_USER_INPUT', 'fromOrganizationId');
    await expectCreateRefused({ ...up(patientId), toOrganizationId: 'township' }, 'BAD_USER_INPUT', 'toOrganizationId');
    await expectCreateRefused({ ...up(patientId), fromPractitionerId: MISSING_ID }, 'BAD_USER_INPUT', 'fromPractitionerId');
  });

  test('a second open referral of the same patient to the same organisation is a CONFLICT', async () => {
    const patientId = await newPatient();
    const first = await create(up(patientId));
    await expectCreateRefused(up(patientId), 'CONFLICT');
    // Still open once accepted.
    expect((await t.gql(AcceptReferralDocument, { id: first.id })).errors).toBeUndefined();
    await expectCreateRefused({ ...up(patientId), reason: 'COMPLICATION' }, 'CONFLICT');
    // Another organisation is fine.
    await create({ ...up(patientId), toOrganizationId: county.county.id });
    // Once the first is closed, the patient can be referred there again.
    expect((await t.gql(CompleteReferralDocument, { id: first.id, outcomeSummary: '调整方案' })).errors).toBeUndefined();
    const again = await create(up(patientId));
    expect(again.status).toBe('REQUESTED');
    expect(await t.em().count(Referral, { patient: patientId, toOrganization: county.township.id })).toBe(2);
  });
});

describe('referral lifecycle', () => {
  test('REQUESTED → ACCEPTED → COMPLETED stamps each step', async () => {
    const r = await create(up(await newPatient()));
    const beforeAccept = new Date();
    const accepted = await t.gql(AcceptReferralDocument, { id: r.id, version: 1 });
    const afterAccept = new Date();
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data!.acceptReferral).toMatchObject({ status: 'ACCEPTED', version: 2, requestedAt: r.requestedAt, completedAt: null, rejectedAt: null, cancelledAt: null });
    expectBetween(accepted.data!.acceptReferral.acceptedAt, beforeAccept, afterAccept);

    const beforeComplete = new Date();
    const completed = await t.gql(CompleteReferralDocument, { id: r.id, outcomeSummary: '改用氨氯地平 + 缬沙坦' });
    const afterComplete = new Date();
    expect(completed.errors).toBeUndefined();
    const c = completed.data!.completeReferral;
    expect(c).toMatchObject({ status: 'COMPLETED', version: 3, outcomeSummary: '改用氨氯地平 + 缬沙坦', acceptedAt: accepted.data!.acceptReferral.acceptedAt, rejectedAt: null, cancelledAt: null });
    expectBetween(c.completedAt, beforeComplete, afterComplete);
    expect(await readReferral(r.id)).toEqual(c);
  });

  test('a COMPLETED referral cannot be accepted, rejected or cancelled, and stays COMPLETED', async () => {
    const r = await create(up(await newPatient()));
    await t.gql(AcceptReferralDocument, { id: r.id });
    const done = (await t.gql(CompleteReferralDocument, { id: r.id })).data!.completeReferral;
    expectRefusal(await t.gql(AcceptReferralDocument, { id: r.id }), 'CONFLICT');
    expectRefusal(await t.gql(RejectReferralDocument, { id: r.id, reason: '太晚' }), 'CONFLICT');
    expectRefusal(await t.gql(CancelReferralDocument, { id: r.id, reason: '太晚' }), 'CONFLICT');
    expectRefusal(await t.gql(CompleteReferralDocument, { id: r.id }), 'CONFLICT');
    expect(await readReferral(r.id)).toEqual(done);
    expect(done).toMatchObject({ status: 'COMPLETED', version: 3, statusReason: null });
  });

  test('a referral must be accepted before it is completed', async () => {
    const r = await create(up(await newPatient()));
    expectRefusal(await t.gql(CompleteReferralDocument, { id: r.id, outcomeSummary: '跳步' }), 'CONFLICT');
    expect(await readReferral(r.id)).toMatchObject({ status: 'REQUESTED', version: 1, completedAt: null, outcomeSummary: null });
  });

  test('rejecting needs a reason; a rejected referral is closed', async () => {
    const r = await create(up(await newPatient()));
    expectRefusal(await t.gql(RejectReferralDocument, { id: r.id, reason: '   ' }), 'BAD_USER_INPUT', 'reason');
    expect(await readReferral(r.id)).toMatchObject({ status: 'REQUESTED', version: 1, rejectedAt: null, statusReason: null });
    const rejected = await t.gql(RejectReferralDocument, { id: r.id, reason: ' 本院无床位 ' });
    expect(rejected.errors).toBeUndefined();
    expect(rejected.data!.rejectReferral).toMatchObject({ status: 'REJECTED', statusReason: '本院无床位', acceptedAt: null, version: 2 });
    expect(rejected.data!.rejectReferral.rejectedAt).not.toBeNull();
    expectRefusal(await t.gql(AcceptReferralDocument, { id: r.id }), 'CONFLICT');
    expectRefusal(await t.gql(CompleteReferralDocument, { id: r.id }), 'CONFLICT');
    expect(await readReferral(r.id)).toMatchObject({ status: 'REJECTED', version: 2 });
  });

  test('an accepted referral cannot be rejected, but can be cancelled with a reason', async () => {
    const r = await create(up(await newPatient()));
    const accepted = (await t.gql(AcceptReferralDocument, { id: r.id })).data!.acceptReferral;
    expectRefusal(await t.gql(RejectReferralDocument, { id: r.id, reason: '改主意' }), 'CONFLICT');
    expectRefusal(await t.gql(CancelReferralDocument, { id: r.id, reason: '' }), 'BAD_USER_INPUT', 'reason');
    expect(await readReferral(r.id)).toMatchObject({ status: 'ACCEPTED', version: 2, cancelledAt: null });
    const cancelled = await t.gql(CancelReferralDocument, { id: r.id, reason: '患者拒绝转诊' });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data!.cancelReferral).toMatchObject({ status: 'CANCELLED', statusReason: '患者拒绝转诊', acceptedAt: accepted.acceptedAt, completedAt: null, version: 3 });
    expect(cancelled.data!.cancelReferral.cancelledAt).not.toBeNull();
    expectRefusal(await t.gql(CompleteReferralDocument, { id: r.id }), 'CONFLICT');
    expectRefusal(await t.gql(CancelReferralDocument, { id: r.id, reason: '再取消' }), 'CONFLICT');
  });

  test('a requested referral can be cancelled by the sender', async () => {
    const r = await create(up(await newPatient()));
    const cancelled = await t.gql(CancelReferralDocument, { id: r.id, reason: '已在县医院就诊' });
    expect(cancelled.data!.cancelReferral).toMatchObject({ status: 'CANCELLED', acceptedAt: null });
  });

  test('a stale version is a CONFLICT and changes nothing', async () => {
    const r = await create(up(await newPatient()));
    expectRefusal(await t.gql(AcceptReferralDocument, { id: r.id, version: 2 }), 'CONFLICT');
    expect(await readReferral(r.id)).toMatchObject({ status: 'REQUESTED', version: 1, acceptedAt: null });
    expect((await t.gql(AcceptReferralDocument, { id: r.id, version: 1 })).errors).toBeUndefined();
    expectRefusal(await t.gql(AcceptReferralDocument, { id: r.id, version: 1 }), 'CONFLICT');
  });

  test('accepting an accepted referral is a CONFLICT, with or without a version, and changes nothing', async () => {
    const r = await create(up(await newPatient()));
    const accepted = (await t.ok(AcceptReferralDocument, { id: r.id })).acceptReferral;
    expectRefusal(await t.gql(AcceptReferralDocument, { id: r.id }), 'CONFLICT');
    expectRefusal(await t.gql(AcceptReferralDocument, { id: r.id, version: accepted.version }), 'CONFLICT');
    expect(await readReferral(r.id)).toEqual(accepted);
  });

  test('an unknown referral is NOT_FOUND', async () => {
    for (const id of [MISSING_ID, 'ref-1']) {
      expectRefusal(await t.gql(ReferralDocument, { id }), 'NOT_FOUND');
      expectRefusal(await t.gql(AcceptReferralDocument, { id }), 'NOT_FOUND');
      expectRefusal(await t.gql(RejectReferralDocument, { id, reason: 'x' }), 'NOT_FOUND');
      expectRefusal(await t.gql(CompleteReferralDocument, { id }), 'NOT_FOUND');
      expectRefusal(await t.gql(CancelReferralDocument, { id, reason: 'x' }), 'NOT_FOUND');
    }
  });
});

describe('referrals query', () => {
  /** A county of its own, so that organisation filters see only these referrals. */
  let c: County;
  const made: Array<{ id: string; direction: string; status: string; from: string; to: string; patientId: string }> = [];

  beforeAll(async () => {
    c = await buildCounty(t.em(), 'REFQ');
    const add = async (input: CreateReferralInput, accept = false) => {
      const r = await create(input);
      let status = r.status as string;
      if (accept) status = (await t.gql(AcceptReferralDocument, { id: r.id })).data!.acceptReferral.status;
      made.push({ id: r.id, direction: r.direction, status, from: input.fromOrganizationId, to: input.toOrganizationId, patientId: input.patientId });
    };
    for (let i = 0; i < 5; i++) await add(up(await newPatient(c), c), i < 2);
    for (let i = 0; i < 2; i++) await add({ ...up(await newPatient(c), c), toOrganizationId: c.county.id, reason: 'COMPLICATION' });
    for (let i = 0; i < 3; i++) {
      await add({ patientId: await newPatient(c), direction: 'DOWN', fromOrganizationId: c.county.id, toOrganizationId: c.otherVillage.id, reason: 'STABLE' });
    }
  });

  /** Walks every page of a filter, checking totalCount on each page and that pages do not overlap. */
  async function walk(filter: ReferralFilterInput, first: number) {
    const ids: string[] = [];
    const requestedAt: string[] = [];
    let after: string | undefined;
    let pages = 0;
    let total: number | undefined;
    for (;;) {
      const res = await t.gql(ExtraReferralsPageDocument, { filter, first, after });
      expect(res.errors).toBeUndefined();
      const page = res.data!.referrals;
      total ??= page.totalCount;
      expect(page.totalCount).toBe(total);
      expect(page.edges.length).toBeLessThanOrEqual(first);
      ids.push(...page.edges.map((e) => e.node.id));
      requestedAt.push(...page.edges.map((e) => e.node.requestedAt));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(first);
      after = page.pageInfo.endCursor!;
      expect(pages).toBeLessThan(50);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(total!);
    // Newest first.
    expect([...requestedAt].sort().reverse()).toEqual(requestedAt);
    return { ids, pages, total: total! };
  }

  const expected = (pred: (r: (typeof made)[number]) => boolean) => made.filter(pred).map((r) => r.id).sort();

  test('by sending organisation, walked in pages', async () => {
    const { ids, pages } = await walk({ fromOrganizationId: c.village.id }, 3);
    expect(pages).toBe(3);
    expect([...ids].sort()).toEqual(expected((r) => r.from === c.village.id));
    expect(ids).toHaveLength(7);
  });

  test('by receiving organisation and status', async () => {
    const { ids } = await walk({ toOrganizationId: c.township.id, status: 'ACCEPTED' }, 10);
    expect([...ids].sort()).toEqual(expected((r) => r.to === c.township.id && r.status === 'ACCEPTED'));
    expect(ids).toHaveLength(2);
    const requested = await walk({ toOrganizationId: c.township.id, status: 'REQUESTED' }, 2);
    expect(requested.ids).toHaveLength(3);
  });

  test('by direction', async () => {
    const down = await walk({ direction: 'DOWN', fromOrganizationId: c.county.id }, 2);
    expect([...down.ids].sort()).toEqual(expected((r) => r.direction === 'DOWN'));
    const upToCounty = await walk({ direction: 'UP', toOrganizationId: c.county.id }, 5);
    expect([...upToCounty.ids].sort()).toEqual(expected((r) => r.direction === 'UP' && r.to === c.county.id));
    expect(await walk({ direction: 'DOWN', toOrganizationId: c.township.id }, 5)).toMatchObject({ ids: [], total: 0 });
    // Across the whole database, the count agrees with the table.
    const all = await t.gql(ReferralsDocument, { filter: { direction: 'UP' }, first: 1 });
    expect(all.data!.referrals.totalCount).toBe(await t.em().count(Referral, { direction: ReferralDirection.UP }));
  });

  test('by patient, and the patient lists its referrals newest first', async () => {
    const r = made[0]!;
    const res = await t.gql(ReferralsDocument, { filter: { patientId: r.patientId } });
    expect(res.data!.referrals.edges.map((e) => e.node.id)).toEqual([r.id]);
    const p = await t.gql(ExtraPatientReferralsDocument, { id: r.patientId });
    expect(p.data!.patient.referrals.map((x) => x.id)).toEqual([r.id]);
  });

  test('bad arguments are refused', async () => {
    expectRefusal(await t.gql(ReferralsDocument, { filter: { fromOrganizationId: 'village' } }), 'BAD_USER_INPUT', 'fromOrganizationId');
    expectRefusal(await t.gql(ReferralsDocument, { filter: { patientId: '1' } }), 'BAD_USER_INPUT', 'patientId');
    expectRefusal(await t.gql(ReferralsDocument, { first: 201 }), 'BAD_USER_INPUT', 'first');
    expectRefusal(await t.gql(ReferralsDocument, { first: -1 }), 'BAD_USER_INPUT', 'first');
    expectRefusal(await t.gql(ReferralsDocument, { after: 'not-a-cursor' }), 'BAD_USER_INPUT', 'after');
    // A cursor of the right shape whose contents are not a position is refused too.
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    expectRefusal(await t.gql(ReferralsDocument, { after: forged }), 'BAD_USER_INPUT', 'after');
  });
});
