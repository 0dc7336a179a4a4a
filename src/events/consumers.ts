import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { careRulesConsumer } from '../care/state/consumer.js';
import { CareSweeper } from '../care/state/sweep.js';
import { type EventConsumer, EventWorker } from './consumer.js';

/** Every consumer of the domain events, in one list: the server's worker and `npm run worker` run the same. */
export function consumersFor(config: Config): EventConsumer[] {
  return [careRulesConsumer(config.careRules)];
}

/** A worker over the internal caller's unit of work (`em`: asInternal — jobs pass the one policy too). */
export function eventWorker(em: EntityManager, config: Config, logger?: Logger): EventWorker {
  return new EventWorker(em, consumersFor(config), { logger });
}

/** The care rules' daily sweep (src/care/state/sweep.ts), run wherever the event worker runs. */
export function careSweeper(em: EntityManager, config: Config, logger?: Logger): CareSweeper {
  return new CareSweeper(em, config.careRules, { logger });
}
