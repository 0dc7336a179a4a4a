/**
 * The export the CLI runs (`npm run export`, src/cli/export.ts) — one patient's $everything, or every current
 * resource — written as NDJSON through FhirStore.output to a named caller whose access policy decides what is exported
 * and what is revealed, never the internal caller:
 *  - the operator, as a platform administrator named `cli:<name>` (operatorCaller): every patient, resident IDs masked;
 *  - a registered, active system client (clientCaller), the operator recorded as acting on its behalf.
 * One audit record (EXPORT) names the caller, the operator and every patient exported; a refused export is recorded
 * too. The Bulk Data $export jobs (src/jobs/bulk-export/) read the store the same way (store-sql.ts, resourcePages).
 */
import type { Resource } from '@medplum/fhirtypes';
import { once } from 'node:events';
import os from 'node:os';
import type { Writable } from 'node:stream';
import { pino } from 'pino';
import { entityManagerFor, type Security } from '../../access/index.js';
import { type Caller, Role } from '../../access/caller.js';
import { systemCaller } from '../../access/authenticate.js';
import { scopesForRoles } from '../../access/scopes.js';
import { SystemClient } from '../../access/system-client.entity.js';
import { AuditRecorder } from '../../access/audit.js';
import { AuditAction, AuditOutcome } from '../../access/audit-event.entity.js';
import type { Config } from '../../config.js';
import type { EntityManager, Orm } from '../../db/orm.js';
import { FhirStore, type StoredRow } from '../store.js';
import { patientEverything } from '../everything.js';
import { countResources, resourcePages } from '../store-sql.js';
import { toFhirError } from '../outcome.js';
import { attributeRefusal } from '../audit-trail.js';

export const EXPORT_PAGE_SIZE = 1000;

export interface ExportOptions {
  /** Who exports: its policy decides what is exported and revealed (default: the OS user as an operator, operatorCaller()). */
  caller?: Caller;
  /** One patient's $everything, or every current resource when absent. */
  patientId?: string;
  types?: string[];
  /** Rows per keyset page of the whole-store export. */
  pageSize?: number;
  onProgress?: (written: number, total: number) => void;
}

export interface ExportSummary {
  resources: number;
  byType: Record<string, number>;
  patients: number;
}

const TYPE = /^[A-Z][A-Za-z]+$/;
const OPERATOR = /^[A-Za-z0-9._@+-]{1,100}$/;

/** Who is at the keyboard: `--operator <name>`, else the OS user. */
export function operatorName(given?: string): string {
  let name = given;
  if (!name) {
    try {
      name = os.userInfo().username;
    } catch {
      name = process.env.USER ?? process.env.LOGNAME;
    }
  }
  if (!name || !OPERATOR.test(name)) throw new Error(`--operator: "${name ?? ''}" is not a name the audit can hold (letters, digits, . _ @ + -)`);
  return name;
}

/**
 * The operator as a caller: a platform administrator named `cli:<name>` — every patient, and, as for every platform
 * administrator, resident IDs masked (AccessPolicy.revealsResidentIds). Recorded in the audit under that name.
 */
export function operatorCaller(name?: string): Caller {
  return { kind: 'user', subject: `cli:${operatorName(name)}`, roles: [Role.PLATFORM_ADMIN], scopes: scopesForRoles([Role.PLATFORM_ADMIN]) };
}

/** `--as <clientId>`: a registered, active system client with every scope granted to it, the operator acting on its behalf. */
export async function clientCaller(orm: Orm, clientId: string, operator?: string): Promise<Caller> {
  const client = await orm.em.fork().findOne(SystemClient, { clientId, active: true }, { filters: false, populate: ['organization'] });
  if (!client) throw new Error(`--as: no active registered client "${clientId}" (npm run client -- list)`);
  return systemCaller(client, [...client.scopes], `cli:${operatorName(operator)}`);
}

/**
 * Writes resources to `write`, awaited so that back-pressure reaches the database reads: a patient's
 * $everything (one patient's record, read as the API reads it), or every current resource in keyset pages.
 */
export async function exportResources(orm: Orm, security: Security, config: Config, write: (resource: Resource) => Promise<void> | void, options: ExportOptions = {}): Promise<ExportSummary> {
  const types = options.types?.filter(Boolean);
  for (const t of types ?? []) if (!TYPE.test(t)) throw new Error(`--type: "${t}" is not a resource type`);
  const pageSize = Math.max(1, options.pageSize ?? EXPORT_PAGE_SIZE);
  const caller = options.caller ?? operatorCaller();
  const { em, policy } = entityManagerFor(orm, caller, security.policySettings);
  const store = new FhirStore(em, policy, security.protector, config.identifierSystems);
  const audit = new AuditRecorder(orm, pino({ level: 'silent' })).forRequest(caller, `export:${process.pid}`, undefined);
  const summary: ExportSummary = { resources: 0, byType: {}, patients: 0 };
  const what = options.patientId ? `FHIR export Patient/${options.patientId}/$everything` : `FHIR export of every resource`;
  const recordAs = `${what}${types?.length ? ` (_type=${types.join(',')})` : ''} (CLI)`;

  if (options.patientId) {
    // As $everything: the patient must be there and the caller's to see (404 / 410 / 403 otherwise) — a refusal is audited too.
    try {
      await store.read('Patient', options.patientId);
    } catch (err) {
      const fe = toFhirError(err);
      await attributeRefusal(audit, store, { em, protector: security.protector, systems: config.identifierSystems }, 'Patient', options.patientId, err);
      await audit.record(AuditAction.EXPORT, recordAs, fe?.status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE);
      throw fe ? new Error(`Patient/${options.patientId}: ${fe.message}`) : err;
    }
  }

  const patients = new Set<string>();
  const emit = async (row: StoredRow, resource: Resource) => {
    await write(resource);
    summary.resources++;
    summary.byType[resource.resourceType] = (summary.byType[resource.resourceType] ?? 0) + 1;
    if (row.patient_id) patients.add(row.patient_id);
    else if (row.resource_type === 'Patient') patients.add(row.id);
  };
  let outcome = AuditOutcome.SUCCESS;
  try {
    if (options.patientId) {
      const entries = await patientEverything(em, store, options.patientId, { types });
      options.onProgress?.(0, entries.length);
      for (const { row, resource } of entries) await emit(row, resource);
      options.onProgress?.(summary.resources, entries.length);
    } else {
      await exportAll(em, store, emit, types, pageSize, options.onProgress);
    }
  } catch (err) {
    outcome = AuditOutcome.FAILURE;
    throw err;
  } finally {
    patients.forEach((p) => audit.touch(p));
    summary.patients = patients.size;
    await audit.record(AuditAction.EXPORT, recordAs, outcome);
  }
  return summary;
}

/** Every current resource (of `types`, if given), in keyset pages by id (store-sql.ts, resourcePages): never all of them in memory. */
async function exportAll(
  em: EntityManager,
  store: FhirStore,
  emit: (row: StoredRow, resource: Resource) => Promise<void>,
  types: string[] | undefined,
  pageSize: number,
  onProgress: ExportOptions['onProgress'],
): Promise<void> {
  const clauses = ['not r.deleted'];
  const values: unknown[] = [];
  if (types?.length) {
    clauses.push('r.resource_type = any(?::text[])');
    values.push(`{${types.join(',')}}`);
  }
  // Read through the store's one scoped query path (src/fhir/store-sql.ts), as the API reads.
  const where = clauses.join(' and ');
  const total = await countResources(em, store.scope, { where, params: values });
  onProgress?.(0, total);
  let written = 0;
  for await (const rows of resourcePages({ kind: 'keyset', em }, store.scope, { where, params: values, pageSize })) {
    for (const row of rows) await emit(row as unknown as StoredRow, store.output(row as unknown as StoredRow));
    written += rows.length;
    onProgress?.(written, Math.max(total, written));
  }
}

/** Writes a line, waiting when the stream's buffer is full (a slow pipe must not make the export buffer everything). */
export function lineWriter(out: Writable): (resource: Resource) => Promise<void> | void {
  return (resource) => {
    // resourceType, id and meta first, as FHIR JSON is usually read (the store's jsonb keeps keys in its own order).
    const { resourceType, id, meta, ...rest } = resource;
    if (!out.write(`${JSON.stringify({ resourceType, id, meta, ...rest })}\n`)) return once(out, 'drain').then(() => undefined);
  };
}
