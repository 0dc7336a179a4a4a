import { unwrapResolverError } from '@apollo/server/errors';
import { OptimisticLockError, UniqueConstraintViolationException, ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { GraphQLFormattedError } from 'graphql';
import { DomainError } from '../domain/errors.js';

/**
 * The one place where domain refusals become GraphQL errors: `extensions.code` is BAD_USER_INPUT,
 * NOT_FOUND or CONFLICT (and `extensions.field` names the input at fault). Anything unexpected is
 * logged and, in production, reported without internals.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { production: boolean; log: (err: unknown) => void },
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) {
    return {
      message: original.message,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
    };
  }
  if (original instanceof OptimisticLockError) {
    return { ...formatted, message: 'The record was changed by someone else: read it again.', extensions: { code: 'CONFLICT' } };
  }
  if (original instanceof UniqueConstraintViolationException) {
    return { ...formatted, message: 'A record with the same unique key already exists.', extensions: { code: 'CONFLICT' } };
  }
  if (original instanceof ForeignKeyConstraintViolationException) {
    return { ...formatted, message: 'A referenced record does not exist.', extensions: { code: 'BAD_USER_INPUT' } };
  }
  const code = formatted.extensions?.code;
  if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
    options.log(original);
    if (options.production) return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  return formatted;
}
