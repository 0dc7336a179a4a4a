import { MikroORM, type Options } from '@mikro-orm/core';
import { type DatabaseOptions, type Orm, ormOptions } from './orm.js';

/**
 * How `npm run migrate -- create` decides what a new migration contains: the entity metadata compared with a
 * database that holds the checked-in migrations.
 *
 * Some of what the migrations build is written by hand because entity metadata cannot describe it, and the
 * comparison must leave it alone:
 *
 * - Triggers. migrations/Migration20261123100000_audit_append_only.ts makes audit_event append-only with two
 *   triggers. Left to itself the comparison introspects triggers (information_schema.triggers, which lists
 *   the row trigger `audit_event_no_update` but not the TRUNCATE one), finds no entity declaring them and
 *   generates `drop trigger "audit_event_no_update"` — and a down() that recreates it as an empty stub. They
 *   cannot be declared on the entity instead: the TRUNCATE trigger is never introspected, so a declared one
 *   would be "missing" from every database and re-created by every generated migration.
 * - Functions. MikroORM introspects the database's functions (all but trigger functions, such as the one
 *   above) and drops each one no `routines` entry declares: a hand-written `create function` would be
 *   removed by the next generated migration.
 * - Row level security policies, should any be added by hand.
 *
 * MikroORM's schema generator has a switch for each of these three (`ignoreTriggers`, `ignoreRoutines`,
 * `ignorePolicies`): objects declared in metadata are still created, existing ones are never dropped or
 * altered. That is the ORM's own mechanism, so it is what keeps them out of up().
 *
 * The switches only cover the up direction, though (MikroORM 7.2.1): down() is the reverse comparison, in
 * which an object the database has and the metadata lacks looks newly added, so it still came out as
 * `create or replace function "audit_event_audit_event_no_update_fn"() … begin ; end;` plus
 * `create trigger "audit_event_no_update" …` — a stub that fails ("already exists") whenever that down()
 * runs, and would be a wrong trigger if it did not. With the switches on, up() never drops or alters a
 * trigger, function or policy, so down() has none to restore: {@link pendingSchemaDiff} drops every
 * statement in down() that creates one. (Were a table dropped, its triggers would have to be restored by hand
 * in that migration's down(), as they were created by hand.)
 *
 * Indexes have no such switch; MikroORM can declare any of them, so every hand-shaped index is declared on
 * its entity instead (e.g. the FHIR store's GIN indexes with `fastupdate = off` are `@Index({ expression })`
 * in src/fhir/fhir-resource.entity.ts). test/migrations.test.ts fails when one is not, because then the
 * diff of an up-to-date database is no longer empty.
 *
 * These settings only affect schema comparison, so they are applied where a diff is computed rather than
 * in every ORM the service opens.
 */
export const UNMANAGED_SCHEMA_OBJECTS = {
  ignoreTriggers: true,
  ignoreRoutines: true,
  ignorePolicies: true,
} as const satisfies Options['schemaGenerator'];

/** ORM options for computing migration diffs: the service's options with hand-written objects left alone. */
export function diffOrmOptions(db: DatabaseOptions): Partial<Options> {
  const options = ormOptions(db);
  return { ...options, schemaGenerator: { ...options.schemaGenerator, ...UNMANAGED_SCHEMA_OBJECTS } };
}

/** Opens `db` for diffing and applies the checked-in migrations. */
export async function openForDiff(db: DatabaseOptions): Promise<Orm> {
  const orm = await MikroORM.init(diffOrmOptions(db));
  try {
    await orm.migrator.up();
  } catch (err) {
    await orm.close();
    throw err;
  }
  return orm;
}

export interface SchemaDiff {
  up: string[];
  down: string[];
}

/** What down() may not create: triggers (and their helper functions), functions, procedures, policies. */
const UNMANAGED_CREATE = /^create\s+(or\s+replace\s+)?(function|procedure|trigger|policy)\b/i;

/**
 * The statements a migration generated now would hold (both empty when the entities match the database):
 * the comparison the migrator runs in `create`, with the same `safe`/`dropTables` settings, less what
 * down() would create of the hand-written objects (see above).
 */
export async function pendingSchemaDiff(orm: Orm): Promise<SchemaDiff> {
  const { safe, dropTables } = orm.config.get('migrations');
  const { up, down } = await orm.schema.getUpdateSchemaMigrationSQL({ wrap: false, safe, dropTables });
  return { up: statements(up), down: statements(down).filter((sql) => !UNMANAGED_CREATE.test(sql)) };
}

/** Splits generated SQL into statements as the migrator does: at `;` + newline, not inside a quoted literal. */
function statements(sql: string): string[] {
  const result: string[] = [];
  let buffer = '';
  for (const chunk of sql.split(/;\n/)) {
    buffer += (buffer ? ';\n' : '') + chunk;
    if (buffer.split("'").length % 2 === 0) continue; // odd number of quotes: inside a literal
    const statement = buffer.trim();
    if (statement) result.push(statement.endsWith(';') ? statement : `${statement};`);
    buffer = '';
  }
  return result;
}
