import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { managementConsumer } from '../domain/patient/management.consumer.js';
import { type EventConsumer, EventWorker } from './consumer.js';

/** Every consumer of the domain events, in one list: the server's worker and `npm run worker` run the same. */
export function consumersFor(config: Config): EventConsumer[] {
  return [managementConsumer(config.careRules)];
}

/** A worker over the internal caller's unit of work (`em`: asInternal — jobs pass the one policy too). */
export function eventWorker(em: EntityManager, config: Config, logger?: Logger): EventWorker {
  return new EventWorker(em, consumersFor(config), { logger });
}
