import { ChangeSetType, type EventSubscriber, type FlushEventArgs } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import { CarePlan, CarePlanActivity, CarePlanGoal } from '../domain/care-plan/care-plan.entity.js';
import { Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { FhirResource, FhirResourceHistory } from './fhir-resource.entity.js';
import { isRecordType, materialise, parseJson } from './domain-resources.js';
import { parseArray } from './store.js';

export { backfillFhir } from './backfill.js';

/**
 * Entities written by the FHIR projection: their FHIR resource is the one that was sent, already stored.
 * Everything else the ORM writes (GraphQL mutations, the workflows) is materialised as FHIR here.
 */
export const fromFhir = new WeakSet<object>();

/**
 * Domain → FHIR on write. Every flush that creates or changes a record of a type FHIR exchanges writes the
 * record's FHIR resource into the store (current row and a history version) in the same database
 * transaction, under the record's own id — so what a village doctor records in the app is in `$everything`,
 * in search and in exports, like what hospitals send. A record that came in over FHIR keeps its original:
 * the domain's change is merged into it (fhir-mappings/merge.ts), nothing the sender sent is lost. A change
 * that leaves the FHIR resource as it was makes no version.
 */
export class FhirMaterialiser implements EventSubscriber {
  async onFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const records = new Map<string, object>();
    const patientsOfIdentifiers = new Set<string>();
    const plansOfParts = new Set<string>();
    for (const cs of uow.getChangeSets()) {
      if (cs.type !== ChangeSetType.CREATE && cs.type !== ChangeSetType.UPDATE) continue;
      const entity = cs.entity as { id: string; patient?: { id: string }; carePlan?: CarePlan };
      if (fromFhir.has(entity)) continue;
      if (entity instanceof PatientIdentifier) patientsOfIdentifiers.add(entity.patient.id);
      else if (entity instanceof CarePlanActivity) plansOfParts.add(entity.carePlan.id);
      else if (entity instanceof CarePlanGoal) {
        plansOfParts.add(entity.carePlan.id); // the plan's resource lists its goals
        records.set(entity.id, entity);
      } else if (isRecordType(entity.constructor)) records.set(entity.id, entity);
    }
    // An identifier added to a patient, an activity to a plan, changes the patient's or the plan's resource.
    for (const [type, ids] of [[Patient, patientsOfIdentifiers], [CarePlan, plansOfParts]] as const) {
      for (const id of ids) {
        const owner = uow.getById<object>(type, id);
        if (owner && !fromFhir.has(owner)) records.set(id, owner);
      }
    }
    const sqlEm = em as EntityManager;
    // Written by this same flush, in its transaction: the current row (created or changed) and a history version.
    // A part deleted by this flush (an activity removed from its plan) is still in the database while the flush runs.
    const changeSets = uow.getChangeSets();
    const flushed = changeSets.filter((cs) => cs.type !== ChangeSetType.DELETE).map((cs) => cs.entity as object);
    const removed = new Set(changeSets.filter((cs) => cs.type === ChangeSetType.DELETE).map((cs) => (cs.entity as { id: string }).id));
    for (const { id, stored, columns } of await materialise(sqlEm, records, flushed, { removed })) {
      let current = stored ? uow.getById<FhirResource>(FhirResource, id) : undefined;
      if (stored && !current) current = sqlEm.merge(FhirResource, { ...toEntityData(stored), id }, { refresh: true }) as FhirResource;
      if (current) Object.assign(current, columns);
      else current = sqlEm.create(FhirResource, { id, ...columns });
      uow.computeChangeSet(current);
      const { versionId, resourceType, lastUpdated, content } = columns;
      // The version is in the record the current row is now in, owned as the resource is.
      const { patientId, ownerOrganizationId } = current;
      uow.computeChangeSet(sqlEm.create(FhirResourceHistory, { id, versionId, resourceType, lastUpdated, deleted: false, patientId, ownerOrganizationId, content }));
    }
  }
}

function toEntityData(row: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: row.resource_type,
    versionId: row.version_id,
    lastUpdated: row.last_updated,
    deleted: row.deleted,
    patientId: row.patient_id,
    ownerOrganizationId: row.owner_organization_id,
    content: parseJson(row.content),
    sourceKeys: parseArray(row.source_keys),
    codes: parseArray(row.codes),
    dateAt: row.date_at,
    status: row.status,
    names: row.names,
    gender: row.gender,
  };
}

