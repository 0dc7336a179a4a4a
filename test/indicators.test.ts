/**
 * The indicator engine (issue 13, src/indicators/): a hand-built county whose every figure is worked out below from
 * the fixture (test/helpers/indicator-fixtures.ts says who is who), and a seeded county checked against plain SQL.
 */
import { type Caller, ClientKind, Role } from '../src/access/caller.js';
import { AccessPolicy, DEFAULT_POLICY_SETTINGS } from '../src/access/policy.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
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

const request = (extra: Partial<IndicatorRequest> = {}): IndicatorRequest => ({ scope: township(), period: PERIOD, rules: DEFAULT_CARE_RULES, today: TODAY, ...extra });
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
