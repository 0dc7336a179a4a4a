/**
 * npm run bench:fhir [-- --resources 100000] [--embedded-resources 10000] [--concurrency 2] [--http-bundles 16]
 *                       [--db both|postgres|embedded] [--sql-profile off]
 *
 * FHIR transaction-Bundle import throughput. The Synthea patient Bundles of the test data (synthea-qicore-2025-ny and
 * synthea-2019-smart-r4, test/fixtures/fhir or FHIR_DATA_DIR) are replicated with fresh identities — new
 * urn:uuid fullUrls and ids, rewritten in every reference, identifier values suffixed per copy — so every
 * copy is a new patient, until the target count of resources is reached. Copies are made before the clock
 * starts (kept as JSON text; parsing is timed, as the importer and POST /fhir parse too).
 *
 * Per database (PostgreSQL at BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres, a
 * fresh database dropped afterwards; and embedded in-memory PGlite for a smaller count):
 *  - the directory Bundles (hospitalInformation / practitionerInformation) are loaded first, untimed;
 *  - Bundles go through FhirInteractions.bundle in-process (as `npm run import` does), `--concurrency` at a
 *    time (PGlite: 1, it has a single connection): resources/s, Bundles, elapsed, p50/p95 per-Bundle latency;
 *  - then a subset over HTTP (POST /fhir with a platform administrator's token) for the same figures;
 *  - where the time goes: validateFhir, indexing and the domain mapping timed alone on the same resources,
 *    and SQL statements counted per resource.
 * BENCH_KEEP_DB=1 keeps the PostgreSQL database (its URL is printed), to look at plans afterwards.
 * For a CPU profile: node --cpu-prof dist/bench/fhir-import.js --db postgres --resources 5000 --http-bundles 0
 */
import 'reflect-metadata';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import { openDatabase, type Orm } from '../src/db/orm.js';
import { createSecurity, entityManagerFor, type Security } from '../src/access/index.js';
import { INTERNAL_CALLER } from '../src/access/caller.js';
import { AuditRecorder } from '../src/access/audit.js';
import { AuditAction, AuditOutcome } from '../src/access/audit-event.entity.js';
import { FhirInteractions } from '../src/fhir/interactions.js';
import { indexResource } from '../src/fhir/indexing.js';
import { mappingFor, validateFhir } from '../fhir-mappings/index.js';
import { importPaths } from '../src/cli/import.js';

// Flags of bench/run.ts (`npm run bench` passes the same arguments to both) are ignored here.
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (!a.startsWith('--')) continue;
  const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
  if (v !== undefined) args.set(k, v);
  else if (process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--')) args.set(k, process.argv[++i]!);
  else args.set(k, '');
}
const num = (name: string, fallback: number) => {
  const raw = args.get(name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return n;
};
const targetResources = num('resources', 100_000);
const embeddedResources = num('embedded-resources', 10_000);
const concurrency = Math.max(1, num('concurrency', 2));
const httpBundles = num('http-bundles', 16);
const dbChoice = args.get('db') ?? 'both';
const sqlProfileOn = args.get('sql-profile') !== 'off';
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dataDir = path.resolve(process.env.FHIR_DATA_DIR ?? path.join(process.cwd(), 'test', 'fixtures', 'fhir'));
const directoryDir = path.join(dataDir, 'synthea-qicore-2025-ny');
const DIRECTORY_FILE = /^(hospitalInformation|practitionerInformation).*\.json$/;

// ---------------------------------------------------------------------------------------------------------
// Templates and fresh copies

interface Template {
  file: string;
  text: string;
  /** Every id the Bundle gives its own resources (fullUrl uuids and resource ids): rewritten per copy. */
  ids: Set<string>;
  resources: number;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function loadTemplates(): Template[] {
  const files = [
    ...fs
      .readdirSync(directoryDir)
      .filter((f) => f.endsWith('.json') && !DIRECTORY_FILE.test(f))
      .sort()
      .map((f) => path.join(directoryDir, f)),
    ...fs
      .readdirSync(path.join(dataDir, 'synthea-2019-smart-r4'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(dataDir, 'synthea-2019-smart-r4', f)),
  ];
  return files.map((file) => {
    const text = fs.readFileSync(file, 'utf8');
    const bundle = JSON.parse(text) as Bundle;
    if (bundle.type !== 'transaction') throw new Error(`${file} is a ${bundle.type} Bundle, not a transaction`);
    const ids = new Set<string>();
    for (const e of bundle.entry ?? []) {
      for (const m of `${e.fullUrl ?? ''} ${e.resource?.id ?? ''}`.match(UUID) ?? []) ids.add(m.toLowerCase());
    }
    return { file, text, ids, resources: bundle.entry?.length ?? 0 };
  });
}

/** A new patient: every id of the Bundle replaced (consistently, references included), identifier values suffixed. */
function freshCopy(t: Template, copy: number): string {
  const map = new Map<string, string>();
  for (const id of t.ids) map.set(id, randomUUID());
  const bundle = JSON.parse(t.text.replace(UUID, (m) => map.get(m.toLowerCase()) ?? m)) as Bundle;
  for (const e of bundle.entry ?? []) {
    const ids = (e.resource as { identifier?: Array<{ value?: string }> } | undefined)?.identifier;
    if (Array.isArray(ids)) for (const i of ids) if (typeof i.value === 'string') i.value = `${i.value}-c${copy}`;
  }
  return JSON.stringify(bundle);
}

interface Copies {
  texts: string[];
  resources: number;
}

function makeCopies(templates: Template[], target: number, firstCopy: number): Copies {
  const texts: string[] = [];
  let resources = 0;
  for (let copy = firstCopy; resources < target; copy++) {
    for (const t of templates) {
      if (resources >= target) break;
      texts.push(freshCopy(t, copy));
      resources += t.resources;
    }
  }
  return { texts, resources };
}

// ---------------------------------------------------------------------------------------------------------
// Databases

interface Db {
  label: string;
  databaseUrl?: string;
  drop(): Promise<void>;
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

async function freshPostgres(): Promise<Db> {
  const name = `ncd_bench_fhir_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    label: 'PostgreSQL',
    databaseUrl: url.toString(),
    drop: async () => {
      if (process.env.BENCH_KEEP_DB) return console.log(`  (kept: ${url.toString()})`);
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Runs

interface RunResult {
  label: string;
  bundles: number;
  resources: number;
  failedBundles: number;
  elapsedMs: number;
  latencies: number[];
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};

function report(r: RunResult): string {
  const s = r.elapsedMs / 1000;
  return (
    `  ${r.label.padEnd(34)} ${Math.round(r.resources / s).toLocaleString('en').padStart(6)} resources/s  ` +
    `${r.resources.toLocaleString('en').padStart(7)} resources  ${String(r.bundles).padStart(4)} Bundles  ${s.toFixed(1).padStart(7)} s  ` +
    `per Bundle p50 ${pct(r.latencies, 0.5).toFixed(0)} ms, p95 ${pct(r.latencies, 0.95).toFixed(0)} ms` +
    (r.latencies.length >= 50 ? ` (p50 first/last tenth ${pct(r.latencies.slice(0, r.latencies.length / 10), 0.5).toFixed(0)}/${pct(r.latencies.slice((-r.latencies.length / 10) | 0), 0.5).toFixed(0)} ms)` : '') +
    (r.failedBundles ? `  ${r.failedBundles} Bundles FAILED` : '')
  );
}

/**
 * Runs `work` over the items, `n` at a time, each timed. The first item runs alone: the first patient creates
 * shared rows (the "unassigned" organisation) and concurrent first patients collide on them (see the report).
 */
async function pooled(items: string[], n: number, work: (text: string) => Promise<number>): Promise<{ latencies: number[]; resources: number; failed: number; elapsedMs: number }> {
  const latencies: number[] = [];
  let resources = 0;
  let failed = 0;
  const one = async (text: string) => {
    const start = performance.now();
    try {
      const done = await work(text);
      resources += done;
    } catch (err) {
      failed++;
      if (failed <= 3) console.error(`  a Bundle failed: ${(err as Error).message.slice(0, 500)}`);
    }
    latencies.push(performance.now() - start);
  };
  const t0 = performance.now();
  if (items.length) await one(items[0]!);
  let next = 1;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await one(items[next++]!);
    }),
  );
  return { latencies, resources, failed, elapsedMs: performance.now() - t0 };
}

/** The importer's path: FhirInteractions.bundle as the internal caller, one audit record per Bundle. */
async function inProcess(orm: Orm, security: Security, config: Config, texts: string[], n: number, label: string): Promise<RunResult> {
  const audit = new AuditRecorder(orm, pino({ level: 'silent' }));
  const baseUrl = `${config.auth.publicUrl}/fhir`;
  const r = await pooled(texts, n, async (text) => {
    const bundle = JSON.parse(text) as Bundle;
    const { em, policy } = entityManagerFor(orm, INTERNAL_CALLER);
    const requestAudit = audit.forRequest(INTERNAL_CALLER, 'bench', undefined);
    const fhir = new FhirInteractions({ em, policy, protector: security.protector, systems: config.identifierSystems, audit: requestAudit, baseUrl });
    const response = await fhir.bundle(bundle);
    await requestAudit.record(AuditAction.CREATE, 'bench FHIR transaction', AuditOutcome.SUCCESS);
    const bad = (response.entry ?? []).filter((e) => !/^2\d\d/.test(e.response?.status ?? ''));
    if (bad.length) throw new Error(`${bad.length} entries not 2xx: ${JSON.stringify(bad[0]).slice(0, 300)}`);
    return response.entry?.length ?? 0;
  });
  return { label, bundles: texts.length, resources: r.resources, failedBundles: r.failed, elapsedMs: r.elapsedMs, latencies: r.latencies };
}

async function overHttp(orm: Orm, security: Security, config: Config, texts: string[], n: number, label: string): Promise<RunResult> {
  const app = await createApp({ config, orm, security, logger: pino({ level: 'silent' }) });
  const server = app.express.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  const token = await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'bench', 6 * 3600);
  try {
    const r = await pooled(texts, n, async (text) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` }, body: text });
      const body = (await res.json()) as Bundle;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return body.entry?.length ?? 0;
    });
    return { label, bundles: texts.length, resources: r.resources, failedBundles: r.failed, elapsedMs: r.elapsedMs, latencies: r.latencies };
  } finally {
    server.close();
    await app.stop();
  }
}

/** CPU-only stages timed alone on the template resources: what each costs per resource. */
function cpuProfile(templates: Template[]): string {
  const resources: Resource[] = templates.flatMap((t) => ((JSON.parse(t.text) as Bundle).entry ?? []).map((e) => e.resource!).filter(Boolean));
  const texts = templates.map((t) => t.text);
  validateFhir(resources[0]!); // loads the structure definitions
  const time = (rounds: number, f: () => void) => {
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) f();
    return (performance.now() - t0) / rounds / resources.length;
  };
  const rounds = 5;
  const parse = time(rounds, () => texts.forEach((t) => JSON.parse(t)));
  const validate = time(rounds, () => resources.forEach((r) => validateFhir(r)));
  const index = time(rounds, () => resources.forEach((r) => indexResource(r)));
  const map = time(rounds, () =>
    resources.forEach((r) => {
      try {
        mappingFor(r.resourceType)?.fromFhir(r);
      } catch {
        // refusals are part of the cost
      }
    }),
  );
  const stringify = time(rounds, () => resources.forEach((r) => JSON.stringify(r)));
  const byType = new Map<string, { n: number; ms: number }>();
  for (const r of resources) {
    const t0 = performance.now();
    validateFhir(r);
    const e = byType.get(r.resourceType) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += performance.now() - t0;
    byType.set(r.resourceType, e);
  }
  const worst = [...byType]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 6)
    .map(([t, e]) => `${t} ${(e.ms / e.n).toFixed(2)} ms × ${e.n}`)
    .join(', ');
  const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  return [
    `CPU per resource, timed alone on the ${resources.length.toLocaleString('en')} template resources (${rounds} rounds):`,
    `    validateFhir (base R4 structure, medplum)   ${us(validate)}   → alone caps one core at ${Math.round(1000 / validate).toLocaleString('en')} resources/s`,
    `    JSON.parse of the Bundle text               ${us(parse)}`,
    `    indexResource (search columns)              ${us(index)}`,
    `    mapping fromFhir (domain projection input)  ${us(map)}`,
    `    JSON.stringify (stored twice: current + history) ${us(stringify)}`,
    `    validateFhir by type (costliest in total): ${worst}`,
  ].join('\n');
}

async function loadDirectory(orm: Orm, security: Security, config: Config, n: number, label: string): Promise<void> {
  const t0 = performance.now();
  const files = fs
    .readdirSync(directoryDir)
    .filter((f) => DIRECTORY_FILE.test(f))
    .map((f) => path.join(directoryDir, f));
  const dir = await importPaths(orm, security, config, files, { concurrency: n });
  if (dir.failed) throw new Error(`the directory Bundles failed to load: ${dir.failures[0]?.diagnostics}`);
  console.log(`  ${label}: directory loaded (untimed): ${dir.resources} resources in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function benchDatabase(db: Db, templates: Template[], resources: number, security: Security, config: Config, n: number, firstCopy: number): Promise<string[]> {
  const lines: string[] = [];
  const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: 'memory://', poolMax: n + 4 });
  try {
    await loadDirectory(orm, security, config, n, db.label);
    const copies = makeCopies(templates, resources, firstCopy);
    const perBundle = Math.ceil(copies.resources / copies.texts.length);
    const httpTexts = httpBundles > 0 ? makeCopies(templates, httpBundles * perBundle, firstCopy + 100_000).texts.slice(0, httpBundles) : [];
    console.log(`  ${db.label}: ${copies.texts.length} Bundles (${copies.resources.toLocaleString('en')} resources) ready; importing, ${n} at a time …`);
    const run = await inProcess(orm, security, config, copies.texts, n, `${db.label}, in-process ×${n}`);
    lines.push(report(run));
    console.log(lines.at(-1));
    if (httpTexts.length) {
      const http = await overHttp(orm, security, config, httpTexts, n, `${db.label}, HTTP POST /fhir ×${n}`);
      lines.push(report(http));
      console.log(lines.at(-1));
    }
    const rows = (await orm.em.fork().getConnection().execute('select count(*)::int as n from fhir_resource')) as Array<{ n: number }>;
    lines.push(`  ${db.label}: fhir_resource holds ${rows[0]!.n.toLocaleString('en')} rows at the end`);
  } finally {
    await orm.close();
    await db.drop();
  }
  return lines;
}

/** One round of the templates, one Bundle at a time, every SQL statement timed: where the database time goes. */
async function sqlProfile(db: Db, templates: Template[], security: Security, config: Config): Promise<string> {
  const stats = new Map<string, { n: number; ms: number }>();
  let on = false;
  const orm = await openDatabase({
    databaseUrl: db.databaseUrl,
    embeddedDataDir: 'memory://',
    onQuery: (message) => {
      if (!on) return;
      const m = message.replace(/\x1B\[[0-9;]*m/g, '');
      const took = /\[took (\d+(?:\.\d+)?) ms/.exec(m);
      const sql = m
        .replace(/^\[query\]\s*/, '')
        .replace(/ \[took.*$/s, '')
        .replace(/'(?:[^']|'')*'/g, '?')
        .replace(/\s+/g, ' ')
        .slice(0, 110);
      const e = stats.get(sql) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += took ? Number(took[1]) : 0;
      stats.set(sql, e);
    },
  });
  try {
    await loadDirectory(orm, security, config, 1, `${db.label} (SQL profile)`);
    const copies = makeCopies(templates, templates.reduce((n, t) => n + t.resources, 0), 900_000);
    on = true;
    const run = await inProcess(orm, security, config, copies.texts, 1, 'profile');
    on = false;
    const total = [...stats.values()].reduce((a, e) => ({ n: a.n + e.n, ms: a.ms + e.ms }), { n: 0, ms: 0 });
    const top = [...stats]
      .filter(([sql]) => !/^(begin|commit|rollback)/.test(sql))
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 10)
      .map(([sql, e]) => `    ${(e.n / run.resources).toFixed(2).padStart(5)}/resource ${((e.ms / run.elapsedMs) * 100).toFixed(0).padStart(3)}% of wall  ${sql}`);
    return [
      `SQL on ${db.label}, one round (${run.resources.toLocaleString('en')} resources, one Bundle at a time, ${Math.round(run.resources / (run.elapsedMs / 1000))} resources/s with statement logging on):`,
      `    ${(total.n / run.resources).toFixed(1)} statements per resource; ${((total.ms / run.elapsedMs) * 100).toFixed(0)}% of the wall time waiting on them. Costliest:`,
      ...top,
    ].join('\n');
  } finally {
    await orm.close();
    await db.drop();
  }
}

async function main() {
  const only = args.get('only');
  if (only && only !== 'fhir') {
    console.log(`(FHIR import bench skipped: --only ${only})`);
    return;
  }
  const templates = loadTemplates();
  const perRound = templates.reduce((n, t) => n + t.resources, 0);
  console.log(
    `FHIR import bench: ${templates.length} Synthea transaction Bundles (${perRound.toLocaleString('en')} resources a round), concurrency ${concurrency}`,
  );
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const security = await createSecurity(config);
  const out: string[] = [cpuProfile(templates)];
  console.log(out[0]);
  if (dbChoice !== 'embedded') {
    if (await postgresReachable()) {
      if (sqlProfileOn) {
        out.push(await sqlProfile(await freshPostgres(), templates, security, config));
        console.log(out.at(-1));
      }
      out.push(...(await benchDatabase(await freshPostgres(), templates, targetResources, security, config, concurrency, 1)));
    } else out.push(`  (PostgreSQL not reachable at ${serverUrl}: skipped)`);
  }
  if (dbChoice !== 'postgres' && embeddedResources > 0) {
    // The embedded database has one connection: one Bundle at a time.
    out.push(...(await benchDatabase({ label: 'embedded PGlite', drop: async () => {} }, templates, embeddedResources, security, config, 1, 1)));
  }
  console.log(`\n${out.join('\n')}`);
  console.log('\nReference: published FHIR servers import 700–2,700 resources/s on 8 vCPUs; this machine has ' + (await import('node:os')).availableParallelism() + '.');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
