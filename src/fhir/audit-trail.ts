import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { IdentifierSystems } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { INTERNAL_CALLER } from '../access/caller.js';
import type { IdentifierProtector } from '../access/identifier-protection.js';
import { AccessPolicy } from '../access/policy.js';
import type { RequestAudit } from '../access/audit.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import { isUuid } from '../domain/errors.js';
import { patientIdOf } from './indexing.js';
import { toFhirError } from './outcome.js';
import { FhirStore } from './store.js';

/**
 * What the FHIR API tells the audit trail: every patient a request touched, however it was written — the
 * patients of what it returned (a read, a version, a history, a search page), the patients it named (`patient=`,
 * `subject=`, `Patient?_id=`, found or not), and the patient behind a resource it was refused (a 404 for something
 * that is there but out of the caller's reach is recorded as DENIED against that patient; the caller is told nothing).
 */

/** The patients of resources returned: the patient of each (its compartment's), a Patient itself. */
export function touchResources(audit: RequestAudit | undefined, resources: Array<Resource | undefined>): void {
  for (const resource of resources) if (resource) audit?.touch(patientIdOf(resource));
}

/** The patients of a history Bundle's versions (a version may name another patient than the current one). */
export function touchHistory(audit: RequestAudit | undefined, history: Bundle): void {
  touchResources(audit, (history.entry ?? []).map((e) => e.resource));
}

/** Search parameters that name patients by reference: `patient=<id>`, `subject=Patient/<id>`, `subject:Patient=<id>`. */
const PATIENT_REFERENCE = /^(patient|subject)(:Patient)?$/;

/** Patients a search names, whether or not it finds anything of theirs: a look is audited whatever it found. */
export function touchNamedPatients(audit: RequestAudit | undefined, resourceType: string, params: URLSearchParams): void {
  for (const [name, raw] of params) {
    const named = PATIENT_REFERENCE.test(name) || (resourceType === 'Patient' && name === '_id');
    if (!named) continue;
    for (const value of raw.split(',')) {
      const id = /^(?:.*\/)?Patient\/([^/]+)$/.exec(value)?.[1] ?? (value.includes('/') ? undefined : value);
      audit?.touch(id);
    }
  }
}

export interface StoreContext {
  em: EntityManager;
  protector: IdentifierProtector;
  systems: IdentifierSystems;
}

/** Whose record `type/id` is in, looked up past the caller's reach: for the audit only, nothing of it goes back to the caller. */
async function patientBehind(ctx: StoreContext, type: string, id: string): Promise<string | undefined> {
  if (!/^[A-Z][A-Za-z]+$/.test(type) || !isUuid(id)) return undefined;
  const everything = new FhirStore(ctx.em, new AccessPolicy(INTERNAL_CALLER), ctx.protector, ctx.systems);
  return (await everything.row(type, id, 'exists'))?.patient_id ?? undefined;
}

/**
 * A refused request for `type/id` (404, 403, 410): recorded against the patient whose record the resource is in.
 * A 404 for a resource that is there but that the caller may not see is DENIED.
 */
export async function attributeRefusal(audit: RequestAudit | undefined, callerStore: FhirStore, ctx: StoreContext, type: string, id: string, err: unknown): Promise<void> {
  const status = toFhirError(err)?.status;
  if (!audit || !(status === 403 || status === 404 || status === 410)) return;
  const patient = await patientBehind(ctx, type, id);
  if (!patient) return;
  audit.touch(patient);
  if (status === 404 && !(await callerStore.row(type, id, 'exists'))) audit.deny();
}

/**
 * A delete of a resource out of the caller's reach is answered as one of nothing (204, FHIR's answer to deleting
 * what is not there) — and recorded as DENIED against the patient whose record it is in.
 */
export async function attributeUnseenDelete(audit: RequestAudit | undefined, callerStore: FhirStore, ctx: StoreContext, type: string, id: string): Promise<void> {
  if (!audit || (await callerStore.row(type, id, 'exists'))) return; // the caller's to delete: the delete touched its patient
  const patient = await patientBehind(ctx, type, id);
  if (!patient) return;
  audit.touch(patient);
  audit.deny();
}

/** The interaction a Bundle entry is: GET of an id a READ, a GET search a SEARCH, POST a CREATE, PUT/PATCH an UPDATE, DELETE a DELETE. */
export function bundleEntryAction(method: string | undefined, url: string | undefined): AuditAction {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return (url ?? '').includes('?') || !/^\/?[A-Z][A-Za-z]+\/[^/?]+/.test(url ?? '') ? AuditAction.SEARCH : AuditAction.READ;
    case 'POST':
      return AuditAction.CREATE;
    case 'DELETE':
      return AuditAction.DELETE;
    default:
      return AuditAction.UPDATE;
  }
}

/**
 * Runs one Bundle entry as a part of the request's audit (RequestAudit.part): recorded under its own interaction
 * with the patients it touched; refused by id, against the patient whose record the resource is in (as the
 * router does for a single request); a 403 is DENIED.
 */
export async function auditedEntry<T>(audit: RequestAudit | undefined, store: FhirStore, ctx: StoreContext, i: number, entry: BundleEntry, work: () => Promise<T>): Promise<T> {
  if (!audit) return work();
  const { method, url } = entry.request ?? {};
  const [type, id] = (url ?? '').split('?')[0]!.replace(/^\//, '').split('/') as [string, string | undefined];
  return audit.part(
    i,
    bundleEntryAction(method, url),
    `[${i}] ${method} ${url}`,
    async () => {
      try {
        const out = await work();
        if (method === 'DELETE' && id) await attributeUnseenDelete(audit, store, ctx, type, id);
        return out;
      } catch (err) {
        if (id) await attributeRefusal(audit, store, ctx, type, id, err).catch(() => undefined); // the entry's own error is the one to answer
        throw err;
      }
    },
    (err) => (toFhirError(err)?.status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE),
  );
}
