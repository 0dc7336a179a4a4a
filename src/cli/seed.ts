/**
 * npm run seed -- [--patients N] [--seed S] [--as-of YYYY-MM-DD] [--years Y] [--coverage-years C] [--reset] [--skip-fhir]
 *
 * Generates a deterministic demo county (as of today in the county's calendar, or --as-of / SEED_AS_OF) into the configured database (DATABASE_URL → that Postgres,
 * otherwise the embedded one at EMBEDDED_DATA_DIR, or in memory with EMBEDDED_IN_MEMORY=1). Refuses to
 * seed a database that already has patients unless --reset, which first empties every table of care
 * data (TRUNCATE … CASCADE; the append-only audit trail is kept). Then writes every seeded record's FHIR
 * resource, as the service does for what it records (src/fhir/materialise.ts), unless --skip-fhir: the
 * seeder writes plain SQL, past the ORM hook that does it for the service. `--fhir-only` does just that
 * step, for a database filled before it existed. `--years` is the history's length (default 2; more years, more
 * readings per patient), `--coverage-years` how many calendar years of insurance each insured resident holds (default 1).
 */
import 'reflect-metadata';
import cliProgress from 'cli-progress';
import { parseArgs } from 'node:util';
import { IdentifierProtector } from '../access/identifier-protection.js';
import { loadKeys } from '../access/keys.js';
import { loadConfig } from '../config.js';
import { asInternal } from '../access/index.js';
import { type EntityManager, openDatabase } from '../db/orm.js';
import { EmbeddedDatabaseInUseError } from '../db/embedded-lock.js';
import { backfillFhir } from '../fhir/materialise.js';
import { DEFAULT_SEED, clearCountyData, hasPatients, seedCounty, seedNowFor } from '../seed/generate.js';

const USAGE = 'usage: npm run seed -- [--patients N] [--seed S] [--as-of YYYY-MM-DD] [--years Y] [--coverage-years C] [--reset] [--skip-fhir] | --fhir-only';

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${raw}"\n${USAGE}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      patients: { type: 'string', short: 'n' },
      seed: { type: 'string', short: 's' },
      'as-of': { type: 'string' },
      years: { type: 'string' },
      'coverage-years': { type: 'string' },
      reset: { type: 'boolean', default: false },
      'skip-fhir': { type: 'boolean', default: false },
      'fhir-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig();
  const patients = positiveInt('patients', values.patients, config.seedPatients);
  const seed = positiveInt('seed', values.seed, DEFAULT_SEED);
  const now = seedNowFor(values['as-of'] ?? config.seedAsOf);
  const where = config.databaseUrl ? 'Postgres (DATABASE_URL)' : `embedded PGlite (${config.embeddedDataDir})`;

  // Resident IDs are stored as the service stores them: encrypted, with a keyed-hash lookup.
  const protector = new IdentifierProtector((await loadKeys(config)).identifier);
  // An embedded database is locked while seeded: refused (EmbeddedDatabaseInUseError) while the server or another command holds it.
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir, owner: 'npm run seed' });
  try {
    const em = orm.em.fork() as EntityManager;
    if (values['fhir-only']) return await writeFhir(em);
    if (await hasPatients(em)) {
      if (!values.reset) {
        console.error(`The database (${where}) already has patients; not seeding. Pass --reset to replace the existing county.`);
        return 1;
      }
      console.log(`Deleting the existing county from ${where} (the audit trail is kept) …`);
      await clearCountyData(em);
    }

    console.log(`Seeding ${patients.toLocaleString('en')} patients (seed ${seed}, as of ${now.toISOString().slice(0, 10)}) into ${where} …`);
    const bar = process.stdout.isTTY
      ? new cliProgress.SingleBar(
          { format: 'patients {bar} {percentage}% | {value}/{total} | {duration_formatted} elapsed | eta {eta_formatted}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(patients, 0);
    let lastLogged = 0;
    const summary = await seedCounty(em, {
      patients,
      seed,
      now,
      historyYears: positiveInt('years', values.years, 2) || 2,
      coverageYears: positiveInt('coverage-years', values['coverage-years'], 1) || 1,
      identifierSystems: config.identifierSystems,
      protector,
      onProgress: (done, total) => {
        if (bar) bar.update(done);
        else if (done === total || done - lastLogged >= Math.max(5000, total / 10)) {
          lastLogged = done;
          console.log(`  ${done}/${total} patients`);
        }
      },
    });
    bar?.stop();

    const seconds = summary.elapsedMs / 1000;
    const width = Math.max(...Object.keys(summary.counts).map((t) => t.length));
    console.log(`\nSeeded ${summary.townships} townships, ${summary.villages} villages:`);
    for (const [table, n] of Object.entries(summary.counts)) console.log(`  ${table.padEnd(width)}  ${n.toLocaleString('en').padStart(10)}`);
    console.log(`  ${'total rows'.padEnd(width)}  ${summary.rows.toLocaleString('en').padStart(10)}`);
    console.log(
      `Done in ${seconds.toFixed(1)} s: ${Math.round(summary.patients / seconds).toLocaleString('en')} patients/s, ` +
        `${Math.round(summary.rows / seconds).toLocaleString('en')} rows/s.`,
    );
    return values['skip-fhir'] ? 0 : await writeFhir(em);
  } finally {
    await orm.close();
  }
}

async function writeFhir(em: EntityManager): Promise<number> {
  const started = performance.now();
  console.log('Writing the FHIR resources of the records …');
  const written = await backfillFhir(asInternal(em.fork()), { onProgress: (type, n) => console.log(`  ${type}: ${n.toLocaleString('en')}`) });
  const seconds = (performance.now() - started) / 1000;
  console.log(`FHIR: ${written.toLocaleString('en')} resources in ${seconds.toFixed(1)} s (${Math.round(written / seconds).toLocaleString('en')}/s).`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    if (err instanceof Error && err.stack && !err.message.includes(USAGE) && !(err instanceof EmbeddedDatabaseInUseError)) console.error(err.stack);
    process.exit(1);
  },
);
