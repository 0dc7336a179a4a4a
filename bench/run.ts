/**
 * npm run bench [-- --only seed|query] [--patients 2000,50000] [--iterations 50]
 *
 * Seeds fresh databases (embedded in-memory PGlite, and PostgreSQL when reachable at BENCH_DATABASE_URL,
 * default postgresql://postgres@127.0.0.1:5432/postgres) and measures:
 *  - seed time per size;
 *  - latency of the nested `patients(first: 50)` query (conditions, latest BP, latest glucose, active care plans)
 *    over real HTTP, median and p95, on the largest seeded size.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type EntityManager } from '../src/db/orm.js';
import { seedCounty } from '../src/seed/generate.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const sizes = (args.get('patients') ?? '2000,50000').split(',').map(Number);
const iterations = Number(args.get('iterations') ?? 50);
const only = args.get('only');
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export const NESTED_PATIENTS_QUERY = `query {
  patients(first: 50) {
    totalCount
    edges { node {
      id name
      conditions { kind code }
      latestBloodPressure { systolic diastolic effectiveAt }
      latestGlucose { value unit effectiveAt }
      carePlans(status: ACTIVE) { id title activities { category } }
    } }
  }
}`;

interface Mode {
  label: string;
  create(): Promise<{ databaseUrl?: string; embeddedDataDir: string; drop(): Promise<void> }>;
}

async function postgresReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

const embedded: Mode = { label: 'embedded (PGlite, in memory)', create: async () => ({ embeddedDataDir: 'memory://', drop: async () => {} }) };
const postgres: Mode = {
  label: 'PostgreSQL',
  async create() {
    const name = `ncd_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      databaseUrl: url.toString(),
      embeddedDataDir: 'memory://',
      drop: async () => {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    };
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

async function queryLatency(orm: Awaited<ReturnType<typeof openDatabase>>): Promise<{ median: number; p95: number }> {
  const app = await createApp({ config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), orm });
  const server = app.express.listen(0);
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const run = async () => {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: NESTED_PATIENTS_QUERY }) });
    const body = (await res.json()) as { errors?: unknown; data?: { patients: { edges: unknown[] } } };
    if (body.errors || body.data?.patients.edges.length !== 50) throw new Error(`bad answer: ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 5; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) times.push(await run());
  server.close();
  await app.stop();
  return { median: median(times), p95: p95(times) };
}

async function main() {
  const modes = [embedded];
  if (await postgresReachable()) modes.push(postgres);
  else console.log(`(PostgreSQL not reachable at ${serverUrl}: embedded only)`);
  const rows: string[] = [];
  for (const mode of modes) {
    for (const patients of sizes) {
      const db = await mode.create();
      const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
      try {
        const t0 = performance.now();
        const summary = await seedCounty(orm.em.fork() as EntityManager, { patients });
        const seconds = (performance.now() - t0) / 1000;
        const counts = summary as unknown as { counts?: Record<string, number> };
        const observations = counts.counts?.observation ?? counts.counts?.observations;
        let line = `${mode.label.padEnd(30)} ${String(patients).padStart(6)} patients  seed ${seconds.toFixed(1).padStart(6)} s` + (observations ? `  (${observations} observations)` : '');
        if (only !== 'seed' && patients === sizes[sizes.length - 1]) {
          const q = await queryLatency(orm);
          line += `  nested patients(first: 50): median ${q.median.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms (${iterations} runs)`;
        }
        console.log(line);
        rows.push(line);
      } finally {
        await orm.close();
        await db.drop();
      }
    }
  }
  console.log(`\n${rows.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
