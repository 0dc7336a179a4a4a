import { MikroORM } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { ENTITIES } from '../src/db/entities.js';
import type { Orm } from '../src/db/orm.js';
import { diffOrmOptions, openForDiff, pendingSchemaDiff } from '../src/db/schema-diff.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

// `npm run migrate -- create` diffs the entities against a database holding the checked-in migrations
// (src/db/schema-diff.ts). Here that diff runs on the test database: embedded PGlite, or with
// TEST_DATABASE_URL a fresh database on a real PostgreSQL server.

/** An entity no migration creates yet: what a developer adding one would diff. */
@Entity({ tableName: 'migrations_probe' })
class MigrationsProbe {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ nullable: true })
  note?: string;
}

let db: TestDatabase;
let orm: Orm;

const sql = (query: string, params: unknown[] = []) => orm.em.getConnection().execute(query, params);

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openForDiff({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

describe('generating a migration', () => {
  it('finds nothing to do on an up-to-date database (hand-written triggers and functions are not dropped)', async () => {
    expect(await pendingSchemaDiff(orm)).toEqual({ up: [], down: [] });
  });

  it('leaves a hand-written function alone in both directions', async () => {
    await sql(`create function migrations_test_answer() returns int language sql as $$ select 42 $$`);
    try {
      expect(await pendingSchemaDiff(orm)).toEqual({ up: [], down: [] });
    } finally {
      await sql('drop function migrations_test_answer()');
    }
  });

  it('generates a real migration for a new entity, and nothing for the hand-written objects', async () => {
    const withProbe = await MikroORM.init({ ...diffOrmOptions({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir }), entities: [...ENTITIES, MigrationsProbe] });
    try {
      await withProbe.migrator.up();
      expect(await pendingSchemaDiff(withProbe)).toEqual({
        up: ['create table "migrations_probe" ("id" uuid not null, "note" varchar(255) null, primary key ("id"));'],
        down: ['drop table if exists "migrations_probe" cascade;'],
      });
    } finally {
      await withProbe.close();
    }
  });

  it('still finds real differences between the entities and the database, leaving the triggers alone', async () => {
    await sql('drop index "audit_event_recorded_at_index"');
    try {
      const diff = await pendingSchemaDiff(orm);
      expect(diff.up).toEqual(['create index "audit_event_recorded_at_index" on "audit_event" ("recorded_at");']);
      expect(diff.down).toEqual(['drop index "audit_event_recorded_at_index";']);
    } finally {
      await sql('create index "audit_event_recorded_at_index" on "audit_event" ("recorded_at")');
    }
    expect(await pendingSchemaDiff(orm)).toEqual({ up: [], down: [] });
  });
});

describe('after all migrations', () => {
  it('has the append-only triggers on audit_event', async () => {
    const rows: { tgname: string }[] = await sql(
      `select tgname from pg_trigger where tgrelid = 'audit_event'::regclass and not tgisinternal order by tgname`,
    );
    expect(rows.map((r) => r.tgname)).toEqual(['audit_event_no_truncate', 'audit_event_no_update']);
  });

  it('refuses to change an audit record', async () => {
    const id = randomUUID();
    await sql(
      `insert into audit_event (id, actor_type, actor, action, what, patient_ids, outcome, request_id)
       values (?, 'USER', 'migrations-test', 'READ', 'Patient', '{}', 'SUCCESS', 'req-1')`,
      [id],
    );
    await expect(sql(`update audit_event set actor = 'someone-else' where id = ?`, [id])).rejects.toThrow(/append-only/);
    await expect(sql('delete from audit_event where id = ?', [id])).rejects.toThrow(/append-only/);
    await expect(sql('truncate audit_event')).rejects.toThrow(/append-only/);
    const rows: { actor: string }[] = await sql('select actor from audit_event where id = ?', [id]);
    expect(rows).toEqual([{ actor: 'migrations-test' }]);
  });
});
