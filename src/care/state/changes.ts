import type { EntityManager } from '../../db/orm.js';
import { readOnly } from '../../db/read-only.js';
import { appendEventsFor, EVENT_SOURCES } from '../../events/recorder.js';
import { materialise, type RecordType } from '../../fhir/domain-resources.js';
import { FhirMaterialiser } from '../../fhir/materialise.js';
import { storeRow } from '../../fhir/store.js';
import { unscopedRecordsWithFhirPatient, unscopedUpsertResources } from '../../fhir/store-sql.js';

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
    const rows = await unscopedRecordsWithFhirPatient(em, read.meta.tableName, patient, page);
    const records = new Map(rows.map((row) => [row.id, read.record(row) as object]));
    const resources = (await materialise(em, records, [], { typeOf: () => type })).map(({ id, columns }) => storeRow(id, columns));
    if (resources.length === 0) continue;
    await unscopedUpsertResources(em, JSON.stringify(resources));
  }
}
