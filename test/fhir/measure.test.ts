/**
 * The indicators over FHIR (issue 13): Measure read and search, Measure/$evaluate-measure (summary and subject-list),
 * stored MeasureReports — the real app over the hand-built county of test/helpers/indicator-fixtures.ts, over its
 * PERIOD (the first half of 2026). Figures by hand (the fixture says who is who), and beside the engine's own answer
 * for the same request.
 */
import type { Bundle, CapabilityStatement, List, Measure, MeasureReport } from '@medplum/fhirtypes';
import { AuditEvent } from '../../src/access/audit-event.entity.js';
import { ClientKind, INTERNAL_CALLER } from '../../src/access/caller.js';
import { AccessPolicy } from '../../src/access/policy.js';
import { DEFAULT_CARE_RULES } from '../../src/care-rules/rules.js';
import { evaluateIndicators, INDICATORS, indicatorPatientIds, type IndicatorPopulation } from '../../src/indicators/index.js';
import { NCD_FHIR_BASE } from '../../fhir-mappings/codes.js';
import { smartToken } from '../helpers/access-fixtures.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { MISSING_ID } from '../helpers/fixtures.js';
import { buildIndicatorCounty, type IndicatorCounty, PERIOD } from '../helpers/indicator-fixtures.js';
import { evaluateMeasure } from '../../src/fhir/evaluate-measure.js';
import { indicatorOfMeasure } from '../../src/fhir/measures.js';
import { FhirError } from '../../src/fhir/outcome.js';
import { parseArray } from '../../src/fhir/store.js';
import { MEASURE_REPORT_KEYS_SQL } from '../../migrations/Migration20261203110000_measure_report_search.js';
import { IndicatorPatientsDocument } from '../generated/graphql.js';
import { countRows, emitted, get, invalidIn, issuesOf, send } from './support.js';

let t: TestApp;
let c: IndicatorCounty;
let gp: string;
let villageDoctor: string;
let insurer: string;
// The fixture's county keeps Asia/Shanghai's calendar (the suite's default is UTC): P6's 150/95 at 00:30 on 1 July
// there is after the period. Set for this file, and put back after it.
const zone = process.env.COUNTY_TIME_ZONE;
beforeAll(async () => {
  process.env.COUNTY_TIME_ZONE = 'Asia/Shanghai';
  t = await startTestApp({ EVENT_WORKER: 'off' });
  c = await buildIndicatorCounty(t.em(), 'FM');
  gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: c.township.code, practitioner: c.gp.code, sub: 'fm-gp' });
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: c.village.code, practitioner: c.villageDoctor.code, sub: 'fm-vd' });
  insurer = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: c.insurer.code, scopes: ['system/Patient.rs', 'system/Measure.rs', 'system/MeasureReport.rs'] })).token;
});
afterAll(async () => {
  await t?.close();
  if (zone === undefined) delete process.env.COUNTY_TIME_ZONE;
  else process.env.COUNTY_TIME_ZONE = zone;
});

const BP = 'bp-control-rate';
const PERIOD_QUERY = `periodStart=${PERIOD.start}&periodEnd=${PERIOD.end}`;
const township = () => `Organization/${c.township.id}`;
const evaluate = (query: string, token = gp, id = BP) => get(t, `/fhir/Measure/${id}/$evaluate-measure?${query}`, token);
const nameOf = (id: string) => Object.entries(c.patients).find(([, p]) => p.id === id)?.[0] ?? id;
const names = (ids: readonly string[]) => ids.map(nameOf).sort();
const counts = (r: MeasureReport) => Object.fromEntries(r.group![0]!.population!.map((p) => [p.code!.coding![0]!.code, p.count]));
const listOf = (r: MeasureReport, id: string) => ((r.contained ?? []) as List[]).find((l) => l.id === id)!;
const listed = (r: MeasureReport, id: string) => (listOf(r, id).entry ?? []).map((e) => e.item.reference!.replace('Patient/', ''));
const lastAudit = async (actor: string) => (await t.em().find(AuditEvent, { actor }, { orderBy: { recordedAt: 'desc' }, limit: 1 }))[0]!;

describe('Measure', () => {
  it('one per indicator, each valid R4, searchable by url, name, status and _id', async () => {
    const all = await get(t, '/fhir/Measure', gp);
    expect(all.status).toBe(200);
    const measures = ((all.body as Bundle).entry ?? []).map((e) => e.resource as Measure);
    expect(measures.map((m) => m.id)).toEqual(INDICATORS.map((d) => d.id));
    expect((all.body as Bundle).total).toBe(INDICATORS.length);
    expect(measures.flatMap((m) => invalidIn(`Measure/${m.id}`, m))).toEqual([]);
    const bp = measures.find((m) => m.id === BP)!;
    expect(bp).toMatchObject({ url: `${NCD_FHIR_BASE}/Measure/${BP}`, name: 'BpControlRate', title: 'Blood pressure control rate', status: 'active' });

    const ids = async (query: string) => (((await get(t, `/fhir/Measure?${query}`, gp)).body as Bundle).entry ?? []).map((e) => e.resource!.id);
    expect(await ids(`url=${encodeURIComponent(bp.url!)}`)).toEqual([BP]);
    expect(await ids(`url=${encodeURIComponent(`${bp.url}|${bp.version}`)}`)).toEqual([BP]);
    expect(await ids(`url=${encodeURIComponent(`${bp.url}|9.9`)}`)).toEqual([]);
    expect(await ids('name=bpcontrol')).toEqual([BP]);
    expect(await ids(`_id=${BP},up-referral-rate`)).toEqual(INDICATORS.map((d) => d.id).filter((id) => id === BP || id === 'up-referral-rate'));
    expect(await ids('status=retired')).toEqual([]);
    expect((await ids('status=active')).length).toBe(INDICATORS.length);
    expect(await ids('_count=2&_offset=1')).toEqual(INDICATORS.slice(1, 3).map((d) => d.id));
    const unknown = await get(t, '/fhir/Measure?topic=x', gp);
    expect(unknown.status).toBe(400);
    expect(issuesOf(unknown)[0]).toMatchObject({ code: 'not-supported', expression: ['topic'] });
  });

  it('read by id; an unknown one is 404', async () => {
    const res = await get(t, `/fhir/Measure/${BP}`, insurer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Measure', id: BP, scoring: { coding: [{ code: 'proportion' }] } });
    expect((res.body as { _title: unknown })._title).toEqual({ extension: [expect.objectContaining({ url: 'http://hl7.org/fhir/StructureDefinition/translation' })] });
    const missing = await get(t, '/fhir/Measure/no-such-rate', gp);
    expect(missing.status).toBe(404);
    expect(issuesOf(missing)[0]!.code).toBe('not-found');
  });

  it('a batch reads them as GET does', async () => {
    const res = await send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Measure/${BP}` } }, { request: { method: 'GET', url: 'Measure?name=BpControl' } }, { request: { method: 'GET', url: 'Measure/nope' } }] }, { token: gp });
    expect(res.status).toBe(200);
    const [read, found, missing] = (res.body as Bundle).entry!;
    expect(read!.resource).toMatchObject({ resourceType: 'Measure', id: BP });
    expect(((found!.resource as Bundle).entry ?? []).map((e) => e.resource!.id)).toEqual([BP]);
    expect(missing!.response!.status).toBe('404');
  });

  it('is read-only for everyone: create, update, delete, and a transaction writing one are 405, and nothing is stored', async () => {
    const before = await countRows(t);
    const measure = (await get(t, `/fhir/Measure/${BP}`)).body as Measure;
    const { id: _id, ...body } = measure;
    for (const res of [
      await send(t, 'post', '/fhir/Measure', body),
      await send(t, 'put', `/fhir/Measure/${BP}`, measure),
      await send(t, 'put', `/fhir/Measure/${BP}`, measure, { token: gp }),
      await t.http.delete(`/fhir/Measure/${MISSING_ID}`).set('authorization', `Bearer ${t.adminToken}`),
      await send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: body, request: { method: 'POST', url: 'Measure' } }] }),
    ]) {
      expect(res.status).toBe(405);
      expect(issuesOf(res)[0]!.code).toBe('not-supported');
    }
    expect(await countRows(t)).toBe(before);
  });

  it('the CapabilityStatement lists Measure (read, search, $evaluate-measure) and MeasureReport', async () => {
    const rest = ((await t.http.get('/fhir/metadata')).body as CapabilityStatement).rest![0]!;
    const measure = rest.resource!.find((r) => r.type === 'Measure')!;
    expect(measure.interaction!.map((i) => i.code)).toEqual(['read', 'search-type']);
    expect(measure.operation).toEqual([{ name: 'evaluate-measure', definition: 'http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure' }]);
    const report = rest.resource!.find((r) => r.type === 'MeasureReport')!;
    expect(report.interaction!.map((i) => i.code)).toEqual(expect.arrayContaining(['create', 'read', 'update', 'search-type']));
    expect(report.searchParam!.map((p) => p.name)).toEqual(expect.arrayContaining(['measure', 'period', 'date', 'status', 'reporter', '_lastUpdated']));
  });
});

describe('$evaluate-measure', () => {
  const engine = (policy: AccessPolicy, scope: Record<string, string | undefined>, ids?: string[]) => evaluateIndicators(t.em(), policy, { scope, period: PERIOD, ids, rules: DEFAULT_CARE_RULES });
  const scope = () => ({ organizationId: c.township.id, organizationPath: c.township.path });

  it('a population report for the township: BP control 4/9 by hand, valid R4, naming no patient — and so its audit', async () => {
    const res = await evaluate(`${PERIOD_QUERY}&subject=${township()}`);
    expect(res.status).toBe(200);
    const report = res.body as MeasureReport;
    expect(invalidIn('MeasureReport', report)).toEqual([]);
    // Managed for hypertension on 06-30: P1 P2 P3 P4 P6 P11 P14 P15 P18; controlled at their latest in the period: P1 P4
    // P6 (120/70 at 23:30 on the last day; its 150/95 at 00:30 on 1 July is after it) P18.
    expect(counts(report)).toEqual({ denominator: 9, numerator: 4 });
    expect(report.group![0]!.measureScore!.value).toBeCloseTo(4 / 9, 12);
    expect(report).toMatchObject({ status: 'complete', type: 'summary', measure: `${NCD_FHIR_BASE}/Measure/${BP}|0.1.0`, period: PERIOD, reporter: { reference: township() } });
    expect(report.improvementNotation!.coding![0]!.code).toBe('increase');
    expect(JSON.stringify(report)).not.toContain('Patient/');
    const audit = await lastAudit('fm-gp');
    expect({ action: audit.action, patients: audit.patientIds, outcome: audit.outcome }).toEqual({ action: 'READ', patients: [], outcome: 'SUCCESS' });
  });

  it('says what the engine says for the same request, every indicator', async () => {
    const results = await engine(new AccessPolicy(INTERNAL_CALLER), scope());
    for (const r of results) {
      const report = (await evaluate(`${PERIOD_QUERY}&subject=${township()}&reportType=population`, gp, r.definition.id)).body as MeasureReport;
      expect({ id: r.definition.id, ...counts(report), score: report.group![0]!.measureScore?.value ?? null }).toEqual({ id: r.definition.id, denominator: r.denominator, numerator: r.numerator, score: r.value });
    }
  });

  it('a subject-list names the patients of each population, as the engine lists them, and the audit names each', async () => {
    const res = await evaluate(`${PERIOD_QUERY}&subject=${township()}&reportType=subject-list`);
    expect(res.status).toBe(200);
    const report = res.body as MeasureReport;
    expect(invalidIn('MeasureReport', report)).toEqual([]);
    expect(report.type).toBe('subject-list');
    expect(names(listed(report, 'numerator'))).toEqual(['P1', 'P18', 'P4', 'P6']);
    expect(names(listed(report, 'denominator'))).toEqual(['P1', 'P11', 'P14', 'P15', 'P18', 'P2', 'P3', 'P4', 'P6']);
    const all = async (population: IndicatorPopulation) =>
      (await indicatorPatientIds(t.em(), new AccessPolicy(INTERNAL_CALLER), { scope: scope(), period: PERIOD, rules: DEFAULT_CARE_RULES, id: BP, population, first: 1000 })).patientIds;
    expect(listed(report, 'numerator')).toEqual(await all('numerator'));
    expect(listed(report, 'denominator')).toEqual(await all('denominator'));
    const audit = await lastAudit('fm-gp');
    expect(audit.action).toBe('READ');
    expect([...audit.patientIds].sort()).toEqual([...listed(report, 'denominator')].sort());
    // The same patients as GraphQL lists them for the same caller and request.
    for (const [population, id] of [['NUMERATOR', 'numerator'], ['DENOMINATOR', 'denominator']] as const) {
      const page = (await t.ok(IndicatorPatientsDocument, { period: PERIOD, scope: { organizationId: c.township.id }, only: ['BP_CONTROL_RATE'], population, first: 100 }, gp)).indicators.rows[0]!;
      expect(page.patients.edges.map((e) => e.node.id)).toEqual(listed(report, id));
    }
  });

  it('POST with a Parameters body answers the same; the type-level form takes measure', async () => {
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'periodStart', valueDate: PERIOD.start },
        { name: 'periodEnd', valueDate: PERIOD.end },
        { name: 'subject', valueString: township() },
      ],
    };
    const posted = await send(t, 'post', `/fhir/Measure/${BP}/$evaluate-measure`, parameters, { token: gp });
    expect(posted.status).toBe(200);
    expect(counts(posted.body as MeasureReport)).toEqual({ denominator: 9, numerator: 4 });
    const typeLevel = await get(t, `/fhir/Measure/$evaluate-measure?measure=${encodeURIComponent(`${NCD_FHIR_BASE}/Measure/${BP}`)}&${PERIOD_QUERY}&subject=${township()}`, gp);
    expect(counts(typeLevel.body as MeasureReport)).toEqual({ denominator: 9, numerator: 4 });
    // Year and month forms of the period's dates: 2026-01 to 2026-06 is the half year.
    expect(counts((await evaluate(`periodStart=2026-01&periodEnd=2026-06&subject=${township()}`)).body as MeasureReport)).toEqual({ denominator: 9, numerator: 4 });
  });

  it('a care team its member asks for; an insurer counts its members covered in the period', async () => {
    const team = await evaluate(`${PERIOD_QUERY}&subject=CareTeam/${c.team.id}`, villageDoctor);
    expect(team.status).toBe(200);
    const [expected] = await engine(new AccessPolicy(INTERNAL_CALLER), { careTeamId: c.team.id }, [BP]);
    expect(counts(team.body as MeasureReport)).toEqual({ denominator: expected!.denominator, numerator: expected!.numerator });

    // Covered in the half year: P1 (open-ended) and P3 (to 02-01); P1 controlled, P3 without a reading.
    const mine = await evaluate(`${PERIOD_QUERY}&reportType=subject-list`, insurer);
    expect(mine.status).toBe(200);
    expect(counts(mine.body as MeasureReport)).toEqual({ denominator: 2, numerator: 1 });
    // The list is of whom it may see today: P3's coverage has ended (counted, not named).
    expect(names(listed(mine.body as MeasureReport, 'denominator'))).toEqual(['P1']);
  });

  it('refuses bad parameters with a 400 OperationOutcome naming the parameter', async () => {
    const cases: Array<[string, string, string]> = [
      [`periodEnd=${PERIOD.end}`, 'required', 'periodStart'],
      [`periodStart=${PERIOD.start}`, 'required', 'periodEnd'],
      [`periodStart=2026-13&periodEnd=${PERIOD.end}`, 'invalid', 'periodStart'],
      [`periodStart=2026-02-30&periodEnd=${PERIOD.end}`, 'invalid', 'periodStart'],
      ['periodStart=2026-06-30&periodEnd=2026-01-01', 'invalid', 'periodEnd'],
      [`${PERIOD_QUERY}&reportType=everything`, 'code-invalid', 'reportType'],
      [`${PERIOD_QUERY}&reportType=subject`, 'not-supported', 'reportType'],
      [`${PERIOD_QUERY}&lastReceivedOn=2026-01-01`, 'not-supported', 'lastReceivedOn'],
      [`${PERIOD_QUERY}&subject=Patient/${c.patients.P1.id}`, 'not-supported', 'subject'],
      [`${PERIOD_QUERY}&persist=true`, 'invalid', 'persist'],
      [`${PERIOD_QUERY}&periodStart=2026-02-01`, 'invalid', 'periodStart'],
    ];
    for (const [query, code, expression] of cases) {
      const res = await evaluate(query);
      expect({ query, status: res.status, issue: issuesOf(res)[0] }).toEqual({ query, status: 400, issue: expect.objectContaining({ code, expression: [expression] }) });
    }
    expect((await evaluate(PERIOD_QUERY, gp, 'no-such-rate')).status).toBe(404);
    expect((await evaluate(`${PERIOD_QUERY}&subject=Organization/${MISSING_ID}`)).status).toBe(404);
  });

  it('a subject-list longer than the limit is refused (413 too-costly), naming the population; one within it is made', async () => {
    const ctx = { em: t.em(), policy: new AccessPolicy(INTERNAL_CALLER), rules: DEFAULT_CARE_RULES };
    const params = new Map([['periodStart', PERIOD.start], ['periodEnd', PERIOD.end], ['subject', township()], ['reportType', 'subject-list']]);
    // The township's denominator holds 9 patients, its numerator 4.
    const refused = await evaluateMeasure({ ...ctx, maxSubjects: 8 }, indicatorOfMeasure(BP), params, 'GET').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FhirError);
    expect((refused as FhirError).status).toBe(413);
    expect((refused as FhirError).issues[0]).toMatchObject({ code: 'too-costly', expression: ['reportType'], diagnostics: expect.stringContaining('denominator of bp-control-rate holds 9') });
    const { report } = await evaluateMeasure({ ...ctx, maxSubjects: 9 }, indicatorOfMeasure(BP), params, 'GET');
    expect(listed(report, 'denominator')).toHaveLength(9);
  });

  it('another township’s organisation is refused (403); a care team neither managed nor joined too', async () => {
    const other = await evaluate(`${PERIOD_QUERY}&subject=Organization/${c.township2.id}`);
    expect(other.status).toBe(403);
    expect(issuesOf(other)[0]).toMatchObject({ code: 'forbidden', expression: ['subject'] });
    const vdOnTownship = await evaluate(`${PERIOD_QUERY}&subject=${township()}`, villageDoctor);
    expect(vdOnTownship.status).toBe(403);
    expect((await lastAudit('fm-vd')).outcome).toBe('DENIED');
    // The team is the township's; a nurse of the other village is neither on it nor above it.
    const nurse = await t.tokenFor({ roles: ['NURSE'], org: c.otherVillage.code, sub: 'fm-nurse' });
    expect((await evaluate(`${PERIOD_QUERY}&subject=CareTeam/${c.team.id}`, nurse)).status).toBe(403);
  });
});

describe('stored MeasureReports', () => {
  it('persist=true (POST) stores the population report; it is searched by measure, reporter, period, date, status and _lastUpdated', async () => {
    const before = await countRows(t);
    const res = await send(t, 'post', `/fhir/Measure/${BP}/$evaluate-measure?${PERIOD_QUERY}&subject=${township()}&persist=true`, {}, { token: gp });
    expect(res.status).toBe(201);
    const stored = res.body as MeasureReport;
    expect(res.headers.location).toContain(`/fhir/MeasureReport/${stored.id}/_history/1`);
    expect(counts(stored)).toEqual({ denominator: 9, numerator: 4 });
    expect(await countRows(t)).toBe(before + 1);
    expect((await lastAudit('fm-gp')).action).toBe('CREATE');

    const found = async (query: string, token = gp) => (((await get(t, `/fhir/MeasureReport?${query}`, token)).body as Bundle).entry ?? []).map((e) => e.resource!.id);
    expect(await found(`measure=${encodeURIComponent(`${NCD_FHIR_BASE}/Measure/${BP}`)}`)).toEqual([stored.id]);
    expect(await found(`measure=Measure/${BP}&reporter=${township()}&status=complete`)).toEqual([stored.id]);
    expect(await found(`measure=up-referral-rate`)).toEqual([]);
    expect(await found(`reporter=Organization/${c.township2.id}`)).toEqual([]);
    expect(await found('period=2026')).toEqual([stored.id]); // the half year lies within 2026
    expect(await found('period=2026-03')).toEqual([]); // … not within March
    expect(await found('period=ge2026-06-01&period=le2026-01-31')).toEqual([stored.id]); // it reaches into both
    expect(await found('period=sa2026-07-01')).toEqual([]);
    expect(await found(`date=${stored.date!.slice(0, 10)}`)).toEqual([stored.id]);
    expect(await found('_lastUpdated=ge2020-01-01')).toEqual([stored.id]);
    const withReporter = (await get(t, `/fhir/MeasureReport?_id=${stored.id}&_include=MeasureReport:reporter`, gp)).body as Bundle;
    expect(withReporter.entry!.map((e) => [e.resource!.resourceType, e.search!.mode])).toEqual([['MeasureReport', 'match'], ['Organization', 'include']]);
    // The township's, owned by it: a village below it does not read it; the insurer owns none.
    expect(await found(`measure=Measure/${BP}`, villageDoctor)).toEqual([]);
    expect(await found(`measure=Measure/${BP}`, insurer)).toEqual([]);

    // A report stored before these parameters were indexed gets its keys from the migration, as a write gives them.
    const codesOf = async () => parseArray(((await t.em().getConnection().execute('select codes from fhir_resource where id = ?', [stored.id])) as Array<{ codes: unknown }>)[0]!.codes).sort();
    const written = await codesOf();
    expect(written.filter((k) => /^(measure|reporter):/.test(k))).toEqual(
      [`measure:${stored.measure}`, `measure:${NCD_FHIR_BASE}/Measure/${BP}`, `measure:Measure/${BP}`, `measure:${BP}`, `reporter:${township()}`, `reporter:${c.township.id}`].sort(),
    );
    await t.em().getConnection().execute(`update fhir_resource set codes = array(select k from unnest(codes) k where k !~ '^(measure|reporter):') where id = ?`, [stored.id]);
    expect(await found(`measure=Measure/${BP}`)).toEqual([]);
    await t.em().getConnection().execute(MEASURE_REPORT_KEYS_SQL);
    expect(await codesOf()).toEqual(written);

    const updated = await send(t, 'put', `/fhir/MeasureReport/${stored.id}`, { ...stored, status: 'error' }, { token: gp });
    expect(updated.status).toBe(200);
    expect(await found('status=error')).toEqual([stored.id]);
  });

  it('a report is POSTed as any resource; one naming its subjects is not stored (422), nor persisted, nor by an insurer', async () => {
    const report = (await evaluate(`${PERIOD_QUERY}&subject=${township()}`)).body as MeasureReport;
    const created = await send(t, 'post', '/fhir/MeasureReport', report, { token: gp });
    expect(created.status).toBe(201);
    expect((await get(t, `/fhir/MeasureReport/${(created.body as MeasureReport).id}`, gp)).status).toBe(200);

    const before = await countRows(t);
    const list = (await evaluate(`${PERIOD_QUERY}&subject=${township()}&reportType=subject-list`)).body as MeasureReport;
    const refused = await send(t, 'post', '/fhir/MeasureReport', list, { token: gp });
    expect(refused.status).toBe(422);
    expect(issuesOf(refused)[0]).toMatchObject({ code: 'business-rule', expression: ['MeasureReport.type'] });
    const persisted = await send(t, 'post', `/fhir/Measure/${BP}/$evaluate-measure?${PERIOD_QUERY}&reportType=subject-list&persist=true`, {}, { token: gp });
    expect(persisted.status).toBe(400);
    const byInsurer = await send(t, 'post', `/fhir/Measure/${BP}/$evaluate-measure?${PERIOD_QUERY}&persist=true`, {}, { token: insurer });
    expect(byInsurer.status).toBe(403);
    expect(await countRows(t)).toBe(before);
  });
});

test('every FHIR answer of this file is valid R4', () => {
  expect(emitted.length).toBeGreaterThan(40);
  expect(emitted.flatMap(({ what, body }) => invalidIn(what, body))).toEqual([]);
});
