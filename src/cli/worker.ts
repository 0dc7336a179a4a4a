/**
 * npm run worker — the domain-event consumers (src/events/consumers.ts), the care rules' daily sweep and the Bulk
 * export jobs (src/jobs/bulk-export/, pg-boss) in a process of their own, against PostgreSQL (DATABASE_URL), beside
 * servers started with EVENT_WORKER=off (and BULK_EXPORT_WORKER=off). Stops on SIGINT/SIGTERM after the batch it is
 * handling; an export under way stops between two pages and is resumed from its checkpoint by the next worker.
 */
import 'reflect-metadata';
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { openDatabase, type EntityManager } from '../db/orm.js';
import { asInternal } from '../access/index.js';
import { careSweeper, eventWorker } from '../events/consumers.js';
import { exitWith } from './exit.js';
import { createSecurity } from '../access/index.js';
import { exportRunnerFor, PgBossExportRunner } from '../jobs/bulk-export/queue.js';

async function main() {
  const config = loadConfig();
  const log = pino({ level: config.logLevel === 'silent' ? 'info' : config.logLevel });
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  const worker = eventWorker(asInternal(orm.em.fork() as EntityManager), config, log).start();
  const sweeper = careSweeper(asInternal(orm.em.fork() as EntityManager), config, log).start();
  const exports = exportRunnerFor(orm, await createSecurity(config), config, { work: true, logger: log });
  await exports.start();
  if (exports instanceof PgBossExportRunner) await exports.startWorking();
  log.info('event worker running (and Bulk export jobs)');
  const stop = async () => {
    await worker.stop();
    await sweeper.stop();
    await exports.stop();
    await orm.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(exitWith);
