import { PgliteDriver } from '@mikro-orm/pglite';
import type { Orm } from '../../db/orm.js';

/**
 * The PostgreSQL server behind an ORM, or undefined for the embedded database: what decides the queue (pg-boss or
 * the in-process runner) and how rows are read (a cursor on a connection of the job's own, or keyset pages). Taken
 * from the database actually opened, not from DATABASE_URL: a test opens a scratch database of its own.
 */
export function serverUrlOf(orm: Orm): string | undefined {
  if (orm.em.getDriver() instanceof PgliteDriver) return undefined;
  return orm.config.get('clientUrl') ?? undefined;
}
