/**
 * The indicators' GraphQL face and CSV route (issue 13): the real app over the hand-built county of
 * test/helpers/indicator-fixtures.ts (who is who, and why each figure is what it is, is written there), over its
 * PERIOD, the first half of 2026. Figures are worked out by hand below and checked against the engine's own answer
 * for the same request.
 */
import { AuditEvent } from '../src/access/audit-event.entity.js';
import { ClientKind, INTERNAL_CALLER } from '../src/access/caller.js';
import { AccessPolicy } from '../src/access/policy.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { Observation } from '../src/domain/observation/observation.entity.js';
import { Patient } from '../src/domain/patient/patient.entity.js';
import { Referral } from '../src/domain/referral/referral.entity.js';
import { evaluateIndicators, INDICATORS } from '../src/indicators/index.js';
import { csvField, indicatorsCsv } from '../src/indicators/csv.js';
import { smartToken } from './helpers/access-fixtures.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { MISSING_ID } from './helpers/fixtures.js';
import { buildIndicatorCounty, type IndicatorCounty, PERIOD } from './helpers/indicator-fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  IndicatorCsvDocument,
  IndicatorPatientsDocument,
  type IndicatorPatientsQueryVariables,
  IndicatorTableDocument,
  type IndicatorTableQueryVariables,
  IndicatorTrendDocument,
} from './generated/graphql.js';

let t: TestApp;
let c: IndicatorCounty;
let gp: string;
let villageDoctor: string;
let insurer: string;
let directoryOnly: string;
// The fixture's county runs on Asia/Shanghai's calendar (the suite's default is UTC, test/helpers/environment.cjs): a
// reading at 00:30 on 1 July there is after a period ending 30 June, though still 30 June in UTC.
const zone = process.env.COUNTY_TIME_ZONE;
beforeAll(async () => {
  process.env.COUNTY_TIME_ZONE = 'Asia/Shanghai';
  t = await startTestApp({ EVENT_WORKER: 'off' });
  c = await buildIndicatorCounty(t.em(), 'IA');
  gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: c.township.code, practitioner: c.gp.code, sub: 'ia-gp' });
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: c.village.code, practitioner: c.villageDoctor.code, sub: 'ia-vd' });
  insurer = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: c.insurer.code, scopes: ['system/Patient.rs', 'system/Observation.rs'] })).token;
  directoryOnly = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: c.county.code, scopes: ['system/Practitioner.rs'] })).token;
});
afterAll(async () => {
  await t?.close();
  process.env.COUNTY_TIME_ZONE = zone;
});

const township = () => ({ organizationId: c.township.id });
const nd = (r: { numerator: number; denominator: number }) => [r.numerator, r.denominator];
const nameOf = (id: string) => Object.entries(c.patients).find(([, p]) => p.id === id)?.[0] ?? id;
const names = (ids: string[]) => ids.map(nameOf).sort();

async function table(vars: Partial<IndicatorTableQueryVariables> = {}, as = gp) {
  return (await t.ok(IndicatorTableDocument, { period: PERIOD, scope: township(), ...vars }, as)).indicators;
}

/** Every patient of a list, a page of `first` at a time; the pages' own figures alongside. */
async function allPages(vars: Omit<IndicatorPatientsQueryVariables, 'period'> & { period?: IndicatorPatientsQueryVariables['period'] }, first: number, as = gp) {
  const ids: string[] = [];
  const pages: number[] = [];
  let after: string | undefined;
  for (;;) {
    const row = (await t.ok(IndicatorPatientsDocument, { period: PERIOD, ...vars, first, after }, as)).indicators.rows[0]!;
    ids.push(...row.patients.edges.map((e) => e.node.id));
    pages.push(row.patients.edges.length);
    if (!row.patients.pageInfo.hasNextPage) return { ids, pages, totalCount: row.patients.totalCount };
    after = row.patients.pageInfo.endCursor!;
  }
}

describe('the table', () => {
  it('the township over the half year, by hand: BP control 4/9, up-referrals 2/11, with titles, targets and definitions', async () => {
    const { rows, period, organization } = await table();
    expect(period).toEqual(PERIOD);
    expect(organization).toEqual({ id: c.township.id, name: c.township.name });
    expect(rows.map((r) => r.indicator)).toEqual(INDICATORS.map((d) => d.id.toUpperCase().replace(/-/g, '_')));
    const bp = rows.find((r) => r.indicator === 'BP_CONTROL_RATE')!;
    // Managed for hypertension on 06-30: P1 P2 P3 P4 P6 P11 P14 P15 P18 (P5 died, P7 moved that day, P8 came later, P9's
    // diagnosis is later, P10 is the other township's). Latest counting BP in the period controlled: P1 130/80, P4 130/80
    // (its April reading is implausible), P6 120/70 (23:30 on the last day; its 150/95 at 00:30 on 1 July, county time,
    // is after the period), P18 135/85; not P2 (150/95 in May), P11 (145/85).
    expect(bp).toMatchObject({ numerator: 4, denominator: 9, target: 0.67, meetsTarget: false, improvement: 'INCREASE', title: 'Blood pressure control rate', titleZh: '血压控制率' });
    expect(bp.value).toBeCloseTo(4 / 9, 12);
    expect(bp).toMatchObject({ numeratorUnit: 'PATIENTS', denominatorUnit: 'PATIENTS', byOrganization: null });
    expect(bp.definition.numerator).toMatch(/latest/);
    // Up-referrals made in the period: P2's of 03-02 (its cancelled one not) and P11's of 02-01; over the 11 managed
    // (hypertension or diabetes): the nine above and P12, P13.
    const up = rows.find((r) => r.indicator === 'UP_REFERRAL_RATE')!;
    expect(up).toMatchObject({ numerator: 2, denominator: 11, numeratorUnit: 'REFERRALS', denominatorUnit: 'PATIENTS', target: null, meetsTarget: null });
    expect(up.value).toBeCloseTo(2 / 11, 12);
  });

  it('says what the engine says for the same request, every indicator, as the administrator and as the GP', async () => {
    for (const [token, policy] of [
      [t.adminToken, new AccessPolicy(INTERNAL_CALLER)],
      [gp, undefined],
    ] as const) {
      const { rows } = await table({ breakdown: true }, token);
      const scope = { organizationId: c.township.id, organizationPath: c.township.path };
      // The GP sees every patient managed in the township (seesAllManagedUnder): the same as everyone, for this scope.
      const engine = await evaluateIndicators(t.em(), policy ?? new AccessPolicy(INTERNAL_CALLER), { scope, period: PERIOD, breakdown: true, rules: DEFAULT_CARE_RULES });
      expect(rows.map((r) => [r.indicator, nd(r), r.value])).toEqual(engine.map((e) => [e.definition.id.toUpperCase().replace(/-/g, '_'), nd(e), e.value]));
      expect(rows.map((r) => r.byOrganization!.map((o) => [o.organization!.id, nd(o)]))).toEqual(engine.map((e) => e.byOrganization!.map((o) => [o.organizationId, nd(o)])));
    }
  });

  it('breakdown: the township’s own patients and each village’s subtree, with the organisation', async () => {
    const { rows } = await table({ breakdown: true, only: ['BP_CONTROL_RATE'] });
    expect(rows).toHaveLength(1);
    const by = Object.fromEntries(rows[0]!.byOrganization!.map((o) => [o.organization!.name, [...nd(o), o.value]]));
    // Township: P14 (no reading). Village: P1 P6 P18 of P1 P2 P3 P6 P18. Other village: P4 of P4 P11 P15.
    expect(by).toEqual({ [c.township.name]: [0, 1, 0], [c.village.name]: [3, 5, 0.6], [c.otherVillage.name]: [1, 3, 1 / 3] });
  });

  it('the trend month by month, each month from the period’s start: only when asked for', async () => {
    t.queries.length = 0;
    await table({ only: ['BP_CONTROL_RATE'] });
    const withoutTrend = t.queries.length;
    t.queries.length = 0;
    const [row] = (await t.ok(IndicatorTrendDocument, { period: PERIOD, scope: township(), only: ['BP_CONTROL_RATE'] }, gp)).indicators.rows;
    // One statement per month: the trend is computed when selected, and only then.
    expect(t.queries.length - withoutTrend).toBeGreaterThanOrEqual(6);
    expect(row!.trend.map((p) => [p.month, p.period.end, ...nd(p)])).toEqual([
      // Managed at 01-31: P1 P2 P3 P4 P5 P6 P7 P11 P14 P15 (10); no BP in January.
      ['2026-01', '2026-01-31', 0, 10],
      // P2 02-01 and P5 02-15, both controlled.
      ['2026-02', '2026-02-28', 2, 10],
      // + P1 03-01, P4 03-01, P7 03-15.
      ['2026-03', '2026-03-31', 5, 10],
      // P11's 145/85 of 04-01 is not controlled; P4's April reading is implausible.
      ['2026-04', '2026-04-30', 5, 10],
      // P5 died 05-01 (out), P18 registered 05-01 (in, no reading yet), P2's latest is 150/95: P1 P4 P7.
      ['2026-05', '2026-05-31', 3, 10],
      // P7 moved on 06-30 (out); P6 and P18 read in June: the table's own 4/9.
      ['2026-06', '2026-06-30', 4, 9],
    ]);
    expect(row!.trend.every((p) => p.period.start === PERIOD.start)).toBe(true);
    expect(nd(row!)).toEqual([4, 9]);
  });

  it('refuses more than 60 trend points in a request before computing any: eleven indicators over six months are 66', async () => {
    t.queries.length = 0;
    expectRefusal(await t.gql(IndicatorTrendDocument, { period: PERIOD, scope: township() }, gp), 'BAD_USER_INPUT', 'trend');
    // The table's one statement and the request's own (token, audit): no month was computed.
    expect(t.queries.filter((q) => /^with scoped/.test(q.trim()))).toHaveLength(1);
    // Ten of them over six months are 60: allowed.
    const ten = INDICATORS.slice(0, 10).map((d) => d.id.toUpperCase().replace(/-/g, '_')) as IndicatorTableQueryVariables['only'];
    const { rows } = (await t.ok(IndicatorTrendDocument, { period: PERIOD, scope: township(), only: ten }, gp)).indicators;
    expect(rows.map((r) => r.trend.length)).toEqual(Array(10).fill(6));
  });
});

describe('the patients behind the figures', () => {
  it('pages through each population: every patient once, in order; numerator and the rest make the denominator', async () => {
    const vars = { scope: township(), only: ['BP_CONTROL_RATE' as const] };
    const numerator = await allPages({ ...vars, population: 'NUMERATOR' }, 3);
    const rest = await allPages({ ...vars, population: 'DENOMINATOR_NOT_NUMERATOR' }, 2);
    const denominator = await allPages({ ...vars, population: 'DENOMINATOR' }, 4);
    expect(names(numerator.ids)).toEqual(['P1', 'P18', 'P4', 'P6']);
    expect(numerator).toMatchObject({ pages: [3, 1], totalCount: 4 });
    expect(names(rest.ids)).toEqual(['P11', 'P14', 'P15', 'P2', 'P3']);
    expect(denominator).toMatchObject({ pages: [4, 4, 1], totalCount: 9 });
    expect(new Set(denominator.ids).size).toBe(9);
    expect([...numerator.ids, ...rest.ids].sort()).toEqual([...denominator.ids].sort());
    // A referral rate's numerator: the patients with a referral in it.
    expect(names((await allPages({ scope: township(), only: ['UP_REFERRAL_RATE'], population: 'NUMERATOR' }, 10)).ids)).toEqual(['P11', 'P2']);
  });

  it('refuses a cursor of another list, a made-up one, a page over 200, and a list of townships (BAD_USER_INPUT)', async () => {
    const run = (vars: Partial<IndicatorPatientsQueryVariables>) => t.gql(IndicatorPatientsDocument, { period: PERIOD, scope: township(), only: ['BP_CONTROL_RATE'], population: 'NUMERATOR', ...vars }, gp);
    const first = (await t.ok(IndicatorPatientsDocument, { period: PERIOD, scope: township(), only: ['BP_CONTROL_RATE'], population: 'NUMERATOR', first: 1 }, gp)).indicators.rows[0]!;
    const cursor = first.patients.pageInfo.endCursor!;
    expectRefusal(await run({ population: 'DENOMINATOR', after: cursor }), 'BAD_USER_INPUT', 'after');
    expectRefusal(await run({ only: ['GLUCOSE_CONTROL_RATE'], after: cursor }), 'BAD_USER_INPUT', 'after');
    expectRefusal(await run({ after: 'bm90IGEgY3Vyc29y' }), 'BAD_USER_INPUT', 'after');
    expectRefusal(await run({ first: 201 }), 'BAD_USER_INPUT', 'first');
    expectRefusal(await run({ only: ['SELF_MANAGEMENT_GROUP_COVERAGE'] }), 'BAD_USER_INPUT', 'patients');
  });

  it('a village doctor counts and lists only whom she may see: another village’s patients but her grid’s are not hers', async () => {
    const other = { organizationId: c.otherVillage.id };
    const { rows } = await table({ scope: other, only: ['BP_CONTROL_RATE'] }, villageDoctor);
    // Of the other village's P4 P11 P15, only P4 (on her team's grid) is hers to see.
    expect(nd(rows[0]!)).toEqual([1, 1]);
    expect(names((await allPages({ scope: other, only: ['BP_CONTROL_RATE'], population: 'DENOMINATOR' }, 10, villageDoctor)).ids)).toEqual(['P4']);
    // The GP of the township sees all three.
    expect(names((await allPages({ scope: other, only: ['BP_CONTROL_RATE'], population: 'DENOMINATOR' }, 10)).ids)).toEqual(['P11', 'P15', 'P4']);
    // The other township: nothing of it is hers.
    const away = { organizationId: c.township2.id };
    expect(nd((await table({ scope: away, only: ['BP_CONTROL_RATE'] }, villageDoctor)).rows[0]!)).toEqual([0, 0]);
    expect((await allPages({ scope: away, only: ['BP_CONTROL_RATE'], population: 'DENOMINATOR' }, 10, villageDoctor)).ids).toEqual([]);
  });

  it('an insurer counts the members it covered in the period, and is shown of them those it covers today', async () => {
    // Covered in the half year: P1 (open-ended) and P3 (to 02-01); P2 only from July. P1 controlled, P3 no reading.
    const { rows } = await table({ scope: {}, only: ['BP_CONTROL_RATE'] }, insurer);
    expect(nd(rows[0]!)).toEqual([1, 2]);
    // The list goes through today's policy: P3's coverage has ended, so P3 is counted but not shown.
    const list = await allPages({ scope: {}, only: ['BP_CONTROL_RATE'], population: 'DENOMINATOR' }, 10, insurer);
    expect({ shown: names(list.ids), totalCount: list.totalCount }).toEqual({ shown: ['P1'], totalCount: 2 });
  });

  it('audits a list as a search naming every patient listed, and the figures alone naming no one', async () => {
    const page = (await t.ok(IndicatorPatientsDocument, { period: PERIOD, scope: township(), only: ['BP_CONTROL_RATE'], population: 'DENOMINATOR', first: 5 }, villageDoctor)).indicators.rows[0]!;
    const [listed] = await t.em().find(AuditEvent, { actor: 'ia-vd' }, { orderBy: { recordedAt: 'desc' }, limit: 1 });
    expect(listed!.action).toBe('SEARCH');
    expect([...listed!.patientIds].sort()).toEqual(page.patients.edges.map((e) => e.node.id).sort());
    expect(listed!.patientIds.length).toBe(5);

    await table({ breakdown: true }, villageDoctor);
    const [figures] = await t.em().find(AuditEvent, { actor: 'ia-vd' }, { orderBy: { recordedAt: 'desc' }, limit: 1 });
    expect(figures!.id).not.toBe(listed!.id);
    expect({ what: figures!.what, patients: figures!.patientIds, outcome: figures!.outcome }).toEqual({ what: expect.stringContaining('indicators'), patients: [], outcome: 'SUCCESS' });
  });
});

/** What a refused request must leave as it was. */
const stored = async () => [await t.em().count(Patient), await t.em().count(Observation), await t.em().count(Referral)];

describe('refusals', () => {

  it('a bad period is BAD_USER_INPUT naming it, and changes nothing', async () => {
    const run = (period: { start: string; end: string }) => () => t.gql(IndicatorTableDocument, { period, scope: township() }, gp);
    await expectRefusedUnchanged(stored, run({ start: '2026-06-01', end: '2026-05-31' }), 'BAD_USER_INPUT', 'period.end');
    await expectRefusedUnchanged(stored, run({ start: '2020-01-01', end: '2025-01-01' }), 'BAD_USER_INPUT', 'period.end');
    // Not a date at all: the LocalDate scalar refuses it before any resolver runs.
    const res = await t.gql(IndicatorTableDocument, { period: { start: '2026-02-30', end: '2026-03-31' } }, gp);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('an unknown or malformed organisation is BAD_USER_INPUT, as by the worklists', async () => {
    expectRefusal(await t.gql(IndicatorTableDocument, { period: PERIOD, scope: { organizationId: MISSING_ID } }, gp), 'BAD_USER_INPUT', 'scope.organizationId');
    expectRefusal(await t.gql(IndicatorTableDocument, { period: PERIOD, scope: { organizationId: 'x' } }, gp), 'BAD_USER_INPUT', 'scope.organizationId');
  });

  it('a caller who may not search patients is FORBIDDEN', async () => {
    expectRefusal(await t.gql(IndicatorTableDocument, { period: PERIOD }, directoryOnly), 'FORBIDDEN');
  });
});

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === ',') {
      row.push(field);
      field = '';
    } else if (!quoted && ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += ch;
    }
  }
  if (field || row.length) throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

/** The body as its bytes (supertest would decode text and hide the byte-order mark's bytes). */
const rawBody = (res: NodeJS.ReadableStream, done: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

describe('GET /indicators.csv', () => {
  const csv = (query: Record<string, string>, token: string | null = gp) => {
    const req = t.http.get('/indicators.csv').query(query).buffer(true).parse(rawBody as never);
    return token ? req.set('authorization', `Bearer ${token}`) : req;
  };
  const q = (extra: Record<string, string> = {}) => ({ organizationId: c.township.id, periodStart: PERIOD.start, periodEnd: PERIOD.end, ...extra });

  it('is UTF-8 with a byte-order mark, a Chinese and English header, and a row per indicator and per organisation below', async () => {
    const res = await csv(q({ breakdown: 'true' }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="indicators_${PERIOD.start}_${PERIOD.end}.csv"`);
    const body = res.body as Buffer;
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(body.subarray(3).toString('utf8'));
    expect(rows[0]).toEqual(['指标编号 Indicator', '指标 Title (zh)', '指标（英文） Title (en)', '行 Row', '机构 Organization', '机构编号 Organization id', '分子 Numerator', '分母 Denominator', '率（%） Rate (%)', '目标（%） Target (%)', '分子单位 Numerator unit', '分母单位 Denominator unit', '开始 Period start', '结束 Period end']);
    const totals = rows.filter((r) => r[3] === '合计 total');
    expect(totals.map((r) => r[0])).toEqual(INDICATORS.map((d) => d.id));
    const bp = rows.filter((r) => r[0] === 'bp-control-rate');
    // 4/9 = 44.44…%; the villages 3/5 = 60.0 %, 1/3 = 33.33…%; the township's own 0/1 = 0.0 %.
    expect(bp[0]).toEqual(['bp-control-rate', '血压控制率', 'Blood pressure control rate', '合计 total', c.township.name, c.township.id, '4', '9', '44.4', '67.0', 'patients', 'patients', PERIOD.start, PERIOD.end]);
    expect(bp.slice(1).map((r) => [r[3], r[4], r[5], r[6], r[7], r[8]]).sort()).toEqual(
      [
        ['下级机构 sub-organization', c.township.name, c.township.id, '0', '1', '0.0'],
        ['下级机构 sub-organization', c.village.name, c.village.id, '3', '5', '60.0'],
        ['下级机构 sub-organization', c.otherVillage.name, c.otherVillage.id, '1', '3', '33.3'],
      ].sort(),
    );
    // Up-referrals 2/11 = 18.18…%, no target; the HbA1c rate of the township 1/2.
    expect(rows.find((r) => r[0] === 'up-referral-rate' && r[3] === '合计 total')!.slice(6, 10)).toEqual(['2', '11', '18.2', '']);
    // Every row has every column.
    expect(rows.every((r) => r.length === rows[0]!.length)).toBe(true);
  });

  it('is the same table as GraphQL’s `csv` (without the mark), and without breakdown one row per indicator', async () => {
    const res = await csv(q());
    const text = (res.body as Buffer).subarray(3).toString('utf8');
    expect(parseCsv(text)).toHaveLength(1 + INDICATORS.length);
    const gql = (await t.ok(IndicatorCsvDocument, { period: PERIOD, scope: township() }, gp)).indicators.csv;
    expect(gql).toBe(text);
  });

  it('counts for the caller: an insurer its members of the period', async () => {
    const rows = parseCsv((await csv({ periodStart: PERIOD.start, periodEnd: PERIOD.end, only: 'bp-control-rate' }, insurer)).body.subarray(3).toString('utf8'));
    expect(rows.slice(1).map((r) => [r[0], r[4], r[6], r[7], r[8]])).toEqual([['bp-control-rate', '全部 all', '1', '2', '50.0']]);
  });

  it('refuses without a token (401), a caller who may not search patients (403), and bad parameters (400), in JSON', async () => {
    const none = await csv(q(), null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse((none.body as Buffer).toString())).toMatchObject({ error: 'unauthenticated' });
    const forbidden = await csv(q(), directoryOnly);
    expect({ status: forbidden.status, body: JSON.parse((forbidden.body as Buffer).toString()) }).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    const bad = async (query: Record<string, string>, field: string) => {
      const res = await csv(query);
      expect({ status: res.status, body: JSON.parse((res.body as Buffer).toString()) }).toMatchObject({ status: 400, body: { error: 'invalid_request', field } });
    };
    const before = await stored();
    await bad(q({ periodEnd: '2025-12-31' }), 'periodEnd');
    await bad(q({ periodStart: '2026-02-30' }), 'periodStart');
    await bad({ organizationId: c.township.id, periodEnd: PERIOD.end }, 'periodStart');
    await bad(q({ organizationId: MISSING_ID }), 'organizationId');
    await bad(q({ breakdown: 'yes' }), 'breakdown');
    await bad(q({ only: 'bp-control-rate,no-such' }), 'only');
    await bad(q({ colour: 'red' }), 'colour');
    expect(await stored()).toEqual(before);
  });

  it('is audited as a read naming no patient', async () => {
    const before = await t.em().count(AuditEvent, { what: { $like: 'GET /indicators.csv%' } });
    await csv(q(), villageDoctor);
    const [event] = await t.em().find(AuditEvent, { actor: 'ia-vd' }, { orderBy: { recordedAt: 'desc' }, limit: 1 });
    expect({ action: event!.action, what: event!.what, patients: event!.patientIds, outcome: event!.outcome }).toEqual({
      action: 'READ',
      what: expect.stringMatching(/^GET \/indicators\.csv\?organizationId=/),
      patients: [],
      outcome: 'SUCCESS',
    });
    expect(await t.em().count(AuditEvent, { what: { $like: 'GET /indicators.csv%' } })).toBe(before + 1);
  });
});

describe('CSV fields', () => {
  it('quotes commas, quotes and line breaks, and defuses what a spreadsheet would run as a formula', () => {
    expect(['plain', '南镇卫生院, "分院"', 'two\r\nlines', '=HYPERLINK("x")', '-1+2', 12, 0].map(csvField)).toEqual([
      'plain',
      '"南镇卫生院, ""分院"""',
      '"two\r\nlines"',
      `"'=HYPERLINK(""x"")"`,
      "'-1+2",
      '12',
      '0',
    ]);
  });

  it('rounds the rate half up from the counts, and leaves it empty when nothing is counted', () => {
    const definition = INDICATORS[0]!;
    const text = indicatorsCsv(
      [
        { definition, numerator: 1, denominator: 8, value: 0.125 },
        { definition, numerator: 1, denominator: 16, value: 0.0625 },
        { definition, numerator: 0, denominator: 0, value: null },
      ],
      PERIOD,
    );
    expect(parseCsv(text).slice(1).map((r) => r[8])).toEqual(['12.5', '6.3', '']);
  });
});
