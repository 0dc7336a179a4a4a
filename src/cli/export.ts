/**
 * npm run export -- --patient <id> [--type T,…] [--as <clientId>] [--operator <name>] --out patient.ndjson
 * npm run --silent export -- --all [--type T,…] [--as <clientId>] [--operator <name>] > everything.ndjson
 *
 * Writes FHIR resources as NDJSON (one resource a line) to the file named by --out, or to stdout (then with
 * npm's --silent, or npm's banner lands in the file too); progress goes to stderr.
 *  - `--patient <id>`: what GET /fhir/Patient/<id>/$everything returns, every page of it: the patient, then
 *    every current resource in the patient's compartment, then the resources they refer to that are in no
 *    patient's compartment (organisations, practitioners, …).
 *  - `--all`: every current resource, read in pages by keyset pagination on id (never all in memory).
 * `--type` limits either to the resource types listed. Resources go out through FhirStore.output, as the API
 * serves them, to a named caller whose access policy decides what is exported and what is revealed — never the
 * internal caller:
 *  - by default the operator, as a platform administrator named `cli:<name>` (the OS user, or `--operator <name>`):
 *    every patient, resident IDs masked, as platform administrators see them over the API;
 *  - `--as <clientId>`: as that registered, active system client (its organisation, kind and granted scopes), the
 *    operator recorded as acting on its behalf — a hospital's own patients, resident IDs in full, as its tokens get.
 * One audit record (EXPORT) names the caller, the operator and every patient exported; a refused export is
 * recorded too.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createSecurity } from '../access/index.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { clientCaller, exportResources, lineWriter, operatorCaller, operatorName } from '../fhir/operations/export-resources.js';

// The export itself lives with the FHIR operations, shared with Bulk Data $export; the CLI is its command line.
export { clientCaller, EXPORT_PAGE_SIZE, type ExportOptions, exportResources, type ExportSummary, lineWriter, operatorCaller, operatorName } from '../fhir/operations/export-resources.js';

const USAGE = 'usage: npm run export -- (--patient <id> | --all) [--type Patient,Observation,…] [--as <clientId>] [--operator <name>] [--out out.ndjson]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    strict: true,
    options: {
      patient: { type: 'string', short: 'p' },
      all: { type: 'boolean', default: false },
      type: { type: 'string', short: 't' },
      out: { type: 'string', short: 'o' },
      as: { type: 'string' },
      operator: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  if (!values.patient === !values.all) {
    console.error(`Give either --patient <id> or --all.\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const security = await createSecurity(config);
  const operator = operatorName(values.operator);
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  // Written to a temporary name and renamed at the end: a failed export leaves no half file under the name asked for.
  const out = values.out ? fs.createWriteStream(`${values.out}.partial`) : process.stdout;
  const t0 = Date.now();
  let lastLogged = 0;
  try {
    const caller = values.as ? await clientCaller(orm, values.as, operator) : operatorCaller(operator);
    process.stderr.write(`Exporting as ${caller.subject}${caller.onBehalfOf ? ` on behalf of ${caller.onBehalfOf}` : ''} (resident IDs as that caller may see them)\n`);
    const summary = await exportResources(orm, security, config, lineWriter(out), {
      caller,
      patientId: values.patient,
      types: values.type?.split(',').map((t) => t.trim()),
      onProgress: (written, total) => {
        if (written === total || written - lastLogged >= 10_000) {
          lastLogged = written;
          process.stderr.write(`  ${written.toLocaleString('en')}/${total.toLocaleString('en')} resources\n`);
        }
      },
    });
    if (values.out) {
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      });
      fs.renameSync(`${values.out}.partial`, values.out);
    }
    const seconds = (Date.now() - t0) / 1000;
    const byType = Object.entries(summary.byType)
      .sort()
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    console.error(`Exported ${summary.resources.toLocaleString('en')} resources (${summary.patients} patients)${values.out ? ` to ${values.out}` : ''} in ${seconds.toFixed(1)} s${byType ? `: ${byType}` : ''}`);
    return 0;
  } finally {
    await orm.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
