import type { EntityManager } from '../../db/orm.js';
import { readOnly } from '../../db/read-only.js';
import { appendEventsFor, EVENT_SOURCES } from '../../events/recorder.js';
import { materialise, type RecordType } from '../../fhir/domain-resources.js';
import { FhirMaterialiser } from '../../fhir/materialise.js';
import { storeRow } from '../../fhir/store.js';

/** Records the derivation wrote in SQL: those it created, and those it changed with the fields it wrote. */
export interface SqlWrites {
  type: RecordType & (new () => object);
  created: string[];
  changed: string[];
  /** The entity properties a change may have written (the event's `changed`). */
  fields: string[];
}

const ids = (list: readonly string[]) => `{${list.join(',')}}`;

/**
 * What a flush through the ORM would have done for records the care rules wrote set-based (ADR 16): their domain
 * events and their FHIR resources. A created record gets its creation event; a changed one its change event, but
 * only when it has had its creation event — the seed writes the county in bulk and appends the creation events
 * after the rules ran (events/recorder.ts, appendMissingEvents), each saying what its record is then. The FHIR
 * resources are (re)materialised as the flush would (fhir/domain-resources.ts: merged into what a hospital sent,
 * a new version only when something changed) — for patients already written as FHIR: the seed's county gets all its
 * resources from the backfill that follows it (fhir/backfill.ts) — unless this database does not write FHIR at all.
 */
export async function recordSqlWrites(em: EntityManager, writes: SqlWrites): Promise<void> {
  const { type, created, changed, fields } = writes;
  const className = type.name;
  if (!EVENT_SOURCES[className]) throw new Error(`${className} is no event source`);
  if (created.length) await appendEventsFor(em, className, `r.id = any(?::uuid[])`, [ids(created)]);
  if (changed.length) {
    const source = EVENT_SOURCES[className]!;
    await appendEventsFor(em, className, `r.id = any(?::uuid[]) and exists (select 1 from domain_event d where d.aggregate_id = r.id)`, [ids(changed)], {
      type: source.changed,
      changed: [...fields].sort(),
    });
  }
  const all = [...new Set([...created, ...changed])];
  if (all.length && writesFhir(em)) await rematerialise(em, type, all);
}

function writesFhir(em: EntityManager): boolean {
  const subscribers = em.config.get('subscribers') as unknown[];
  return subscribers.some((s) => s instanceof FhirMaterialiser);
}

/** The FHIR resources of these records, written set-based: current rows upserted, a history version each. */
async function rematerialise(em: EntityManager, type: RecordType & (new () => object), recordIds: string[]): Promise<void> {
  const read = readOnly(em, type);
  for (let i = 0; i < recordIds.length; i += 2000) {
    const page = recordIds.slice(i, i + 2000);
    const patient = read.meta.className === 'Patient' ? 'r.id' : 'r.patient_id';
    const rows = (await em.execute(`select r.* from "${read.meta.tableName}" r where r.id = any(?::uuid[]) and exists (select 1 from fhir_resource f where f.id = ${patient})`, [
      ids(page),
    ])) as Array<Record<string, unknown> & { id: string }>;
    const records = new Map(rows.map((row) => [row.id, read.record(row) as object]));
    const resources = (await materialise(em, records, [], { typeOf: () => type })).map(({ id, columns }) => storeRow(id, columns));
    if (resources.length === 0) continue;
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
      [JSON.stringify(resources)],
    );
  }
}
