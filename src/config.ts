import path from 'node:path';

/**
 * One validated configuration object. Everything the service reads from the environment is read here,
 * so that a missing or malformed setting fails at start-up rather than at the first request.
 */
export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  /** A real Postgres server; when absent the embedded PGlite database is used. */
  databaseUrl?: string;
  /** Where the embedded database persists; `memory://` keeps it in memory only. */
  embeddedDataDir: string;
  /** Seed demo data on start when the database has no patients. */
  seedOnEmptyStart: boolean;
  seedPatients: number;
  identifierSystems: IdentifierSystems;
  logLevel: string;
}

/**
 * Which identifier `system` URIs mean which kind of identifier. Hospitals use different URIs, so these
 * are configuration; the defaults are the national OIDs used by Chinese health-information standards.
 */
export interface IdentifierSystems {
  residentId: string;
  healthRecord: string;
  insurance: string;
  /** Further URIs that are hospital medical-record numbers. */
  mrn: string[];
}

export const DEFAULT_IDENTIFIER_SYSTEMS: IdentifierSystems = {
  residentId: 'urn:oid:2.16.156.10011.1.3',
  healthRecord: 'urn:oid:2.16.156.10011.1.2',
  insurance: 'urn:oid:2.16.156.10011.1.14',
  mrn: [],
};

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Configuration: ${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const inMemory = env.EMBEDDED_IN_MEMORY === '1' || env.EMBEDDED_IN_MEMORY === 'true';
  return {
    env: nodeEnv,
    port: int('PORT', env.PORT, 4000),
    databaseUrl: env.DATABASE_URL || undefined,
    embeddedDataDir: inMemory ? 'memory://' : path.resolve(env.EMBEDDED_DATA_DIR ?? 'data/pglite'),
    seedOnEmptyStart: env.SEED_ON_START !== '0' && env.SEED_ON_START !== 'false',
    seedPatients: int('SEED_PATIENTS', env.SEED_PATIENTS, 2000),
    identifierSystems: {
      residentId: env.ID_SYSTEM_RESIDENT ?? DEFAULT_IDENTIFIER_SYSTEMS.residentId,
      healthRecord: env.ID_SYSTEM_HEALTH_RECORD ?? DEFAULT_IDENTIFIER_SYSTEMS.healthRecord,
      insurance: env.ID_SYSTEM_INSURANCE ?? DEFAULT_IDENTIFIER_SYSTEMS.insurance,
      mrn: (env.ID_SYSTEMS_MRN ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    },
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
  };
}
