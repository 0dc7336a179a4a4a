/**
 * The exporting process of the export bench (bench/export.ts): a worker that carries out one Bulk export job, as
 * `npm run worker` would — runBulkExport with the service's configuration (DATABASE_URL, KEYS_DIR, BULK_EXPORT_DIR)
 * — and nothing else, so that its peak memory is the job's. Prints one line of JSON on stdout when done: the job's
 * status, its run time and the process's own peak resident set (process.resourceUsage().maxRSS, kB).
 *   EXPORT_JOB_ID=<job id> node dist/bench/servers/export-worker.js
 */
import 'reflect-metadata';
import { createSecurity } from '../../src/access/index.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/orm.js';
import { runBulkExport } from '../../src/jobs/bulk-export/run.js';

async function main() {
  const jobId = process.env.EXPORT_JOB_ID;
  if (!jobId) throw new Error('EXPORT_JOB_ID is not set');
  const config = loadConfig();
  const security = await createSecurity(config);
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  try {
    const t0 = performance.now();
    const status = await runBulkExport(orm, security, config, jobId);
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`${JSON.stringify({ status, seconds, maxRssKb: process.resourceUsage().maxRSS })}\n`);
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
