import { createHash, randomBytes } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { v7 as uuidv7 } from 'uuid';
import type { IdentifierSystems } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { type IdentifierProtector, maskIdentifier } from '../access/identifier-protection.js';
import { type AccessPolicy, DIRECTORY_ORGANIZATION_ELEMENT, type FhirWrite, readKindOf, tokenIdentityOf, writeKindOf } from '../access/policy.js';
import { callerAllows } from '../access/scopes.js';
import { deepEqual, FhirMappingError } from '../../fhir-mappings/index.js';
import { IdentifierKind } from '../domain/patient/patient.entity.js';
import { isUuid } from '../domain/errors.js';
import { FhirError, fhirError, toFhirError } from './outcome.js';
import { indexResource } from './indexing.js';
import { assertWritable } from './read-only.js';
import { type ReadPurpose, selectResources, selectVersions, StoreScope, unscopedRow, unscopedRowsBySourceKeys } from './store-sql.js';

export interface StoredRow {
  id: string;
  resource_type: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  patient_id: string | null;
  /** The organisation that created it (policy.ts, FHIR_WRITE_RULES); null when none did. */
  owner_organization_id?: string | null;
  content: Resource | string;
}

export type StoredSourceRow = StoredRow & { source_keys: string[] | string };

export interface WriteOptions {
  /** The id to write under: updates it if it exists, else creates it there. */
  id?: string;
  ifMatch?: number;
  /** The sender's own names for the resource (fullUrl, Type/id), kept for idempotent re-sends. */
  senderKeys?: string[];
  /** The current row when the caller has already read it; null when the caller knows there is none. */
  existing?: StoredSourceRow | null;
}

export interface PendingRow {
  id: string;
  resource_type: string;
  version_id: number;
  last_updated: string;
  patient_id: string | null;
  owner_organization_id: string | null;
  content: Resource;
  source_keys: string[];
  codes: string[];
  date_at: string | null;
  status: string | null;
  names: string | null;
  gender: string | null;
}

export interface WriteResult {
  /** As the caller may see it (resident IDs masked for most roles). */
  resource: Resource;
  /** As stored, in clear: for the domain projection, never for output. */
  plain: Resource;
  /** The patient whose compartment it is in. */
  patientId?: string;
  created: boolean;
  /** False when an update carried nothing new: no version was made. */
  changed: boolean;
}

/**
 * A resource the county already holds — found by its identifiers (or the sender's keys) — that the caller may not
 * see: 409, saying neither which record nor which identifier matched (an answer naming either tells anyone which of
 * a person's identifiers the county holds, and where). One patient, one county record: the way on is a transfer
 * by the organisation that manages it. The patient is kept for the audit (FhirInteractions.put touches it).
 */
export class HeldOutOfReach extends FhirError {
  constructor(
    resourceType: string,
    readonly patientId: string | undefined,
  ) {
    const what = resourceType === 'Patient' ? 'a record with these identifiers' : `a ${resourceType} with these identifiers`;
    super(409, [{ severity: 'error', code: 'duplicate', diagnostics: `${what} already exists in the county; ask its managing organisation for a transfer` }]);
    this.name = 'HeldOutOfReach';
  }
}

/** Prefix of an encrypted identifier value in stored JSON. */
export const ENCRYPTED = 'enc:';

/**
 * The FHIR store: current versions in `fhir_resource`, every version in `fhir_resource_history`. Reads are
 * limited by the access policy (a resource in a patient's compartment is visible when the patient is);
 * writes check the caller's scopes, the patient's visibility, and what is written (the policy's
 * FHIR_WRITE_RULES: the directory, and resources owned by another organisation; tokenIdentityOf: codes and
 * places in the tree never change). Resident IDs inside stored JSON are encrypted like the identifier
 * table's, and revealed on the way out only to roles that may see them.
 */
export class FhirStore {
  /**
   * New resources waiting to be inserted. A transaction Bundle inserts all of its new resources (current and
   * history rows) in one statement at the end instead of two per resource; any read of the store writes them
   * first, so nothing read in the same transaction misses them.
   */
  private pending: PendingRow[] = [];
  /** Set while a transaction Bundle runs; otherwise every write goes to the database at once. */
  deferInserts = false;
  /** Patients already found visible in this unit of work: a Bundle's hundreds of resources name the same one. */
  private readonly visiblePatients = new Set<string>();

  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly protector: IdentifierProtector,
    private readonly systems: IdentifierSystems,
  ) {}

  /** Inserts the pending new resources, current and history rows, in one statement. */
  async flushInserts(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    await insertResources(this.em, rows);
  }

  /** Whether the caller may see this patient (and so write into and read its compartment). */
  async patientVisible(patientId: string): Promise<boolean> {
    if (this.visiblePatients.has(patientId)) return true;
    // An access decision, not a read: the record's rules, whatever the caller's scopes for Patient (store-sql.ts, `exists`).
    const visible = !!(await this.row('Patient', patientId, 'exists'));
    if (visible) this.visiblePatients.add(patientId);
    return visible;
  }

  /** What the caller may read of the store: every SQL read of it goes through store-sql.ts with this. */
  get scope(): StoreScope {
    return (this._scope ??= new StoreScope(this.policy));
  }

  private _scope?: StoreScope;

  /**
   * Whether the caller may read a stored row it was handed by a lookup that does not limit what it finds (a
   * write's target, a re-send found by its keys): a row in a record with its patient (known patients cached for
   * the Bundle), any other as the store's reads would find it.
   */
  private async readable(row: StoredRow): Promise<boolean> {
    if (row.patient_id) return this.patientVisible(row.patient_id);
    if (this.policy.readReach(readKindOf(row.resource_type, false)) === 'any') return true; // the directory, shared definitions: no lookup
    return (await selectResources(this.em, this.scope, { where: 'r.id = ?', params: [row.id], purpose: 'exists' })).length > 0;
  }

  assertCan(resourceType: string, interaction: 'c' | 'r' | 'u' | 'd' | 's'): void {
    if (interaction === 'c' || interaction === 'u' || interaction === 'd') assertWritable(resourceType);
    if (!callerAllows(this.policy.caller, resourceType, interaction)) {
      throw fhirError(403, 'forbidden', `not allowed to ${interaction === 'r' || interaction === 's' ? 'read' : 'write'} ${resourceType}`);
    }
  }

  async read(resourceType: string, id: string): Promise<Resource> {
    return (await this.readWithPatient(resourceType, id)).resource;
  }

  /** `read`, with the patient whose record the resource is in (for the audit: one lookup, not a second). */
  async readWithPatient(resourceType: string, id: string): Promise<{ resource: Resource; patientId: string | null }> {
    this.assertCan(resourceType, 'r');
    const row = isUuid(id) ? await this.row(resourceType, id) : undefined;
    if (!row) throw fhirError(404, 'not-found', `${resourceType}/${id} not found`);
    if (row.deleted) throw fhirError(410, 'deleted', `${resourceType}/${id} was deleted`);
    return { resource: this.output(row), patientId: row.patient_id ?? null };
  }

  async vread(resourceType: string, id: string, versionId: number): Promise<Resource> {
    await this.read(resourceType, id).catch((err) => {
      if (err.status !== 410) throw err;
    });
    const [row] = await selectVersions(this.em, this.scope, { where: 'h.id = ? and h.resource_type = ? and h.version_id = ?', params: [id, resourceType, versionId] });
    if (!row) throw fhirError(404, 'not-found', `${resourceType}/${id}/_history/${versionId} not found`);
    if (row.deleted) throw fhirError(410, 'deleted', `${resourceType}/${id} version ${versionId} is a deletion`);
    return this.output(row);
  }

  async history(resourceType: string, id: string): Promise<Bundle> {
    await this.read(resourceType, id).catch((err) => {
      if (err.status !== 410) throw err;
    });
    const rows = await selectVersions(this.em, this.scope, { where: 'h.id = ? and h.resource_type = ?', params: [id, resourceType], orderBy: 'h.version_id desc' });
    return {
      resourceType: 'Bundle',
      type: 'history',
      total: rows.length,
      entry: rows.map((r) => ({
        fullUrl: `${resourceType}/${id}`,
        ...(r.deleted ? {} : { resource: this.output(r) }),
        request: { method: r.version_id === 1 ? 'POST' : r.deleted ? 'DELETE' : 'PUT', url: r.version_id === 1 ? resourceType : `${resourceType}/${id}` },
        response: { status: r.deleted ? '204' : r.version_id === 1 ? '201' : '200', lastModified: new Date(r.last_updated).toISOString() },
      })),
    } as Bundle;
  }

  /**
   * A current row the caller may read (deleted or not), or undefined. With `exists`: one the caller may see for a
   * write or a delete, whatever its read scopes — without its content.
   */
  async row(resourceType: string, id: string, purpose: ReadPurpose = 'r'): Promise<StoredRow | undefined> {
    if (!isUuid(id)) return undefined; // ids here are UUIDs; anything else (a sender's `Patient/example`) names nothing
    await this.flushInserts();
    return (await selectResources(this.em, this.scope, { where: 'r.id = ? and r.resource_type = ?', params: [id, resourceType], purpose }))[0];
  }

  /** Rows of a type holding any of these keys (identifiers as `system|value`, or the sender's own ids). */
  async findBySourceKeys(resourceType: string, keys: string[]): Promise<StoredRow[]> {
    return (await this.findByAnySourceKey(keys)).filter((r) => r.resource_type === resourceType);
  }

  /**
   * Rows of any type holding any of these keys, whoever may read them: one lookup for a whole Bundle, for
   * idempotency on write (store-sql.ts, unscopedRowsBySourceKeys). Never returned to a caller as such: the
   * write checks what it found (`readable`).
   */
  async findByAnySourceKey(keys: string[]): Promise<StoredSourceRow[]> {
    if (keys.length === 0) return [];
    await this.flushInserts();
    const rows = await unscopedRowsBySourceKeys(this.em, toPgArray([...new Set(keys)]));
    for (const row of rows) row.source_keys = parseArray(row.source_keys);
    return rows;
  }

  /**
   * Creates, or (with `id`) updates, one resource. An update that changes nothing makes no new version —
   * which is what makes re-sent Bundles harmless.
   */
  async write(resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    const resourceType = resource.resourceType;
    const existing = options.existing !== undefined ? (options.existing ?? undefined) : options.id ? await this.rawRow(options.id) : undefined;
    if (existing && existing.resource_type !== resourceType) throw fhirError(400, 'invalid', `${options.id} is a ${existing.resource_type}`);
    this.assertCan(resourceType, existing ? 'u' : 'c');
    // A target the caller may not read is one an idempotency lookup found past its reach (by identifier, or by its
    // own keys for a resource since moved out of it): updates by id and conditional ones only find readable rows.
    if (existing && !(await this.readable(existing))) throw new HeldOutOfReach(resourceType, existing.patient_id ?? undefined);
    if (options.ifMatch !== undefined && existing && existing.version_id !== options.ifMatch) {
      throw fhirError(412, 'conflict', `${resourceType}/${existing.id} is at version ${existing.version_id}, not ${options.ifMatch}`);
    }
    const id = existing?.id ?? options.id ?? uuidv7();
    // A copy: the caller's resource (a Bundle entry) is not changed by encrypting its identifiers.
    const { meta: _meta, id: _id, ...body } = structuredClone(resource) as Resource & { meta?: Record<string, unknown> };
    const meta = { ...((resource as { meta?: Record<string, unknown> }).meta ?? {}) };
    delete meta.versionId;
    delete meta.lastUpdated;
    const plain = { ...body, resourceType, id, ...(Object.keys(meta).length ? { meta } : {}) } as Resource;
    const index = indexResource(plain);
    // Identifiers are matched as `system|value`, resident IDs by their keyed hash (the JSON holds them encrypted).
    index.sourceKeys = identifiersOf(plain)
      .filter((i) => i.system && i.value)
      .map((i) => this.identifierKey(i.system!, i.value!));
    if (resourceType === 'Bundle' && index.patients.length > 1) {
      // A stored Bundle is one patient's (a document, a collection of one record): its entries are read with it.
      throw fhirError(422, 'business-rule', `a stored Bundle is in one patient's record; this one's entries name ${index.patients.length} patients (send their records separately, or as a transaction)`, [index.patients[1]!.path]);
    }
    if (resourceType === 'MeasureReport' && namesSubjects(plain)) {
      // Its Lists name patients outside any record: it would be read by whoever may read the report (its owner's
      // subtree), not by whoever may see each patient, and its reads would audit none of them.
      throw fhirError(422, 'business-rule', 'a MeasureReport naming its subjects (a subject-list, subjectResults) is not stored: store the summary, and read the lists live with Measure/[id]/$evaluate-measure?reportType=subject-list', ['MeasureReport.type']);
    }
    for (const named of index.patients) {
      // Writing into a patient's record needs a patient the caller may see — as unknown as a missing one otherwise —
      // and so does naming one in it (an Appointment's second participant, a Group's members).
      if (named.id === id && resourceType === 'Patient') continue;
      if (!(await this.patientVisible(named.id))) throw fhirError(422, 'not-found', `Patient/${named.id} not found`, [named.path]);
    }
    const known = existing ? parseArray(existing.source_keys) : [];
    const senderKeys = [...new Set([...(options.senderKeys ?? []), ...known])];
    // Compared in clear: each encryption of the same number differs, a re-send must still be "nothing new".
    const before = existing ? this.reveal(typeof existing.content === 'string' ? JSON.parse(existing.content) : structuredClone(existing.content), true) : undefined;
    if (existing && !existing.deleted && sameResource(before!, plain)) {
      // Nothing to authorise: nothing changes but the sender's own names for it (its namespace alone), and it is readable as it stands.
      if (senderKeys.length > known.length) await this.addSenderKeys(id, senderKeys);
      return { resource: this.output(existing), plain: before!, patientId: existing.patient_id ?? undefined, created: false, changed: false };
    }
    await this.authorise(existing ? 'update' : 'create', resourceType, existing, plain, index.patientId);
    if (before) assertIdentityKept(before, plain);
    const stored = this.protect(structuredClone(plain));
    const versionId = existing ? existing.version_id + 1 : 1;
    const lastUpdated = new Date();
    const content = { ...stored, meta: { ...(stored.meta ?? {}), versionId: String(versionId), lastUpdated: lastUpdated.toISOString() } } as Resource;
    const keys = [...new Set([...index.sourceKeys, ...senderKeys])];
    if (existing) {
      await this.flushInserts();
      const json = JSON.stringify(content);
      await this.em.execute(
        `update fhir_resource set resource_type = ?, version_id = ?, last_updated = ?, deleted = false, patient_id = ?, content = ?::jsonb,
           source_keys = ?::text[], codes = ?::text[], date_at = ?, status = ?, names = ?, gender = ? where id = ?`,
        [resourceType, versionId, lastUpdated, index.patientId ?? null, json, toPgArray(keys), toPgArray(index.codes), index.dateAt ?? null, index.status ?? null, index.names ?? null, index.gender ?? null, id],
      );
      await this.em.execute(
        `insert into fhir_resource_history (id, version_id, resource_type, last_updated, deleted, patient_id, owner_organization_id, content) values (?, ?, ?, ?, false, ?, ?, ?::jsonb)`,
        [id, versionId, resourceType, lastUpdated, index.patientId ?? null, existing.owner_organization_id ?? null, json],
      );
    } else {
      this.pending.push(storeRow(id, { ...index, resourceType, versionId, lastUpdated, content, sourceKeys: keys, ownerOrganizationId: this.policy.caller.organizationId }));
      if (!this.deferInserts) await this.flushInserts();
    }
    return {
      resource: this.reveal(structuredClone(content)),
      plain: { ...plain, meta: content.meta } as Resource,
      patientId: index.patientId,
      created: !existing,
      changed: true,
    };
  }

  async delete(resourceType: string, id: string): Promise<{ deleted: boolean; patientId?: string }> {
    this.assertCan(resourceType, 'd');
    await this.flushInserts();
    const row = isUuid(id) ? await this.row(resourceType, id, 'exists') : undefined;
    if (!row || row.deleted) return { deleted: false };
    await this.authorise('delete', resourceType, row);
    const versionId = row.version_id + 1;
    const now = new Date();
    await this.em.execute(`update fhir_resource set deleted = true, version_id = ?, last_updated = ? where id = ?`, [versionId, now, id]);
    await this.em.execute(
      `insert into fhir_resource_history (id, version_id, resource_type, last_updated, deleted, patient_id, owner_organization_id, content) values (?, ?, ?, ?, true, ?, ?, null)`,
      [id, versionId, resourceType, now, row.patient_id ?? null, row.owner_organization_id ?? null],
    );
    return { deleted: true, patientId: row.patient_id ?? undefined };
  }

  /**
   * The rule table (policy.ts, FHIR_WRITE_RULES) applied to one write: which kind of resource it is, which
   * organisation owns the stored one, which organisations the new content is for. Writers who reach any
   * resource (administrators, the internal caller: imports) are let through before any lookup.
   */
  private async authorise(action: FhirWrite['action'], resourceType: string, existing: StoredRow | undefined, content?: Resource, patientId?: string): Promise<void> {
    // A stored resource in a patient's record stays the patient's (visibility is checked above); one outside any is owned.
    const kind = writeKindOf(resourceType, existing ? !!existing.patient_id : !!patientId);
    const reach = this.policy.writeReach(kind);
    if (reach === 'any' || reach === 'visible-patients') return;
    const write: FhirWrite = { resourceType, action, kind };
    if (reach === 'own-subtree') {
      // An Organization belongs to itself; anything else to the organisation that created it.
      const ownerId = existing ? (resourceType === 'Organization' ? existing.id : existing.owner_organization_id) : undefined;
      const element = DIRECTORY_ORGANIZATION_ELEMENT[resourceType];
      // What a directory resource is for: a new Organization's parent; the managing organisation of a Location, ….
      const named = kind === 'directory' && content && element && !(resourceType === 'Organization' && existing) ? organizationReferences(content, element, resourceType === 'Organization') : [];
      const paths = await this.organizationPaths([ownerId, ...named].filter((i): i is string => !!i && isUuid(i)));
      if (existing) write.ownerPath = (ownerId && paths.get(ownerId)) ?? null;
      write.namedPaths = named.map((i) => (i && paths.get(i)) ?? null);
    }
    try {
      this.policy.assertMayWrite(write);
    } catch (err) {
      throw toFhirError(err) ?? err;
    }
  }

  private async organizationPaths(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.em.execute(`select id, path from organization where id in (${ids.map(() => '?').join(', ')})`, ids)) as Array<{ id: string; path: string }>;
    return new Map(rows.map((r) => [r.id, r.path]));
  }

  private async rawRow(id: string): Promise<StoredSourceRow | undefined> {
    if (!isUuid(id)) return undefined;
    await this.flushInserts();
    return unscopedRow(this.em, id);
  }

  private async addSenderKeys(id: string, keys: string[]): Promise<void> {
    await this.em.execute(`update fhir_resource set source_keys = (select array_agg(distinct k) from unnest(source_keys || ?::text[]) k) where id = ?`, [toPgArray(keys), id]);
  }

  /** The stored JSON as the caller may see it: meta as stored, resident IDs revealed or masked. */
  output(row: StoredRow): Resource {
    const content = typeof row.content === 'string' ? (JSON.parse(row.content) as Resource) : structuredClone(row.content);
    return this.reveal(content);
  }

  /**
   * Encrypts every resident ID in a resource, at any depth: the resource's own identifiers, those of Bundle
   * entries and contained resources, an identifier in a reference (`subject.identifier`), anything shaped
   * `{ system: <the resident-ID system>, value }`. What is stored holds none in clear (current row and versions).
   */
  private protect(resource: Resource): Resource {
    const system = this.systems.residentId;
    visitIdentifiers(resource, system, (identifier) => {
      identifier.value = ENCRYPTED + this.protector.protect(system, IdentifierKind.RESIDENT_ID, identifier.value).cipher;
    });
    return resource;
  }

  get residentIdSystem(): string {
    return this.systems.residentId;
  }

  /** `system|value` as the source keys index it: a resident ID by its keyed hash, never in clear. */
  identifierKey(system: string, value: string): string {
    if (system !== this.systems.residentId) return `${system}|${value}`;
    const plain = value.startsWith(ENCRYPTED) ? this.protector.reveal(system, value.slice(ENCRYPTED.length)) : value;
    return `${system}|${this.protector.lookup(system, IdentifierKind.RESIDENT_ID, plain.trim().toUpperCase())}`;
  }

  /**
   * A content fingerprint, for recognising a resource sent again that nothing else identifies (no identifier, no id of
   * the sender's, no ifNoneExist: ADR 12): SHA-256 of its canonical JSON (keys sorted) without its id and the version
   * and time in its meta. Resident IDs are hashed in with their keyed lookup hash, never in clear. The caller has
   * already replaced references to other entries of its Bundle with those entries' own identities.
   */
  fingerprint(resource: Resource): string {
    const { id: _id, meta, ...body } = structuredClone(resource) as Resource & { meta?: Record<string, unknown> };
    const kept = stripVersion(meta);
    const plain = { ...body, ...(Object.keys(kept).length ? { meta: kept } : {}) };
    const system = this.systems.residentId;
    visitIdentifiers(plain, system, (identifier) => {
      identifier.value = this.identifierKey(system, identifier.value);
    });
    return createHash('sha256').update(canonicalJson(plain)).digest('hex');
  }

  /**
   * Whether a stored resource found for an incoming one (by the sender's id for it, or an identifier) says it is
   * another: in some identifier system both have, they share no value (a different MRN under the same sender id).
   */
  identifiersDisagree(row: StoredRow, incoming: Resource): boolean {
    const content = typeof row.content === 'string' ? (JSON.parse(row.content) as Resource) : row.content;
    const bySystem = (r: Resource) => {
      const out = new Map<string, Set<string>>();
      for (const i of identifiersOf(r)) if (i.system && i.value) out.set(i.system, (out.get(i.system) ?? new Set()).add(this.identifierKey(i.system, i.value)));
      return out;
    };
    const [was, now] = [bySystem(content), bySystem(incoming)];
    for (const [system, values] of now) {
      const before = was.get(system);
      if (before && ![...values].some((v) => before.has(v))) return true;
    }
    return false;
  }

  /** Every resident ID in a resource, at any depth, in full for roles that may see it, else masked as the domain masks it. */
  private reveal(resource: Resource, full = this.policy.revealsResidentIds): Resource {
    const system = this.systems.residentId;
    visitIdentifiers(resource, system, (identifier) => {
      // One in clear was stored before resident IDs were protected at every depth: masked all the same.
      const plain = identifier.value.startsWith(ENCRYPTED) ? this.protector.reveal(system, identifier.value.slice(ENCRYPTED.length)) : identifier.value;
      identifier.value = full ? plain : maskIdentifier(plain);
    });
    return resource;
  }
}

/** A MeasureReport that names the subjects of its populations: a subject-list, or subjectResults at any depth. */
function namesSubjects(report: Resource): boolean {
  if ((report as { type?: string }).type === 'subject-list') return true;
  const pending: unknown[] = [(report as { group?: unknown }).group];
  while (pending.length) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (node && typeof node === 'object') {
      if ('subjectResults' in node) return true;
      pending.push(...Object.values(node));
    }
  }
  return false;
}

/**
 * The organisations an element names, by server id (null: a reference this server did not resolve, or none
 * where one is required — a new Organization without partOf would be a root of its own).
 */
function organizationReferences(resource: Resource, element: string, required: boolean): Array<string | null> {
  const value = (resource as unknown as Record<string, unknown>)[element];
  const refs = (Array.isArray(value) ? value : value ? [value] : []) as Array<{ reference?: string }>;
  const ids = refs.filter((r) => !r.reference?.startsWith('#')).map((r) => /^Organization\/([^/]+)$/.exec(r.reference ?? '')?.[1] ?? null);
  return ids.length === 0 && required ? [null] : ids;
}

/**
 * No write changes what tokens resolve callers by, or an organisation's place in the tree (policy.ts,
 * tokenIdentityOf): refused with 422, whoever sends it.
 */
function assertIdentityKept(before: Resource, after: Resource): void {
  let was: Record<string, string | undefined> | undefined;
  let now: Record<string, string | undefined> | undefined;
  try {
    was = tokenIdentityOf(before);
    now = tokenIdentityOf(after);
  } catch (err) {
    if (err instanceof FhirMappingError) throw new FhirError(422, [err.toIssue()]);
    throw err;
  }
  if (!was || !now) return;
  const changed = Object.keys(was).filter((element) => (was![element] ?? null) !== (now![element] ?? null));
  if (changed.length) {
    throw fhirError(
      422,
      'business-rule',
      `${changed.join(' and ')} of ${before.resourceType}/${before.id} cannot change over FHIR: tokens resolve by its code, access goes by its place in the tree (changed by an operator in the domain, not by an exchanged resource)`,
      changed,
    );
  }
}

/**
 * Every object shaped `{ system: <system>, value: <string> }` at any depth of a resource — its identifiers, those of
 * Bundle entries and contained resources, Reference.identifier — for the visitor to rewrite its value.
 */
function visitIdentifiers(node: unknown, system: string, visit: (identifier: { system: string; value: string }) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) visitIdentifiers(n, system, visit);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (obj.system === system && typeof obj.value === 'string') visit(obj as { system: string; value: string });
  for (const key in obj) {
    const value = obj[key];
    if (value && typeof value === 'object') visitIdentifiers(value, system, visit);
  }
}

function identifiersOf(resource: Resource): Array<{ system?: string; value?: string }> {
  const r = resource as unknown as { identifier?: unknown };
  return Array.isArray(r.identifier) ? (r.identifier as Array<{ system?: string; value?: string }>) : [];
}

export function stripVersion(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const { versionId: _v, lastUpdated: _l, ...rest } = meta ?? {};
  return rest;
}

/** A text[] column as the driver returns it: an array, or (PGlite) the array literal. */
export function parseArray(value: unknown): string[] {
  if (Array.isArray(value)) return value as string[];
  const raw = String(value ?? '').replace(/^\{|\}$/g, '');
  return raw ? raw.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}

/** JSON with object keys sorted at every depth: the same content, the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether two versions of a resource say the same, ignoring their version id and time. */
export function sameResource(a: Resource, b: Resource): boolean {
  const { meta: aMeta, ...aBody } = a as { meta?: Record<string, unknown> };
  const { meta: bMeta, ...bBody } = b as { meta?: Record<string, unknown> };
  return deepEqual(stripVersion(aMeta), stripVersion(bMeta)) && deepEqual(aBody, bBody);
}

/** A Postgres array literal; elements quoted so commas and braces inside identifiers stay intact. */
export function toPgArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** A new resource as `insertResources` takes it. */
export function storeRow(
  id: string,
  c: { resourceType: string; versionId: number; lastUpdated: Date; patientId?: string; ownerOrganizationId?: string; content: object; sourceKeys: string[]; codes: string[]; dateAt?: Date; status?: string; names?: string; gender?: string },
): PendingRow {
  return {
    id,
    resource_type: c.resourceType,
    version_id: c.versionId,
    last_updated: c.lastUpdated.toISOString(),
    patient_id: c.patientId ?? null,
    owner_organization_id: c.ownerOrganizationId ?? null,
    content: c.content as Resource,
    source_keys: c.sourceKeys,
    codes: c.codes,
    date_at: c.dateAt ? new Date(c.dateAt).toISOString() : null,
    status: c.status ?? null,
    names: c.names ?? null,
    gender: c.gender ?? null,
  };
}

/**
 * New resources, current and history rows, in one statement. The rows travel as one JSON text, dollar-quoted in
 * the statement rather than a parameter: the ORM quotes a parameter by copying it character by character, which
 * for a page of a few thousand resources cost more time (and garbage) than mapping them.
 */
export async function insertResources(em: EntityManager, rows: PendingRow[]): Promise<void> {
  if (rows.length === 0) return;
  await em.execute(
    `with rows as (
       select * from jsonb_to_recordset(${dollarQuoted(JSON.stringify(rows))}::jsonb) as t(id uuid, resource_type text, version_id int, last_updated timestamptz,
         patient_id uuid, owner_organization_id uuid, content jsonb, source_keys text[], codes text[], date_at timestamptz, status text, names text, gender text)
     ), current as (
       insert into fhir_resource (id, resource_type, version_id, last_updated, patient_id, owner_organization_id, content, source_keys, codes, date_at, status, names, gender)
       select id, resource_type, version_id, last_updated, patient_id, owner_organization_id, content, source_keys, codes, date_at, status, names, gender from rows
     )
     insert into fhir_resource_history (id, version_id, resource_type, last_updated, deleted, patient_id, owner_organization_id, content)
     select id, version_id, resource_type, last_updated, false, patient_id, owner_organization_id, content from rows`,
  );
}

/** A text as an SQL literal, between dollar quotes under a tag the text does not hold: nothing in it is escaped. */
function dollarQuoted(text: string): string {
  let tag = '$rows$';
  while (text.includes(tag)) tag = `$rows_${randomBytes(6).toString('hex')}$`;
  return `${tag}${text}${tag}`;
}
