import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import { consumersFor } from '../events/consumers.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** The database's side of the vital signs: each one statement, run by a readiness probe or a scrape. */

export class TimeoutError extends Error {}

/** A probe must answer, database or not: a statement stuck behind a long transaction counts as a failure. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const execute = (orm: Orm, sql: string) => orm.driver.getConnection().execute(sql) as Promise<Array<Record<string, unknown>>>;

export async function ping(orm: Orm): Promise<void> {
  await execute(orm, 'select 1');
}

/** The migrations this build has (migrations/index.ts) that the database has not recorded as executed. */
export async function pendingMigrations(orm: Orm): Promise<string[]> {
  const table = orm.config.get('migrations').tableName ?? 'mikro_orm_migrations';
  const rows = await execute(orm, `select name from "${table.replace(/"/g, '')}"`);
  // MikroORM records a name with or without its file extension, depending on how it found the migration.
  const executed = new Set(rows.map((r) => String(r.name).replace(/\.[jt]s$/, '')));
  return MIGRATIONS.map((m) => m.name).filter((name) => !executed.has(name));
}

/**
 * How many events of the outbox each consumer has still to read: the newest event id minus the id of its position.
 * Approximate (consumers go by transaction, then id), and cheap: max(id) is read off the primary key. A consumer
 * that never ran has read nothing, or nothing it needs to if it starts at the end of the outbox.
 */
export async function outboxLag(orm: Orm, config: Config): Promise<Record<string, number>> {
  const rows = await execute(
    orm,
    `select c.name, c.last_id::text as position, n.newest::text as newest
     from (select coalesce(max(id), 0) as newest from domain_event) n left join event_consumer c on true`,
  );
  const newest = Number(rows[0]?.newest ?? 0);
  const positions = new Map(rows.filter((r) => r.name != null).map((r) => [String(r.name), Number(r.position)]));
  const lag: Record<string, number> = {};
  for (const consumer of consumersFor(config)) {
    const position = positions.get(consumer.name) ?? (consumer.startAt === 'end' ? newest : 0);
    lag[consumer.name] = Math.max(0, newest - position);
  }
  return lag;
}
