import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type CareRules, careRulesFrom, DEFAULT_CARE_RULES } from './care-rules/rules.js';
import { ConfigurationError, EnvChecks, LOG_LEVELS } from './config-checks.js';

export { ConfigurationError } from './config-checks.js';

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
  /** Whether the server runs the domain-event consumers itself (EVENT_WORKER=off: `npm run worker` does). */
  eventWorker: boolean;
  seedPatients: number;
  /** The county date the demo data is generated as of (SEED_AS_OF, YYYY-MM-DD); default today. */
  seedAsOf?: string;
  identifierSystems: IdentifierSystems;
  logLevel: string;
  auth: AuthConfig;
  /** AES-256-GCM + HMAC key for resident IDs (base64, 32 bytes); generated under ./data in development. */
  identifierKey?: string;
  /** Where development keys are kept; undefined keeps them in memory only. */
  keysDir?: string;
  http: {
    corsOrigins: string[];
    bodyLimit: string;
    fhirBodyLimit: string;
    /** Requests a minute per caller on /graphql, /admin and /fhir, together (RATE_LIMIT_PER_MINUTE, default 1,200); /auth/token's per client address. */
    rateLimitPerMinute: number;
    /**
     * FHIR writes (POST, PUT, PATCH, DELETE) a minute per system client (FHIR_WRITE_RATE_LIMIT_PER_MINUTE, default
     * 6,000), counted apart from the limit above: a hospital's bulk import is not starved by the interactive limit,
     * nor does it use up its own reads'. A system client's Bundle with GET entries counts against the limit above too.
     */
    fhirWriteRateLimitPerMinute: number;
    /**
     * The reverse proxies whose `X-Forwarded-For` is believed (TRUSTED_PROXIES: comma-separated addresses, CIDR
     * ranges, or Express's names `loopback`, `linklocal`, `uniquelocal`). Default none: the client address the
     * audit records and the rate limit counts by is the connection's peer, and a client's own X-Forwarded-For is
     * ignored. Behind a proxy, name it (e.g. `loopback` for one on the same host).
     */
    trustedProxies: string[];
  };
  /**
   * How long a completed referral still shows its patient to the receiving side (REFERRAL_ACCESS_DAYS_AFTER_COMPLETION,
   * default 30): time to write up and answer follow-up questions. Requested and accepted referrals show the patient;
   * rejected and cancelled ones do not (AccessPolicy.patientVisible).
   */
  referralAccessDaysAfterCompletion: number;
  fhir: FhirLimits;
  /**
   * The care model's numbers (src/care-rules/rules.ts): DEFAULT_CARE_RULES, with any of them overridden by the JSON
   * file CARE_RULES_FILE names (e.g. `{"control": {"hba1cBelow": 7.5}}`). Read and checked at start-up: a missing
   * file, bad JSON, an unknown setting or a value of the wrong kind stops the service with the setting named.
   * GraphQL, the FHIR projection, the CLI import and the seed all use these (docs/care-model.md).
   */
  careRules: CareRules;
  /** FHIR Bulk Data $export (src/jobs/bulk-export/, docs/operations.md). */
  bulkExport: BulkExportConfig;
  /** Probes, metrics and shutdown (docs/operations.md). */
  observability: {
    /** When set, `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, anyone who reaches the port. */
    metricsToken?: string;
    /** `/readyz` is 503 while an event consumer run by this process is more events than this behind the outbox (READY_MAX_EVENT_LAG, 10,000). */
    readyMaxEventLag: number;
    /** On SIGTERM, how long in-flight requests may take before their connections are closed (SHUTDOWN_TIMEOUT_MS, 10,000). */
    shutdownTimeoutMs: number;
  };
}

/** What one FHIR Bundle may ask for (src/fhir/interactions.ts); beyond each, 413 `too-costly`. */
export interface BulkExportConfig {
  /** Where the NDJSON files are written, one directory per job (BULK_EXPORT_DIR, default data/exports). */
  dir: string;
  /** Hours a completed job's files stay downloadable (BULK_EXPORT_EXPIRY_HOURS, 24). */
  expiryHours: number;
  /** Whether this process runs export jobs (BULK_EXPORT_WORKER=off: `npm run worker` does; default as EVENT_WORKER). */
  worker: boolean;
  /** Rows per page read and per checkpoint (BULK_EXPORT_PAGE_SIZE, 5,000). */
  pageSize: number;
}

export interface FhirLimits {
  /** Entries a batch or transaction may hold (FHIR_MAX_BUNDLE_ENTRIES, default 5,000; the Synthea records hold up to ~1,500). */
  maxBundleEntries: number;
  /** GET entries a Bundle may hold (FHIR_MAX_BUNDLE_GET_ENTRIES, default 50): reads in bulk are searches. */
  maxBundleGetEntries: number;
  /**
   * What a Bundle's GET entries may answer, all together, in bytes of JSON (FHIR_MAX_BUNDLE_READ_BYTES, default
   * 4 MiB: about three full search pages of 1,000 readings). Counted as the entries are answered: the Bundle is
   * refused once over it, before more is read.
   */
  maxBundleReadBytes: number;
}

export interface OidcConfig {
  issuer: string;
  audience: string;
  /** The provider's JWKS endpoint, or … */
  jwksUrl?: string;
  /** … its key set inline (JSON). */
  jwks?: string;
  /** Claim names that carry the user's roles, organisation code and practitioner code. */
  claims: { roles: string; organization: string; practitioner: string };
}

export interface AuthConfig {
  /** Base URL clients reach this service at; the SMART token endpoint is `${publicUrl}/auth/token`. */
  publicUrl: string;
  /** Issuer and audience of the tokens this service signs (SMART backend services, development tokens). */
  issuer: string;
  audience: string;
  oidc?: OidcConfig;
  /** This service's private signing key (JWK JSON); generated under ./data in development. */
  signingKeyJwk?: string;
  accessTokenSeconds: number;
  /** Development-only token minting (`npm run token`). Never in production. */
  devTokens: boolean;
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

export const DEFAULT_FHIR_LIMITS: FhirLimits = Object.freeze({ maxBundleEntries: 5000, maxBundleGetEntries: 50, maxBundleReadBytes: 4 * 1024 * 1024 });

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUSTED_PROXIES: addresses, CIDR ranges and Express's names; `none` or nothing is none. A hop count is refused (it trusts whoever is that many hops away). */
export function trustedProxies(value: string | undefined): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 1 && list[0] === 'none') return [];
  for (const entry of list) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (!PROXY_NAMES.has(entry) && !(family && prefixOk && extra === undefined)) {
      throw new Error(`Configuration: TRUSTED_PROXIES must list addresses, CIDR ranges, loopback, linklocal or uniquelocal (or be none), got "${entry}"`);
    }
  }
  return list;
}

/** CARE_RULES_FILE: a JSON file of care-rule overrides; unset, the defaults. */
export function careRulesFile(file: string | undefined): CareRules {
  if (!file) return DEFAULT_CARE_RULES;
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new Error(`Configuration: CARE_RULES_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`Configuration: CARE_RULES_FILE ${file} is not JSON (${(err as Error).message})`);
  }
  return careRulesFrom(parsed, DEFAULT_CARE_RULES, `Configuration: CARE_RULES_FILE ${file}`);
}

/** Reads and checks the environment; every bad value is named in one ConfigurationError, which stops the service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = new EnvChecks(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'test', 'production'], 'development');
  const inMemory = read.flag('EMBEDDED_IN_MEMORY', false) || nodeEnv === 'test';
  const port = read.int('PORT', 4000, { max: 65535 });
  const http = ['http:', 'https:'];
  const publicUrl = (read.url('PUBLIC_URL', http) ?? `http://localhost:${port}`).replace(/\/$/, '');
  read.url('OIDC_JWKS_URL', http);
  read.jsonObject('OIDC_JWKS', 'keys');
  read.jsonObject('SIGNING_KEY_JWK');
  read.base64Key('IDENTIFIER_KEY', 32);
  read.timeZone('COUNTY_TIME_ZONE');
  const oidc: OidcConfig | undefined = read.url('OIDC_ISSUER', http)
    ? {
        issuer: env.OIDC_ISSUER!,
        audience: env.OIDC_AUDIENCE ?? 'ncd-gateway',
        jwksUrl: env.OIDC_JWKS_URL,
        jwks: env.OIDC_JWKS,
        claims: {
          roles: env.OIDC_CLAIM_ROLES ?? 'roles',
          organization: env.OIDC_CLAIM_ORGANIZATION ?? 'org',
          practitioner: env.OIDC_CLAIM_PRACTITIONER ?? 'practitioner',
        },
      }
    : undefined;
  // Read once: a bad value is one problem, though the export worker's default follows it too.
  const eventWorker = read.flag('EVENT_WORKER', true);
  const config: Config = {
    env: nodeEnv,
    port,
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    embeddedDataDir: inMemory ? 'memory://' : path.resolve(env.EMBEDDED_DATA_DIR ?? 'data/pglite'),
    seedOnEmptyStart: read.flag('SEED_ON_START', true),
    eventWorker,
    seedPatients: read.int('SEED_PATIENTS', 2000),
    seedAsOf: read.date('SEED_AS_OF'),
    identifierSystems: {
      residentId: read.uri('ID_SYSTEM_RESIDENT', DEFAULT_IDENTIFIER_SYSTEMS.residentId),
      healthRecord: read.uri('ID_SYSTEM_HEALTH_RECORD', DEFAULT_IDENTIFIER_SYSTEMS.healthRecord),
      insurance: read.uri('ID_SYSTEM_INSURANCE', DEFAULT_IDENTIFIER_SYSTEMS.insurance),
      mrn: (env.ID_SYSTEMS_MRN ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    },
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    auth: {
      publicUrl,
      // Stable across ports and processes, so a token minted by `npm run token` works on any local instance.
      issuer: env.AUTH_ISSUER ?? env.PUBLIC_URL ?? 'urn:ncd-gateway:local',
      audience: env.AUTH_AUDIENCE ?? 'ncd-gateway',
      oidc,
      signingKeyJwk: env.SIGNING_KEY_JWK,
      accessTokenSeconds: read.int('ACCESS_TOKEN_SECONDS', 300, { min: 1 }),
      devTokens: nodeEnv !== 'production',
    },
    identifierKey: env.IDENTIFIER_KEY,
    keysDir: env.KEYS_DIR ?? (inMemory ? undefined : path.resolve('data/keys')),
    http: {
      corsOrigins: read.urls('CORS_ORIGINS', http),
      bodyLimit: read.byteSize('BODY_LIMIT', '1mb'),
      // Hospitals post whole patient records as one transaction Bundle: a few MB each.
      fhirBodyLimit: read.byteSize('FHIR_BODY_LIMIT', '50mb'),
      rateLimitPerMinute: read.int('RATE_LIMIT_PER_MINUTE', 1200),
      fhirWriteRateLimitPerMinute: read.int('FHIR_WRITE_RATE_LIMIT_PER_MINUTE', 6000),
      trustedProxies: read.guard([], () => trustedProxies(env.TRUSTED_PROXIES)),
    },
    referralAccessDaysAfterCompletion: read.int('REFERRAL_ACCESS_DAYS_AFTER_COMPLETION', 30),
    fhir: {
      maxBundleEntries: read.int('FHIR_MAX_BUNDLE_ENTRIES', DEFAULT_FHIR_LIMITS.maxBundleEntries),
      maxBundleGetEntries: read.int('FHIR_MAX_BUNDLE_GET_ENTRIES', DEFAULT_FHIR_LIMITS.maxBundleGetEntries),
      maxBundleReadBytes: read.int('FHIR_MAX_BUNDLE_READ_BYTES', DEFAULT_FHIR_LIMITS.maxBundleReadBytes),
    },
    careRules: read.guard(DEFAULT_CARE_RULES, () => careRulesFile(env.CARE_RULES_FILE)),
    bulkExport: {
      dir: path.resolve(env.BULK_EXPORT_DIR ?? (inMemory ? path.join(os.tmpdir(), 'ncd-gateway-exports') : 'data/exports')),
      expiryHours: read.int('BULK_EXPORT_EXPIRY_HOURS', 24, { min: 1 }),
      worker: read.flag('BULK_EXPORT_WORKER', eventWorker),
      pageSize: read.int('BULK_EXPORT_PAGE_SIZE', 5000, { min: 1 }),
    },
    observability: {
      metricsToken: read.value('METRICS_TOKEN'),
      readyMaxEventLag: read.int('READY_MAX_EVENT_LAG', 10_000),
      shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 10_000),
    },
  };
  read.done();
  if (nodeEnv === 'production') assertProductionReady(config);
  return config;
}

/** Production must not run on development keys or without a real identity provider. */
export function assertProductionReady(config: Config): void {
  const missing: string[] = [];
  if (!config.auth.oidc) missing.push('OIDC_ISSUER');
  else if (!config.auth.oidc.jwksUrl && !config.auth.oidc.jwks) missing.push('OIDC_JWKS_URL or OIDC_JWKS');
  if (!config.auth.signingKeyJwk) missing.push('SIGNING_KEY_JWK');
  if (!config.identifierKey) missing.push('IDENTIFIER_KEY');
  if (config.auth.publicUrl.startsWith('http://localhost')) missing.push('PUBLIC_URL');
  if (missing.length) throw new ConfigurationError([`Refusing to start in production without identity configuration: set ${missing.join(', ')}`]);
}
