/**
 * One error vocabulary for the domain. GraphQL maps `code` to `extensions.code`; the FHIR layer maps it
 * to an OperationOutcome status. Services throw these and nothing else for refusals.
 */
export type DomainErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** The input field at fault, when there is one (e.g. `input.systolic`). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (message: string, field?: string) => new DomainError('BAD_USER_INPUT', message, field);
export const notFound = (what: string, id: string) => new DomainError('NOT_FOUND', `${what} ${id} not found`);
export const conflict = (message: string) => new DomainError('CONFLICT', message);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUIDs; anything else cannot name a record, and must not reach SQL as a uuid parameter. */
export const isUuid = (id: string): boolean => UUID.test(id);
