import { fhirError } from './outcome.js';

/**
 * Types this server makes from its own code and never stores: read and searched, never written, by anyone — with
 * why. The Measures are the indicators (src/indicators/, src/fhir/measures.ts): a Measure stored beside them could
 * only disagree with what `$evaluate-measure` computes. An insurer's Group is computed from Coverage on read
 * (src/fhir/member-groups.ts): a Group stored beside it would disagree with the coverages, and hide behind its id.
 */
const WHY_READ_ONLY: Readonly<Record<string, string>> = {
  Measure: 'the Measures are the indicators this server computes (GET /fhir/Measure); they change with its code, not over FHIR',
  Group: "a Group here is an insurer's covered members, computed from its coverages (GET /fhir/Group/[insurer id]); write Coverage instead",
};

export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(Object.keys(WHY_READ_ONLY));

/** 405: the type is not written over FHIR at all (whoever asks: it is not a permission). */
export function assertWritable(resourceType: string): void {
  if (READ_ONLY_TYPES.has(resourceType)) throw fhirError(405, 'not-supported', `${resourceType} is read-only: ${WHY_READ_ONLY[resourceType]}`);
}
