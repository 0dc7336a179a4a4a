/**
 * The indicator engine (issue 13, src/indicators/): a hand-built county whose every figure is worked out below from
 * the fixture (test/helpers/indicator-fixtures.ts says who is who), and a seeded county checked against plain SQL.
 */
import { type Caller, ClientKind, Role } from '../src/access/caller.js';
import { AccessPolicy, DEFAULT_POLICY_SETTINGS } from '../src/access/policy.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { faceToFaceVisitsRequired, faceToFaceVisitsRequiredSql, inProgrammeOn, inProgrammeOnSql, type ManagedOn, managedOn, managedOnSql } from '../src/care-rules/managed.js';
import { nonMedicalInForceOn, nonMedicalInForceOnSql } from '../src/care-rules/non-medical.js';
import { pathwayCompleted, pathwayCompletedSql, pathwayEntered, pathwayEnteredSql } from '../src/care-rules/pathway.js';
import { doneOnTimeSql, dueVisitSql, isDoneOnTime, isDueVisit } from '../src/care-rules/visits.js';
import { IdentifierProtector } from '../src/access/identifier-protection.js';
import { seedCounty, seedNowFor } from '../src/seed/generate.js';
import { ActivityCategory, ActivityStatus, CarePlanStatus, CareStatus, ClinicalStatus, ConditionKind, PathwayStep, VerificationStatus } from '../vocabulary/index.js';
import type { EntityManager } from '../src/db/orm.js';
import { evaluateIndicators, indicatorPatientIds, indicatorTrend, INDICATORS, type IndicatorRequest } from '../src/indicators/index.js';
import type { ResolvedScope } from '../src/worklists/scope.js';
import { asInternal } from '../src/access/index.js';
import { openDatabase, type Orm } from '../src/db/orm.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { buildIndicatorCounty, type IndicatorCounty, PERIOD } from './helpers/indicator-fixtures.js';

let db: TestDatabase;
let orm: Orm;
let c: IndicatorCounty;
let em: EntityManager;
const TODAY = '2026-12-01';

// The engine over the database alone (no app, no event worker: the derived rows stay as the fixture wrote them).
beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  em = asInternal(orm.em.fork() as EntityManager);
  c = await buildIndicatorCounty(em);
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const policyOf = (caller: Partial<Caller>) => new AccessPolicy({ kind: 'user', subject: 'test', roles: [], scopes: [], ...caller } as Caller, DEFAULT_POLICY_SETTINGS, () => TODAY);
const admin = () => policyOf({ roles: [Role.PLATFORM_ADMIN] });
const townshipGp = () => policyOf({ roles: [Role.GENERAL_PRACTITIONER], organizationId: c.township.id, organizationPath: c.township.path, practitionerId: c.gp.id });
const villageDoctor = () => policyOf({ roles: [Role.VILLAGE_DOCTOR], organizationId: c.village.id, organizationPath: c.village.path, practitionerId: c.villageDoctor.id });
const insurer = () => policyOf({ kind: 'system', clientKind: ClientKind.INSURER, organizationId: c.insurer.id, organizationPath: c.insurer.path, scopes: ['system/*.rs'] });
const township = (): ResolvedScope => ({ organizationId: c.township.id, organizationPath: c.township.path });

// The county's calendar is Asia/Shanghai's (tests elsewhere run on UTC): a reading at 00:30 on 1 July there is after the period.
const request = (extra: Partial<IndicatorRequest> = {}): IndicatorRequest => ({ scope: township(), period: PERIOD, rules: DEFAULT_CARE_RULES, today: TODAY, timeZone: 'Asia/Shanghai', ...extra });
async function one(id: string, policy = townshipGp(), extra: Partial<IndicatorRequest> = {}) {
  const [r] = await evaluateIndicators(em, policy, request({ ids: [id], ...extra }));
  return r!;
}
const nd = (r: { numerator: number; denominator: number }) => [r.numerator, r.denominator];
const names = (ids: string[]) => ids.map((id) => Object.entries(c.patients).find(([, p]) => p.id === id)?.[0] ?? id).sort();

describe('checks', () => {
  it('refuses a period that is not real dates, ends before it starts or runs over five years, and an unknown indicator (BAD_USER_INPUT)', async () => {
    const refused = async (extra: Partial<IndicatorRequest>) => {
      await expect(evaluateIndicators(em, townshipGp(), request(extra))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    };
    await refused({ period: { start: '2026-02-30', end: '2026-03-31' } });
    await refused({ period: { start: '2026-01-01', end: '31/03/2026' } });
    await refused({ period: { start: '2026-06-01', end: '2026-05-31' } });
    await refused({ period: { start: '2020-01-01', end: '2025-01-01' } });
    await refused({ ids: ['no-such-indicator'] });
    // A scope whose organisation was never resolved to its subtree would count the whole county: refused outright.
    await expect(evaluateIndicators(em, townshipGp(), request({ scope: { organizationId: c.village.id } }))).rejects.toThrow(/not resolved/);
    // Five years less a day is allowed.
    await expect(evaluateIndicators(em, townshipGp(), request({ ids: ['bp-control-rate'], period: { start: '2021-07-01', end: '2026-06-30' } }))).resolves.toHaveLength(1);
  });

  it('every indicator of the care model, in its order, with a definition in words', () => {
    expect(INDICATORS.map((d) => d.id)).toEqual([
      'standardised-management-rate',
      'bp-control-rate',
      'glucose-control-rate',
      'hba1c-control-rate',
      'follow-up-on-time-rate',
      'non-medical-prescription-rate',
      'pathway-execution-rate',
      'up-referral-rate',
      'down-referral-rate',
      'intensive-hospitalisation-rate',
      'self-management-group-coverage',
    ]);
    for (const d of INDICATORS) expect(Object.values(d.definition).every((text) => text.length > 40)).toBe(true);
  });
});

describe('the township over the first half of 2026', () => {
  // Managed at 2026-06-30 in the township (hypertension or diabetes): P1 P2 P3 P4 P6 P11 P12 P13 P14 P15 P18 = 11.
  it('all indicators in one request, each by hand', async () => {
    const all = await evaluateIndicators(em, townshipGp(), request());
    const by = Object.fromEntries(all.map((r) => [r.definition.id, nd(r)]));
    expect(by).toEqual({
      // Two face-to-face visits asked of a half year (ceil(4 × 6/12)); one of P18, managed from 05-01 (ceil(4 × 2/12)).
      // P1 two clinic visits, P18 a home visit: 2. P2's was by phone, P6 had one in the period (the other after), the rest none.
      'standardised-management-rate': [2, 11],
      // Hypertension: P1 P2 P3 P4 P6 P11 P14 P15 P18 (not P12, P13: diabetes only). Controlled: P1 (130/80), P4 (its later
      // reading is implausible, ignored), P6 (23:30 on the last day; its 150/95 at 00:30 on 1 July, county time, is after
      // the period though still 30 June in UTC), P18 (135/85). Not: P2 (latest in the period 150/95; the 120/70 after it is
      // outside), P3 (no reading in the period), P11 (145/85), P14 and P15 (none).
      'bp-control-rate': [4, 9],
      // Diabetes: P11 P12 P13; P11's fasting glucose 6.5 controlled, P12's 8.0 not, P13 has none.
      'glucose-control-rate': [1, 3],
      // With an HbA1c in the period: P11 (7.5, not) and P13 (6.5, controlled).
      'hba1c-control-rate': [1, 2],
      // Due in the period: P1 02-01 and 05-01 (done 02-01 and 04-28: on time), P2 03-01 (done 03-10: late), P3 06-15 (never
      // done). Not P3's cancelled 04-01, not P11's 07-10, not P5's (died).
      'follow-up-on-time-rate': [2, 4],
      // P1 (active plan, diet) and P2 (a plan completed on 06-30, still in force that day); not P3 (medication only), P4
      // (the plan starts 07-15), P11 (revoked).
      'non-medical-prescription-rate': [2, 11],
      // Entered: P1 P2 P12 P19 (P20's suspicion was refuted; P17's COPD is not a programme pathway). Completed: P1 (P12 re-assessed after the period).
      'pathway-execution-rate': [1, 4],
      // Up: P2 03-02 (the cancelled one not), P11 02-01; not P5 (died), not P1's of 2025-12-31.
      'up-referral-rate': [2, 11],
      // From the county: P11's 03-01; not P3's from the township.
      'down-referral-rate': [1, 11],
      // Intensive: P14 (inpatient in March) and P15 (an emergency visit, and a stay that ended before the period).
      'intensive-hospitalisation-rate': [1, 2],
      // One township in scope, with the village's open group.
      'self-management-group-coverage': [1, 1],
    });
    const bp = all.find((r) => r.definition.id === 'bp-control-rate')!;
    expect(bp.value).toBeCloseTo(4 / 9);
    expect(bp.target).toBe(0.67);
    expect(all.find((r) => r.definition.id === 'hba1c-control-rate')!.target).toBeUndefined();
  });

  it('a denominator of 0 has no value', async () => {
    const r = await one('hba1c-control-rate', townshipGp(), { scope: { organizationId: c.village.id, organizationPath: c.village.path } });
    // The village's diabetes patient P12 has no HbA1c.
    expect(r).toMatchObject({ numerator: 0, denominator: 0, value: null });
  });

  it('by sub-organisation: the township’s own patients and each village’s, summing to the total', async () => {
    const all = await evaluateIndicators(em, townshipGp(), request({ breakdown: true }));
    const bp = all.find((r) => r.definition.id === 'bp-control-rate')!;
    const rows = Object.fromEntries(bp.byOrganization!.map((o) => [o.organizationId, nd(o)]));
    // Township: P14 (no reading). Village: P1 P6 P18 controlled of P1 P2 P3 P6 P18. Other village: P4 of P4 P11 P15.
    expect(rows).toEqual({ [c.township.id]: [0, 1], [c.village.id]: [3, 5], [c.otherVillage.id]: [1, 3] });
    for (const r of all) {
      const sum = r.byOrganization!.reduce((a, o) => [a[0]! + o.numerator, a[1]! + o.denominator], [0, 0]);
      expect([r.definition.id, sum]).toEqual([r.definition.id, nd(r)]);
    }
    // The township counts itself for the groups: one row, the township's.
    expect(all.find((r) => r.definition.id === 'self-management-group-coverage')!.byOrganization!.filter((o) => o.denominator > 0).map((o) => o.organizationId)).toEqual([c.township.id]);
  });

  it('lists the patients of the numerator, the denominator and the difference, a page at a time', async () => {
    const list = async (id: string, population: 'numerator' | 'denominator' | 'denominator-not-numerator', first = 100, after?: string) =>
      indicatorPatientIds(em, townshipGp(), { ...request(), id, population, first, after });
    expect(names((await list('bp-control-rate', 'numerator')).patientIds)).toEqual(['P1', 'P18', 'P4', 'P6']);
    expect(names((await list('bp-control-rate', 'denominator')).patientIds)).toEqual(['P1', 'P11', 'P14', 'P15', 'P18', 'P2', 'P3', 'P4', 'P6']);
    expect(names((await list('bp-control-rate', 'denominator-not-numerator')).patientIds)).toEqual(['P11', 'P14', 'P15', 'P2', 'P3']);
    expect(names((await list('follow-up-on-time-rate', 'denominator-not-numerator')).patientIds)).toEqual(['P2', 'P3']);
    expect(names((await list('up-referral-rate', 'numerator')).patientIds)).toEqual(['P11', 'P2']);
    expect((await list('self-management-group-coverage', 'numerator')).patientIds).toEqual([c.township.id]);

    const all = (await list('bp-control-rate', 'denominator')).patientIds;
    expect(all).toEqual([...all].sort());
    const page1 = await list('bp-control-rate', 'denominator', 4);
    expect(page1).toEqual({ patientIds: all.slice(0, 4), hasMore: true, total: 9 });
    const page2 = await list('bp-control-rate', 'denominator', 4, page1.patientIds.at(-1));
    expect(page2).toEqual({ patientIds: all.slice(4, 8), hasMore: true, total: 9 });
    const page3 = await list('bp-control-rate', 'denominator', 4, page2.patientIds.at(-1));
    expect(page3).toEqual({ patientIds: all.slice(8), hasMore: false, total: 9 });
    await expect(list('bp-control-rate', 'denominator', 4, 'not-an-id')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(list('bp-control-rate', 'denominator', 5000)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('a monthly trend, each month from the start of the period', async () => {
    const trend = await indicatorTrend(em, townshipGp(), { ...request(), id: 'bp-control-rate' });
    expect(trend.map((p) => p.month)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']);
    expect(trend[2]!.period).toEqual({ start: '2026-01-01', end: '2026-03-31' });
    // At 03-31: managed for hypertension P1 P2 P3 P4 P5 (died later) P6 P7 (moved later) P11 P14 P15 = 10 (P18 not yet
    // registered); latest by then controlled: P1 (03-01), P2 (02-01: the uncontrolled one came in May), P4, P5, P7 = 5.
    expect(nd(trend[2]!)).toEqual([5, 10]);
    expect(nd(trend[5]!)).toEqual([4, 9]);
  });
});

describe('who is counted', () => {
  it('the administrator over the whole county: the other township’s patient and its closed group too', async () => {
    const all = await evaluateIndicators(em, admin(), request({ scope: {}, ids: ['bp-control-rate', 'self-management-group-coverage'] }));
    // P10 (village2, 125/80) joins the BP rate; township2's group closed on 06-15, before the period end.
    expect(all.map(nd)).toEqual([
      [5, 10],
      [1, 2],
    ]);
    const ids = (await indicatorPatientIds(em, admin(), { ...request({ scope: {} }), id: 'bp-control-rate', population: 'denominator', first: 100 })).patientIds;
    expect(ids.filter((id) => id === c.patients.P10.id)).toHaveLength(1);
  });

  it('a village doctor: her clinic’s patients and her team’s grid', async () => {
    // Hers: P1 P2 P3 P6 P18 managed for hypertension at the village, P4 on the grid. Controlled P1 P4 P6 P18.
    expect(nd(await one('bp-control-rate', villageDoctor(), { scope: {} }))).toEqual([4, 6]);
  });

  it('an insurer: its members covered during the period, however the coverage stands today', async () => {
    // Covered in the first half of 2026: P1 (open) and P3 (to 02-01); P2's coverage starts in July. P1 controlled.
    const r = await one('bp-control-rate', insurer(), { scope: {}, breakdown: true });
    expect(nd(r)).toEqual([1, 2]);
    // An insurer has no place in the community: the breakdown is the county's (its root and the townships).
    expect(r.byOrganization!.find((o) => o.organizationId === c.township.id)).toMatchObject({ numerator: 1, denominator: 2 });
    const ids = (await indicatorPatientIds(em, insurer(), { ...request({ scope: {} }), id: 'bp-control-rate', population: 'denominator', first: 10 })).patientIds;
    expect(names(ids)).toEqual(['P1', 'P3']);
  });
});

/**
 * A seeded county (800 residents, the demo generator, as of 2026-11-01) against plain SQL written here with the
 * default rules' numbers as literals — 140/90, 7.0 mmol/L and 3.9 (urgent low), HbA1c 7.0 %, 4 face-to-face visits a
 * year — so that a rule built wrongly from CareRules, or a definition joined wrongly, shows as a difference. And
 * each TypeScript rule the definitions' SQL twins stand for, over the same rows.
 */
describe('a seeded county', () => {
  const SEEDED_PERIOD = { start: '2026-01-01', end: '2026-10-31' };
  const SEEDED_TODAY = '2026-11-01';
  let sdb: TestDatabase;
  let sorm: Orm;
  let sem: EntityManager;
  const rows = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => sem.execute<T[]>(sql, params);

  beforeAll(async () => {
    sdb = await createTestDatabase();
    sorm = await openDatabase({ databaseUrl: sdb.databaseUrl, embeddedDataDir: sdb.embeddedDataDir });
    sem = asInternal(sorm.em.fork() as EntityManager);
    const protector = new IdentifierProtector({ encKey: Buffer.alloc(32, 7), hmacKey: Buffer.alloc(32, 9) });
    await seedCounty(sorm.em.fork() as unknown as EntityManager, { patients: 800, seed: 42, protector, now: seedNowFor(SEEDED_TODAY) });
  }, 600_000);
  afterAll(async () => {
    await sorm?.close();
    await sdb?.drop();
  });

  const local = (col: string) => `((${col}) at time zone 'Asia/Shanghai')::date`;
  const S_AT = `(date '2026-01-01'::timestamp at time zone 'Asia/Shanghai')`;
  const E_AT = `(date '2026-11-01'::timestamp at time zone 'Asia/Shanghai')`;
  // Managed on 2026-10-31: registered by then, not gone by then, a standing hypertension or diabetes diagnosis dated by then.
  const MANAGED = `with mgd as (
      select p.id, p.management_tier, bool_or(c.kind = 'HYPERTENSION') as htn, bool_or(c.kind = 'TYPE_2_DIABETES') as dm,
        greatest(min(coalesce(c.onset_date, ${local('c.created_at')})), ${local('p.created_at')}) as since
      from patient p join condition c on c.patient_id = p.id
      where c.kind in ('HYPERTENSION', 'TYPE_2_DIABETES') and c.clinical_status in ('ACTIVE', 'RECURRENCE', 'RELAPSE')
        and c.verification_status not in ('REFUTED', 'ENTERED_IN_ERROR') and coalesce(c.onset_date, ${local('c.created_at')}) <= date '2026-10-31'
        and ${local('p.created_at')} <= date '2026-10-31' and (p.care_status = 'ACTIVE' or p.care_status_on > date '2026-10-31')
      group by p.id)`;
  const latest = (kind: string, test: string) =>
    `(select ${test} from observation o where o.patient_id = m.id and o.kind = '${kind}' and o.plausibility = 'PLAUSIBLE'
        and o.effective_at >= ${S_AT} and o.effective_at < ${E_AT} order by o.effective_at desc, o.id desc limit 1)`;
  const NON_MEDICAL = `exists (select 1 from care_plan cp join care_plan_activity a on a.care_plan_id = cp.id where cp.patient_id = m.id
      and a.category <> 'MEDICATION' and cp.period_start <= date '2026-10-31'
      and ((cp.status = 'ACTIVE' and a.status in ('NOT_STARTED', 'SCHEDULED', 'IN_PROGRESS'))
        or (cp.status = 'COMPLETED' and coalesce(cp.period_end, date '2026-10-31') >= date '2026-10-31' and a.status in ('NOT_STARTED', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED'))))`;
  const referrals = (direction: string, fromCounty: boolean) =>
    `(select count(*) from referral r ${fromCounty ? `join organization fo on fo.id = r.from_organization_id and fo.level = 'COUNTY'` : ''}
       where r.patient_id = m.id and r.direction = '${direction}' and r.status in ('REQUESTED', 'ACCEPTED', 'COMPLETED')
         and r.requested_at >= ${S_AT} and r.requested_at < ${E_AT})`;
  const plain: Record<string, string> = {
    'standardised-management-rate': `${MANAGED}
      select count(*) filter (where (select count(*) from follow_up v where v.patient_id = m.id and v.done_date is not null and v.cancelled_at is null
          and v.type in ('CLINIC', 'HOME') and v.done_date >= date '2026-01-01' and v.done_date <= date '2026-10-31')
        >= ceil(4 * (((date_part('year', date '2026-11-01') - date_part('year', greatest(date '2026-01-01', m.since))) * 12
          + date_part('month', date '2026-11-01') - date_part('month', greatest(date '2026-01-01', m.since))) * 30
          + date_part('day', date '2026-11-01') - date_part('day', greatest(date '2026-01-01', m.since))) / 360.0)) as n, count(*) as d from mgd m`,
    'bp-control-rate': `${MANAGED} select count(*) filter (where ${latest('BLOOD_PRESSURE', 'o.systolic < 140 and o.diastolic < 90')} is true) as n, count(*) as d from mgd m where m.htn`,
    'glucose-control-rate': `${MANAGED} select count(*) filter (where ${latest('FASTING_GLUCOSE', 'o.value < 7.0 and o.value > 3.9')} is true) as n, count(*) as d from mgd m where m.dm`,
    'hba1c-control-rate': `${MANAGED} select count(*) filter (where ${latest('HBA1C', 'o.value < 7.0')}) as n, count(*) as d from mgd m where m.dm and ${latest('HBA1C', 'true')} is not null`,
    'follow-up-on-time-rate': `${MANAGED} select count(*) filter (where v.done_date <= v.planned_date) as n, count(*) as d
      from mgd m join follow_up v on v.patient_id = m.id where v.planned_date between date '2026-01-01' and date '2026-10-31' and v.cancelled_at is null
        and (v.done_date is not null or v.planned_date < date '${SEEDED_TODAY}')`,
    'non-medical-prescription-rate': `${MANAGED} select count(*) filter (where ${NON_MEDICAL}) as n, count(*) as d from mgd m`,
    'pathway-execution-rate': `with entered as (
        select distinct p.id from patient p join pathway_step s on s.patient_id = p.id
        where s.condition_kind in ('HYPERTENSION', 'TYPE_2_DIABETES') and s.step in ('SUSPECTED', 'CONFIRMED') and s.reached_at < ${E_AT}
          and ${local('p.created_at')} <= date '2026-10-31' and (p.care_status = 'ACTIVE' or p.care_status_on > date '2026-10-31')
          and (exists (select 1 from pathway_step k where k.patient_id = p.id and k.condition_kind = s.condition_kind and k.step = 'CONFIRMED' and k.reached_at < ${E_AT})
            or not exists (select 1 from condition r where r.patient_id = p.id and r.kind = s.condition_kind and r.verification_status = 'REFUTED')))
      select count(*) filter (where exists (select 1 from pathway_step s where s.patient_id = e.id and s.condition_kind in ('HYPERTENSION', 'TYPE_2_DIABETES')
        and s.step = 'REASSESSED' and s.reached_at < ${E_AT})) as n, count(*) as d from entered e`,
    'up-referral-rate': `${MANAGED} select coalesce(sum(${referrals('UP', false)}), 0) as n, count(*) as d from mgd m`,
    'down-referral-rate': `${MANAGED} select coalesce(sum(${referrals('DOWN', true)}), 0) as n, count(*) as d from mgd m`,
    'intensive-hospitalisation-rate': `${MANAGED} select count(*) filter (where exists (select 1 from admission a where a.patient_id = m.id and a.kind = 'INPATIENT'
        and a.status not in ('PLANNED', 'CANCELLED', 'ENTERED_IN_ERROR') and a.period_start < ${E_AT} and (a.period_end is null or a.period_end >= ${S_AT}))) as n,
      count(*) as d from mgd m where m.management_tier = 'INTENSIVE'`,
    'self-management-group-coverage': `with towns as (select distinct t.id, t.path from organization t join organization o on o.path like t.path || '%'
        join patient p on p.managing_organization_id = o.id where t.level = 'TOWNSHIP')
      select count(*) filter (where exists (select 1 from self_management_group g join organization go on go.id = g.organization_id
        where go.path like t.path || '%' and ${local('g.created_at')} <= date '2026-10-31' and (g.closed_on is null or g.closed_on > date '2026-10-31'))) as n,
      count(*) as d from towns t`,
  };

  it('every indicator agrees with plain SQL over the whole county, and none is trivially 0 or all', async () => {
    const results = await evaluateIndicators(sem, admin(), { scope: {}, period: SEEDED_PERIOD, rules: DEFAULT_CARE_RULES, today: SEEDED_TODAY, timeZone: 'Asia/Shanghai' });
    for (const r of results) {
      const [expected] = await rows<{ n: string; d: string }>(plain[r.definition.id]!);
      expect([r.definition.id, nd(r)]).toEqual([r.definition.id, [Number(expected!.n), Number(expected!.d)]]);
    }
    const byId = Object.fromEntries(results.map((r) => [r.definition.id, r]));
    for (const id of ['standardised-management-rate', 'bp-control-rate', 'glucose-control-rate', 'follow-up-on-time-rate', 'non-medical-prescription-rate', 'pathway-execution-rate']) {
      expect([id, byId[id]!.numerator > 0 && byId[id]!.numerator < byId[id]!.denominator]).toEqual([id, true]);
    }
  });

  it('the TypeScript rules and their SQL twins agree over the county', async () => {
    const day = SEEDED_PERIOD.end;
    const patients = await rows<{ id: string; registered_on: string; care_status: CareStatus; care_status_on: string | null }>(
      `select id, ${local('created_at')}::text as registered_on, care_status, care_status_on::text from patient`,
    );
    const conditions = await rows<{ patient_id: string; kind: ConditionKind; clinical_status: ClinicalStatus; verification_status: VerificationStatus; diagnosed_on: string }>(
      `select patient_id, kind, clinical_status, verification_status, coalesce(onset_date, ${local('created_at')})::text as diagnosed_on from condition`,
    );
    const byPatient = <T extends { patient_id: string }>(list: T[]) => list.reduce((m, x) => m.set(x.patient_id, [...(m.get(x.patient_id) ?? []), x]), new Map<string, T[]>());
    const dx = byPatient(conditions);
    const ts = new Map<string, ManagedOn>();
    for (const p of patients) {
      const m = managedOn({ registeredOn: p.registered_on, careStatus: p.care_status, careStatusOn: p.care_status_on }, (dx.get(p.id) ?? []).map((d) => ({ kind: d.kind, clinicalStatus: d.clinical_status, verificationStatus: d.verification_status, diagnosedOn: d.diagnosed_on })), day);
      if (m) ts.set(p.id, m);
    }
    const sql = await rows<{ id: string; hypertension: boolean; diabetes: boolean; managed_since: string }>(`select id, hypertension, diabetes, managed_since::text from (${managedOnSql('patient', `date '${day}'`, 'Asia/Shanghai')}) x`);
    expect(sql.length).toBeGreaterThan(100);
    expect(new Map(sql.map((r) => [r.id, { hypertension: r.hypertension, diabetes: r.diabetes, since: r.managed_since }]))).toEqual(ts);
    const inProgramme = new Set((await rows<{ id: string }>(`select p.id from patient p where ${inProgrammeOnSql('p', `date '${day}'`, 'Asia/Shanghai')}`)).map((r) => r.id));
    expect(inProgramme).toEqual(new Set(patients.filter((p) => inProgrammeOn({ registeredOn: p.registered_on, careStatus: p.care_status, careStatusOn: p.care_status_on }, day)).map((p) => p.id)));

    // Non-medical prescriptions in force at the period end, for every patient with a plan.
    const plans = await rows<{ id: string; patient_id: string; status: CarePlanStatus; period_start: string; period_end: string | null }>(`select id, patient_id, status, period_start::text, period_end::text from care_plan`);
    const activities = await rows<{ care_plan_id: string; category: ActivityCategory; status: ActivityStatus }>(`select care_plan_id, category, status from care_plan_activity`);
    const acts = activities.reduce((m, a) => m.set(a.care_plan_id, [...(m.get(a.care_plan_id) ?? []), a]), new Map<string, typeof activities>());
    const planned = byPatient(plans);
    const inForceTs = new Set([...planned].filter(([, ps]) => nonMedicalInForceOn(ps.map((p) => ({ status: p.status, periodStart: p.period_start, periodEnd: p.period_end, activities: acts.get(p.id) ?? [] })), day)).map(([id]) => id));
    const inForceSql = new Set((await rows<{ id: string }>(`select p.id from patient p where ${nonMedicalInForceOnSql('p.id', `date '${day}'`)}`)).map((r) => r.id));
    expect(inForceSql.size).toBeGreaterThan(50);
    expect(inForceSql).toEqual(inForceTs);

    // The pathway entered and completed by the end of the period.
    const before = new Date('2026-10-31T16:00:00Z');
    const steps = await rows<{ patient_id: string; condition_kind: ConditionKind; step: PathwayStep; reached_at: Date }>(`select patient_id, condition_kind, step, reached_at from pathway_step`);
    const refuted = new Set(conditions.filter((c) => c.verification_status === VerificationStatus.REFUTED).map((c) => `${c.patient_id} ${c.kind}`));
    const walked = byPatient(steps);
    const KINDS = [ConditionKind.HYPERTENSION, ConditionKind.TYPE_2_DIABETES];
    const reached = (id: string) => (walked.get(id) ?? []).map((s) => ({ conditionKind: s.condition_kind, step: s.step, reachedAt: new Date(s.reached_at) }));
    const enteredTs = new Set([...walked.keys()].filter((id) => KINDS.some((k) => pathwayEntered(reached(id), k, before, refuted.has(`${id} ${k}`)))));
    const completedTs = new Set([...walked.keys()].filter((id) => KINDS.some((k) => pathwayCompleted(reached(id), k, before))));
    const at = `timestamptz '${before.toISOString()}'`;
    const enteredSql = new Set((await rows<{ id: string }>(`select p.id from patient p where ${pathwayEnteredSql('p.id', KINDS, at)}`)).map((r) => r.id));
    const completedSql = new Set((await rows<{ id: string }>(`select p.id from patient p where ${pathwayCompletedSql('p.id', KINDS, at)}`)).map((r) => r.id));
    expect(completedSql.size).toBeGreaterThan(10);
    expect([enteredSql, completedSql]).toEqual([enteredTs, completedTs]);

    // Due and on-time visits.
    const visits = await rows<{ id: string; planned: string | null; done: string | null; cancelled_at: Date | null; due: boolean; on_time: boolean }>(
      `select v.id, v.planned_date::text as planned, v.done_date::text as done, v.cancelled_at, ${dueVisitSql('v')} as due, ${doneOnTimeSql('v')} as on_time from follow_up v`,
    );
    const judged = visits.map((v) => ({ due: isDueVisit({ plannedDate: v.planned, doneDate: v.done, cancelledAt: v.cancelled_at }), onTime: isDoneOnTime({ plannedDate: v.planned, doneDate: v.done, cancelledAt: v.cancelled_at }) }));
    expect(visits.map((v) => ({ due: v.due, onTime: v.on_time }))).toEqual(judged);
    expect(judged.filter((j) => j.onTime).length).toBeGreaterThan(50);
  });

  it('the face-to-face visits asked of a stretch of management: TypeScript and SQL agree day by day, whole months come out whole', async () => {
    const pairs = await rows<{ from: string; to: string; required: number }>(
      `select f::date::text as from, t::date::text as to, ${faceToFaceVisitsRequiredSql('f::date', 't::date', '4')} as required
         from generate_series(date '2023-12-20', date '2024-03-10', interval '3 days') f, generate_series(date '2024-02-25', date '2025-01-05', interval '5 days') t`,
    );
    expect(pairs.length).toBeGreaterThan(1000);
    for (const p of pairs) expect([p.from, p.to, p.required]).toEqual([p.from, p.to, faceToFaceVisitsRequired(p.from, p.to, 4)]);
    // A year 4 (a leap year too), half a year 2, a quarter 1, a month 1; ten weeks 1; three and a half months 2.
    expect([['2024-01-01', '2024-12-31'], ['2025-01-01', '2025-12-31'], ['2024-07-01', '2024-12-31'], ['2024-04-01', '2024-06-30'], ['2024-02-01', '2024-02-29'], ['2024-01-01', '2024-03-10'], ['2024-01-01', '2024-04-15']].map(([f, t]) => faceToFaceVisitsRequired(f!, t!, 4))).toEqual([4, 4, 2, 1, 1, 1, 2]);
  });
});
