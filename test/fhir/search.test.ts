/**
 * FHIR search over two imported Synthea patient records (SMART R4 sample data): the parameters a hospital
 * needs, result parameters (_count and paging links, _sort, _include, _summary), refusals; then access (a
 * village doctor elsewhere sees none of it) and the audit of FHIR requests.
 */
import type { Bundle, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { buildCounty, type County } from '../helpers/fixtures.js';
import { emitted, get, importSmart, invalidIn, issuesOf, newLog, type ImportLog, type Sent } from './support.js';

let t: TestApp;
let county: County;
const log: ImportLog = newLog();
let importedAt: Date;

beforeAll(async () => {
  t = await startTestApp();
  county = await buildCounty(t.em(), 'S'); // imported patients are managed by its county hospital
  importedAt = new Date(Date.now() - 1000);
  await importSmart(t, log);
}, 300_000);
afterAll(() => t?.close());

const sentOf = <T extends Resource>(type: T['resourceType'], where: (r: T, s: Sent) => boolean = () => true): Sent[] =>
  log.sent.filter((s) => s.resource.resourceType === type && where(s.resource as T, s));
const ids = (list: Sent[]) => [...new Set(list.map((s) => s.serverId))].sort();
const patient = (family: string) => sentOf<Patient>('Patient', (p) => p.name![0]!.family === family)[0]!;
const forPatient = (p: Sent) => (s: Sent) => s.file === p.file;

async function search(query: string, token?: string): Promise<Bundle> {
  const res = await get(t, `/fhir/${query}`, token);
  expect({ query, status: res.status }).toEqual({ query, status: 200 });
  expect(res.body.type).toBe('searchset');
  return res.body as Bundle;
}
const matchIds = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!).sort();

test('the two records imported', () => {
  expect(log.files.map((f) => f.status)).toEqual([200, 200]);
  expect(sentOf('Patient')).toHaveLength(2);
});

describe('Patient', () => {
  test('by identifier: system|value, or a value in any system', async () => {
    const liz = patient('Conn');
    expect(matchIds(await search('Patient?identifier=http://hl7.org/fhir/sid/us-ssn|999-34-1238'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?identifier=999-34-1238'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?identifier=http://hl7.org/fhir/sid/us-ssn|999-00-0000'))).toEqual([]);
    // The same value under another system is another identifier.
    expect(matchIds(await search('Patient?identifier=http://example.org/other|999-34-1238'))).toEqual([]);
  });

  test('by name, family and given (family names are not given names)', async () => {
    const liz = patient('Conn');
    const louis = patient('Maggio');
    expect(matchIds(await search('Patient?name=conn'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?name=Louis'))).toEqual([louis.serverId]);
    expect(matchIds(await search('Patient?family=Rowe'))).toEqual([liz.serverId]); // her maiden name
    expect(matchIds(await search('Patient?family=Maggio'))).toEqual([louis.serverId]);
    expect(matchIds(await search('Patient?given=Liz'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?family=Liz'))).toEqual([]);
    expect(matchIds(await search('Patient?given=Maggio'))).toEqual([]);
  });

  test('by birthdate (with prefixes) and gender', async () => {
    const liz = patient('Conn');
    const louis = patient('Maggio');
    expect(matchIds(await search('Patient?birthdate=1986-11-28'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?birthdate=1986'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?birthdate=ge1980-01-01'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?birthdate=lt1980-01-01'))).toEqual([louis.serverId]);
    expect(matchIds(await search('Patient?gender=female'))).toEqual([liz.serverId]);
    expect(matchIds(await search('Patient?gender=male&birthdate=le1976-01-16'))).toEqual([louis.serverId]);
  });

  test('by _lastUpdated and _id', async () => {
    const both = ids(sentOf('Patient'));
    expect(matchIds(await search(`Patient?_lastUpdated=ge${importedAt.toISOString()}`))).toEqual(both);
    expect(matchIds(await search(`Patient?_lastUpdated=gt${new Date(Date.now() + 60_000).toISOString()}`))).toEqual([]);
    expect(matchIds(await search(`Patient?_lastUpdated=lt${importedAt.toISOString()}`))).toEqual([]);
    expect(matchIds(await search(`Patient?_id=${both[0]}`))).toEqual([both[0]]);
  });
});

describe('Observation', () => {
  test('by patient and by subject', async () => {
    const louis = patient('Maggio');
    const expected = ids(sentOf('Observation', (_, s) => forPatient(louis)(s)));
    expect(expected.length).toBe(66);
    expect(matchIds(await search(`Observation?patient=${louis.serverId}&_count=100`))).toEqual(expected);
    expect(matchIds(await search(`Observation?subject=Patient/${louis.serverId}&_count=100`))).toEqual(expected);
    expect(matchIds(await search(`Observation?patient=Patient/${louis.serverId}&_count=100`))).toEqual(expected);
  });

  test('by code (system|code or code) and by category', async () => {
    const hasCode = (code: string) => (o: Observation) => !!o.code.coding?.some((c) => c.code === code);
    const bp = ids(sentOf<Observation>('Observation', hasCode('55284-4')));
    expect(bp.length).toBeGreaterThan(2);
    expect(matchIds(await search('Observation?code=http://loinc.org|55284-4&_count=100'))).toEqual(bp);
    expect(matchIds(await search('Observation?code=55284-4&_count=100'))).toEqual(bp);
    expect(matchIds(await search('Observation?code=http://snomed.info/sct|55284-4'))).toEqual([]);
    const glucoseOrBp = ids(sentOf<Observation>('Observation', (o) => hasCode('55284-4')(o) || hasCode('2339-0')(o)));
    expect(matchIds(await search('Observation?code=http://loinc.org|55284-4,http://loinc.org|2339-0&_count=100'))).toEqual(glucoseOrBp);
    const labs = ids(sentOf<Observation>('Observation', (o) => !!o.category?.some((c) => c.coding?.some((x) => x.code === 'laboratory'))));
    expect(labs.length).toBe(18 + 35);
    expect(matchIds(await search('Observation?category=laboratory&_count=100'))).toEqual(labs);
    expect(matchIds(await search('Observation?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&_count=100'))).toEqual(labs);
    // A category is not a code, nor a code a category.
    expect(matchIds(await search('Observation?code=laboratory'))).toEqual([]);
    expect(matchIds(await search('Observation?category=55284-4'))).toEqual([]);
  });

  test('by date with prefixes ge, le, gt, lt and eq', async () => {
    const louis = patient('Maggio');
    const mine = sentOf<Observation>('Observation', (_, s) => forPatient(louis)(s));
    const at = (s: Sent) => new Date((s.resource as Observation).effectiveDateTime!).getTime();
    const day = '2013-03-08';
    const start = Date.parse(`${day}T00:00:00Z`);
    const end = start + 86_400_000;
    const q = (date: string) => search(`Observation?patient=${louis.serverId}&date=${date}&_count=100`).then(matchIds);
    expect(await q(`ge${day}`)).toEqual(ids(mine.filter((s) => at(s) >= start)));
    expect(await q(`gt${day}`)).toEqual(ids(mine.filter((s) => at(s) >= end)));
    expect(await q(`le${day}`)).toEqual(ids(mine.filter((s) => at(s) < end)));
    expect(await q(`lt${day}`)).toEqual(ids(mine.filter((s) => at(s) < start)));
    const onDay = ids(mine.filter((s) => at(s) >= start && at(s) < end));
    expect(onDay.length).toBeGreaterThan(0);
    expect(await q(day)).toEqual(onDay);
    expect(await q(`eq${day}`)).toEqual(onDay);
    // Combined: a range.
    expect(matchIds(await search(`Observation?patient=${louis.serverId}&date=ge2013-01-01&date=lt2014-01-01&_count=100`))).toEqual(
      ids(mine.filter((s) => at(s) >= Date.parse('2013-01-01T00:00:00Z') && at(s) < Date.parse('2014-01-01T00:00:00Z'))),
    );
  });

  test('_count pages with next and previous links that cover every match exactly once', async () => {
    const louis = patient('Maggio');
    const expected = ids(sentOf('Observation', (_, s) => forPatient(louis)(s)));
    const seen: string[] = [];
    let url: string | undefined = `Observation?patient=${louis.serverId}&_count=10`;
    let pages = 0;
    while (url) {
      const page = await search(url);
      pages++;
      expect(page.total).toBe(expected.length);
      expect((page.entry ?? []).length).toBeLessThanOrEqual(10);
      if (pages > 1) expect(page.link?.some((l) => l.relation === 'previous')).toBe(true);
      seen.push(...matchIds(page));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      url = next?.replace(/^.*\/fhir\//, '');
    }
    expect(pages).toBe(Math.ceil(expected.length / 10));
    expect(seen.sort()).toEqual(expected);
  });

  test('_total=none: no total, next links still right', async () => {
    const louis = patient('Maggio');
    const expected = ids(sentOf('Observation', (_, s) => forPatient(louis)(s)));
    const seen: string[] = [];
    let url: string | undefined = `Observation?patient=${louis.serverId}&_count=33&_total=none`;
    while (url) {
      const page = await search(url);
      expect(page.total).toBeUndefined();
      seen.push(...matchIds(page));
      url = page.link?.find((l) => l.relation === 'next')?.url.replace(/^.*\/fhir\//, '');
    }
    expect(seen.sort()).toEqual(expected); // 66 = two full pages, and no empty third
  });

  test('_sort by date, both ways', async () => {
    const louis = patient('Maggio');
    const dates = (b: Bundle) => (b.entry ?? []).map((e) => Date.parse((e.resource as Observation).effectiveDateTime!));
    const asc = dates(await search(`Observation?patient=${louis.serverId}&_sort=date&_count=100`));
    const desc = dates(await search(`Observation?patient=${louis.serverId}&_sort=-date&_count=100`));
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect(desc).toEqual([...asc].reverse());
    expect(asc[0]).toBeLessThan(asc.at(-1)!);
  });

  test('_include=Observation:patient adds the patient once, as an include', async () => {
    const louis = patient('Maggio');
    const b = await search(`Observation?patient=${louis.serverId}&_count=5&_include=Observation:patient`);
    expect((b.entry ?? []).filter((e) => e.search?.mode === 'match')).toHaveLength(5);
    const included = (b.entry ?? []).filter((e) => e.search?.mode === 'include');
    expect(included.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)).toEqual([`Patient/${louis.serverId}`]);
  });

  test('_summary=count gives the total only', async () => {
    const b = await search('Observation?category=vital-signs&_summary=count');
    expect(b.total).toBe(15 + 26);
    expect(b.entry).toBeUndefined();
  });
});

describe('Condition and Encounter', () => {
  test('Condition by patient, code and clinical-status', async () => {
    const louis = patient('Maggio');
    expect(matchIds(await search(`Condition?patient=${louis.serverId}`))).toEqual(ids(sentOf('Condition', (_, s) => forPatient(louis)(s))));
    expect(matchIds(await search('Condition?code=http://snomed.info/sct|44054006'))).toEqual(ids(sentOf('Condition', (c) => JSON.stringify(c).includes('"44054006"'))));
    expect(matchIds(await search('Condition?code=http://snomed.info/sct|38341003'))).toEqual(ids(sentOf('Condition', (c) => JSON.stringify(c).includes('"38341003"'))));
    const resolved = ids(sentOf('Condition', (c) => (c as { clinicalStatus?: { coding?: Array<{ code?: string }> } }).clinicalStatus?.coding?.[0]?.code === 'resolved'));
    expect(resolved).toHaveLength(3);
    expect(matchIds(await search(`Condition?patient=${louis.serverId}&clinical-status=resolved`))).toEqual(resolved);
    expect(matchIds(await search(`Condition?clinical-status=active,resolved`))).toEqual(ids(sentOf('Condition')));
  });

  test('Encounter by patient, status and date', async () => {
    const liz = patient('Conn');
    const mine = sentOf<Encounter>('Encounter', (_, s) => forPatient(liz)(s));
    expect(mine).toHaveLength(7);
    expect(matchIds(await search(`Encounter?patient=${liz.serverId}`))).toEqual(ids(mine));
    expect(matchIds(await search(`Encounter?patient=${liz.serverId}&status=finished`))).toEqual(ids(mine.filter((s) => (s.resource as Encounter).status === 'finished')));
    expect(matchIds(await search(`Encounter?patient=${liz.serverId}&status=in-progress`))).toEqual([]);
    const start = (s: Sent) => Date.parse((s.resource as Encounter).period!.start!);
    expect(matchIds(await search(`Encounter?patient=${liz.serverId}&date=ge2010-01-01`))).toEqual(ids(mine.filter((s) => start(s) >= Date.parse('2010-01-01T00:00:00Z'))));
    expect(matchIds(await search(`Encounter?patient=${liz.serverId}&date=2005-07-29`))).toEqual(ids(mine.filter((s) => (s.resource as Encounter).period!.start!.startsWith('2005-07-29'))));
  });
});

describe('refusals', () => {
  test.each([
    ['Patient?nickname=Liz', 'nickname'],
    ['Observation?date=yesterday', 'date'],
    ['Observation?_sort=weight', '_sort'],
    ['Observation?_count=-1', '_count'],
    ['Observation?_include=Observation:performer', '_include'],
  ])('%s is a 400 with an OperationOutcome', async (query, name) => {
    const res = await get(t, `/fhir/${query}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const [issue] = issuesOf(res);
    expect(issue!.severity).toBe('error');
    expect(issue!.diagnostics).toContain(name);
  });

  test('an unknown resource type is a 404', async () => {
    const res = await get(t, '/fhir/Patients?name=x');
    expect(res.status).toBe(404);
    expect(issuesOf(res)[0]!.code).toBe('not-supported');
  });
});

describe('access', () => {
  let villageDoctor: string;
  let countyDoctor: string;
  beforeAll(async () => {
    villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, sub: 'vd-fhir' });
    countyDoctor = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.county.code, sub: 'gp-fhir' });
  });

  test('the imported patients are managed by the county hospital, which sees them', async () => {
    const liz = patient('Conn');
    expect((await get(t, `/fhir/Patient/${liz.serverId}`, countyDoctor)).status).toBe(200);
    expect(matchIds(await search('Patient', countyDoctor))).toEqual(ids(sentOf('Patient')));
  });

  test('a village doctor of another clinic gets 404 for them, and empty searches', async () => {
    const liz = patient('Conn');
    const read = await get(t, `/fhir/Patient/${liz.serverId}`, villageDoctor);
    expect(read.status).toBe(404);
    expect(issuesOf(read)[0]!.code).toBe('not-found');
    expect((await get(t, `/fhir/Patient/${liz.serverId}/$everything`, villageDoctor)).status).toBe(404);
    const obs = sentOf('Observation', (_, s) => forPatient(liz)(s))[0]!;
    expect((await get(t, `/fhir/Observation/${obs.serverId}`, villageDoctor)).status).toBe(404);
    expect((await get(t, `/fhir/Observation/${obs.serverId}/_history`, villageDoctor)).status).toBe(404);
    expect((await get(t, `/fhir/Observation/${obs.serverId}/_history/1`, villageDoctor)).status).toBe(404);
    for (const query of ['Patient', 'Patient?family=Conn', `Observation?patient=${liz.serverId}`, 'Observation', 'Condition', 'Encounter', 'Claim']) {
      const b = await search(query, villageDoctor);
      expect({ query, total: b.total, entries: b.entry ?? [] }).toEqual({ query, total: 0, entries: [] });
    }
    expect((await search('Patient?_summary=count', villageDoctor)).total).toBe(0);
  });

  test('FHIR requests write audit_event rows naming the patients touched', async () => {
    const liz = patient('Conn');
    const em = t.em();
    await get(t, `/fhir/Patient/${liz.serverId}`, countyDoctor);
    await get(t, `/fhir/Patient/${liz.serverId}`, villageDoctor);
    const rows = (await em.getConnection().execute(
      `select actor, action, what, outcome, patient_ids::text as patients from audit_event where what like 'FHIR %' and actor in ('gp-fhir', 'vd-fhir', 'test-admin') order by recorded_at, id`,
    )) as Array<{ actor: string; action: string; what: string; outcome: string; patients: string }>;
    const reads = rows.filter((r) => r.what === `FHIR GET /fhir/Patient/${liz.serverId}`);
    expect(reads.filter((r) => r.actor === 'gp-fhir').at(-1)).toMatchObject({ action: 'READ', outcome: 'SUCCESS', patients: `{${liz.serverId}}` });
    // Refused (404, as if there were nothing): recorded against the patient, DENIED (test/security/audit-fhir-reads.test.ts).
    expect(reads.filter((r) => r.actor === 'vd-fhir').at(-1)).toMatchObject({ action: 'READ', outcome: 'DENIED', patients: `{${liz.serverId}}` });
    // The imports themselves: one row per Bundle (its entries are all POSTs: one CREATE), naming the patient written.
    const imports = rows.filter((r) => r.actor === 'test-admin' && r.what.startsWith('FHIR POST /fhir (transaction): '));
    expect(imports).toHaveLength(2);
    expect(imports.map((r) => r.patients).sort()).toEqual(ids(sentOf('Patient')).map((id) => `{${id}}`));
    // A search names every patient whose data it returned.
    await search(`Observation?category=vital-signs&_count=100`, countyDoctor);
    const [last] = (await em.getConnection().execute(`select action, patient_ids::text as patients from audit_event where actor = 'gp-fhir' order by recorded_at desc, id desc limit 1`)) as Array<{
      action: string;
      patients: string;
    }>;
    expect(last!.action).toBe('SEARCH');
    expect(last!.patients.replace(/[{}]/g, '').split(',').sort()).toEqual(ids(sentOf('Patient')));
  });
});

test('every response body in this file is valid R4', () => {
  const invalid = emitted.flatMap((e) => invalidIn(e.what, e.body));
  expect(invalid.slice(0, 10)).toEqual([]);
});
