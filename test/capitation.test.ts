/**
 * Capitation contracts and their settlement over the database (src/domain/capitation): heads, risk attributes,
 * indicator values and workloads read from a hand-built county, every figure worked out below by hand. The
 * arithmetic's own cases (the design notes' real settlement among them) are src/domain/capitation/settle.test.ts.
 */
import { AuditEvent } from '../src/access/audit-event.entity.js';
import { ClientKind } from '../src/access/caller.js';
import { CapitationContract } from '../src/domain/capitation/capitation-contract.entity.js';
import { ClinicalStatus, Condition, ConditionKind, VerificationStatus } from '../src/domain/condition/condition.entity.js';
import { Consent } from '../src/domain/consent/consent.entity.js';
import { Coverage } from '../src/domain/coverage/coverage.entity.js';
import { FollowUp, FollowUpType } from '../src/domain/follow-up/follow-up.entity.js';
import { Observation, ObservationKind, ObservationSource } from '../src/domain/observation/observation.entity.js';
import { Organization, OrganizationLevel, OrganizationType } from '../src/domain/organization/organization.entity.js';
import { Gender } from '../src/domain/patient/gender.js';
import { CareStatus, Patient } from '../src/domain/patient/patient.entity.js';
import { ConsentDecision, ConsentPurpose, CoverageStatus } from '../vocabulary/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { smartToken } from './helpers/access-fixtures.js';
import { buildCounty, MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  CapitationContractDocument,
  CapitationContractsDocument,
  CreateCapitationContractDocument,
  type CreateCapitationContractInput,
  SettlementDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
let otherInsurer: Organization;
let insurer: string; // the county insurer's system client (I1)
let insurerClientId: string;
let otherInsurerToken: string; // a commercial insurer's (I2)
let countyStaff: string; // a community administrator of the county hospital: the community's root
let countyGp: string; // a GP there: a clinician of the root, no party to the contract
let townshipGp: string;
let villageDoctor: string;

/**
 * The county of test/helpers/fixtures.ts (county hospital → township → 东村, 西村) and these patients, all registered
 * today, the period the calendar year 2026 (age on 2026-01-01):
 *
 *   A  东村  born 1950-03-01 (75)  hypertension since 2020   I1 from 2025-01-01   BP 2026-05-01 130/80 (controlled)
 *   B  东村  born 1980-06-01 (45)  hypertension since 2020   I1                   BP 2026-04-01 150/95 (not)
 *   C  西村  born 1960-01-01 (66)  —                          I1
 *   D  township  born 1990-01-01 (36) —                      I1
 *   E  township  born 1961-01-02 (64) diabetes since 2020    I1
 *   K  东村  born 1950-07-01 (75)  hypertension since 2026-03-01 (after the period began: no condition uplift)   I1
 *   M  东村  born 1970-01-01 (55)  hypertension since 2020   I1, but denied the insurer her data   BP 2026-02-01 120/80
 *   F  东村  born 1955-01-01       hypertension since 2020   I2 only (not I1's head)              BP 2026-03-01 120/80
 *   G  东村  hypertension          I1 ended 2025-12-31 (before the period)
 *   H  东村  hypertension          I1 CANCELLED
 *
 * I1's heads: A (65+ and a condition), B, E, M (a condition), C, K (65+), D (neither): 7.
 * Follow-ups done: A's on 2026-03-01 by 东村; E's on 2026-04-01 naming no organisation (E's township's); K's on
 * 2026-06-01 by the county hospital; not counted — F's (no head), B's on 2025-12-20 (before the period), B's cancelled.
 */
async function buildCapitationCounty() {
  const em = t.em();
  county = await buildCounty(em, 'CAP');
  otherInsurer = em.create(Organization, { name: '商业保险公司', code: 'CAP-I2', level: OrganizationLevel.EXTERNAL, type: OrganizationType.INSURER, path: '', version: 1 } as never) as Organization;
  otherInsurer.path = `/${otherInsurer.id}/`;
  const patient = (name: string, org: Organization, birthDate: string) =>
    em.create(Patient, { name, gender: Gender.FEMALE, birthDate, managingOrganization: org, careStatus: CareStatus.ACTIVE, version: 1 } as never) as Patient;
  const p = {
    A: patient('甲', county.village, '1950-03-01'),
    B: patient('乙', county.village, '1980-06-01'),
    C: patient('丙', county.otherVillage, '1960-01-01'),
    D: patient('丁', county.township, '1990-01-01'),
    E: patient('戊', county.township, '1961-01-02'),
    K: patient('庚', county.village, '1950-07-01'),
    M: patient('辛', county.village, '1970-01-01'),
    F: patient('壬', county.village, '1955-01-01'),
    G: patient('癸', county.village, '1955-01-01'),
    H: patient('子', county.village, '1955-01-01'),
  };
  const condition = (pt: Patient, kind: ConditionKind, onsetDate = '2020-01-01') =>
    em.create(Condition, { patient: pt, code: kind === ConditionKind.HYPERTENSION ? 'I10' : 'E11', system: 'http://hl7.org/fhir/sid/icd-10', kind, clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus: VerificationStatus.CONFIRMED, onsetDate, version: 1 } as never);
  for (const pt of [p.A, p.B, p.M, p.F, p.G, p.H]) condition(pt, ConditionKind.HYPERTENSION);
  condition(p.K, ConditionKind.HYPERTENSION, '2026-03-01');
  condition(p.E, ConditionKind.TYPE_2_DIABETES);
  let member = 0;
  const coverage = (pt: Patient, ins: Organization, periodStart = '2025-01-01', periodEnd?: string, status = CoverageStatus.ACTIVE) =>
    em.create(Coverage, { patient: pt, insurer: ins, memberNumber: `CAP-${++member}`, status, periodStart, periodEnd, version: 1 } as never);
  for (const pt of [p.A, p.B, p.C, p.D, p.E, p.K, p.M]) coverage(pt, county.insurer);
  coverage(p.F, otherInsurer);
  coverage(p.G, county.insurer, '2024-01-01', '2025-12-31');
  coverage(p.H, county.insurer, '2025-01-01', undefined, CoverageStatus.CANCELLED);
  em.create(Consent, { patient: p.M, purpose: ConsentPurpose.INSURER_SHARING, decision: ConsentDecision.DENY, periodStart: '2025-01-01', version: 1 } as never);
  const bp = (pt: Patient, day: string, systolic: number, diastolic: number) =>
    em.create(Observation, { patient: pt, kind: ObservationKind.BLOOD_PRESSURE, code: '85354-9', system: 'http://loinc.org', unit: 'mm[Hg]', effectiveAt: new Date(`${day}T10:00:00+08:00`), source: ObservationSource.CLINIC, systolic, diastolic, version: 1 } as never);
  bp(p.A, '2026-05-01', 130, 80);
  bp(p.B, '2026-04-01', 150, 95);
  bp(p.M, '2026-02-01', 120, 80);
  bp(p.F, '2026-03-01', 120, 80);
  const visit = (pt: Patient, doneDate: string, organization?: Organization, cancelled = false) =>
    em.create(FollowUp, { patient: pt, type: FollowUpType.CLINIC, doneDate, organization, adverseReaction: false, newComplication: false, ...(cancelled ? { cancelledAt: new Date(), cancelReason: 'entered twice' } : {}), version: 1 } as never);
  visit(p.A, '2026-03-01', county.village);
  visit(p.E, '2026-04-01');
  visit(p.K, '2026-06-01', county.county);
  visit(p.F, '2026-03-01', county.village);
  visit(p.B, '2025-12-20', county.village);
  visit(p.B, '2026-05-01', county.village, true);
  await em.flush();
}

beforeAll(async () => {
  // The derived state is not what these figures read: no event worker writing beside the fixture.
  t = await startTestApp({ EVENT_WORKER: 'off' });
  await buildCapitationCounty();
  ({ token: insurer, clientId: insurerClientId } = await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: county.insurer.code, scopes: ['system/Patient.rs'] }));
  otherInsurerToken = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: otherInsurer.code, scopes: ['system/Patient.rs'] })).token;
  countyStaff = await t.tokenFor({ roles: ['COMMUNITY_ADMIN'], org: county.county.code });
  countyGp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.county.code, sub: 'cap-county-gp' });
  townshipGp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code, sub: 'cap-vd' });
});
afterAll(() => t?.close());

/** Base 1,000 CNY; +30 % from 65, +50 % with hypertension or diabetes, added; the BP control rate is the whole score. */
const contractInput = (): CreateCapitationContractInput => ({
  name: '2026年度慢病按人头总额付费协议',
  insurerId: county.insurer.id,
  medicalCommunityId: county.county.id,
  period: { start: '2026-01-01', end: '2026-12-31' },
  baseRatePerHeadPerYear: '1000.00',
  riskCombination: 'ADDITIVE',
  riskAdjustments: [
    { kind: 'AGE_AT_LEAST', years: 65, uplift: 0.3 },
    { kind: 'CONDITION', conditionKinds: ['HYPERTENSION', 'TYPE_2_DIABETES'], uplift: 0.5 },
  ],
  indicatorTerms: [{ indicatorId: 'BP_CONTROL_RATE', weight: 100, target: 0.6 }],
  keptShare: { points: [{ score: 50, share: 0.5 }, { score: 100, share: 1 }], belowMinimum: 'KEEP_NOTHING', roundDownTo: '1.00' },
  overspendSharing: { insurerShare: 0.5, insurerCapFraction: 0.1 },
  split: { workloadWeight: 0.6, workloadMeasure: 'MANAGED_PATIENTS', functionWeight: 0.4, levelWeights: { county: 3, township: 2, village: 1 } },
});

const contracts = () => t.em().count(CapitationContract, {});
let contractId: string;
let byVisitsId: string; // the same contract's terms, split by done follow-ups (made by an administrator)

describe('making a contract', () => {
  test("the insurer makes its own; the terms come back as given, the indicator's target as set", async () => {
    const made = (await t.ok(CreateCapitationContractDocument, { input: contractInput() }, insurer)).createCapitationContract;
    contractId = made.id;
    expect(made).toMatchObject({
      insurer: { id: county.insurer.id },
      medicalCommunity: { id: county.county.id },
      periodStart: '2026-01-01',
      baseRatePerHeadPerYear: '1000.00',
      riskAdjustments: [{ kind: 'AGE_AT_LEAST', years: 65, conditionKinds: null, uplift: 0.3 }, { kind: 'CONDITION', years: null, conditionKinds: ['HYPERTENSION', 'TYPE_2_DIABETES'], uplift: 0.5 }],
      indicatorTerms: [{ indicatorId: 'BP_CONTROL_RATE', weight: 100, target: 0.6 }],
      keptShare: { points: [{ score: 50, share: 0.5 }, { score: 100, share: 1 }], belowMinimum: 'KEEP_NOTHING', roundDownTo: '1.00' },
      split: { levelWeights: { county: 3, township: 2, village: 1 } },
    });
    expect((await t.ok(CapitationContractDocument, { id: made.id }, countyStaff)).capitationContract.name).toBe('2026年度慢病按人头总额付费协议');
  });

  test('refused, storing nothing: terms that could not be settled (BAD_USER_INPUT naming the field), or a maker who is not its insurer', async () => {
    const refused = (change: Partial<CreateCapitationContractInput>, code: string, field: string | undefined, as = insurer) =>
      expectRefusedUnchanged(contracts, () => t.gql(CreateCapitationContractDocument, { input: { ...contractInput(), ...change } }, as), code, field);
    await refused({ indicatorTerms: [{ indicatorId: 'BP_CONTROL_RATE', weight: 90 }] }, 'BAD_USER_INPUT', 'indicatorTerms');
    await refused({ keptShare: { points: [{ score: 80, share: 0.9 }, { score: 60, share: 1 }] } }, 'BAD_USER_INPUT', 'keptShare.points[1].score');
    await refused({ riskAdjustments: [{ kind: 'CONDITION', conditionKinds: [], uplift: 0.5 }] }, 'BAD_USER_INPUT', 'riskAdjustments[0].conditionKinds');
    await refused({ split: { ...contractInput().split, functionWeight: 0.3 } }, 'BAD_USER_INPUT', 'split.functionWeight');
    await refused({ medicalCommunityId: county.township.id }, 'BAD_USER_INPUT', 'medicalCommunityId');
    await refused({ period: { start: '2026-12-31', end: '2026-01-01' } }, 'BAD_USER_INPUT', 'period.end');
    await refused({ insurerId: county.county.id }, 'BAD_USER_INPUT', 'insurerId', t.adminToken);
    await refused({}, 'FORBIDDEN', undefined, otherInsurerToken);
    await refused({}, 'FORBIDDEN', undefined, countyStaff);
    await refused({}, 'FORBIDDEN', undefined, villageDoctor);
  });
});

describe('settling it', () => {
  const settle = (as: string, actualSpending = '8900.00') => t.gql(SettlementDocument, { contractId, actualSpending }, as);

  test('as the insurer: its 7 heads make the budget; its members who share their data make the score', async () => {
    const res = await settle(insurer);
    expect(res.errors).toBeUndefined();
    const s = res.data!.settlement;
    expect(s).toMatchObject({ period: { start: '2026-01-01', end: '2026-12-31' }, periodDays: 365, yearDays: 365, heads: 7 });
    // D at the base rate; C and K (65+; K's hypertension began after 2026-01-01); B, E, M (a condition); A (both).
    expect(s.riskClasses).toEqual([
      { adjustments: [], uplift: 0, heads: 1, ratePerHead: '1000.00', amount: '1000.00' },
      { adjustments: [{ kind: 'AGE_AT_LEAST' }], uplift: 0.3, heads: 2, ratePerHead: '1300.00', amount: '2600.00' },
      { adjustments: [{ kind: 'CONDITION' }], uplift: 0.5, heads: 3, ratePerHead: '1500.00', amount: '4500.00' },
      { adjustments: [{ kind: 'AGE_AT_LEAST' }, { kind: 'CONDITION' }], uplift: 0.8, heads: 1, ratePerHead: '1800.00', amount: '1800.00' },
    ]);
    expect([s.budget, s.actualSpending, s.surplus, s.overspend]).toEqual(['9900.00', '8900.00', '1000.00', '0.00']);
    // BP control for I1: its members covered in 2026 who share their data, managed for hypertension at the period's
    // end — A, B, K (not M: she denied it; not G, H: not members then) — of whom A is controlled: 1/3.
    expect(s.indicators).toEqual([{ indicatorId: 'BP_CONTROL_RATE', improvement: 'INCREASE', numerator: 1, denominator: 3, value: 1 / 3, target: 0.6, weight: 100, achievement: expect.closeTo(5 / 9, 12), points: expect.closeTo(500 / 9, 10) }]);
    // Score 55.56: between [50, 0.5] and [100, 1], a share of 0.5 + 5.56/50 × 0.5 = 0.5556; 1,000 × 0.5556 = 555.56,
    // rounded down to the CNY: 555.
    expect(s.score).toBeCloseTo(55.5556, 4);
    expect(s.keptShare).toEqual({ share: expect.closeTo(5 / 9, 12), between: [{ score: 50, share: 0.5 }, { score: 100, share: 1 }], belowMinimum: false });
    expect([s.kept, s.keptRoundingUnit, s.returnedToInsurer]).toEqual(['555.00', '1.00', '445.00']);
    expect(s.split.reduce((sum, o) => sum + Math.round(Number(o.amount) * 100), 0)).toBe(55_500);
  });

  test("as the community's root: every managed patient of the community makes the score, the split by managed heads and level", async () => {
    const s = (await t.ok(SettlementDocument, { contractId, actualSpending: '8900.00' }, countyStaff)).settlement;
    expect([s.heads, s.budget]).toEqual([7, '9900.00']);
    // Managed for hypertension in the community at the period's end: A, B, K, M, F, G, H; controlled: A, M, F = 3/7.
    expect(s.indicators[0]).toMatchObject({ numerator: 3, denominator: 7 });
    // Score 100 × (3/7) / 0.6 = 71.43; share 0.5 + 21.43/50 × 0.5 = 0.7143; 1,000 × 0.7143 = 714.29 → 714 CNY.
    expect(s.score).toBeCloseTo(500 / 7, 9);
    expect([s.kept, s.returnedToInsurer]).toEqual(['714.00', '286.00']);
    // Workload: I1's heads managed at the period's end by their managing organisation: 东村 A, B, K, M (4), the
    // township E (1). Shares 0.6 × workload/5 + 0.4 × level/7 (levels 3, 2, 1, 1): the county 0.1714, the township
    // 0.2343, 东村 0.5371, 西村 0.0571 — of 71,400 fen 12,240, 16,728, 38,352 and 4,080.
    expect(s.workloadMeasure).toBe('MANAGED_PATIENTS');
    expect(s.split.map((o) => [o.organization.id, o.level, o.workload, o.levelWeight, +o.share.toFixed(4), o.amount])).toEqual([
      [county.county.id, 'COUNTY', 0, 3, 0.1714, '122.40'],
      [county.township.id, 'TOWNSHIP', 1, 2, 0.2343, '167.28'],
      [county.village.id, 'VILLAGE', 4, 1, 0.5371, '383.52'],
      [county.otherVillage.id, 'VILLAGE', 0, 1, 0.0571, '40.80'],
    ]);
    // An administrator sees what the root's staff see.
    expect((await t.ok(SettlementDocument, { contractId, actualSpending: '8900.00' }, t.adminToken)).settlement.kept).toBe('714.00');
  });

  test('split by done follow-ups: the organisation that did them (the managing one when none is named), heads only, in the period', async () => {
    const input = contractInput();
    byVisitsId = (await t.ok(CreateCapitationContractDocument, { input: { ...input, split: { ...input.split, workloadMeasure: 'DONE_FOLLOW_UPS' } } })).createCapitationContract.id;
    const s = (await t.ok(SettlementDocument, { contractId: byVisitsId, actualSpending: '8900.00' }, countyStaff)).settlement;
    // Workloads 1 (K's), 1 (E's), 1 (A's), 0 of 3: shares 0.6 × 1/3 + 0.4 × level/7 — of 71,400 fen 26,520 (county),
    // 22,440 (township), 18,360 (东村), 4,080 (西村).
    expect(s.split.map((o) => [o.organizationName, o.workload, o.amount])).toEqual([
      [county.county.name, 1, '265.20'],
      [county.township.name, 1, '224.40'],
      [county.village.name, 1, '183.60'],
      [county.otherVillage.name, 0, '40.80'],
    ]);
  });

  test('an overspend is shared: the insurer half of it up to 10 % of the budget (990.00), the community the rest', async () => {
    const within = (await t.ok(SettlementDocument, { contractId, actualSpending: '10900.00' }, insurer)).settlement;
    expect([within.surplus, within.overspend, within.kept, within.insurerOverspendCap, within.overspendBorneByInsurer, within.overspendBorneByCommunity]).toEqual(['0.00', '1000.00', '0.00', '990.00', '500.00', '500.00']);
    const beyond = (await t.ok(SettlementDocument, { contractId, actualSpending: 12900.01 as unknown as string }, insurer)).settlement;
    expect([beyond.overspend, beyond.overspendBorneByInsurer, beyond.overspendBorneByCommunity]).toEqual(['3000.01', '990.00', '2010.01']);
    expect(beyond.split.every((o) => o.amount === '0.00')).toBe(true);
  });

  test('refused: another insurer, a village doctor, a township GP, a GP of the root hospital (FORBIDDEN); no such contract (NOT_FOUND); a spending that is no amount (BAD_USER_INPUT)', async () => {
    for (const as of [otherInsurerToken, villageDoctor, townshipGp, countyGp]) {
      expectRefusal(await settle(as), 'FORBIDDEN');
      expectRefusal(await t.gql(CapitationContractDocument, { id: contractId }, as), 'FORBIDDEN');
      expect((await t.ok(CapitationContractsDocument, {}, as)).capitationContracts).toEqual([]);
    }
    expectRefusal(await t.gql(SettlementDocument, { contractId: MISSING_ID, actualSpending: '1.00' }), 'NOT_FOUND');
    expectRefusal(await settle(insurer, '-1.00'), 'BAD_USER_INPUT', 'actualSpending');
    const unparsable = await settle(insurer, '1.234');
    expect(unparsable.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.ok(CapitationContractsDocument, {}, insurer)).capitationContracts.map((c) => c.id).sort()).toEqual([contractId, byVisitsId].sort());
  });

  test('each settlement asked is in the audit, naming no patient (its figures are counts); a refused one as DENIED', async () => {
    const latest = async (actor: string) => (await t.em().find(AuditEvent, { actor }, { orderBy: { recordedAt: 'desc' }, limit: 1 }))[0]!;
    await t.ok(SettlementDocument, { contractId, actualSpending: '8900.00' }, insurer);
    const asked = await latest(insurerClientId);
    expect({ action: asked.action, what: asked.what, patients: asked.patientIds, outcome: asked.outcome }).toEqual({ action: 'READ', what: expect.stringContaining('settlement'), patients: [], outcome: 'SUCCESS' });
    await settle(villageDoctor);
    expect((await latest('cap-vd')).outcome).toBe('DENIED');
  });
});

/**
 * The design notes' settlement (budget 385,000,000 CNY, surplus 5,511,200, kept 5,180,400 = 94.0 %) end to end: heads,
 * risk attributes and the indicator read from the database, the figures through GraphQL. A county of 452,000 members
 * (src/domain/capitation/settle.test.ts, at a natural 700 CNY a head) does not fit a test database, so 16 heads
 * stand for it at a base rate scaled to match, and the one indicator's target is chosen to give the notes' score:
 *
 *   budget  10 heads under 65, no condition   × 19,250,000          = 192,500,000
 *            1 aged 65+ only                  × 19,250,000 × 1.3    =  25,025,000
 *            1 with hypertension, under 65    × 19,250,000 × 1.5    =  28,875,000
 *            4 aged 65+ with hypertension     × 19,250,000 × 1.8    = 138,600,000
 *                                                                     385,000,000 CNY; spending 379,488,800
 *   score   BP control 4 of the 5 hypertensive (0.8) against a target of 0.851077: 100 × 0.8 / 0.851077 = 93.99855
 *           (a score keeps exactly 5,180,400 at whole hundreds from 93.99768 to below 93.99950: the target puts it
 *           in the middle, far from either edge)
 *   kept    share = score / 100 from 60 points: 0.9399855, "94.0 %"; 5,511,200 × 0.9399855 = 5,180,447.83, rounded down
 *           to whole hundreds of CNY: 5,180,400; 330,800 back to the insurer.
 */
describe("the design notes' settlement, end to end", () => {
  let xy: County;
  let xyContract: string;

  beforeAll(async () => {
    const em = t.em();
    xy = await buildCounty(em, 'XY');
    let n = 0;
    const head = (birthDate: string, hypertensive = false, controlled = false) => {
      const p = em.create(Patient, { name: `孝义${++n}`, gender: Gender.MALE, birthDate, managingOrganization: xy.village, careStatus: CareStatus.ACTIVE, version: 1 } as never) as Patient;
      em.create(Coverage, { patient: p, insurer: xy.insurer, memberNumber: `XY-${n}`, status: CoverageStatus.ACTIVE, periodStart: '2025-01-01', version: 1 } as never);
      if (!hypertensive) return;
      em.create(Condition, { patient: p, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10', kind: ConditionKind.HYPERTENSION, clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus: VerificationStatus.CONFIRMED, onsetDate: '2020-01-01', version: 1 } as never);
      const [systolic, diastolic] = controlled ? [130, 80] : [150, 95];
      em.create(Observation, { patient: p, kind: ObservationKind.BLOOD_PRESSURE, code: '85354-9', system: 'http://loinc.org', unit: 'mm[Hg]', effectiveAt: new Date('2026-06-01T10:00:00+08:00'), source: ObservationSource.CLINIC, systolic, diastolic, version: 1 } as never);
    };
    for (let i = 0; i < 10; i++) head('1980-01-01');
    head('1950-01-01');
    head('1980-01-01', true, true);
    for (let i = 0; i < 4; i++) head('1950-01-01', true, i < 3);
    await em.flush();
    const input = contractInput();
    xyContract = (
      await t.ok(CreateCapitationContractDocument, {
        input: {
          ...input,
          name: '孝义市2026年度慢病医保基金按人头打包付费',
          insurerId: xy.insurer.id,
          medicalCommunityId: xy.county.id,
          baseRatePerHeadPerYear: '19250000.00',
          indicatorTerms: [{ indicatorId: 'BP_CONTROL_RATE', weight: 100, target: 0.851077 }],
          keptShare: { points: [{ score: 60, share: 0.6 }, { score: 100, share: 1 }], belowMinimum: 'KEEP_NOTHING', roundDownTo: '100.00' },
          split: { workloadWeight: 0.7, workloadMeasure: 'MANAGED_PATIENTS', functionWeight: 0.3, levelWeights: { county: 5, township: 3, village: 1 } },
        },
      })
    ).createCapitationContract.id;
  });

  test('385,000,000 budget, 5,511,200 surplus, 5,180,400 kept: 94.0 %', async () => {
    const s = (await t.ok(SettlementDocument, { contractId: xyContract, actualSpending: '379488800.00' })).settlement;
    expect(s.heads).toBe(16);
    expect(s.riskClasses.map((c) => [c.heads, c.ratePerHead, c.amount])).toEqual([
      [10, '19250000.00', '192500000.00'],
      [1, '25025000.00', '25025000.00'],
      [1, '28875000.00', '28875000.00'],
      [4, '34650000.00', '138600000.00'],
    ]);
    expect([s.budget, s.surplus]).toEqual(['385000000.00', '5511200.00']);
    expect(s.indicators[0]).toMatchObject({ indicatorId: 'BP_CONTROL_RATE', numerator: 4, denominator: 5, value: 0.8 });
    expect(s.score).toBeCloseTo(93.998545, 5);
    expect(`${(s.keptShare.share * 100).toFixed(1)} %`).toBe('94.0 %');
    expect([s.kept, s.returnedToInsurer]).toEqual(['5180400.00', '330800.00']);
    expect(`${((Number(s.kept) / Number(s.surplus)) * 100).toFixed(1)} %`).toBe('94.0 %');
    // The split: 0.7 by managed heads (all 5 at 东村) + 0.3 by level (5, 3, 1, 1 of 10): 0.15, 0.09, 0.73, 0.03.
    expect(s.split.map((o) => [o.organizationName, o.amount])).toEqual([
      [xy.county.name, '777060.00'],
      [xy.township.name, '466236.00'],
      [xy.village.name, '3781692.00'],
      [xy.otherVillage.name, '155412.00'],
    ]);
  });
});
