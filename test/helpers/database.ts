import { createScratchDatabase } from '../../src/db/scratch-database.js';

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
  const scratch = await createScratchDatabase(serverUrl, 'ncd_test');
  return { ...scratch, embeddedDataDir: 'memory://', label: 'postgres' };
}
