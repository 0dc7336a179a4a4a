import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { DomainError } from '../domain/errors.js';

/** A FHIR refusal: the HTTP status and the OperationOutcome that explains it. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: OperationOutcomeIssue[],
  ) {
    super(issues.map((i) => i.diagnostics ?? i.code).join('; '));
    this.name = 'FhirError';
  }

  get outcome(): OperationOutcome {
    return { resourceType: 'OperationOutcome', issue: this.issues };
  }
}

export const fhirError = (status: number, code: OperationOutcomeIssue['code'], diagnostics: string, expression?: string[]) =>
  new FhirError(status, [{ severity: 'error', code, diagnostics, ...(expression ? { expression } : {}) }]);

const DOMAIN_STATUS = { BAD_USER_INPUT: [422, 'business-rule'], NOT_FOUND: [404, 'not-found'], CONFLICT: [409, 'conflict'], FORBIDDEN: [403, 'forbidden'] } as const;

/** The one mapping of the domain's error vocabulary to FHIR (GraphQL's is in graphql/errors.ts). */
export function toFhirError(err: unknown): FhirError | undefined {
  if (err instanceof FhirError) return err;
  if (err instanceof DomainError) {
    const [status, code] = DOMAIN_STATUS[err.code];
    return fhirError(status, code, err.message, err.field ? [err.field] : undefined);
  }
  return undefined;
}

export const outcomeOk = (diagnostics: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'information', code: 'informational', diagnostics }],
});
