/**
 * npm run bench [-- --only seed|query] [--patients 2000,50000] [--iterations 50]
 *
 * Seeds fresh databases (embedded in-memory PGlite, and PostgreSQL when reachable at BENCH_DATABASE_URL,
 * default postgresql://postgres@127.0.0.1:5432/postgres) and measures:
 *  - seed time per size;
 *  - latency of the nested `patients(first: 50)` query (conditions, latest BP, latest glucose, active care plans)
 *    over real HTTP, median and p95, on the largest seeded size;
 *  - latency of a write (`recordObservation` over HTTP) with and without the FHIR materialisation of ADR 6,
 *    each on its own small county (200 patients), in rotation.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createScratchDatabase, postgresReachable } from '../src/db/scratch-database.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type EntityManager } from '../src/db/orm.js';
import { seedCounty } from '../src/seed/generate.js';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import type { Config } from '../src/config.js';
import { asInternal, createSecurity, entityManagerFor } from '../src/access/index.js';
import { type AuditRecorder, RequestAudit } from '../src/access/audit.js';
import { INTERNAL_CALLER } from '../src/access/caller.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { type Context, createContext } from '../src/graphql/context.js';
import { getSchema } from '../src/graphql/schema.js';
import { Organization } from '../src/domain/organization/organization.entity.js';

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

const embedded: Mode = { label: 'embedded (PGlite, in memory)', create: async () => ({ embeddedDataDir: 'memory://', drop: async () => {} }) };
const postgres: Mode = {
  label: 'PostgreSQL',
  create: async () => ({ ...(await createScratchDatabase(serverUrl, 'ncd_bench')), embeddedDataDir: 'memory://' }),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

type Orm = Awaited<ReturnType<typeof openDatabase>>;
interface Latency {
  median: number;
  p95: number;
}

/**
 * The same schema, resolvers and loaders over HTTP, but with no access layer: no token verification, the
 * internal caller (no visibility predicate) and no audit write. Bench-only: the product has no such mode.
 */
async function bareServer(orm: Orm, config: Config): Promise<{ express: Express; stop(): Promise<void> }> {
  const security = await createSecurity(config);
  const apollo = new ApolloServer<Context>({ schema: await getSchema() });
  await apollo.start();
  const app = express();
  const noAudit = { write: async () => {} } as unknown as AuditRecorder;
  app.use(
    '/graphql',
    express.json(),
    expressMiddleware(apollo, {
      context: async () => {
        const { em, policy } = entityManagerFor(orm, INTERNAL_CALLER);
        return createContext({ em, policy, config, rules: DEFAULT_CARE_RULES, security, requestId: 'bench', audit: new RequestAudit(noAudit, INTERNAL_CALLER, 'bench', undefined) });
      },
    }),
  );
  return { express: app, stop: () => apollo.stop() };
}

interface Target {
  url: string;
  headers: Record<string, string>;
  times: number[];
}

async function listen(expressApp: Express): Promise<{ url: string; close(): void }> {
  const server = expressApp.listen(0);
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, close: () => server.close() };
}

async function timeOnce(target: Target): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(target.url, { method: 'POST', headers: target.headers, body: JSON.stringify({ query: NESTED_PATIENTS_QUERY }) });
  const body = (await res.json()) as { errors?: unknown; data?: { patients: { edges: unknown[] } } };
  if (body.errors || body.data?.patients.edges.length !== 50) throw new Error(`bad answer: ${JSON.stringify(body).slice(0, 300)}`);
  return performance.now() - t0;
}

/** Runs the targets in rotation (after a warm-up of each), so drift and noise hit them alike. */
async function latencies(targets: Target[]): Promise<Latency[]> {
  for (const t of targets) for (let i = 0; i < 5; i++) await timeOnce(t);
  for (let i = 0; i < iterations; i++) for (const t of targets) t.times.push(await timeOnce(t));
  return targets.map((t) => ({ median: median(t.times), p95: p95(t.times) }));
}

/** Nested patients(first: 50): without the access layer, then with it for a county GP and a platform admin. */
async function queryLatencies(orm: Orm): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000' });
  const bare = await bareServer(orm, config);
  const app = await createApp({ config, orm });
  const em = asInternal(orm.em.fork() as EntityManager);
  const lead = await em.findOneOrFail(Organization, { parent: null }, { orderBy: { code: 'asc' } });
  const gpToken = await app.security.tokens.sign({ ncd_kind: 'user', roles: ['GENERAL_PRACTITIONER'], org: lead.code }, 'bench-gp');
  const adminToken = await app.security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'bench-admin');
  const bareHttp = await listen(bare.express);
  const appHttp = await listen(app.express);
  const json = { 'content-type': 'application/json' };
  const [without, gp, admin] = await latencies([
    { url: bareHttp.url, headers: json, times: [] },
    { url: appHttp.url, headers: { ...json, authorization: `Bearer ${gpToken}` }, times: [] },
    { url: appHttp.url, headers: { ...json, authorization: `Bearer ${adminToken}` }, times: [] },
  ]) as [Latency, Latency, Latency];
  bareHttp.close();
  appHttp.close();
  await bare.stop();
  await app.stop();
  const f = (l: Latency) => `median ${l.median.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms`;
  return [
    `nested patients(first: 50), ${iterations} runs over HTTP:`,
    `    without access layer:               ${f(without)}`,
    `    with auth + policy + audit (GP):    ${f(gp)}  (+${(gp.median - without.median).toFixed(1)} ms median)`,
    `    with auth + audit (platform admin): ${f(admin)}  (+${(admin.median - without.median).toFixed(1)} ms median)`,
  ].join('\n');
}

const RECORD_BP = `mutation($input: RecordObservationInput!) { recordObservation(input: $input) { id } }`;

/** recordObservation over HTTP: with the domain → FHIR hook (the product) and without it (bench-only). */
async function writeLatencies(mode: Mode, security: Awaited<ReturnType<typeof createSecurity>>): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000' });
  interface Setup {
    db: Awaited<ReturnType<Mode['create']>>;
    orm: Orm;
    app: Awaited<ReturnType<typeof createApp>>;
    http: Awaited<ReturnType<typeof listen>>;
    token: string;
    patients: string[];
    times: number[];
  }
  const setups: Setup[] = [];
  for (const materialiseFhir of [true, false]) {
    const db = await mode.create();
    const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir, materialiseFhir });
    await seedCounty(asInternal(orm.em.fork() as EntityManager), { patients: 200, protector: security.protector });
    const app = await createApp({ config, orm, security });
    const http = await listen(app.express);
    const token = await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'bench-admin');
    const rows = (await orm.em.fork().getConnection().execute(`select id from patient order by id limit 50`)) as Array<{ id: string }>;
    setups.push({ db, orm, app, http, token, patients: rows.map((r) => r.id), times: [] });
  }
  let n = 0;
  const once = async (s: Setup) => {
    n++;
    const input = { patientId: s.patients[n % s.patients.length], kind: 'BLOOD_PRESSURE', systolic: 120 + (n % 40), diastolic: 80, effectiveAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString() };
    const t0 = performance.now();
    const res = await fetch(s.http.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` }, body: JSON.stringify({ query: RECORD_BP, variables: { input } }) });
    const body = (await res.json()) as { errors?: unknown };
    if (body.errors) throw new Error(`bad answer: ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - t0;
  };
  for (const s of setups) for (let i = 0; i < 5; i++) await once(s);
  for (let i = 0; i < iterations; i++) for (const s of setups) s.times.push(await once(s));
  for (const s of setups) {
    s.http.close();
    await s.app.stop();
    await s.orm.close();
    await s.db.drop();
  }
  const [withFhir, without] = setups.map((s) => ({ median: median(s.times), p95: p95(s.times) })) as [Latency, Latency];
  const f = (l: Latency) => `median ${l.median.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms`;
  return [
    `recordObservation (blood pressure), ${iterations} runs over HTTP, platform admin:`,
    `    without domain → FHIR:  ${f(without)}`,
    `    with domain → FHIR:     ${f(withFhir)}  (+${(withFhir.median - without.median).toFixed(1)} ms median)`,
  ].join('\n');
}

async function main() {
  const modes = [embedded];
  if (await postgresReachable(serverUrl)) modes.push(postgres);
  else console.log(`(PostgreSQL not reachable at ${serverUrl}: embedded only)`);
  const rows: string[] = [];
  const security = await createSecurity(loadConfig({ NODE_ENV: 'test' }));
  for (const mode of modes) {
    for (const patients of sizes) {
      const db = await mode.create();
      const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
      try {
        const t0 = performance.now();
        const summary = await seedCounty(asInternal(orm.em.fork() as EntityManager), { patients, protector: security.protector });
        const seconds = (performance.now() - t0) / 1000;
        const counts = summary as unknown as { counts?: Record<string, number> };
        const observations = counts.counts?.observation ?? counts.counts?.observations;
        let line = `${mode.label.padEnd(30)} ${String(patients).padStart(6)} patients  seed ${seconds.toFixed(1).padStart(6)} s` + (observations ? `  (${observations} observations)` : '');
        if (only !== 'seed' && patients === sizes[sizes.length - 1]) line += `\n${await queryLatencies(orm)}`;
        console.log(line);
        rows.push(line);
      } finally {
        await orm.close();
        await db.drop();
      }
    }
    if (only !== 'seed') {
      const line = `${mode.label}\n${await writeLatencies(mode, security)}`;
      console.log(line);
      rows.push(line);
    }
  }
  console.log(`\n${rows.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
