/**
 * FHIR Bulk Data $export for insurers (issue 13), end to end: an insurer's registered system client gets a SMART
 * Backend Services token at the real token endpoint (a JWT client assertion signed with jose), kicks off
 * Group/<insurer>/$export with Prefer: respond-async, polls the status URL until the manifest, and downloads the
 * NDJSON files with its token. What it gets is judged over the period asked for (src/access/membership.ts): its
 * members covered then, who did not withdraw consent, and of their observations only those taken on a covered day.
 *
 * The fixture, by hand (insurers I1 and I2; each patient has two blood-pressure readings, 2026-02-05 and 2026-03-05):
 *   member    I1 from 2024-01-01                           → Patient and both readings
 *   withdrew  I1 from 2024-01-01, INSURER_SHARING DENY      → nothing
 *   ended     I1 2020-01-01 … 2024-12-31 (before the period) → nothing
 *   late      I1 from 2026-03-01                           → Patient and the 03-05 reading only (02-05 is before coverage)
 *   other     I2 from 2024-01-01                           → nothing for I1; all of it for I2
 * Period asked for: _since=2025-01-01T00:00:00Z (to today).
 */
import type { Observation, Resource } from '@medplum/fhirtypes';
import fs from 'node:fs';
import { ClientKind } from '../../src/access/caller.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Orm } from '../../src/db/orm.js';
import { Consent, ConsentDecision, ConsentPurpose } from '../../src/domain/consent/consent.entity.js';
import { Coverage, CoverageStatus } from '../../src/domain/coverage/coverage.entity.js';
import { Observation as ObservationEntity, ObservationKind, ObservationSource } from '../../src/domain/observation/observation.entity.js';
import { Organization, OrganizationLevel, OrganizationType } from '../../src/domain/organization/organization.entity.js';
import { Gender } from '../../src/domain/patient/gender.js';
import { Patient } from '../../src/domain/patient/patient.entity.js';
import { ExportInterrupted, runBulkExport } from '../../src/jobs/bulk-export/run.js';
import { jobDirectory } from '../../src/jobs/bulk-export/jobs.js';
import supertest from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { smartToken } from '../helpers/access-fixtures.js';
import { uuidArray } from '../security/audit-support.js';

const ENV = { EVENT_WORKER: 'off', BULK_EXPORT_WORKER: 'on' };
const KEYS = ['member', 'withdrew', 'ended', 'late', 'other'] as const;
type Key = (typeof KEYS)[number];

let t: TestApp;
let patients: Record<Key, Patient>;
let I1: Organization;
let I2: Organization;
let village: Organization;
let i1: string;
let i1Other: string;
let i2: string;

beforeAll(async () => {
  t = await startTestApp(ENV);
  const em = t.em();
  const org = (code: string, name: string, level: OrganizationLevel, type: OrganizationType) => {
    const o = em.create(Organization, { name, code, level, type, path: '', version: 1 } as never) as Organization;
    o.path = `/${o.id}/`;
    return o;
  };
  village = org('BX-V', '村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC);
  I1 = org('BX-I1', '县医疗保障局', OrganizationLevel.EXTERNAL, OrganizationType.INSURER);
  I2 = org('BX-I2', '商业保险公司', OrganizationLevel.EXTERNAL, OrganizationType.INSURER);
  const patient = (key: Key) => {
    const p = em.create(Patient, { name: `导出${key}`, gender: Gender.FEMALE, birthDate: '1960-05-01', managingOrganization: village, version: 1 } as never) as Patient;
    for (const month of [1, 2]) {
      em.create(ObservationEntity, {
        patient: p, kind: ObservationKind.BLOOD_PRESSURE, code: '85354-9', system: 'http://loinc.org', systolic: 150, diastolic: 88, unit: 'mm[Hg]',
        effectiveAt: new Date(Date.UTC(2026, month, 5)), source: ObservationSource.CLINIC, version: 1,
      } as never);
    }
    return p;
  };
  patients = Object.fromEntries(KEYS.map((k) => [k, patient(k)])) as Record<Key, Patient>;
  let n = 0;
  const cover = (p: Patient, insurer: Organization, periodStart: string, periodEnd?: string) =>
    em.create(Coverage, { patient: p, insurer, memberNumber: `BX-${++n}`, plan: '城乡居民基本医疗保险', status: CoverageStatus.ACTIVE, periodStart, periodEnd, version: 1 } as never);
  cover(patients.member, I1, '2024-01-01');
  cover(patients.withdrew, I1, '2024-01-01');
  cover(patients.ended, I1, '2020-01-01', '2024-12-31');
  cover(patients.late, I1, '2026-03-01');
  cover(patients.other, I2, '2024-01-01');
  em.create(Consent, { patient: patients.withdrew, purpose: ConsentPurpose.INSURER_SHARING, decision: ConsentDecision.DENY, periodStart: '2025-06-01', version: 1 } as never);
  await em.flush();
  const scopes = ['system/Patient.rs', 'system/Observation.rs'];
  i1 = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: I1.code, scopes })).token;
  i1Other = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: I1.code, scopes })).token;
  i2 = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: I2.code, scopes })).token;
}, 60_000);
afterAll(() => t?.close());

const PERIOD = '_since=2025-01-01T00:00:00Z';
const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;

async function kickOff(http: ReturnType<typeof supertest>, token: string, path: string) {
  return http.get(path).set('authorization', `Bearer ${token}`).set('prefer', 'respond-async').set('accept', 'application/fhir+json');
}

/** Polls the status URL until it is no longer 202 (the IG's loop, Retry-After shortened for the test). */
async function poll(http: ReturnType<typeof supertest>, token: string, statusUrl: string) {
  for (let i = 0; i < 300; i++) {
    const res = await http.get(pathOf(statusUrl)).set('authorization', `Bearer ${token}`);
    if (res.status !== 202) return res;
    expect(res.headers['x-progress']).toMatch(/resources written/);
    expect(res.headers['retry-after']).toBe('2');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('export did not finish');
}

/** Every line of every file of a manifest, downloaded with `token`. */
async function download(http: ReturnType<typeof supertest>, token: string, manifest: { output: Array<{ type: string; url: string; count: number }> }) {
  const resources: Resource[] = [];
  for (const file of manifest.output) {
    const res = await http.get(pathOf(file.url)).set('authorization', `Bearer ${token}`).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    const lines = (res.body as string).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);
    expect({ type: file.type, count: lines.length, types: [...new Set(lines.map((l) => l.resourceType))] }).toEqual({ type: file.type, count: file.count, types: [file.type] });
    resources.push(...lines);
  }
  return resources;
}

/** What a set of exported resources holds: patient ids, and readings as `<patient key> <day>`. */
function summary(resources: Resource[]) {
  const keyOf = new Map(KEYS.map((k) => [patients[k].id, k]));
  const ids = resources.map((r) => `${r.resourceType}/${r.id}`);
  return {
    duplicates: ids.length - new Set(ids).size,
    patients: resources.filter((r) => r.resourceType === 'Patient').map((r) => keyOf.get(r.id!)).sort(),
    readings: resources
      .filter((r): r is Observation => r.resourceType === 'Observation')
      .map((o) => `${keyOf.get(o.subject!.reference!.split('/')[1]!)} ${o.effectiveDateTime!.slice(0, 10)}`)
      .sort(),
  };
}

async function exportAll(token: string, path: string, http = t.http) {
  const kick = await kickOff(http, token, path);
  expect(kick.status).toBe(202);
  const statusUrl = kick.headers['content-location'] as string;
  expect(statusUrl).toMatch(/\/fhir\/\$export-status\/[0-9a-f-]{36}$/);
  const done = await poll(http, token, statusUrl);
  expect(done.status).toBe(200);
  return { statusUrl, manifest: done.body, resources: await download(http, token, done.body) };
}

const I1_EXPECTED = { duplicates: 0, patients: ['late', 'member'], readings: ['late 2026-03-05', 'member 2026-02-05', 'member 2026-03-05'] };

test("an insurer's Group export holds exactly its consenting members' readings on covered days of the period; the job is audited naming them", async () => {
  const { statusUrl, manifest, resources } = await exportAll(i1, `/fhir/Group/${I1.id}/$export?_type=Observation,Patient&${PERIOD}&_outputFormat=application/fhir%2Bndjson`);
  expect(summary(resources)).toEqual(I1_EXPECTED);
  expect(manifest).toMatchObject({ requiresAccessToken: true, error: [], request: expect.stringContaining(`/fhir/Group/${I1.id}/$export?_type=Observation,Patient`) });
  expect(manifest.output.map((o: { type: string; count: number }) => [o.type, o.count])).toEqual([['Observation', 3], ['Patient', 2]]);
  expect(Date.parse(manifest.transactionTime)).toBeLessThanOrEqual(Date.now());

  const jobId = statusUrl.split('/').pop()!;
  const audited = async (like: string) =>
    ((await t.em().getConnection().execute(`select action, outcome, what, patient_ids from audit_event where what like ? order by id`, [like])) as Array<{ patient_ids: unknown; action: string; outcome: string; what: string }>).map(
      (r) => ({ action: r.action, outcome: r.outcome, patients: uuidArray(r.patient_ids as never) }),
    );
  const members = [patients.late.id, patients.member.id].sort();
  // The kick-off (no patient known yet), the job once complete (every patient exported), each download (the job's patients).
  expect(await audited(`FHIR GET /fhir/Group/${I1.id}/$export?%`)).toEqual([{ action: 'EXPORT', outcome: 'SUCCESS', patients: [] }]);
  expect(await audited(`FHIR Bulk export ${jobId}%`)).toEqual([{ action: 'EXPORT', outcome: 'SUCCESS', patients: members }]);
  expect(await audited(`FHIR GET /fhir/$export-file/${jobId}/%`)).toEqual([
    { action: 'READ', outcome: 'SUCCESS', patients: members },
    { action: 'READ', outcome: 'SUCCESS', patients: members },
  ]);
});

test("Patient/$export by the insurer is the same members; another insurer's export shares none of them", async () => {
  const patientLevel = await exportAll(i1, `/fhir/Patient/$export?_type=Observation,Patient&${PERIOD}`);
  expect(summary(patientLevel.resources)).toEqual(I1_EXPECTED);
  const other = await exportAll(i2, `/fhir/Group/${I2.id}/$export?_type=Observation,Patient&${PERIOD}`);
  expect(summary(other.resources)).toEqual({ duplicates: 0, patients: ['other'], readings: ['other 2026-02-05', 'other 2026-03-05'] });
});

test('_typeFilter keeps the Observations with the code asked for; without _type every readable type is a file', async () => {
  const bp = await exportAll(i1, `/fhir/Group/${I1.id}/$export?${PERIOD}&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|85354-9')}`);
  expect(summary(bp.resources)).toEqual(I1_EXPECTED);
  const none = await exportAll(i1, `/fhir/Group/${I1.id}/$export?_type=Observation,Patient&${PERIOD}&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|0000-0')}`);
  expect(summary(none.resources)).toEqual({ duplicates: 0, patients: ['late', 'member'], readings: [] });
});

test("only the requesting client polls, downloads and cancels; no token is 401; DELETE cancels", async () => {
  const { statusUrl, manifest } = await exportAll(i1, `/fhir/Group/${I1.id}/$export?_type=Patient&${PERIOD}`);
  const file = pathOf(manifest.output[0].url);
  for (const token of [i1Other, i2]) {
    expect((await t.http.get(pathOf(statusUrl)).set('authorization', `Bearer ${token}`)).status).toBe(403);
    expect((await t.http.get(file).set('authorization', `Bearer ${token}`)).status).toBe(403);
    expect((await t.http.delete(pathOf(statusUrl)).set('authorization', `Bearer ${token}`)).status).toBe(403);
  }
  const anonymous = await t.http.get(file);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.resourceType).toBe('OperationOutcome');

  const cancel = await t.http.delete(pathOf(statusUrl)).set('authorization', `Bearer ${i1}`);
  expect(cancel.status).toBe(202);
  expect((await t.http.get(pathOf(statusUrl)).set('authorization', `Bearer ${i1}`)).status).toBe(404);
  expect((await t.http.get(file).set('authorization', `Bearer ${i1}`)).status).toBe(404);
});

test("a Group that is not an insurer's is 404, another insurer's 403; bad parameters are 400 OperationOutcomes and make no job", async () => {
  const [{ before }] = (await t.em().getConnection().execute(`select count(*)::int as before from bulk_export`)) as Array<{ before: number }>;
  const refused = async (path: string, status: number, prefer = true) => {
    const req = t.http.get(path).set('authorization', `Bearer ${i1}`);
    const res = prefer ? await req.set('prefer', 'respond-async') : await req;
    expect({ path, status: res.status, type: res.body.resourceType }).toEqual({ path, status, type: 'OperationOutcome' });
  };
  await refused(`/fhir/Group/${I2.id}/$export`, 403);
  await refused(`/fhir/Group/${village.id}/$export`, 404);
  await refused(`/fhir/Group/00000000-0000-0000-0000-000000000000/$export`, 404);
  await refused(`/fhir/$export`, 403);
  await refused(`/fhir/Group/${I1.id}/$export`, 400, false);
  await refused(`/fhir/Group/${I1.id}/$export?_outputFormat=text/csv`, 400);
  await refused(`/fhir/Group/${I1.id}/$export?_type=Observation,Nope`, 400);
  await refused(`/fhir/Group/${I1.id}/$export?_since=yesterday`, 400);
  await refused(`/fhir/Group/${I1.id}/$export?_since=2026-01-02T00:00:00Z&_until=2026-01-01T00:00:00Z`, 400);
  await refused(`/fhir/Group/${I1.id}/$export?_typeFilter=${encodeURIComponent('Condition?code=I10')}`, 400);
  await refused(`/fhir/Group/${I1.id}/$export?_elements=id`, 400);
  await refused(`/fhir/Group/${I1.id}/$export?_type=Condition`, 403);
  const [{ after }] = (await t.em().getConnection().execute(`select count(*)::int as after from bulk_export`)) as Array<{ after: number }>;
  expect(after).toBe(before);
});

test.each([
  ['its files kept', false],
  ['its files lost: resumed on another host', true],
])('a job stopped half-way (its process gone, %s) is taken again by the next one and ends complete, no line twice', async (_label, lose) => {
  // A process that accepts jobs but does not run them; the job is then run here, one row a page, and stopped after two lines.
  const config = loadConfig({ NODE_ENV: 'test', ...ENV, BULK_EXPORT_WORKER: 'off' });
  const first: App = await createApp({ config, orm: t.orm });
  const kick = await kickOff(supertest(first.express), i1, `/fhir/Group/${I1.id}/$export?_type=Observation,Patient&${PERIOD}`);
  expect(kick.status).toBe(202);
  const statusUrl = kick.headers['content-location'] as string;
  const jobId = statusUrl.split('/').pop()!;
  const stop = new AbortController();
  const run = runBulkExport(t.orm, first.security, config, jobId, { pageSize: 1, signal: stop.signal, onPage: ({ written }) => void (written >= 2 && stop.abort()) });
  await expect(run).rejects.toBeInstanceOf(ExportInterrupted);
  const [job] = (await t.em().getConnection().execute(`select status, written from bulk_export where id = ?`, [jobId])) as Array<{ status: string; written: number }>;
  expect(job).toEqual({ status: 'in-progress', written: 2 });
  await first.stop();
  if (lose) fs.rmSync(jobDirectory(config.bulkExport, jobId), { recursive: true, force: true });

  // The next process on the same database (PostgreSQL: a new connection pool; embedded: the one session) resumes it.
  const orm: Orm = t.db.databaseUrl ? await openDatabase({ databaseUrl: t.db.databaseUrl }) : t.orm;
  const second = await createApp({ config: loadConfig({ NODE_ENV: 'test', ...ENV }), orm, exportRun: { pageSize: 1 } });
  try {
    const http = supertest(second.express);
    const done = await poll(http, i1, statusUrl);
    expect(done.status).toBe(200);
    expect(summary(await download(http, i1, done.body))).toEqual(I1_EXPECTED);
    const [after] = (await t.em().getConnection().execute(`select status, written, attempts from bulk_export where id = ?`, [jobId])) as Array<{ status: string; written: number; attempts: number }>;
    expect(after).toEqual({ status: 'completed', written: 5, attempts: 2 });
  } finally {
    await second.stop();
    if (orm !== t.orm) await orm.close();
  }
}, 60_000);

test('a job stored but never queued (the process died between the two, or its queue job is gone) is sent again at the next start and ends complete', async () => {
  const config = loadConfig({ NODE_ENV: 'test', ...ENV, BULK_EXPORT_WORKER: 'off' });
  const first: App = await createApp({ config, orm: t.orm });
  const kick = await kickOff(supertest(first.express), i1, `/fhir/Group/${I1.id}/$export?_type=Observation,Patient&${PERIOD}`);
  expect(kick.status).toBe(202);
  const statusUrl = kick.headers['content-location'] as string;
  const jobId = statusUrl.split('/').pop()!;
  await first.stop();
  // PostgreSQL: the queue's job is lost (as when the send never happened); the embedded runner has no queue but the rows.
  if (t.db.databaseUrl) await t.em().getConnection().execute(`delete from pgboss.job where singleton_key = ?`, [jobId]);

  const orm: Orm = t.db.databaseUrl ? await openDatabase({ databaseUrl: t.db.databaseUrl }) : t.orm;
  const second = await createApp({ config: loadConfig({ NODE_ENV: 'test', ...ENV }), orm });
  try {
    const http = supertest(second.express);
    const done = await poll(http, i1, statusUrl);
    expect(done.status).toBe(200);
    expect(summary(await download(http, i1, done.body))).toEqual(I1_EXPECTED);
  } finally {
    await second.stop();
    if (orm !== t.orm) await orm.close();
  }
}, 60_000);

test('the CapabilityStatement names $export at the system level, on Patient and on Group', async () => {
  const cs = (await t.http.get('/fhir/metadata')).body;
  const IG = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';
  expect(cs.rest[0].operation).toContainEqual({ name: 'export', definition: `${IG}/export` });
  const ops = (type: string) => cs.rest[0].resource.find((r: { type: string }) => r.type === type)?.operation;
  expect(ops('Patient')).toContainEqual({ name: 'export', definition: `${IG}/patient-export` });
  expect(ops('Group')).toContainEqual({ name: 'export', definition: `${IG}/group-export` });
});
