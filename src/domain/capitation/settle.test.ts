import { ConditionKind, OrganizationLevel } from '../../../vocabulary/index.js';
import { DomainError } from '../errors.js';
import { formatYuan, parseYuan } from './money.js';
import { type HeadGroup, type IndicatorValue, type MemberOrganization, settle, type SettlementInput } from './settle.js';
import { BelowMinimumRule, checkTerms, type ContractTerms, type ContractTermsInput, RiskAdjustmentKind, RiskCombination, WorkloadMeasure } from './terms.js';

const { HYPERTENSION, TYPE_2_DIABETES } = ConditionKind;
const CNY = 100; // fen

/**
 * The real settlement of the design notes: budget 385,000,000 CNY, surplus 5,511,200 CNY, 5,180,400 CNY (94.0 %) kept.
 *
 * Budget. A base rate of 700 CNY a head and year, +30 % from age 65, +50 % with hypertension or diabetes, added
 * (ADDITIVE) when both apply; the period is the calendar year 2026 (365 of 365 days):
 *   262,000 heads with neither  × 700 CNY             = 183,400,000
 *    60,000 aged 65+ only       × 700 × 1.3 =   910   =  54,600,000
 *    80,000 with a condition    × 700 × 1.5 = 1,050   =  84,000,000
 *    50,000 with both           × 700 × 1.8 = 1,260   =  63,000,000
 *   452,000 heads                                       385,000,000 CNY
 * Spending 379,488,800 CNY leaves 5,511,200.
 *
 * Score. The weights add up to 100; each indicator scores weight × min(1, value / target) (the hospitalisation rate,
 * lower is better, min(1, target / value)):
 *   standardised management  30 × (84,630/130,000 = 0.651  / 0.70  = 0.93)        = 27.9
 *   BP control               25 × (62,980/100,000 = 0.6298 / 0.67  = 0.94)        = 23.5
 *   glucose control          20 × (30,315/50,000  = 0.6063 / 0.645 = 0.94)        = 18.8
 *   non-medical prescription 15 × (83,711/130,000 = 0.64393077 / 0.70 = 0.9199011) = 13.7985165
 *   intensive hospitalisation 10 × min(1, 0.10 / (2,000/25,000 = 0.08))             = 10
 *                                                                            score = 93.9985165
 * Kept share. The function keeps score/100 from 60 to 100 points (points [60, 0.6] and [100, 1]) and nothing below
 * 60: 0.939985165, "94.0 %". Kept: 5,511,200 × 0.939985165 = 5,180,446.24 CNY, rounded down to whole hundreds of
 * CNY (the contract's roundDownTo: 100 CNY) = 5,180,400 CNY; 330,800 go back to the insurer. 5,180,400 / 5,511,200
 * = 0.939977, "94.0 %" too. (With no rounding unit a share of exactly 0.94 would keep 5,180,528, not the notes'
 * figure; a whole-hundreds rule is what makes the notes' numbers, all whole hundreds, come out exactly.)
 */
const REAL_TERMS: ContractTerms = {
  baseRatePerHeadPerYear: 700 * CNY,
  riskCombination: RiskCombination.ADDITIVE,
  riskAdjustments: [
    { kind: RiskAdjustmentKind.AGE_AT_LEAST, years: 65, uplift: 0.3 },
    { kind: RiskAdjustmentKind.CONDITION, conditionKinds: [HYPERTENSION, TYPE_2_DIABETES], uplift: 0.5 },
  ],
  indicatorTerms: [
    { indicatorId: 'standardised-management-rate', weight: 30, target: 0.7 },
    { indicatorId: 'bp-control-rate', weight: 25, target: 0.67 },
    { indicatorId: 'glucose-control-rate', weight: 20, target: 0.645 },
    { indicatorId: 'non-medical-prescription-rate', weight: 15, target: 0.7 },
    { indicatorId: 'intensive-hospitalisation-rate', weight: 10, target: 0.1 },
  ],
  keptShare: { points: [[60, 0.6], [100, 1]], belowMinimum: BelowMinimumRule.KEEP_NOTHING, roundDownTo: 100 * CNY },
  overspendSharing: { insurerShare: 0.5, insurerCapFraction: 0.02 },
  split: { workloadWeight: 0.7, workloadMeasure: WorkloadMeasure.MANAGED_PATIENTS, functionWeight: 0.3, levelWeights: { COUNTY: 5, TOWNSHIP: 3, VILLAGE: 1 } },
};

const HEADS: HeadGroup[] = [
  { age: 40, conditionKinds: [], count: 262_000 },
  { age: 70, conditionKinds: [], count: 60_000 },
  { age: 50, conditionKinds: [HYPERTENSION], count: 50_000 },
  { age: 55, conditionKinds: [TYPE_2_DIABETES], count: 30_000 },
  { age: 68, conditionKinds: [HYPERTENSION, TYPE_2_DIABETES], count: 20_000 },
  { age: 80, conditionKinds: [HYPERTENSION], count: 30_000 },
];

const rate = (indicatorId: string, numerator: number, denominator: number, improvement: 'increase' | 'decrease' = 'increase'): IndicatorValue => ({
  indicatorId,
  improvement,
  numerator,
  denominator,
  value: denominator ? numerator / denominator : null,
});

const REAL_VALUES = [
  rate('standardised-management-rate', 84_630, 130_000),
  rate('bp-control-rate', 62_980, 100_000),
  rate('glucose-control-rate', 30_315, 50_000),
  rate('non-medical-prescription-rate', 83_711, 130_000),
  rate('intensive-hospitalisation-rate', 2_000, 25_000, 'decrease'),
];

const ORGS: MemberOrganization[] = [
  { organizationId: 'c', organizationName: '县人民医院', level: OrganizationLevel.COUNTY, workload: 10_000 },
  { organizationId: 't', organizationName: '城关镇卫生院', level: OrganizationLevel.TOWNSHIP, workload: 50_000 },
  { organizationId: 'v1', organizationName: '东村卫生室', level: OrganizationLevel.VILLAGE, workload: 40_000 },
  { organizationId: 'v2', organizationName: '西村卫生室', level: OrganizationLevel.VILLAGE, workload: 30_000 },
];

const YEAR = { start: '2026-01-01', end: '2026-12-31' };
const BUDGET = 385_000_000 * CNY;

function input(over: Partial<SettlementInput> = {}): SettlementInput {
  return { terms: REAL_TERMS, period: YEAR, heads: HEADS, indicators: REAL_VALUES, actualSpending: 379_488_800 * CNY, organizations: ORGS, ...over };
}

const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

describe('the real settlement (design notes: 385,000,000 budget, 5,511,200 surplus, 5,180,400 = 94.0 % kept)', () => {
  const s = settle(input());

  test('the budget is the heads of each risk class at its rate', () => {
    expect(s.period).toEqual({ ...YEAR, days: 365, yearDays: 365 });
    expect(s.riskClasses.map((c) => ({ adjustments: c.adjustments.map((a) => a.kind), uplift: c.uplift, heads: c.heads, rate: formatYuan(c.ratePerHead), amount: formatYuan(c.amount) }))).toEqual([
      { adjustments: [], uplift: 0, heads: 262_000, rate: '700.00', amount: '183400000.00' },
      { adjustments: ['AGE_AT_LEAST'], uplift: 0.3, heads: 60_000, rate: '910.00', amount: '54600000.00' },
      { adjustments: ['CONDITION'], uplift: 0.5, heads: 80_000, rate: '1050.00', amount: '84000000.00' },
      { adjustments: ['AGE_AT_LEAST', 'CONDITION'], uplift: 0.8, heads: 50_000, rate: '1260.00', amount: '63000000.00' },
    ]);
    expect(s.heads).toBe(452_000);
    expect(formatYuan(s.budget)).toBe('385000000.00');
  });

  test('the score, the kept share and the kept amount', () => {
    expect(s.indicators.map((i) => [i.indicatorId, +i.achievement.toFixed(7), +i.points.toFixed(7)])).toEqual([
      ['standardised-management-rate', 0.93, 27.9],
      ['bp-control-rate', 0.94, 23.5],
      ['glucose-control-rate', 0.94, 18.8],
      ['non-medical-prescription-rate', 0.9199011, 13.7985165],
      ['intensive-hospitalisation-rate', 1, 10],
    ]);
    expect(s.score).toBeCloseTo(93.9985165, 6);
    expect(s.keptShare).toEqual({ share: expect.closeTo(0.939985165, 8), between: [[60, 0.6], [100, 1]], belowMinimum: false });
    expect(percent(s.keptShare.share)).toBe('94.0 %');
    expect(formatYuan(s.surplus)).toBe('5511200.00');
    expect(formatYuan(s.kept)).toBe('5180400.00');
    expect(percent(s.kept / s.surplus)).toBe('94.0 %');
    expect(formatYuan(s.returnedToInsurer)).toBe('330800.00');
    expect([s.overspend, s.overspendBorneByInsurer, s.overspendBorneByCommunity]).toEqual([0, 0, 0]);
  });

  test('the kept amount is split by workload (0.7) and function (0.3), to the fen, adding up exactly', () => {
    // Shares: county 0.7 × 10/130 + 0.3 × 5/10; township 0.7 × 50/130 + 0.3 × 3/10; villages 0.7 × 40/130 (30/130) + 0.3 × 1/10.
    // Quotas of 518,040,000 fen: 105,600,461.54 · 186,095,907.69 · 127,119,046.15 · 99,224,584.62; the floors leave
    // 2 fen, which go to the largest remainders (the township's .69, 西村's .62).
    expect(s.split.map((o) => [o.organizationId, +o.share.toFixed(10), +o.quota.toFixed(2), o.amount])).toEqual([
      ['c', 0.2038461538, 105_600_461.54, 105_600_461],
      ['t', 0.3592307692, 186_095_907.69, 186_095_908],
      ['v1', 0.2453846154, 127_119_046.15, 127_119_046],
      ['v2', 0.1915384615, 99_224_584.62, 99_224_585],
    ]);
    expect(s.split[0]).toMatchObject({ workload: 10_000, workloadShare: 10_000 / 130_000, levelWeight: 5, functionShare: 0.5 });
    expect(s.split.reduce((sum, o) => sum + o.amount, 0)).toBe(s.kept);
  });
});

describe('variants', () => {
  test('overspend within the cap: the insurer bears its share; nothing is kept or split', () => {
    const s = settle(input({ actualSpending: BUDGET + 10_000_000 * CNY }));
    expect([s.surplus, s.kept, s.returnedToInsurer].map(formatYuan)).toEqual(['0.00', '0.00', '0.00']);
    // 2 % of 385,000,000 = 7,700,000 caps the insurer's half of 10,000,000 = 5,000,000: not reached.
    expect([s.overspend, s.insurerOverspendCap, s.overspendBorneByInsurer, s.overspendBorneByCommunity].map(formatYuan)).toEqual(['10000000.00', '7700000.00', '5000000.00', '5000000.00']);
    expect(s.split.map((o) => o.amount)).toEqual([0, 0, 0, 0]);
  });

  test('overspend beyond the cap: the insurer pays the cap, the community the rest', () => {
    const s = settle(input({ actualSpending: BUDGET + 20_000_000 * CNY + 1 }));
    // Half of 20,000,000.01 is 10,000,000.005 (rounded half up: .01), over the 7,700,000 cap.
    expect([s.overspend, s.overspendBorneByInsurer, s.overspendBorneByCommunity].map(formatYuan)).toEqual(['20000000.01', '7700000.00', '12300000.01']);
  });

  const halfway = REAL_VALUES.map((v) => (v.improvement === 'increase' ? { ...v, value: v.value! / 2 } : { ...v, value: v.value! * 2.5 }));

  test('a score below the first point keeps nothing, or the first point’s share, as the contract says', () => {
    // Achievements 0.465, 0.47, 0.47, 0.45995, and 0.1 / 0.2 = 0.5: score 13.95 + 11.75 + 9.4 + 6.899 + 5 ≈ 47.0 < 60.
    const s = settle(input({ indicators: halfway }));
    expect(s.score).toBeCloseTo(46.9992582, 6);
    expect(s.keptShare).toEqual({ share: 0, between: [[60, 0.6]], belowMinimum: true });
    expect([s.kept, s.returnedToInsurer]).toEqual([0, s.surplus]);
    const flat = settle(input({ indicators: halfway, terms: { ...REAL_TERMS, keptShare: { ...REAL_TERMS.keptShare, belowMinimum: BelowMinimumRule.FIRST_POINT_SHARE } } }));
    // 0.6 × 5,511,200 = 3,306,720, down to whole hundreds: 3,306,700.
    expect(formatYuan(flat.kept)).toBe('3306700.00');
    expect(flat.split.reduce((sum, o) => sum + o.amount, 0)).toBe(flat.kept);
  });

  test('full marks keep the last point’s share; no value scores 0; a lower-is-better value of 0 scores full', () => {
    const best = REAL_VALUES.map((v) => (v.improvement === 'increase' ? { ...v, value: 0.99 } : { ...v, numerator: 0, value: 0 }));
    const s = settle(input({ indicators: best }));
    expect([s.score, s.keptShare.share, formatYuan(s.kept)]).toEqual([100, 1, '5511200.00']);
    const none = settle(input({ indicators: best.map((v, i) => (i === 0 ? { ...v, numerator: 0, denominator: 0, value: null } : v)) }));
    expect(none.indicators[0]).toMatchObject({ value: null, achievement: 0, points: 0 });
    expect(none.score).toBe(70);
  });

  test('LARGEST: a head with both risks gets the larger uplift only', () => {
    const s = settle(input({ terms: { ...REAL_TERMS, riskCombination: RiskCombination.LARGEST } }));
    expect(s.riskClasses.map((c) => [c.uplift, c.ratePerHead])).toEqual([[0, 70_000], [0.3, 91_000], [0.5, 105_000], [0.5, 105_000]]);
    // 385,000,000 − 50,000 × (1,260 − 1,050)
    expect(formatYuan(s.budget)).toBe('374500000.00');
  });

  test('a period shorter than a year pays its days of the year, each rate rounded half up to the fen', () => {
    const s = settle(input({ period: { start: '2026-01-01', end: '2026-06-30' } }));
    expect(s.period).toMatchObject({ days: 181, yearDays: 365 });
    // 700 × 181/365 = 347.1232…; 910 × 181/365 = 451.2602…; 1,050 × … = 520.6849…; 1,260 × … = 624.8219…
    expect(s.riskClasses.map((c) => c.ratePerHead)).toEqual([34_712, 45_126, 52_068, 62_482]);
    expect(s.budget).toBe(262_000 * 34_712 + 60_000 * 45_126 + 80_000 * 52_068 + 50_000 * 62_482);
  });

  test('the split adds up to the fen whatever the shares: seven equal members, a kept amount of 10,000.01 CNY', () => {
    const seven = Array.from({ length: 7 }, (_, i) => ({ organizationId: `v${i}`, organizationName: `村${i}`, level: OrganizationLevel.VILLAGE, workload: 1 }));
    const terms = { ...REAL_TERMS, keptShare: { ...REAL_TERMS.keptShare, roundDownTo: 1 }, indicatorTerms: REAL_TERMS.indicatorTerms };
    const best = REAL_VALUES.map((v) => ({ ...v, improvement: 'increase' as const, value: 1 }));
    const s = settle(input({ terms, indicators: best, organizations: seven, actualSpending: BUDGET - 1_000_001 }));
    expect(s.kept).toBe(1_000_001);
    // 1,000,001 / 7 = 142,857.286: every member 142,857, the 2 fen left to the first two (equal remainders: the order given).
    expect(s.split.map((o) => o.amount)).toEqual([142_858, 142_858, 142_857, 142_857, 142_857, 142_857, 142_857]);
    // No workload anywhere: the workload part goes by function too. An organisation outside the member levels gets no part.
    const idle = settle(input({ organizations: [...ORGS.map((o) => ({ ...o, workload: 0 })), { organizationId: 'x', organizationName: '外院', level: OrganizationLevel.EXTERNAL, workload: 9 }] }));
    expect(idle.split.map((o) => [o.organizationId, +o.share.toFixed(12)])).toEqual([['c', 0.5], ['t', 0.3], ['v1', 0.1], ['v2', 0.1]]);
    expect(idle.split.reduce((sum, o) => sum + o.amount, 0)).toBe(idle.kept);
  });
});

describe('checking the terms', () => {
  const targets: Record<string, number | undefined> = { 'bp-control-rate': 0.67, 'up-referral-rate': undefined };
  const lookup = (id: string) => (id in targets ? { target: targets[id] } : undefined);
  const valid: ContractTermsInput = { ...REAL_TERMS, indicatorTerms: [{ indicatorId: 'bp-control-rate', weight: 60 }, { indicatorId: 'up-referral-rate', weight: 40, target: 0.05 }] };
  const refused = (change: (t: ContractTermsInput) => ContractTermsInput) => {
    try {
      checkTerms(change(structuredClone(valid)), lookup);
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      return [(e as DomainError).code, (e as DomainError).field];
    }
    throw new Error('accepted');
  };

  test('an indicator with a target of its own may leave the contract’s out', () => {
    expect(checkTerms(valid, lookup).indicatorTerms).toEqual([{ indicatorId: 'bp-control-rate', weight: 60, target: 0.67 }, { indicatorId: 'up-referral-rate', weight: 40, target: 0.05 }]);
  });

  test.each<[string, (t: ContractTermsInput) => ContractTermsInput, string]>([
    ['a base rate of 0', (t: ContractTermsInput) => ({ ...t, baseRatePerHeadPerYear: 0 }), 'baseRatePerHeadPerYear'],
    ['a negative uplift', (t: ContractTermsInput) => ({ ...t, riskAdjustments: [t.riskAdjustments[0]!, { ...t.riskAdjustments[1]!, uplift: -0.1 }] }), 'riskAdjustments[1].uplift'],
    ['an age of 65.5', (t: ContractTermsInput) => ({ ...t, riskAdjustments: [{ kind: RiskAdjustmentKind.AGE_AT_LEAST, years: 65.5, uplift: 0.3 }] }), 'riskAdjustments[0].years'],
    ['a condition adjustment naming none', (t: ContractTermsInput) => ({ ...t, riskAdjustments: [{ kind: RiskAdjustmentKind.CONDITION, conditionKinds: [], uplift: 0.3 }] }), 'riskAdjustments[0].conditionKinds'],
    ['an unknown indicator', (t: ContractTermsInput) => ({ ...t, indicatorTerms: [t.indicatorTerms[0]!, { indicatorId: 'happiness-rate', weight: 40 }] }), 'indicatorTerms[1].indicatorId'],
    ['one scored twice', (t: ContractTermsInput) => ({ ...t, indicatorTerms: [t.indicatorTerms[0]!, { indicatorId: 'bp-control-rate', weight: 40 }] }), 'indicatorTerms[1].indicatorId'],
    ['no target anywhere', (t: ContractTermsInput) => ({ ...t, indicatorTerms: [t.indicatorTerms[0]!, { indicatorId: 'up-referral-rate', weight: 40 }] }), 'indicatorTerms[1].target'],
    ['weights adding up to 90', (t: ContractTermsInput) => ({ ...t, indicatorTerms: [{ ...t.indicatorTerms[0]!, weight: 50 }, t.indicatorTerms[1]!] }), 'indicatorTerms'],
    ['no indicator', (t: ContractTermsInput) => ({ ...t, indicatorTerms: [] }), 'indicatorTerms'],
    ['scores out of order', (t: ContractTermsInput) => ({ ...t, keptShare: { ...t.keptShare, points: [[80, 0.8], [60, 0.9]] } }), 'keptShare.points[1].score'],
    ['a higher score keeping less', (t: ContractTermsInput) => ({ ...t, keptShare: { ...t.keptShare, points: [[60, 0.8], [80, 0.7]] } }), 'keptShare.points[1].share'],
    ['a share over 1', (t: ContractTermsInput) => ({ ...t, keptShare: { ...t.keptShare, points: [[60, 1.2]] } }), 'keptShare.points[0].share'],
    ['no rounding unit', (t: ContractTermsInput) => ({ ...t, keptShare: { ...t.keptShare, roundDownTo: 0 } }), 'keptShare.roundDownTo'],
    ['an insurer share over 1', (t: ContractTermsInput) => ({ ...t, overspendSharing: { ...t.overspendSharing, insurerShare: 1.5 } }), 'overspendSharing.insurerShare'],
    ['split weights adding up to 0.9', (t: ContractTermsInput) => ({ ...t, split: { ...t.split, functionWeight: 0.2 } }), 'split.functionWeight'],
    ['a negative level weight', (t: ContractTermsInput) => ({ ...t, split: { ...t.split, levelWeights: { ...t.split.levelWeights, VILLAGE: -1 } } }), 'split.levelWeights.village'],
    ['a function split with no level weight', (t: ContractTermsInput) => ({ ...t, split: { ...t.split, levelWeights: { COUNTY: 0, TOWNSHIP: 0, VILLAGE: 0 } } }), 'split.levelWeights'],
  ])('refused: %s', (_what, change, field) => {
    expect(refused(change)).toEqual(['BAD_USER_INPUT', field]);
  });
});

test('money: CNY as written, to the fen', () => {
  expect([parseYuan('379488800'), parseYuan('379488800.5'), parseYuan(' 0.07 '), parseYuan(379488800.25), parseYuan(0.1 + 0.2)]).toEqual([37_948_880_000, 37_948_880_050, 7, 37_948_880_025, 30]);
  expect([parseYuan('1.234'), parseYuan('1e9'), parseYuan(1.234), parseYuan(Number.NaN), parseYuan(null), parseYuan('')]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  expect([formatYuan(518_040_000), formatYuan(7), formatYuan(-150)]).toEqual(['5180400.00', '0.07', '-1.50']);
});
