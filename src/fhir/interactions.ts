import type { Bundle, BundleEntry, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { DEFAULT_FHIR_LIMITS, type FhirLimits, type IdentifierSystems } from '../config.js';
import type { CareRules } from '../care-rules/rules.js';
import type { EntityManager } from '../db/orm.js';
import type { IdentifierProtector } from '../access/identifier-protection.js';
import type { AccessPolicy } from '../access/policy.js';
import type { RequestAudit } from '../access/audit.js';
import { errorsOf, FhirMappingError, validateFhir } from '../../fhir-mappings/index.js';
import { FhirError, fhirError, toFhirError } from './outcome.js';
import { visitReferences } from './indexing.js';
import { DomainProjection } from './projection/index.js';
import { search } from './search.js';
import { FhirStore, HeldOutOfReach, type StoredSourceRow } from './store.js';
import { auditedEntry, touchNamedPatients, touchResources } from './audit-trail.js';
import { assertWritable } from './read-only.js';
import { readMeasure, searchMeasures } from './measures.js';
import { isUuid } from '../domain/errors.js';

/** Entries a Bundle may hold unless configured otherwise (FHIR_MAX_BUNDLE_ENTRIES). */
export const MAX_BUNDLE_ENTRIES = DEFAULT_FHIR_LIMITS.maxBundleEntries;

/**
 * A Bundle whose GET entries answer more than FHIR_MAX_BUNDLE_READ_BYTES: the whole Bundle is refused (413), not the
 * entry — a batch does not go on entry by entry, and what was read is not sent.
 */
class BundleTooCostly extends FhirError {}

/** Types written first in a transaction, in this order: what other resources refer to. */
const WRITE_FIRST = ['Organization', 'Location', 'Practitioner', 'PractitionerRole', 'Patient'];

export interface FhirContext {
  em: EntityManager;
  policy: AccessPolicy;
  protector: IdentifierProtector;
  systems: IdentifierSystems;
  audit?: RequestAudit;
  baseUrl: string;
  logger?: Logger;
  /** What a Bundle may ask for (config.fhir; default DEFAULT_FHIR_LIMITS). */
  limits?: FhirLimits;
  /** The care rules the domain projection applies (config.careRules; default DEFAULT_CARE_RULES). */
  rules?: CareRules;
  /** Bytes the running Bundle's GET entries have answered so far: shared by the Bundle's inner units of work. */
  reads?: { bytes: number };
}

interface Outcome {
  status: string;
  resource?: Resource;
  location?: string;
  etag?: string;
  lastModified?: string;
  outcome?: OperationOutcome;
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;

/** The ids a sender may give its resources (FHIR's id type). UUIDs are this server's own ids. */
const CLIENT_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A fullUrl that names an entry of its own Bundle only (ADR 12): never a name of the resource beyond it. */
const BUNDLE_LOCAL = /^urn:(uuid|oid):/i;

/**
 * What a sender's resource matches that says it is another resource — the same sender id, or an identifier, with
 * another value in an identifier system both have: 409, naming nothing of the stored one. Never an overwrite.
 */
function sentDifferently(resourceType: string, where?: string): FhirError {
  return fhirError(
    409,
    'conflict',
    `${where ? `entry ${where.replace(/^Bundle\.entry\[(\d+)\].*$/, '$1')}: ` : ''}this ${resourceType} matches one sent before (by the sender's id for it, or an identifier) whose identifier in the same system differs: it was not overwritten. Send it under an id of its own, or change the stored one with PUT`,
    where ? [where] : undefined,
  );
}

/** Validates against the R4 structure definitions; issues carry FHIRPath expressions (prefixed inside a Bundle). */
export function assertValid(resource: unknown, prefix = ''): asserts resource is Resource {
  if (!resource || typeof resource !== 'object' || !RESOURCE_TYPE.test(String((resource as Resource).resourceType))) {
    throw fhirError(400, 'structure', 'not a FHIR resource (no resourceType)', prefix ? [prefix] : undefined);
  }
  let issues: OperationOutcomeIssue[];
  try {
    issues = errorsOf(validateFhir(resource as Resource));
  } catch (err) {
    throw fhirError(400, 'not-supported', (err as Error).message, prefix ? [prefix] : undefined);
  }
  if (issues.length) {
    // `Observation.status` inside a Bundle is `Bundle.entry[2].resource.status`; an issue without a place names the resource.
    const type = (resource as Resource).resourceType;
    const place = (e: string) => (prefix ? (e === type || e.startsWith(`${type}.`) ? `${prefix}${e.slice(type.length)}` : `${prefix}.${e}`) : e);
    throw new FhirError(
      400,
      issues.map((i) => ({ ...i, expression: i.expression?.length ? i.expression.map(place) : [prefix || type] })),
    );
  }
}

/**
 * The FHIR interactions, over the store and the domain projection: create, update, delete (conditional
 * forms too), and Bundles (transaction all-or-nothing, batch entry by entry).
 */
export class FhirInteractions {
  readonly store: FhirStore;
  readonly projection: DomainProjection;

  constructor(private readonly ctx: FhirContext) {
    this.store = new FhirStore(ctx.em, ctx.policy, ctx.protector, ctx.systems);
    this.projection = new DomainProjection(ctx.em, ctx.policy, ctx.protector, ctx.systems, ctx.rules);
  }

  /** Runs a single interaction in a database transaction of its own (Bundles make their own). */
  ctxTransaction<T>(work: (fhir: FhirInteractions) => Promise<T>): Promise<T> {
    return this.ctx.em.transactional((em) => work(new FhirInteractions({ ...this.ctx, em })));
  }

  get em(): EntityManager {
    return this.ctx.em;
  }

  /** The request's access policy (operations that decide by the caller, e.g. $export's levels). */
  get policy(): AccessPolicy {
    return this.ctx.policy;
  }

  touch(patientId: string | null | undefined) {
    this.ctx.audit?.touch(patientId);
  }

  /** Writes what a transaction held back: the store's new rows and the domain projection's changes. */
  async flush(): Promise<void> {
    await this.store.flushInserts();
    await this.ctx.em.flush();
  }

  /** Finds by a search string (`identifier=sys|val&…`), for ifNoneExist, conditional update and conditional references. */
  async match(resourceType: string, query: string): Promise<string[]> {
    await this.flush();
    const params = new URLSearchParams(query);
    params.set('_count', '2');
    params.set('_total', 'none');
    const { bundle } = await search(this.ctx.em, this.store, { resourceType, params, baseUrl: this.ctx.baseUrl });
    return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!);
  }

  /**
   * A create, unless the resource was sent before (ADR 12): found by ifNoneExist, else by the keys it is known by —
   * the sender's id for it, an identifier naming one resource, else its fingerprint. One found that says it is
   * another (an identifier differs) is a conflict. A plain POST (no `keys`: not in a Bundle) is matched by its
   * identifiers only — FHIR's create, the server ignoring its id; content is matched for Bundles, re-sent whole.
   */
  async create(resource: Resource, ifNoneExist?: string, keys?: LookupKeys): Promise<Outcome> {
    if (ifNoneExist) {
      const found = await this.match(resource.resourceType, ifNoneExist);
      if (found.length > 1) throw fhirError(412, 'duplicate', `If-None-Exist "${ifNoneExist}" matches ${found.length} ${resource.resourceType} resources`);
      if (found.length === 1) return this.existing(resource.resourceType, found[0]!, '200');
    }
    const lookup = keys ?? { sender: [], identifiers: identifierKeys(resource).map(([system, value]) => this.store.identifierKey(system, value)) };
    const sent = sentBefore(resource.resourceType, lookup, byKey(await this.store.findByAnySourceKey([...lookup.sender, ...lookup.identifiers])));
    if (sent && this.store.identifiersDisagree(sent, resource)) {
      this.touch(sent.patient_id); // an attempt on that record, audited against it as HeldOutOfReach is
      throw sentDifferently(resource.resourceType);
    }
    return this.put(resource, sent?.id, undefined, lookup.sender, sent ?? null);
  }

  /**
   * A sender's own name for a resource (`Type/id`, an absolute fullUrl), as stored with it so that a re-send, a
   * reference or a PUT finds it. Each sender has its own namespace: two hospitals both numbering a patient
   * `Patient/1` name different patients.
   */
  private senderKey(name: string): string {
    return `sender:${this.senderName}:${name}`;
  }

  private get senderName(): string {
    const caller = this.ctx.policy.caller;
    return caller.organizationId ?? caller.clientId ?? caller.subject;
  }

  /**
   * What identifies the entries of one Bundle beyond it (ADR 12), and so the keys a re-send is found by. A
   * `urn:uuid:`/`urn:oid:` fullUrl names nothing beyond its Bundle: an entry is known by its identifiers, the
   * sender's id for it (`Type/id` in the resource, an absolute fullUrl; a PUT's URL), its ifNoneExist, else by a
   * fingerprint of its content — in which a reference to another entry of the Bundle (`entries`: a transaction's;
   * a batch's do not refer to each other) stands as that entry's own identity, so that the same Bundle sent again,
   * however its urns are numbered, has the same fingerprints, and two different readings never do.
   */
  private bundleIdentity(entries: BundleEntry[]): { keysOf(entry: BundleEntry): LookupKeys } {
    const byFullUrl = new Map<string, BundleEntry>();
    for (const e of entries) if (e?.fullUrl && e.resource) byFullUrl.set(e.fullUrl, e);
    const names = new Map<BundleEntry, string>();
    const occurrences = new Map<string, number>();
    const identifiersOf = (resource: Resource) => identifierKeys(resource).map(([system, value]) => this.store.identifierKey(system, value));
    const fingerprint = (entry: BundleEntry, seen: Set<BundleEntry>): string => {
      const copy = structuredClone(entry.resource!);
      const inner = new Set(seen).add(entry);
      visitReferences(copy, (ref, set) => {
        const target = byFullUrl.get(ref);
        if (target) set(identity(target, inner));
      });
      return this.store.fingerprint(copy);
    };
    const identity = (entry: BundleEntry, seen: Set<BundleEntry>): string => {
      const type = entry.resource!.resourceType;
      if (seen.has(entry)) return `${type}#cycle`; // entries referring to each other in a ring: the ring is not followed round
      let name = names.get(entry);
      if (name) return name;
      const resource = entry.resource!;
      const identifiers = identifiersOf(resource);
      const url = entry.request?.url?.replace(/^\//, '');
      if (identifiers.length) name = `${type}?identifier=${[...identifiers].sort().join(',')}`;
      else if (resource.id) name = `${type}/${resource.id}`;
      else if (entry.fullUrl && !BUNDLE_LOCAL.test(entry.fullUrl)) name = entry.fullUrl;
      else if (entry.request?.method === 'PUT' && url) name = url;
      else if (entry.request?.ifNoneExist) name = `${type}?${entry.request.ifNoneExist}`;
      else name = `${type}#${fingerprint(entry, seen)}`;
      names.set(entry, name);
      return name;
    };
    return {
      keysOf: (entry) => {
        const resource = entry.resource!;
        const sender: string[] = [];
        if (resource.id) sender.push(this.senderKey(`${resource.resourceType}/${resource.id}`));
        if (entry.fullUrl && !BUNDLE_LOCAL.test(entry.fullUrl)) sender.push(this.senderKey(entry.fullUrl));
        const identifiers = identifiersOf(resource);
        if (!sender.length && !identifiers.length && !entry.request?.ifNoneExist) {
          // The same content twice in one Bundle is two resources, the first and the second: numbered, so that a
          // re-send finds each again.
          const key = `fp:${this.senderName}:${resource.resourceType}:${fingerprint(entry, new Set())}`;
          const n = (occurrences.get(key) ?? 0) + 1;
          occurrences.set(key, n);
          sender.push(n === 1 ? key : `${key}:${n}`);
        }
        return { sender, identifiers };
      },
    };
  }

  /**
   * An update by id. The sender's own ids (FHIR's `[A-Za-z0-9\-.]{1,64}`, not a UUID) are its names for its
   * resources, per sender (ADR 12): the first PUT of one creates the resource under a server UUID (201) and
   * remembers the name (`sender:<who>:Type/id`); later ones update it, or change nothing when nothing changed. A
   * UUID is this server's id: it must name a resource (404), unless it is the sender's own name for one.
   */
  async update(resource: Resource, id: string, ifMatch?: number, planned?: SenderTarget): Promise<Outcome> {
    if (resource.id && resource.id !== id) throw fhirError(400, 'invalid', `resource id ${resource.id} differs from the URL's ${id}`, ['id']);
    if (!CLIENT_ID.test(id)) throw fhirError(400, 'invalid', `an id is 1 to 64 letters, digits, '-' and '.' (${JSON.stringify(id.slice(0, 70))} is not)`, ['id']);
    // A caller that may not update this type at all is told so before anything is looked up, as create and delete
    // are: whether the resource exists is none of its business (404 would say it does not, 403 says nothing).
    const type = resource.resourceType;
    assertWritable(type);
    this.ctx.policy.assertCan(type, 'u');
    const key = this.senderKey(`${type}/${id}`);
    if (!planned && isUuid(id) && (await this.store.row(type, id, 'exists'))) return this.put(resource, id, ifMatch);
    const target = planned ?? (await this.senderTarget(type, id));
    if (target?.existing) return this.put(resource, target.id, ifMatch, [key], target.existing);
    if (isUuid(id) && !target) throw fhirError(404, 'not-found', `${type}/${id} not found (create with POST, or PUT under an id of your own)`);
    if (ifMatch !== undefined) throw fhirError(412, 'conflict', `${type}/${id} does not exist yet: If-Match cannot hold`);
    return this.put(resource, target?.id ?? uuidv7(), undefined, [key], null);
  }

  /** The resource this sender's `Type/id` names, if it named one before. */
  private async senderTarget(type: string, id: string): Promise<SenderTarget | undefined> {
    const rows = (await this.store.findBySourceKeys(type, [this.senderKey(`${type}/${id}`)])) as StoredSourceRow[];
    if (rows.length > 1) throw sentDifferently(type);
    return rows[0] ? { id: rows[0].id, existing: rows[0] } : undefined;
  }

  /** A read's id: the server's, or (not a UUID) the caller's own name for one of its resources. */
  async resolveId(type: string, id: string): Promise<string> {
    if (isUuid(id) || !CLIENT_ID.test(id)) return id;
    return (await this.senderTarget(type, id).catch(() => undefined))?.id ?? id;
  }

  async conditionalUpdate(resource: Resource, query: string): Promise<Outcome> {
    const found = await this.match(resource.resourceType, query);
    if (found.length > 1) throw fhirError(412, 'multiple-matches', `"${query}" matches ${found.length} ${resource.resourceType} resources`);
    return this.put(resource, found[0]);
  }

  private async put(resource: Resource, id: string | undefined, ifMatch?: number, senderKeys: string[] = [], existing?: StoredSourceRow | null): Promise<Outcome> {
    const result = await this.store.write(resource, { id, ifMatch, senderKeys, existing }).catch((err: unknown) => {
      // A record the county holds out of the caller's reach: the answer names nothing, the audit names the patient.
      if (err instanceof HeldOutOfReach) this.touch(err.patientId);
      throw err;
    });
    // Stored as sent; what the domain makes of it (a value outside the plausible range, a reading it leaves out)
    // comes back as warnings, answered on the entry (response.outcome) and, single, with Prefer: return=OperationOutcome.
    let warnings: OperationOutcomeIssue[] = [];
    try {
      if (result.changed) warnings = await this.projection.project(result.plain, result.created);
    } catch (err) {
      if (err instanceof FhirMappingError) throw new FhirError(422, [err.toIssue()]);
      if (err instanceof HeldOutOfReach) this.touch(err.patientId);
      throw err;
    }
    this.touch(result.patientId);
    const out = this.outcomeOf(result.resource, result.created ? '201' : '200');
    return warnings.length ? { ...out, outcome: { resourceType: 'OperationOutcome', issue: warnings } } : out;
  }

  async delete(resourceType: string, id: string): Promise<Outcome> {
    const row = DomainProjection.PROJECTED.has(resourceType) ? await this.store.row(resourceType, id, 'exists') : undefined;
    if (row && !row.deleted) await this.projection.assertMayRemove(resourceType, id, row);
    const { deleted, patientId } = await this.store.delete(resourceType, id);
    if (deleted) await this.projection.remove(resourceType, id);
    this.touch(patientId);
    return { status: '204' };
  }

  private async existing(resourceType: string, id: string, status: string): Promise<Outcome> {
    const resource = await this.store.read(resourceType, id);
    return this.outcomeOf(resource, status);
  }

  private outcomeOf(resource: Resource, status: string): Outcome {
    return {
      status,
      resource,
      location: `${this.ctx.baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`,
      etag: `W/"${resource.meta?.versionId}"`,
      lastModified: resource.meta?.lastUpdated,
    };
  }

  /** `transaction`: all or nothing, in one database transaction. `batch`: each entry on its own. */
  async bundle(bundle: unknown): Promise<Bundle> {
    const b = bundle as Bundle;
    if (!b || b.resourceType !== 'Bundle') throw fhirError(400, 'invalid', 'POST /fhir takes a Bundle');
    if (b.type !== 'transaction' && b.type !== 'batch') {
      throw fhirError(400, 'not-supported', `a ${b.type ?? 'typeless'} Bundle cannot be processed: POST a transaction or batch (documents and collections are stored with POST /fhir/Bundle)`, ['Bundle.type']);
    }
    const entries = b.entry ?? [];
    const limits = this.ctx.limits ?? DEFAULT_FHIR_LIMITS;
    if (entries.length > limits.maxBundleEntries) {
      throw fhirError(413, 'too-costly', `a Bundle may hold at most ${limits.maxBundleEntries} entries (this one holds ${entries.length}): send it in parts`, ['Bundle.entry']);
    }
    const gets = Array.isArray(entries) ? entries.filter((e) => e?.request?.method === 'GET' || e?.request?.method === 'HEAD').length : 0;
    if (gets > limits.maxBundleGetEntries) {
      throw fhirError(413, 'too-costly', `a Bundle may hold at most ${limits.maxBundleGetEntries} GET entries (this one holds ${gets}): read in bulk with a search (_count, _offset) instead`, ['Bundle.entry']);
    }
    this.ctx.reads = { bytes: 0 };
    if (b.type === 'batch') return this.batch(entries);
    entries.forEach((e, i) => this.checkEntry(e, i));
    return this.atOnce(entries, 'transaction');
  }

  /** All entries in one database transaction, new rows written together at the end. */
  private atOnce(entries: BundleEntry[], type: 'transaction' | 'batch'): Promise<Bundle> {
    return this.ctx.em.transactional(async (em) => {
      const inner = new FhirInteractions({ ...this.ctx, em });
      inner.store.deferInserts = true;
      inner.projection.deferFlush = true;
      const response = await inner.transaction(entries, type);
      await inner.flush();
      return response;
    });
  }

  private checkEntry(entry: BundleEntry, i: number): void {
    const method = entry.request?.method;
    if (!method || !entry.request?.url) throw fhirError(400, 'required', 'each entry needs request.method and request.url', [`Bundle.entry[${i}].request`]);
    if ((method === 'POST' || method === 'PUT') && !entry.resource) throw fhirError(400, 'required', `a ${method} entry needs a resource`, [`Bundle.entry[${i}].resource`]);
    if (entry.resource) assertValid(entry.resource, `Bundle.entry[${i}].resource`);
  }

  /**
   * FHIR's order: DELETE, POST, PUT/PATCH, GET; references to fullUrls are rewritten to the ids given. Within a
   * method, what others point to is written first (organisations, practitioners, then patients), so that a
   * resource may come before the patient it is about, and the domain projection finds what it links to. A PUT by
   * the sender's own id may create (update-as-create, ADR 12): it is written with the POSTs, after those of its
   * rank, so that a reading POSTed for a patient PUT in the same Bundle finds it.
   */
  private async transaction(entries: BundleEntry[], type: 'transaction' | 'batch'): Promise<Bundle> {
    const order = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 } as Record<string, number>;
    const step = (e: BundleEntry) => (senderIdOfPut(e) ? order.POST! : order[e.request!.method!]!);
    const rank = (e: BundleEntry) => WRITE_FIRST.indexOf(e.resource?.resourceType ?? '') + 1 || WRITE_FIRST.length + 1;
    const indexed = entries
      .map((entry, i) => ({ entry, i }))
      .sort((a, b) => step(a.entry) - step(b.entry) || rank(a.entry) - rank(b.entry) || order[a.entry.request!.method!]! - order[b.entry.request!.method!]! || a.i - b.i);
    const ids = new Map<string, string>(); // fullUrl → Type/id
    const responses: Outcome[] = new Array(entries.length);

    // Ids first, so that entries may refer to each other in any order. What was sent before is looked up
    // for the whole Bundle at once: creates by what identifies them (ADR 12), PUTs by the sender's own ids.
    // Batch entries do not refer to each other (FHIR: such references are not resolved), by fullUrl or identity.
    const identity = this.bundleIdentity(type === 'transaction' ? entries : []);
    const creates = indexed.filter(({ entry }) => entry.request!.method === 'POST' && entry.resource);
    const keys = creates.map(({ entry }) => identity.keysOf(entry));
    const puts = indexed.flatMap(({ entry }) => {
      const name = senderIdOfPut(entry);
      return name ? [{ entry, name }] : [];
    });
    const stored = byKey(await this.store.findByAnySourceKey([...keys.flatMap((k) => [...k.sender, ...k.identifiers]), ...puts.map((p) => this.senderKey(p.name))]));
    for (const [n, { entry, i }] of creates.entries()) {
      const resource = entry.resource!;
      let target: string | undefined;
      if (entry.request!.ifNoneExist) {
        const found = await this.match(resource.resourceType, entry.request!.ifNoneExist);
        if (found.length > 1) throw fhirError(412, 'duplicate', `ifNoneExist matches ${found.length} resources`, [`Bundle.entry[${i}].request.ifNoneExist`]);
        target = found[0];
      }
      const sent = target ? undefined : sentBefore(resource.resourceType, keys[n]!, stored);
      if (sent && this.store.identifiersDisagree(sent, resource)) {
        this.touch(sent.patient_id);
        throw sentDifferently(resource.resourceType, `Bundle.entry[${i}]`);
      }
      target ??= sent?.id;
      const id = target ?? uuidv7();
      if (entry.fullUrl && type === 'transaction') ids.set(entry.fullUrl, `${resource.resourceType}/${id}`);
      // The sender's own name for it is its name in this Bundle too (`Patient/<their id>` in another entry).
      if (resource.id && CLIENT_ID.test(resource.id)) ids.set(`${resource.resourceType}/${resource.id}`, `${resource.resourceType}/${id}`);
      const e = entry as PlannedEntry;
      e.assignedId = id;
      e.existed = !!target;
      e.keys = keys[n];
      // A row found by its keys is handed to the write; a fresh id needs no lookup at all.
      e.existing = sent ?? (target ? undefined : null);
    }
    for (const { entry, name } of puts) {
      // `PUT Patient/<the sender's id>`: the resource it named before, else a new one under a server UUID.
      const type_ = entry.resource!.resourceType;
      const found = stored.get(this.senderKey(name))?.filter((row) => row.resource_type === type_) ?? [];
      if (found.length > 1) throw sentDifferently(type_, `Bundle.entry[${entries.indexOf(entry)}]`);
      const e = entry as PlannedEntry;
      e.assignedId = found[0]?.id ?? uuidv7();
      e.existing = found[0] ?? null;
      ids.set(name, `${type_}/${e.assignedId}`);
      if (entry.fullUrl && type === 'transaction') ids.set(entry.fullUrl, `${type_}/${e.assignedId}`);
    }
    for (const { entry, i } of indexed) if (entry.resource) await this.rewriteReferences(entry, ids, i);

    for (const { entry, i } of indexed) {
      try {
        responses[i] = await auditedEntry(this.ctx.audit, this.store, this.ctx, i, entry, () => this.entry(entry));
      } catch (err) {
        const fe = toFhirError(err);
        if (!fe || err instanceof BundleTooCostly) throw err;
        throw new FhirError(fe.status, fe.issues.map((issue) => ({ ...issue, diagnostics: `entry ${i}: ${issue.diagnostics ?? ''}`, expression: issue.expression ?? [`Bundle.entry[${i}]`] })));
      }
    }
    return { resourceType: 'Bundle', type: `${type}-response`, entry: responses.map((r) => this.responseEntry(r)) };
  }

  /**
   * A batch is first tried as one unit, as fast as a transaction: when every entry succeeds the answer is the
   * same as entry by entry. If any entry fails, that attempt is rolled back and the batch is done again entry
   * by entry, each in its own database transaction, so that a failure — even a database error — is that
   * entry's answer alone.
   */
  private async batch(entries: BundleEntry[]): Promise<Bundle> {
    try {
      entries.forEach((e, i) => this.checkEntry(e, i));
      return await this.atOnce(structuredClone(entries), 'batch');
    } catch (err) {
      if (err instanceof BundleTooCostly) throw err;
      this.ctx.reads = { bytes: 0 }; // the attempt's answer is not sent: the budget is the retry's
      return this.entryByEntry(entries);
    }
  }

  private async entryByEntry(entries: BundleEntry[]): Promise<Bundle> {
    const responses: Outcome[] = [];
    const identity = this.bundleIdentity([]);
    for (const [i, entry] of entries.entries()) {
      try {
        this.checkEntry(entry, i);
        // What identifies a create is taken from it as sent, before its references are resolved (as in a transaction).
        if (entry.request!.method === 'POST' && entry.resource) (entry as PlannedEntry).keys = identity.keysOf(entry);
        const result = await auditedEntry(this.ctx.audit, this.store, this.ctx, i, entry, () =>
          this.ctx.em.transactional(async (em) => {
            const inner = new FhirInteractions({ ...this.ctx, em });
            await inner.rewriteReferences(entry, new Map(), i);
            return inner.entry(entry);
          }),
        );
        responses.push(result);
      } catch (err) {
        if (err instanceof BundleTooCostly) throw err;
        const fe = toFhirError(err) ?? this.unexpected(err, i);
        responses.push({ status: String(fe.status), outcome: fe.outcome });
      }
    }
    return { resourceType: 'Bundle', type: 'batch-response', entry: responses.map((r) => this.responseEntry(r)) };
  }

  /** An error that is no refusal (a database failure, a bug): logged, and answered as a 500 for its entry only. */
  private unexpected(err: unknown, i: number): FhirError {
    this.ctx.logger?.error({ err, entry: i }, 'batch entry failed');
    return fhirError(500, 'exception', `entry ${i} could not be processed; it was not stored`);
  }

  private responseEntry(r: Outcome): BundleEntry {
    return {
      ...(r.resource ? { fullUrl: `${this.ctx.baseUrl}/${r.resource.resourceType}/${r.resource.id}`, resource: r.resource } : {}),
      response: {
        status: r.status,
        ...(r.location ? { location: r.location } : {}),
        ...(r.etag ? { etag: r.etag } : {}),
        ...(r.lastModified ? { lastModified: r.lastModified } : {}),
        ...(r.outcome ? { outcome: r.outcome } : {}),
      },
    };
  }

  private async entry(entry: BundleEntry): Promise<Outcome> {
    const { method, url } = entry.request!;
    const [path, query] = url!.split('?') as [string, string | undefined];
    const [type, id] = path.replace(/^\//, '').split('/') as [string, string | undefined];
    const e = entry as PlannedEntry;
    switch (method) {
      case 'POST': {
        if (e.assignedId) {
          const out = await this.put(entry.resource!, e.assignedId, undefined, e.keys?.sender ?? [], e.existing);
          return e.existed ? { ...out, status: out.status === '201' ? '201' : '200' } : { ...out, status: '201' };
        }
        return this.create(entry.resource!, entry.request!.ifNoneExist, e.keys ?? this.bundleIdentity([]).keysOf(entry));
      }
      case 'PUT':
        if (id) return this.update(entry.resource!, id, parseEtag(entry.request!.ifMatch), e.assignedId ? { id: e.assignedId, existing: e.existing ?? null } : undefined);
        if (query) return this.conditionalUpdate(entry.resource!, query);
        throw fhirError(400, 'invalid', `PUT ${url}: give an id or a search`);
      case 'DELETE':
        if (id) return this.delete(type, id);
        if (query) {
          const found = await this.match(type, query);
          if (found.length > 1) throw fhirError(412, 'multiple-matches', `DELETE ${url} matches ${found.length} resources`);
          return found[0] ? this.delete(type, found[0]) : { status: '204' };
        }
        throw fhirError(400, 'invalid', `DELETE ${url}: give an id or a search`);
      case 'GET': {
        await this.flush();
        // Audited as the entry's own READ or SEARCH (auditedEntry), with the patients it reads or names.
        if (type === 'Measure') {
          // The indicators, served from code as at GET /fhir/Measure (measures.ts); they name no patient.
          this.store.assertCan('Measure', id ? 'r' : 's');
          return { status: '200', resource: this.charged(id ? readMeasure(id) : searchMeasures(new URLSearchParams(query ?? ''), this.ctx.baseUrl)) };
        }
        if (id) {
          const resource = await this.store.read(type, await this.resolveId(type, id));
          touchResources(this.ctx.audit, [resource]);
          return this.outcomeOf(this.charged(resource), '200');
        }
        const params = new URLSearchParams(query ?? '');
        touchNamedPatients(this.ctx.audit, type, params);
        const { bundle, patientIds } = await search(this.ctx.em, this.store, { resourceType: type, params, baseUrl: this.ctx.baseUrl });
        patientIds.forEach((p) => this.touch(p));
        return { status: '200', resource: this.charged(bundle) };
      }
      default:
        throw fhirError(400, 'not-supported', `method ${method} is not supported in a Bundle`);
    }
  }

  /** A GET entry's answer, counted against what the Bundle's GET entries may answer in all (FHIR_MAX_BUNDLE_READ_BYTES). */
  private charged<T extends Resource>(answer: T): T {
    const reads = this.ctx.reads;
    if (!reads) return answer;
    reads.bytes += Buffer.byteLength(JSON.stringify(answer));
    const max = (this.ctx.limits ?? DEFAULT_FHIR_LIMITS).maxBundleReadBytes;
    if (reads.bytes > max) {
      throw new BundleTooCostly(413, [
        {
          severity: 'error',
          code: 'too-costly',
          diagnostics: `the GET entries of this Bundle answer more than ${max.toLocaleString('en')} bytes: ask for less (a smaller _count, fewer entries) or page through a search instead`,
          expression: ['Bundle.entry'],
        },
      ]);
    }
    return answer;
  }

  /**
   * References to entries of this Bundle (urn:uuid: or other fullUrls) become the ids those entries get;
   * conditional references (`Practitioner?identifier=…`) must match exactly one resource; references by the
   * sender's own ids (`Patient/<their id>`, as in bulk NDJSON) are mapped through the keys stored with them.
   */
  async rewriteReferences(entry: BundleEntry, ids: Map<string, string>, i: number): Promise<void> {
    const pending: Array<{ ref: string; set: (v: string) => void }> = [];
    visitReferences(entry.resource, (ref, set) => pending.push({ ref, set }));
    for (const { ref, set } of pending) {
      if (ref.startsWith('#')) continue;
      const local = ids.get(ref);
      if (local) {
        set(local);
        continue;
      }
      if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
        throw fhirError(400, 'not-found', `reference ${ref} names no entry of this Bundle`, [`Bundle.entry[${i}].resource`]);
      }
      const conditional = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(ref);
      if (conditional) {
        const found = await this.match(conditional[1]!, conditional[2]!);
        if (found.length !== 1) {
          throw fhirError(412, found.length ? 'multiple-matches' : 'not-found', `conditional reference ${ref} matches ${found.length} resources (exactly one needed)`, [`Bundle.entry[${i}].resource`]);
        }
        set(`${conditional[1]}/${found[0]}`);
        ids.set(ref, `${conditional[1]}/${found[0]}`); // resolved once per Bundle: records name the same practitioner often
        continue;
      }
      const literal = /^([A-Z][A-Za-z]+)\/([^/]+)$/.exec(ref);
      if (literal) {
        const known = await this.store.findBySourceKeys(literal[1]!, [this.senderKey(ref)]);
        const resolved = known.length === 1 ? `${literal[1]}/${known[0]!.id}` : ref; // else kept as sent
        set(resolved);
        ids.set(ref, resolved); // once per Bundle: bulk lines name the same patient and encounters again and again
      }
    }
  }
}

type PlannedEntry = BundleEntry & { assignedId?: string; existed?: boolean; existing?: StoredSourceRow | null; keys?: LookupKeys };

/** Where a PUT by the sender's own id goes: the resource it named before (`existing`), or a new one under `id`. */
interface SenderTarget {
  id: string;
  existing: StoredSourceRow | null;
}

interface LookupKeys {
  /** The sender's own names for the resource (`sender:…`), or its fingerprint (`fp:…`): stored with it. */
  sender: string[];
  /** Its identifiers as the store indexes them. */
  identifiers: string[];
}

/** `Type/id` of a PUT by the sender's own id (not a UUID: those are the server's), for the Bundle's one lookup. */
function senderIdOfPut(entry: BundleEntry): string | undefined {
  if (entry.request?.method !== 'PUT' || !entry.resource) return undefined;
  const m = /^\/?([A-Z][A-Za-z]+)\/([^/?]+)$/.exec(entry.request.url ?? '');
  if (!m || m[1] !== entry.resource.resourceType || !CLIENT_ID.test(m[2]!) || isUuid(m[2]!)) return undefined;
  if (entry.resource.id && entry.resource.id !== m[2]) return undefined; // refused by update(): ids differ
  return `${m[1]}/${m[2]}`;
}

/** The rows a lookup found, by each key they hold. */
function byKey(rows: StoredSourceRow[]): Map<string, StoredSourceRow[]> {
  const out = new Map<string, StoredSourceRow[]>();
  for (const row of rows) for (const k of row.source_keys as string[]) out.set(k, [...(out.get(k) ?? []), row]);
  return out;
}

/**
 * Idempotency: a resource sent before is found by the sender's own name for it (Type/id, an absolute fullUrl) or its
 * fingerprint, else by the identifiers that name exactly one stored resource, if they all name the same one
 * (identifiers shared by many, like a claim group, name none of them).
 */
function sentBefore(resourceType: string, keys: LookupKeys, stored: Map<string, StoredSourceRow[]>): StoredSourceRow | undefined {
  const of = (k: string) => (stored.get(k) ?? []).filter((row) => row.resource_type === resourceType);
  const bySender = new Set(keys.sender.flatMap(of));
  if (bySender.size === 1) return [...bySender][0];
  const named = new Set(keys.identifiers.map(of).flatMap((rows) => (rows.length === 1 ? rows : [])));
  return named.size === 1 ? [...named][0] : undefined;
}

function identifierKeys(resource: Resource): Array<[string, string]> {
  const ids = (resource as { identifier?: Array<{ system?: string; value?: string }> }).identifier;
  return Array.isArray(ids) ? ids.filter((i) => i.system && i.value).map((i) => [i.system!, i.value!]) : [];
}


export function parseEtag(etag: string | undefined): number | undefined {
  if (!etag) return undefined;
  const m = /^(W\/)?"?(\d+)"?$/.exec(etag.trim());
  if (!m) throw fhirError(400, 'invalid', `If-Match "${etag}" is not a version ETag`);
  return Number(m[2]);
}
