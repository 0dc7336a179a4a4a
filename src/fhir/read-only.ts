import { fhirError } from './outcome.js';

/**
 * Types this server makes from its own code and never stores: read and searched, never written, by anyone. The
 * Measures are the indicators (src/indicators/, src/fhir/measures.ts): a Measure stored beside them could only
 * disagree with what `$evaluate-measure` computes.
 */
export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(['Measure']);

/** 405: the type is not written over FHIR at all (whoever asks: it is not a permission). */
export function assertWritable(resourceType: string): void {
  if (READ_ONLY_TYPES.has(resourceType)) {
    throw fhirError(405, 'not-supported', `${resourceType} is read-only: the Measures are the indicators this server computes (GET /fhir/Measure); they change with its code, not over FHIR`);
  }
}
