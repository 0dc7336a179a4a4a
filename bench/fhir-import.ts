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
import { loadConfig, type Config } from '../src/config.js';
import { openDatabase } from '../src/db/orm.js';
import { postgresReachable } from '../src/db/scratch-database.js';
import { createSecurity, type Security } from '../src/access/index.js';
import { indexResource } from '../src/fhir/indexing.js';
import { mappingFor, validateFhir } from '../fhir-mappings/index.js';
import { type Template, inProcess, loadDirectory, loadTemplates, makeCopies, overHttp, report } from './fhir/bundles.js';
import { SERVER_URL, createDatabase } from './seed.js';

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

interface Db {
  label: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

async function freshPostgres(): Promise<Db> {
  const db = await createDatabase('ncd_bench_fhir');
  return { label: 'PostgreSQL', databaseUrl: db.url, drop: () => db.release() };
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
    if (await postgresReachable(SERVER_URL)) {
      if (sqlProfileOn) {
        out.push(await sqlProfile(await freshPostgres(), templates, security, config));
        console.log(out.at(-1));
      }
      out.push(...(await benchDatabase(await freshPostgres(), templates, targetResources, security, config, concurrency, 1)));
    } else out.push(`  (PostgreSQL not reachable at ${SERVER_URL}: skipped)`);
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
