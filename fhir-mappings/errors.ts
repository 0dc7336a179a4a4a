import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * Inbound FHIR whose mapped content cannot mean anything in the domain (a blood-pressure panel without its
 * systolic component, a glucose in a unit we cannot convert). Carries the FHIRPath of the offending element,
 * so the FHIR layer can answer with an OperationOutcome that points at it.
 */
export class FhirMappingError extends Error {
  override readonly name = 'FhirMappingError';

  constructor(
    message: string,
    /** FHIRPath of the offending element, e.g. `Observation.component[1].valueQuantity.code`. */
    readonly expression: string,
    /** OperationOutcome issue type: `invalid` for malformed content, `not-supported` for content we cannot convert. */
    readonly code: 'invalid' | 'not-supported' | 'required' | 'value' = 'invalid',
  ) {
    super(`${message} (at ${expression})`);
  }

  toIssue(): OperationOutcomeIssue {
    return { severity: 'error', code: this.code, details: { text: this.message }, expression: [this.expression] };
  }
}
