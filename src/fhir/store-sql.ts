import type { EntityManager } from '../db/orm.js';
import type { AccessPolicy, Predicate } from '../access/policy.js';
import { typesAllowed } from '../access/scopes.js';
import type { StoredRow, StoredSourceRow } from './store.js';

/**
 * The one place SQL reads the FHIR store's tables (fhir_resource, fhir_resource_history). Every read goes through
 * a function here that takes the caller's `StoreScope` and always applies it — the policy's read rules
 * (policy.ts, FHIR_READ_RULES: a resource in a patient's record with the patient, the rest by type or owner) —
 * so a new read path cannot forget them (test/security/fhir-scoped-sql.test.ts fails on SQL reading the tables
 * anywhere else). The few reads that must see past the caller are the functions named `unscoped…` below, each
 * saying why; none of them returns content to a caller without the store checking it first.
 */

/**
 * What a read is for. `r` (a read: the default) and `s` (a search's matches) return content, limited by the
 * caller's read rules and its SMART scopes for the interaction, per type. `exists` is an access decision — may
 * the caller write into this patient's record, is a write's or a delete's target one it may see — answered by the
 * read rules alone (a client may write Observations into records it may not read Patients of), and returns no
 * content: only the columns a write decides by (EXISTS_COLUMNS).
 */
export type ReadPurpose = 'r' | 's' | 'exists';

const EXISTS_COLUMNS = 'r.id, r.resource_type, r.version_id, r.last_updated, r.deleted, r.patient_id, r.owner_organization_id';

/** What one caller may read of the store, as SQL over a current row: its read rules and, per type, its SMART scopes. */
export class StoreScope {
  /** `during`: patients judged over this period (county days) rather than today — a Bulk export's (policy.fhirRowsVisible). */
  constructor(
    readonly policy: AccessPolicy,
    readonly during?: { start: string; end: string },
  ) {}

  /** The predicate over current rows (alias: a fhir_resource row); undefined when the caller reads every row. */
  rows(alias = 'r', purpose: ReadPurpose = 'r'): Predicate | undefined {
    const visible = this.policy.fhirRowsVisible(alias, this.during);
    if (purpose === 'exists') return visible;
    const types = typesAllowed(this.policy.caller, purpose);
    if (types === '*') return visible;
    const typed: Predicate = types.length ? { sql: `${alias}.resource_type = any(?::text[])`, params: [`{${types.join(',')}}`] } : { sql: '1 = 0', params: [] };
    return visible ? { sql: `(${typed.sql}) and (${visible.sql})`, params: [...typed.params, ...visible.params] } : typed;
  }
}

/** A read of current rows: conditions over `r` (fhir_resource), with their parameters. */
export interface ResourceQuery {
  where: string;
  params?: unknown[];
  /** Default `r.*`. */
  columns?: string;
  orderBy?: string;
  limit?: number;
  offset?: number;
  /** Default `r`: a read. */
  purpose?: ReadPurpose;
}

function scoped(scope: StoreScope, q: { where: string; params?: unknown[]; purpose?: ReadPurpose }, alias = 'r'): { where: string; params: unknown[] } {
  const predicate = scope.rows(alias, q.purpose);
  return predicate ? { where: `(${predicate.sql}) and (${q.where})`, params: [...predicate.params, ...(q.params ?? [])] } : { where: `(${q.where})`, params: q.params ?? [] };
}

function tail(q: { orderBy?: string; limit?: number; offset?: number }): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let sql = q.orderBy ? ` order by ${q.orderBy}` : '';
  if (q.limit !== undefined) {
    sql += ' limit ?';
    params.push(q.limit);
  }
  if (q.offset !== undefined) {
    sql += ' offset ?';
    params.push(q.offset);
  }
  return { sql, params };
}

/** Current rows the caller may read. */
export async function selectResources<T = StoredRow>(em: EntityManager, scope: StoreScope, q: ResourceQuery): Promise<T[]> {
  const { where, params } = scoped(scope, q);
  const t = tail(q);
  const columns = q.purpose === 'exists' ? EXISTS_COLUMNS : (q.columns ?? 'r.*');
  return (await em.execute(`select ${columns} from fhir_resource r where ${where}${t.sql}`, [...params, ...t.params])) as T[];
}

/** How many current rows the caller may read match. */
export async function countResources(em: EntityManager, scope: StoreScope, q: Pick<ResourceQuery, 'where' | 'params' | 'purpose'>): Promise<number> {
  const { where, params } = scoped(scope, q);
  return Number(((await em.execute(`select count(*) as n from fhir_resource r where ${where}`, params)) as Array<{ n: string | number }>)[0]!.n);
}

/** A page of rows as a Bulk export writes them: the stored JSON as text, not parsed (most lines go out as stored). */
export interface ExportRow {
  id: string;
  resource_type: string;
  patient_id: string | null;
  content: string;
}

/**
 * Where a long read's rows come from: a cursor on a connection of its own (PostgreSQL: pg-query-stream, one
 * statement and one snapshot, rows arriving as they are consumed), or keyset pages on the unit of work (the
 * embedded database is one session: a cursor would hold it for the whole export).
 */
export type RowSource = { kind: 'keyset'; em: EntityManager } | { kind: 'cursor'; query: (sql: string, params: unknown[], batchSize: number) => AsyncIterable<ExportRow> };

/**
 * Rows a cursor fetches, and hands on, at a time: small batches keep the rows young for the garbage collector (5,000
 * a fetch: twice the resident set; and a page of 5,000 gathered from batches of 1,000 before it was written: 425 MB
 * peak for 426,475 encounters, against 236 MB handed on a batch at a time).
 */
const CURSOR_BATCH = 1000;

/**
 * Current rows the caller may read, in id order after `after`, a batch at a time (a cursor's: at most CURSOR_BATCH
 * rows; a keyset page: pageSize): never the whole result in memory, and the next rows are read only when the
 * consumer asks for them (back-pressure reaches the database).
 */
export async function* resourcePages(
  source: RowSource,
  scope: StoreScope,
  q: Pick<ResourceQuery, 'where' | 'params'> & { after?: string; pageSize: number; resourceType?: string },
): AsyncGenerator<ExportRow[]> {
  const columns = 'r.id, r.resource_type, r.patient_id, r.content::text as content';
  if (source.kind === 'cursor') {
    const { where, params } = scoped(scope, { where: `${q.where}${q.after ? ' and r.id > ?::uuid' : ''}`, params: [...(q.params ?? []), ...(q.after ? [q.after] : [])] });
    const batch = Math.min(q.pageSize, CURSOR_BATCH);
    let page: ExportRow[] = [];
    for await (const row of source.query(`select ${columns} from fhir_resource r where ${where} order by r.id`, params, batch)) {
      page.push(row);
      if (page.length >= batch) {
        yield page;
        page = [];
      }
    }
    if (page.length) yield page;
    return;
  }
  // Each page is a window of ids (the next pageSize of the type's, or of the table's), read whole
  // and then filtered: asked for "the next pageSize rows the caller may read" the planner, misjudging the policy's
  // predicates, sorted the rest of the table for every page. The window's bound is an id, never content.
  let after = q.after ?? '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const typed = q.resourceType ? 'resource_type = ? and ' : '';
    const [window] = (await source.em.execute(
      `with w as (select id from fhir_resource where ${typed}id > ?::uuid order by id limit ?) select (select id::text from w order by id desc limit 1) as upper, (select count(*)::int from w) as n`,
      [...(q.resourceType ? [q.resourceType] : []), after, q.pageSize],
    )) as Array<{ upper: string | null; n: number }>;
    if (!window?.upper) return;
    const rows = await selectResources<ExportRow>(source.em, scope, {
      where: `${q.where} and r.id > ?::uuid and r.id <= ?::uuid`,
      params: [...(q.params ?? []), after, window.upper],
      columns,
      orderBy: 'r.id',
    });
    if (rows.length) yield rows;
    if (window.n < q.pageSize) return;
    after = window.upper;
  }
}

/**
 * Unscoped, for a Bulk export without `_type` (one file per type): the names of the types the store holds, by a walk
 * of the (resource_type, id) index, one probe per type — no row, no content. Which of them the caller may read is
 * decided by its scopes and then by each file's scoped read; a type with nothing for it makes an empty file, left
 * out of the manifest. (Asking which types the caller's rows have was a scan of every row with its predicates.)
 */
export async function unscopedResourceTypes(em: EntityManager): Promise<string[]> {
  const rows = (await em.execute(
    `with recursive t(rt) as (select min(resource_type) from fhir_resource
       union all select (select min(resource_type) from fhir_resource where resource_type > t.rt) from t where t.rt is not null)
     select rt from t where rt is not null`,
  )) as Array<{ rt: string }>;
  return rows.map((r) => r.rt);
}

/**
 * Versions (alias `h`: fhir_resource_history) the caller may read: the caller's scope applies to each version —
 * the record it was in, its owner (history rows carry both) — and to its resource's current row (alias `r`),
 * deleted or not. A version written into another patient's record stays in that record; a resource the caller
 * cannot read now shows no version.
 */
export async function selectVersions<T = StoredRow>(em: EntityManager, scope: StoreScope, q: Omit<ResourceQuery, 'purpose'>): Promise<T[]> {
  const current = scoped(scope, { ...q, purpose: 'r' });
  const version = scope.rows('h', 'r');
  const { where, params } = version ? { where: `(${version.sql}) and ${current.where}`, params: [...version.params, ...current.params] } : current;
  const t = tail(q);
  return (await em.execute(`select ${q.columns ?? 'h.*'} from fhir_resource_history h join fhir_resource r on r.id = h.id where ${where}${t.sql}`, [...params, ...t.params])) as T[];
}

/**
 * Unscoped, for idempotency on write: the rows of any type holding any of these keys (identifiers as
 * `system|value`, or a sender's own names), whoever may read them — a resource sent before must be found so that
 * it is not stored twice, and a record the county holds must be found so that it is not registered twice. The
 * store checks what it found before it writes or answers (FhirStore.write: 404, or 409 without saying what matched).
 *
 * One index probe per key: with `source_keys && <a thousand keys>` the planner, without statistics, expects half
 * the table to match and scans all of it (2.3 s at 100,000 resources, against 15-40 ms this way). The type is
 * filtered by the caller, not in SQL, so that no btree on the type tempts the planner either. One statement for a
 * whole Bundle.
 */
export async function unscopedRowsBySourceKeys(em: EntityManager, keysLiteral: string): Promise<StoredSourceRow[]> {
  return (await em.execute(
    `select distinct on (r.id) r.* from unnest(?::text[]) k cross join lateral (select * from fhir_resource f where f.source_keys @> array[k] and not f.deleted) r`,
    [keysLiteral],
  )) as StoredSourceRow[];
}

/**
 * Unscoped, for a write's own target: the current row under an id, whoever may read it. The store decides from it
 * whether the caller may read it (404 otherwise) and then whether it may write it (403: readable, not writable).
 */
export async function unscopedRow(em: EntityManager, id: string): Promise<StoredSourceRow | undefined> {
  return ((await em.execute(`select * from fhir_resource where id = ?`, [id])) as StoredSourceRow[])[0];
}

/**
 * Unscoped, for the domain → FHIR materialiser (materialise.ts): the current rows of records a flush is writing,
 * to merge the change into what is stored. The domain's own access filter has already decided the write; nothing
 * read here goes back to a caller.
 */
export async function unscopedRowsForMaterialising(query: (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>, ids: string[]): Promise<Array<Record<string, unknown>>> {
  if (ids.length === 0) return [];
  return query(`select * from fhir_resource where id in (${ids.map(() => '?').join(',')})`, ids);
}

/**
 * Unscoped, for the operator's backfill (backfill.ts, backfillFhir: the internal caller): the next `limit` rows of a
 * domain table in id order after `after`, each saying whether its record has a FHIR resource yet. Domain rows only,
 * no store content. The page is taken first and then looked up in the store, id by id: asked for the records
 * without a resource, the planner hashes the whole store for every page (0.7 s a page at 740,000 resources).
 */
export async function unscopedRecordsAfter(em: EntityManager, table: string, after: string, limit: number): Promise<Array<Record<string, unknown> & { id: string; has_resource: boolean }>> {
  return (await em.execute(
    `select t.*, exists (select 1 from fhir_resource f where f.id = t.id) as has_resource from (select * from ${table} where id > ? order by id limit ?) t order by t.id`,
    [after, limit],
  )) as Array<Record<string, unknown> & { id: string; has_resource: boolean }>;
}

type Query = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * Unscoped, for the domain projection and the materialiser (ADR 6): the Tasks of these patients' records whose
 * focus is one of these references (`ServiceRequest/<id>`), oldest first — a referral's workflow Task, which may
 * have come before its ServiceRequest. The caller writes to those records (the store checked it, or it is the
 * materialiser of its own write); what is read is joined to the domain, never answered.
 */
export async function unscopedTasksFocusing(query: Query, patientIds: string[], focusRefs: string[]): Promise<Array<{ id: string; focus: string; content: unknown }>> {
  if (patientIds.length === 0 || focusRefs.length === 0) return [];
  return (await query(
    `select id, content->'focus'->>'reference' as focus, content from fhir_resource where resource_type = 'Task' and deleted = false
       and patient_id = any(?::uuid[]) and content->'focus'->>'reference' = any(?::text[]) order by last_updated, id`,
    [`{${patientIds.join(',')}}`, `{${focusRefs.join(',')}}`],
  )) as Array<{ id: string; focus: string; content: unknown }>;
}

/**
 * Unscoped, for the domain projection (as unscopedTasksFocusing): the CarePlan of this patient's record whose goal
 * list names this Goal, the latest if several — a Goal names no plan of its own.
 */
export async function unscopedPlanNamingGoal(query: Query, patientId: string, goalRef: string): Promise<string | undefined> {
  const rows = await query(
    `select id from fhir_resource where resource_type = 'CarePlan' and deleted = false and patient_id = ? and content->'goal' @> ?::jsonb order by last_updated desc limit 1`,
    [patientId, JSON.stringify([{ reference: goalRef }])],
  );
  return rows[0]?.id as string | undefined;
}

/**
 * Unscoped, for the domain projection (as unscopedTasksFocusing): the stored resources of one type under these ids
 * in this patient's record — the Goals a CarePlan names, sent in an earlier request (another record's are not read).
 */
export async function unscopedContentsOf(query: Query, patientId: string, resourceType: string, ids: string[]): Promise<Array<{ id: string; content: unknown }>> {
  if (ids.length === 0) return [];
  return (await query(`select id, content from fhir_resource where resource_type = ? and deleted = false and patient_id = ? and id = any(?::uuid[])`, [resourceType, patientId, `{${ids.join(',')}}`])) as Array<{
    id: string;
    content: unknown;
  }>;
}

/**
 * Unscoped, for the care rules' set-based writes (src/care/state/changes.ts, ADR 16), as for the materialiser: the
 * domain rows of these records whose patient's record is already written as FHIR (a county not yet backfilled gets no
 * resource from a recolouring). `patientColumn` is `r.id` for the patient table, `r.patient_id` otherwise.
 */
export async function unscopedRecordsWithFhirPatient(em: EntityManager, table: string, patientColumn: 'r.id' | 'r.patient_id', ids: string[]): Promise<Array<Record<string, unknown> & { id: string }>> {
  return (await em.execute(`select r.* from "${table}" r where r.id = any(?::uuid[]) and exists (select 1 from fhir_resource f where f.id = ${patientColumn})`, [
    `{${ids.join(',')}}`,
  ])) as Array<Record<string, unknown> & { id: string }>;
}

/**
 * Unscoped, for the care rules' set-based writes (as above): these resources written as current rows (inserted or
 * replaced) and one history version each, in one statement. A resource keeps the owner it had when the new row
 * names none. The rules decided the write; nothing read here goes back to a caller.
 */
export async function unscopedUpsertResources(em: EntityManager, resourcesJson: string): Promise<void> {
  await em.execute(
    `with rows as (
       select * from jsonb_to_recordset(?::jsonb) as t(id uuid, resource_type text, version_id int, last_updated timestamptz,
         patient_id uuid, owner_organization_id uuid, content jsonb, source_keys text[], codes text[], date_at timestamptz, status text, names text, gender text)
     ), current as (
       insert into fhir_resource (id, resource_type, version_id, last_updated, patient_id, owner_organization_id, content, source_keys, codes, date_at, status, names, gender)
       select id, resource_type, version_id, last_updated, patient_id, owner_organization_id, content, source_keys, codes, date_at, status, names, gender from rows
       on conflict (id) do update set version_id = excluded.version_id, last_updated = excluded.last_updated, deleted = false, patient_id = excluded.patient_id,
         content = excluded.content, source_keys = excluded.source_keys, codes = excluded.codes, date_at = excluded.date_at, status = excluded.status,
         names = excluded.names, gender = excluded.gender
     )
     insert into fhir_resource_history (id, version_id, resource_type, last_updated, deleted, patient_id, owner_organization_id, content)
     select r.id, r.version_id, r.resource_type, r.last_updated, false, r.patient_id,
       coalesce(r.owner_organization_id, (select f.owner_organization_id from fhir_resource f where f.id = r.id)), r.content from rows r`,
    [resourcesJson],
  );
}
