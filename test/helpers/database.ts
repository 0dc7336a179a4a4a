import pg from 'pg';
import { randomUUID } from 'node:crypto';

/**
 * Where the suite's data lives. With TEST_DATABASE_URL (a real Postgres server) each test file gets a
 * fresh database of its own, dropped afterwards; without it, an in-memory embedded PGlite.
 */
export interface TestDatabase {
  databaseUrl?: string;
  embeddedDataDir: string;
  label: 'postgres' | 'embedded';
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) return { embeddedDataDir: 'memory://', label: 'embedded', drop: async () => {} };
  const name = `ncd_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    embeddedDataDir: 'memory://',
    label: 'postgres',
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
