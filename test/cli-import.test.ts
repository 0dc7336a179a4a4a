/**
 * `npm run import` and `npm run export`, in-process on the test database: the bulk NDJSON set and one
 * Synthea transaction Bundle go in through the POST /fhir code path; a second import changes nothing; one
 * patient's export gives back the NDJSON lines it was given.
 */
import 'reflect-metadata';
import type { Resource } from '@medplum/fhirtypes';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecurity, type Security } from '../src/access/index.js';
import { type Config, loadConfig } from '../src/config.js';
import { openDatabase, type Orm } from '../src/db/orm.js';
import { formatSummary, importPaths, type ImportProgress } from '../src/cli/import.js';
import { exportResources } from '../src/cli/export.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const FHIR_DIR = path.resolve('test/fixtures/fhir');
const NDJSON_DIR = path.join(FHIR_DIR, 'bulk-ndjson-pathling-9-patients');
const BUNDLE = path.join(FHIR_DIR, 'synthea-2019-smart-r4/Liz_Conn_27c911c6-f045-4ffa-af5d-6eba57ac94b2.json');

const ndjson = (file: string): Resource[] =>
  fs
    .readFileSync(path.join(NDJSON_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Resource);
const sent = {
  Patient: ndjson('Patient.ndjson'),
  Condition: ndjson('Condition.ndjson'),
  Observation: ndjson('Observation.ndjson'),
};
const bundleEntries = (JSON.parse(fs.readFileSync(BUNDLE, 'utf8')) as { entry: Array<{ resource: Resource }> }).entry.map((e) => e.resource);

function countByType(resources: Resource[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of resources) out[r.resourceType] = (out[r.resourceType] ?? 0) + 1;
  return out;
}
const expected = countByType([...sent.Patient, ...sent.Condition, ...sent.Observation, ...bundleEntries]);
const expectedTotal = Object.values(expected).reduce((a, b) => a + b, 0);

/** Keys sorted, so that two JSON texts of the same content compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

let db: TestDatabase;
let orm: Orm;
let security: Security;
let config: Config;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  config = loadConfig({ NODE_ENV: 'test' });
  security = await createSecurity(config);
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const sql = async <T>(query: string, params: unknown[] = []) => (await orm.em.fork().getConnection().execute(query, params)) as T[];
const snapshot = async () => ({
  rows: await sql<{ id: string; version_id: number }>('select id, version_id from fhir_resource order by id'),
  history: Number((await sql<{ n: string }>('select count(*) as n from fhir_resource_history'))[0]!.n),
  patients: Number((await sql<{ n: string }>('select count(*) as n from patient'))[0]!.n),
  observations: Number((await sql<{ n: string }>('select count(*) as n from observation'))[0]!.n),
});

describe('npm run import', () => {
  test('loads bulk NDJSON and a transaction Bundle through the POST /fhir path, with progress', async () => {
    const progress: ImportProgress[] = [];
    const summary = await importPaths(orm, security, config, [NDJSON_DIR, BUNDLE], { onProgress: (p) => progress.push(p) });
    expect(summary.failures).toEqual([]);
    expect(summary).toMatchObject({ files: 4, resources: expectedTotal, created: expectedTotal, updated: 0, unchanged: 0, failed: 0, stopped: false });
    // 1,582 NDJSON lines in batches of at most 500, per file; the Bundle as one transaction.
    expect(summary.bundles).toBe(1 + 1 + 1 + 4);
    for (const [type, n] of Object.entries(expected)) expect([type, summary.byType[type]?.created]).toEqual([type, n]);

    expect(progress[0]).toMatchObject({ done: 0, total: expectedTotal });
    expect(progress.at(-1)).toMatchObject({ done: expectedTotal, total: expectedTotal, failed: 0 });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));

    const rows = await sql<{ resource_type: string; n: string }>('select resource_type, count(*) as n from fhir_resource group by resource_type');
    expect(Object.fromEntries(rows.map((r) => [r.resource_type, Number(r.n)]))).toEqual(expected);
    // Bulk NDJSON refers by the sender's ids: those became ours (Patient first, so Observations find them).
    const orphans = await sql<{ n: string }>(`select count(*) as n from fhir_resource where resource_type in ('Observation', 'Condition') and patient_id is null`);
    expect(Number(orphans[0]!.n)).toBe(0);
    // The domain projection ran too, as for POST /fhir.
    expect((await snapshot()).patients).toBe(expected.Patient);
    // One audit record per Bundle, as the internal caller.
    const audits = await sql<{ n: string }>(`select count(*) as n from audit_event where actor = 'internal' and action = 'CREATE' and what like 'FHIR import%'`);
    expect(Number(audits[0]!.n)).toBe(summary.bundles);
    expect(formatSummary(summary)).toContain(`${expectedTotal.toLocaleString('en')} resources`);
  });

  test('a second import of the same files changes nothing', async () => {
    const before = await snapshot();
    const summary = await importPaths(orm, security, config, [NDJSON_DIR, BUNDLE]);
    expect(summary.failures).toEqual([]);
    expect(summary).toMatchObject({ resources: expectedTotal, created: 0, updated: 0, unchanged: expectedTotal, failed: 0 });
    const after = await snapshot();
    expect(after.rows.length).toBe(before.rows.length);
    expect(after).toEqual(before); // same ids, same versions, no new history, no new domain rows
  });

  test('failures are listed with their OperationOutcome diagnostics; other Bundle types are skipped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-import-'));
    try {
      const good = sent.Patient[0]!;
      const lines = [
        JSON.stringify(good),
        '{ not json',
        JSON.stringify({ resourceType: 'Observation', id: 'obs-no-status', code: { text: 'x' } }), // status is 1..1 in R4
        JSON.stringify({ ...sent.Observation[0]!, id: 'obs-ok-2' }),
      ];
      fs.writeFileSync(path.join(dir, 'Mixed.ndjson'), `${lines.join('\n')}\n`);
      fs.writeFileSync(path.join(dir, 'searchset.json'), JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
      fs.writeFileSync(path.join(dir, 'zz-after.ndjson'), `${JSON.stringify(sent.Condition[0])}\n`);

      const stopped = await importPaths(orm, security, config, [dir]);
      expect(stopped.skipped).toEqual([{ file: path.join(dir, 'searchset.json'), reason: expect.stringContaining('searchset') }]);
      expect(stopped.failed).toBe(2);
      expect(stopped.failures).toEqual([
        expect.objectContaining({ where: 'line 2', status: 'unreadable', diagnostics: expect.stringContaining('malformed JSON') }),
        expect.objectContaining({ where: 'line 3', resourceType: 'Observation', id: 'obs-no-status', status: '400', diagnostics: expect.stringContaining('status') }),
      ]);
      // The good lines of the failing batch went in (a batch is entry by entry); the file after it did not.
      expect(stopped).toMatchObject({ unchanged: 1, created: 1, stopped: true });
      expect(formatSummary(stopped)).toMatch(/line 3 Observation\/obs-no-status: 400 .*status/);

      const onward = await importPaths(orm, security, config, [dir], { continueOnError: true });
      expect(onward).toMatchObject({ failed: 2, unchanged: 3, created: 0, stopped: false });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run export', () => {
  test("one patient's export gives back the NDJSON lines it was given", async () => {
    const patient = sent.Patient[0]!;
    // Found by the sender's own name for it, kept (in the sender's namespace) among its source keys.
    const [row] = await sql<{ id: string }>(`select id from fhir_resource where resource_type = 'Patient' and exists (select 1 from unnest(source_keys) k where k like ?)`, [`sender:%:Patient/${patient.id}`]);
    expect(row).toBeDefined();
    const exported: Resource[] = [];
    const summary = await exportResources(orm, security, config, (r) => void exported.push(r), { patientId: row!.id, pageSize: 50 });

    const theirs = `Patient/${patient.id}`;
    const given = [patient, ...sent.Condition, ...sent.Observation].filter((r) => r === patient || (r as { subject?: { reference?: string } }).subject?.reference === theirs);
    expect(exported[0]).toMatchObject({ resourceType: 'Patient', id: row!.id });
    expect(countByType(exported)).toEqual(countByType(given));
    expect(summary).toMatchObject({ resources: given.length, patients: 1 });
    expect(new Set(exported.map((r) => r.id)).size).toBe(exported.length);

    // Content too: with our ids and meta taken off and the patient reference turned back into theirs.
    const strip = (r: Resource) => {
      const { id: _id, meta: _meta, ...rest } = JSON.parse(JSON.stringify(r).replaceAll(`Patient/${row!.id}`, theirs)) as Resource;
      return canonical(rest);
    };
    expect(exported.map(strip).sort()).toEqual(given.map(strip).sort());

    const only = await exportResources(orm, security, config, () => {}, { patientId: row!.id, types: ['Condition'] });
    expect(only.byType).toEqual({ Condition: countByType(given).Condition });
  });

  test('--all streams every current resource in keyset pages', async () => {
    const ids: string[] = [];
    const summary = await exportResources(orm, security, config, (r) => void ids.push(r.id!), { pageSize: 100 });
    const count = Number((await sql<{ n: string }>('select count(*) as n from fhir_resource where not deleted'))[0]!.n);
    expect(summary.resources).toBe(count);
    expect(new Set(ids).size).toBe(count);
    expect(ids).toEqual([...ids].sort());

    const patients = await exportResources(orm, security, config, () => {}, { types: ['Patient'], pageSize: 3 });
    expect(patients.byType).toEqual({ Patient: expected.Patient });
    await expect(exportResources(orm, security, config, () => {}, { patientId: '00000000-0000-7000-8000-00000000dead' })).rejects.toThrow(/not found/);
  });
});
