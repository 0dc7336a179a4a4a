import { MikroORM, type Options } from '@mikro-orm/core';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { PgliteDriver } from '@mikro-orm/pglite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import type { SqlEntityManager } from '@mikro-orm/sql';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities.js';
import { accessFilter } from '../access/policy.js';
import { FhirMaterialiser } from '../fhir/materialise.js';
import { DomainEventRecorder } from '../events/recorder.js';
import { acquireEmbeddedLock, type EmbeddedLock, ownerOfThisProcess } from './embedded-lock.js';
import { ReadOnlyRecordGuard } from './read-only.js';

export type EntityManager = SqlEntityManager;
export type Orm = MikroORM;

export interface DatabaseOptions {
  /** A real Postgres; when absent, embedded PGlite at `embeddedDataDir`. */
  databaseUrl?: string;
  embeddedDataDir?: string;
  /** Called with every SQL statement, e.g. to count them in tests. */
  onQuery?: (sql: string) => void;
  poolMax?: number;
  /** Write domain records as FHIR on flush (ADR 6). Off only in the benchmark that measures what it costs. */
  materialiseFhir?: boolean;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Who opens an embedded data directory, named in the refusal a second opener gets (default: from the command line). */
  owner?: string;
}

export function ormOptions(db: DatabaseOptions): Partial<Options> {
  const common: Partial<Options> = {
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      path: 'migrations',
      pathTs: 'migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    // Request-scoped forks are created explicitly; using the global EM by mistake should fail loudly.
    allowGlobalContext: false,
    // Every query on patient data passes the access policy (src/access/policy.ts).
    filters: { [accessFilter.name]: accessFilter as never },
    discovery: { warnWhenNoEntities: true },
    // Every change to the domain leaves its event in the outbox (src/events/), and records written through the
    // domain (GraphQL, workflows) are written as FHIR too: both in the same transaction as the change.
    subscribers: [new ReadOnlyRecordGuard(), new DomainEventRecorder(), ...(db.materialiseFhir === false ? [] : [new FhirMaterialiser()])],
    debug: db.onQuery ? ['query'] : false,
    ...(db.onQuery ? { logger: (message: string) => db.onQuery!(message) } : {}),
  };
  if (db.databaseUrl) {
    return { ...common, driver: PostgreSqlDriver, clientUrl: db.databaseUrl, pool: { max: db.poolMax ?? 10 } };
  }
  const dir = db.embeddedDataDir ?? 'memory://';
  if (dir !== 'memory://') fs.mkdirSync(path.dirname(dir), { recursive: true });
  return { ...common, driver: PgliteDriver, dbName: dir };
}

const locks = new WeakMap<Orm, EmbeddedLock>();

/** The lock an embedded database on disk was opened under (src/db/embedded-lock.ts), e.g. for the server to advertise its URL in. */
export const embeddedLockOf = (orm: Orm): EmbeddedLock | undefined => locks.get(orm);

/**
 * Opens the database (embedded or real) and applies pending migrations. An embedded database on disk is
 * first locked for this process (one process at a time, see embedded-lock.ts): a second opener gets an
 * EmbeddedDatabaseInUseError naming the holder. `orm.close()` releases the lock.
 */
export async function openDatabase(db: DatabaseOptions): Promise<Orm> {
  const dir = db.databaseUrl ? undefined : (db.embeddedDataDir ?? 'memory://');
  const lock = dir && dir !== 'memory://' ? await acquireEmbeddedLock(dir, db.owner ?? ownerOfThisProcess()) : undefined;
  let orm: Orm | undefined;
  try {
    orm = await MikroORM.init(ormOptions(db));
    if (db.migrate !== false) await orm.migrator.up();
  } catch (err) {
    await orm?.close().catch(() => {});
    lock?.release();
    throw err;
  }
  if (lock) {
    locks.set(orm, lock);
    const close = orm.close.bind(orm);
    orm.close = async (force?: boolean) => {
      try {
        await close(force);
      } finally {
        lock.release();
      }
    };
  }
  return orm;
}
