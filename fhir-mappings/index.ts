/**
 * FHIR R4 ⇄ domain mappings, one per resource type. Pure: no database, no I/O.
 *
 * `fromFhir(resource)` → `{ domain, original }`; `toFhir(shape, { id, versionId, lastUpdated, original })`.
 * Store `original` beside the record: passing it back makes the export carry everything the sender sent,
 * with the domain's changes applied on top (see merge.ts).
 */
import type { Resource } from '@medplum/fhirtypes';
import { carePlanMapping } from './care-plan.js';
import { careTeamMapping } from './care-team.js';
import type { ResourceMapping } from './common.js';
import { conditionMapping } from './condition.js';
import { consentMapping } from './consent.js';
import { coverageMapping } from './coverage.js';
import { encounterMapping } from './encounter.js';
import { goalMapping } from './goal.js';
import { locationMapping } from './location.js';
import { medicationMapping, medicationRequestMapping, medicationStatementMapping } from './medication.js';
import { observationMapping } from './observation.js';
import { organizationMapping } from './organization.js';
import { patientMapping } from './patient.js';
import { practitionerRoleMapping } from './practitioner-role.js';
import { practitionerMapping } from './practitioner.js';
import { serviceRequestMapping } from './service-request.js';
import { referralTaskMapping } from './task.js';

export const mappings = {
  Patient: patientMapping,
  Practitioner: practitionerMapping,
  PractitionerRole: practitionerRoleMapping,
  Organization: organizationMapping,
  Location: locationMapping,
  CareTeam: careTeamMapping,
  Condition: conditionMapping,
  Observation: observationMapping,
  CarePlan: carePlanMapping,
  Goal: goalMapping,
  ServiceRequest: serviceRequestMapping,
  Task: referralTaskMapping,
  Encounter: encounterMapping,
  Coverage: coverageMapping,
  Consent: consentMapping,
  Medication: medicationMapping,
  MedicationRequest: medicationRequestMapping,
  MedicationStatement: medicationStatementMapping,
} as const;

export type MappedResourceType = keyof typeof mappings;

export const isMappedResourceType = (type: string): type is MappedResourceType => Object.hasOwn(mappings, type);

/** The mapping for a resource's type, or undefined for types the domain does not hold. */
export function mappingFor(resourceType: string): ResourceMapping<Resource, unknown> | undefined {
  return isMappedResourceType(resourceType) ? (mappings[resourceType] as unknown as ResourceMapping<Resource, unknown>) : undefined;
}

export type { FromFhirResult, ResourceMapping, ToFhirOptions } from './common.js';
export { refOf, toReference } from './common.js';
export type * from './domain-shapes.js';
export { EncounterKind } from './domain-shapes.js';
export { FhirMappingError } from './errors.js';
export { classifyMedication, drugClassOf, MEDICATION_SYSTEMS, medicationStatusOf, medicineOfMedication } from './medication.js';
export { deepEqual, deepMerge, mergeChanges, type MergeOptions } from './merge.js';
export { referralStatusOfRequest, requestStatusOf } from './service-request.js';
export { errorsOf, isR4ResourceType, validateFhir } from './validate.js';
export { MEASURE_SYSTEMS, measureNameOf, measureOf, measureReportOf, measureUrlOf, NCD_INDICATOR_LANGUAGE, type MeasureDefinitionShape, type MeasureReportShape, type MeasureUnit, type MeasureWithTranslations } from './measure.js';
