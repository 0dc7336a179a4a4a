/**
 * npm run bench [-- --patients 50000] [--years 2] [--coverage-years 1] [--duration 15] [--rounds 3] [--warmup 5] [--connections 10]
 *                  [--only card,list,fhir,import,overdue,uncontrolled,indicators,export] [--fhir-resources 20000] [--concurrency 2]
 *                  [--indicator-connections 1] [--reuse <database>]
 *
 * The side-by-side benchmark of issue 11 (bench/README.md): a county seeded into a fresh PostgreSQL database
 * (BENCH_DATABASE_URL's server; dropped after unless BENCH_KEEP_DB=1, or an existing one with --reuse), then the
 * same questions put to this service (as a township GP and as platform administrator), to PostGraphile and to
 * hand-written SQL, each a child process, checked to answer the same data before they are measured; FHIR read,
 * search and transaction-Bundle import against their floor; issue 13's indicators and Bulk export against theirs.
 * Writes bench/results.json and bench/RESULTS.md (BENCH_RESULTS_DIR: elsewhere).
 * Exits non-zero when an answer is wrong, never because a target is not met.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import path from 'node:path';
import pg from 'pg';
import { createSecurity, type Security } from '../src/access/index.js';
import { measure, type LoadOptions, type Measured } from './load.js';
import { importAgainstFloor, type ImportResult } from './fhir/import-floor.js';
import { exportAgainstFloor, type ExportResult } from './export.js';
import { indicatorPeriod, indicatorTargets, verifyIndicators } from './indicators.js';
import { judge, machine, writeResults } from './report.js';
import { cardTargets, fhirTargets, listTargets, overdueTargets, uncontrolledTargets, verifyAnswers, verifyWorklists, type Fixtures, type Servers, type WorklistFixtures } from './scenarios.js';
import { benchConfig, createDatabase, reuseDatabase, seedDatabase, type BenchDatabase, type SeedTiming } from './seed.js';
import { answersGraphql, startChild, type Child } from './servers/child.js';
import { busiestTownship, busiestVillage, cardPatients, observationIds, startOurs, tokens } from './servers/ours.js';
import { WrongAnswerError } from './verify.js';

const { values: flags } = parseArgs({
  options: {
    patients: { type: 'string', default: '50000' },
    years: { type: 'string' },
    'coverage-years': { type: 'string' },
    duration: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    only: { type: 'string', default: 'card,list,fhir,import,overdue,uncontrolled' },
    'fhir-resources': { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '2' },
    'card-patients': { type: 'string', default: '200' },
    reuse: { type: 'string' },
    'indicator-connections': { type: 'string', default: '1' },
  },
});
const int = (name: keyof typeof flags) => {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${flags[name]}"`);
  return n;
};
const only = new Set(flags.only!.split(',').map((s) => s.trim()));
const SCENARIOS = ['card', 'list', 'fhir', 'import', 'overdue', 'uncontrolled', 'indicators', 'export'];
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`--only: unknown scenario "${s}" (${SCENARIOS.join(', ')})`);
const hotPaths = only.has('card') || only.has('list') || only.has('fhir');
const worklists = { overdue: only.has('overdue'), uncontrolled: only.has('uncontrolled') };
const load: LoadOptions = { connections: int('connections'), duration: int('duration'), rounds: Math.max(1, int('rounds')), warmup: int('warmup') };

/** --years N: N years of history and N + 1 calendar years of coverage (the window's first days are in the year before), unless --coverage-years. */
function seedShape(): { historyYears?: number; coverageYears?: number } {
  const years = flags.years === undefined ? undefined : Math.max(1, int('years'));
  const coverageYears = flags['coverage-years'] === undefined ? (years === undefined ? undefined : years + 1) : Math.max(1, int('coverage-years'));
  return { historyYears: years, coverageYears };
}

const dist = (file: string) => path.resolve('dist/bench/servers', file);

async function startServers(db: BenchDatabase): Promise<Servers> {
  const env = { DATABASE_URL: db.url, GRAPHILE_ENV: 'production' };
  // One at a time: each start introspects or migrates the same database.
  const gp = await startOurs('ours-gp', db.url);
  const admin = await startOurs('ours-admin', db.url);
  const peer = await startChild('postgraphile', dist('postgraphile.js'), env, answersGraphql('/graphql'));
  const floor = await startChild('floor', dist('floor.js'), env, async (base) => (await fetch(`${base}/ready`)).ok);
  return { gp, admin, peer, floor };
}

async function fixtures(db: BenchDatabase, security: Security): Promise<Fixtures> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const township = await busiestTownship(c);
    const patients = await cardPatients(c, township, int('card-patients'));
    if (!patients.length) throw new Error(`township ${township.code} has no patients with conditions`);
    const observations = await observationIds(c, patients, 500);
    if (!observations.length) throw new Error('no FHIR Observations for those patients: was the county written as FHIR (backfill)?');
    console.log(`  township GP of ${township.name} (${township.code}, ${township.patients.toLocaleString('en')} patients); ${patients.length} patient cards, ${observations.length} Observations in rotation`);
    return { tokens: await tokens(security, township), township, cardPatients: patients, observations };
  } finally {
    await c.end();
  }
}

/** The worklist scenarios' township (the GP's, as for the hot paths) and village (busiestVillage). */
async function worklistFixtures(db: BenchDatabase, f: Fixtures): Promise<WorklistFixtures> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const village = await busiestVillage(c, f.township);
    console.log(`  worklists: overdue follow-ups of ${f.township.name}; uncontrolled patients of ${village.name} (${village.code}, ${village.patients.toLocaleString('en')} patients not under control)`);
    return { tokens: f.tokens, township: f.township, village };
  } finally {
    await c.end();
  }
}

async function postgresVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v;
  } finally {
    await c.end();
  }
}

async function main() {
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  const db = flags.reuse ? await reuseDatabase(flags.reuse) : await createDatabase('ncd_bench');
  const security = await createSecurity(benchConfig(db.url));
  const checks: string[] = [];
  const scenarios: Measured[] = [];
  let seed: SeedTiming | undefined;
  let fhirImport: ImportResult | undefined;
  let bulkExport: ExportResult | undefined;
  const children: Child[] = [];
  try {
    console.log(flags.reuse ? `Reusing database ${db.name}` : `Database ${db.name}: seeding ${int('patients').toLocaleString('en')} patients`);
    if (!flags.reuse) seed = await seedDatabase(db, int('patients'), security, seedShape());
    if (hotPaths || worklists.overdue || worklists.uncontrolled || only.has('indicators')) {
      const servers = await startServers(db);
      children.push(...Object.values(servers));
      const f = await fixtures(db, security);
      if (hotPaths) checks.push(...(await verifyAnswers(servers, f)));
      const w = worklists.overdue || worklists.uncontrolled ? await worklistFixtures(db, f) : undefined;
      if (w) checks.push(...(await verifyWorklists(servers, w, worklists)));
      const ind = only.has('indicators') ? { tokens: f.tokens, township: f.township, period: indicatorPeriod() } : undefined;
      if (ind) checks.push(...(await verifyIndicators(servers, ind)));
      for (const c of checks) console.log(`  checked: ${c}`);
      if (only.has('card')) scenarios.push(...(await measure(cardTargets(servers, f), load)));
      if (only.has('list')) scenarios.push(...(await measure(listTargets(servers, f), load)));
      if (only.has('fhir')) scenarios.push(...(await measure(fhirTargets(servers, f), load)));
      if (w && worklists.overdue) scenarios.push(...(await measure(overdueTargets(servers, w), load)));
      if (w && worklists.uncontrolled) scenarios.push(...(await measure(uncontrolledTargets(servers, w), load)));
      // A dashboard's question: one caller at a time by default (--indicator-connections), so latency is the answer's, not a queue's.
      if (ind) scenarios.push(...(await measure(indicatorTargets(servers, ind), { ...load, connections: Math.max(1, int('indicator-connections')) })));
      for (const c of children.splice(0)) await c.stop();
    }
    if (only.has('export')) {
      bulkExport = await exportAgainstFloor(db, security, 1_000_000);
      checks.push(
        `export: ${bulkExport.resources.toLocaleString('en')} resources in ${bulkExport.files.length} files, the same lines per type from the job and the floor, every line its file's type, no id twice, every floor id exported`,
      );
    }
    if (only.has('import')) {
      fhirImport = await importAgainstFloor(int('fhir-resources'), Math.max(1, int('concurrency')), security);
      if (fhirImport.import.failedBundles) throw new WrongAnswerError(`FHIR import: ${fhirImport.import.failedBundles} Bundles failed`);
      checks.push(`FHIR import: all ${fhirImport.bundles} Bundles answered 2xx for every entry`);
    }
    writeResults({
      meta: machine(command, await postgresVersion(db.url)),
      options: { ...load, indicatorConnections: int('indicator-connections'), patients: seed ? int('patients') : undefined, reuse: flags.reuse, only: [...only] },
      seed,
      checks,
      scenarios,
      fhirImport,
      bulkExport,
      ...judge(scenarios, seed, bulkExport),
    });
  } finally {
    for (const c of children) await c.stop();
    await db.release();
  }
}

main().catch((err) => {
  console.error(err instanceof WrongAnswerError ? `\nWRONG ANSWER — nothing written: ${err.message}` : err);
  process.exit(1);
});
