/**
 * The benchmark's database: a fresh PostgreSQL database seeded with the generator and written as FHIR (what
 * `npm start` does to an empty database, src/main.ts), timed; or an existing one (`--reuse`), left as it is.
 */
import 'reflect-metadata';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.js';
import { openDatabase, type EntityManager } from '../src/db/orm.js';
import { asInternal, createSecurity, type Security } from '../src/access/index.js';
import { seedCounty, seedNowFor, type SeedSummary } from '../src/seed/generate.js';
import { backfillFhir } from '../src/fhir/materialise.js';

export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Pinned so that a database kept with BENCH_KEEP_DB and a later `--reuse` of it describe the same county. */
export const SEED_AS_OF = process.env.SEED_AS_OF ?? '2026-11-01';

/**
 * The settings every process of the bench shares: the seeder, the token minter and our server must agree on the
 * keys (identifiers are encrypted with them, tokens signed), so they live in one directory that outlives a run.
 */
export function benchEnv(databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    KEYS_DIR: process.env.BENCH_KEYS_DIR ?? 'data/bench-keys',
    SEED_AS_OF,
  };
}

export function benchConfig(databaseUrl: string): Config {
  return loadConfig({ ...benchEnv(databaseUrl), LOG_LEVEL: 'silent' });
}

export function databaseUrlOf(name: string, serverUrl = SERVER_URL): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(serverUrl: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** Drops it, unless it was reused or BENCH_KEEP_DB=1 asks to keep it (then says where it is). */
  release(): Promise<void>;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export async function createDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  await admin(SERVER_URL, (c) => c.query(`create database ${name}`));
  const url = databaseUrlOf(name);
  return {
    name,
    url,
    release: async () => {
      if (process.env.BENCH_KEEP_DB === '1') return console.log(`  (kept: ${name}; --reuse ${name} to measure it again)`);
      await admin(SERVER_URL, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

export async function reuseDatabase(name: string): Promise<BenchDatabase> {
  if (!NAME.test(name)) throw new Error(`--reuse: "${name}" is not a database name`);
  const found = await admin(SERVER_URL, (c) => c.query('select 1 from pg_database where datname = $1', [name]));
  if (!found.rowCount) throw new Error(`--reuse: there is no database ${name} at ${SERVER_URL}`);
  return { name, url: databaseUrlOf(name), release: async () => {} };
}

/** The county's history (src/seed/generate.ts): years of readings, and calendar years of insurance per resident. */
export interface SeedShape {
  historyYears?: number;
  coverageYears?: number;
}

export interface SeedTiming extends SeedShape {
  patients: number;
  seedSeconds: number;
  rows: number;
  counts: SeedSummary['counts'];
  backfillSeconds: number;
  resources: number;
  resourcesPerSecond: number;
}

export async function seedDatabase(db: BenchDatabase, patients: number, security?: Security, shape: SeedShape = {}): Promise<SeedTiming> {
  const config = benchConfig(db.url);
  const sec = security ?? (await createSecurity(config));
  const orm = await openDatabase({ databaseUrl: db.url, embeddedDataDir: 'memory://' });
  try {
    let t0 = performance.now();
    let shown = 0;
    const summary = await seedCounty(asInternal(orm.em.fork() as EntityManager), {
      patients,
      protector: sec.protector,
      now: seedNowFor(SEED_AS_OF),
      ...shape,
      onProgress: (done, total) => {
        if (done - shown >= total / 10 || done === total) {
          shown = done;
          process.stdout.write(`\r  seeding: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} patients`);
        }
      },
    });
    const seedSeconds = (performance.now() - t0) / 1000;
    console.log(`\r  seeded ${patients.toLocaleString('en')} patients (${summary.rows.toLocaleString('en')} rows, ${(summary.counts.observation ?? 0).toLocaleString('en')} readings) in ${seedSeconds.toFixed(1)} s; writing them as FHIR …`);
    t0 = performance.now();
    const resources = await backfillFhir(asInternal(orm.em.fork() as EntityManager));
    const backfillSeconds = (performance.now() - t0) / 1000;
    const resourcesPerSecond = Math.round(resources / backfillSeconds);
    console.log(`  FHIR backfill: ${resources.toLocaleString('en')} resources in ${backfillSeconds.toFixed(1)} s (${resourcesPerSecond.toLocaleString('en')} resources/s)`);
    // Statistics for what the backfill wrote (untimed): planned on the seed's, the FHIR store looks empty to PostgreSQL
    // until autovacuum gets to it, and the export's and indicators' statements were planned for a few thousand rows.
    await orm.em.fork().getConnection().execute('analyze', [], 'run');
    return { patients, ...shape, seedSeconds, rows: summary.rows, counts: summary.counts, backfillSeconds, resources, resourcesPerSecond };
  } finally {
    await orm.close();
  }
}
