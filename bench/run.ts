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
  }
  console.log(`\n${rows.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
