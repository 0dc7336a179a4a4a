/**
 * npm run worker — the domain-event consumers (src/events/consumers.ts) and the care rules' daily sweep in a process of their own, against
 * PostgreSQL (DATABASE_URL), beside servers started with EVENT_WORKER=off. Stops on SIGINT/SIGTERM after the
 * batch it is handling.
 */
import 'reflect-metadata';
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { openDatabase, type EntityManager } from '../db/orm.js';
import { asInternal } from '../access/index.js';
import { careSweeper, eventWorker } from '../events/consumers.js';
import { exitWith } from './exit.js';

async function main() {
  const config = loadConfig();
  const log = pino({ level: config.logLevel === 'silent' ? 'info' : config.logLevel });
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  const worker = eventWorker(asInternal(orm.em.fork() as EntityManager), config, log).start();
  const sweeper = careSweeper(asInternal(orm.em.fork() as EntityManager), config, log).start();
  log.info('event worker running');
  const stop = async () => {
    await worker.stop();
    await sweeper.stop();
    await orm.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(exitWith);
