import type { Resource } from '@medplum/fhirtypes';
import type { EntityManager } from '../db/orm.js';
import { visitReferences } from './indexing.js';
import type { FhirStore, StoredRow } from './store.js';
import { selectResources } from './store-sql.js';

export interface EverythingEntry {
  row: StoredRow;
  resource: Resource;
  /** `match`: in the patient's compartment; `include`: referred to from it. */
  mode: 'match' | 'include';
}

export interface EverythingFilter {
  /** `_type`: only these resource types. */
  types?: string[];
  /** `_since`: only resources last updated at or after this instant. */
  since?: Date;
}

/**
 * Patient/$everything, for GET /fhir/Patient/{id}/$everything and `npm run export -- --patient`: the patient's
 * compartment (the Patient first, then by type and id), then, as the operation's definition asks, the
 * resources it refers to that are in no patient's compartment (practitioners, organisations, locations,
 * medications) by type and id. The caller has already read the patient, so that a missing one is a 404 / 410
 * rather than an empty result.
 */
export async function patientEverything(em: EntityManager, store: FhirStore, patientId: string, { types, since }: EverythingFilter = {}): Promise<EverythingEntry[]> {
  const compartment = await selectResources(em, store.scope, {
    where: 'r.patient_id = ? and not r.deleted',
    params: [patientId],
    orderBy: `(r.resource_type = 'Patient') desc, r.resource_type, r.id`,
  });
  const inCompartment = new Set(compartment.map((r) => r.id));
  const refs = new Set<string>();
  const resources = compartment.map((row) => store.output(row));
  for (const resource of resources) {
    visitReferences(resource, (ref) => {
      const m = /^[A-Z][A-Za-z]+\/([0-9a-f-]{36})$/i.exec(ref);
      if (m && !inCompartment.has(m[1]!.toLowerCase())) refs.add(m[1]!.toLowerCase());
    });
  }
  // In no record, and read as any other such resource: the directory and shared definitions, what the caller's organisation owns.
  const referenced = refs.size
    ? await selectResources(em, store.scope, { where: 'r.id = any(?::uuid[]) and r.patient_id is null and not r.deleted', params: [`{${[...refs].join(',')}}`], orderBy: 'r.resource_type, r.id' })
    : [];
  // Filtered only now, not in SQL: what the record refers to is found from all of it, whatever `_type` asks for.
  const wanted = (row: StoredRow) => (!types?.length || types.includes(row.resource_type)) && (!since || new Date(row.last_updated) >= since);
  return [
    ...compartment.map((row, i) => ({ row, resource: resources[i]!, mode: 'match' as const })),
    ...referenced.map((row) => ({ row, resource: store.output(row), mode: 'include' as const })),
  ].filter((e) => wanted(e.row));
}
