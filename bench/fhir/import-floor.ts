/**
 * FHIR transaction-Bundle import against its floor: the Synthea Bundles imported in process (bundles.ts, as
 * `npm run import` does) into a fresh database; then every row that import left in that database written into
 * a second fresh database by plain multi-row INSERTs (`json_populate_recordset`, 1,000 rows a statement), tables
 * in foreign-key order: what the same rows cost PostgreSQL with no FHIR, no validation and no domain in between.
 */
import pg from 'pg';
import { openDatabase } from '../../src/db/orm.js';
import type { Security } from '../../src/access/index.js';
import { createDatabase, benchConfig } from '../seed.js';
import { inProcess, loadDirectory, loadTemplates, makeCopies, type RunResult } from './bundles.js';

export interface ImportResult {
  resources: number;
  bundles: number;
  concurrency: number;
  import: { seconds: number; resourcesPerSecond: number; bundleP50Ms: number; bundleP95Ms: number; failedBundles: number };
  floor: { rows: number; tables: number; seconds: number; rowsPerSecond: number; resourcesPerSecond: number };
}

const ROWS_PER_INSERT = 1000;

/** Tables with rows, parents before children (self-references, organization's parent, within a table by path). */
async function tablesInOrder(c: pg.Client): Promise<string[]> {
  const tables = (await c.query<{ t: string }>(`select relname as t from pg_stat_user_tables where schemaname = 'public' and relname <> 'mikro_orm_migrations'`)).rows.map((r) => r.t);
  const deps = (await c.query<{ child: string; parent: string }>(
    `select conrelid::regclass::text as child, confrelid::regclass::text as parent from pg_constraint where contype = 'f' and conrelid <> confrelid`,
  )).rows;
  const ordered: string[] = [];
  const pending = new Set(tables);
  while (pending.size) {
    const ready = [...pending].filter((t) => !deps.some((d) => d.child === t && pending.has(d.parent)));
    if (!ready.length) throw new Error(`foreign keys form a cycle among ${[...pending].join(', ')}`);
    for (const t of ready.sort()) {
      ordered.push(t);
      pending.delete(t);
    }
  }
  return ordered;
}

async function insertFloor(fromUrl: string, toUrl: string): Promise<ImportResult['floor']> {
  const from = new pg.Client({ connectionString: fromUrl });
  const to = new pg.Client({ connectionString: toUrl });
  await Promise.all([from.connect(), to.connect()]);
  try {
    // Read before the clock starts: the floor is the writing.
    const batches: Array<{ table: string; json: string }> = [];
    let rows = 0;
    const tables = await tablesInOrder(from);
    for (const table of tables) {
      const order = table === 'organization' ? 'order by path' : '';
      const texts = (await from.query<{ j: string }>(`select row_to_json(t)::text as j from ${table} t ${order}`)).rows.map((r) => r.j);
      rows += texts.length;
      for (let i = 0; i < texts.length; i += ROWS_PER_INSERT) batches.push({ table, json: `[${texts.slice(i, i + ROWS_PER_INSERT).join(',')}]` });
    }
    const t0 = performance.now();
    for (const b of batches) await to.query(`insert into ${b.table} select * from json_populate_recordset(null::${b.table}, $1::json) on conflict do nothing`, [b.json]);
    const seconds = (performance.now() - t0) / 1000;
    return { rows, tables: tables.length, seconds, rowsPerSecond: Math.round(rows / seconds), resourcesPerSecond: 0 };
  } finally {
    await Promise.all([from.end(), to.end()]);
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

export async function importAgainstFloor(resources: number, concurrency: number, security: Security): Promise<ImportResult> {
  const imported = await createDatabase('ncd_bench_fhir');
  const floor = await createDatabase('ncd_bench_floor');
  try {
    const config = benchConfig(imported.url);
    const orm = await openDatabase({ databaseUrl: imported.url, embeddedDataDir: 'memory://', poolMax: concurrency + 4 });
    let run: RunResult;
    try {
      await loadDirectory(orm, security, config, concurrency, 'FHIR import');
      const copies = makeCopies(loadTemplates(), resources, 1);
      console.log(`  FHIR import: ${copies.texts.length} Bundles (${copies.resources.toLocaleString('en')} resources), ${concurrency} at a time …`);
      run = await inProcess(orm, security, config, copies.texts, concurrency, 'in-process');
    } finally {
      await orm.close();
    }
    // The floor's database has our schema, migrated as ours is, and nothing else.
    await (await openDatabase({ databaseUrl: floor.url, embeddedDataDir: 'memory://' })).close();
    const f = await insertFloor(imported.url, floor.url);
    f.resourcesPerSecond = Math.round(run.resources / f.seconds);
    const seconds = run.elapsedMs / 1000;
    return {
      resources: run.resources,
      bundles: run.bundles,
      concurrency,
      import: { seconds, resourcesPerSecond: Math.round(run.resources / seconds), bundleP50Ms: pct(run.latencies, 0.5), bundleP95Ms: pct(run.latencies, 0.95), failedBundles: run.failedBundles },
      floor: f,
    };
  } finally {
    await imported.release();
    await floor.release();
  }
}
