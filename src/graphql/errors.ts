import { unwrapResolverError } from '@apollo/server/errors';
import { OptimisticLockError, UniqueConstraintViolationException, ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { ErrorRequestHandler } from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError } from '../domain/errors.js';

/**
 * A request refused before any resolver runs — a query over one of the limits in guards.ts (QUERY_TOO_COSTLY,
 * QUERY_TOO_DEEP, …, QUERY_TOO_COMPLEX) or text no database column can hold (BAD_USER_INPUT) — answered with
 * HTTP 400, its own `extensions.code` and figures, and never a stack trace: it is the client's to fix, not a fault.
 */
export class RequestRefusal extends GraphQLError {
  constructor(code: string, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code, http: { status: 400 } } });
    this.name = 'RequestRefusal';
  }

  get formatted(): GraphQLFormattedError {
    const { http: _http, ...extensions } = this.extensions;
    return { message: this.message, extensions };
  }
}

/** graphql-js's own message when a document is over `parseOptions.maxTokens` (guards.ts sets it). */
const TOKEN_LIMIT = /^Syntax Error: Document contains more that (\d+) tokens\. Parsing aborted\.$/;

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
  // Validation errors reach here wrapped by Apollo (code GRAPHQL_VALIDATION_FAILED), the refusal as their originalError.
  const refusal = original instanceof RequestRefusal ? original : original instanceof GraphQLError && original.originalError instanceof RequestRefusal ? original.originalError : undefined;
  if (refusal) return { ...refusal.formatted, ...(formatted.locations ? { locations: formatted.locations } : {}) };
  const tokens = formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' ? TOKEN_LIMIT.exec(formatted.message) : null;
  if (tokens) {
    return { message: `The document has more than ${tokens[1]} tokens: send a smaller query.`, extensions: { code: 'QUERY_TOO_MANY_TOKENS', limit: Number(tokens[1]) } };
  }
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

/**
 * What fails at /graphql before Apollo sees the request (other than a refused token, which app.ts answers with
 * 401 UNAUTHENTICATED), answered in GraphQL's error shape rather than Express's HTML page: a body that is not JSON
 * or is over the size limit (400 / 413 BAD_REQUEST, as are the body parser's other refusals: 415 for an unsupported
 * charset or content encoding), and anything unexpected (500 INTERNAL_SERVER_ERROR, logged, without internals).
 */
export function httpErrorHandler(options: { bodyLimit: string; log: (err: unknown) => void }): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const reply = (status: number, code: string, message: string) => res.status(status).json({ errors: [{ message, extensions: { code } }] });
    const { type, status, expose, message } = err as { type?: string; status?: number; expose?: boolean; message?: string };
    if (type === 'entity.parse.failed') return void reply(400, 'BAD_REQUEST', `The request body is not valid JSON: ${message}`);
    if (type === 'entity.too.large') return void reply(413, 'BAD_REQUEST', `The request body is over the ${options.bodyLimit} limit.`);
    if (typeof status === 'number' && status >= 400 && status < 500 && expose) return void reply(status, 'BAD_REQUEST', message ?? 'Bad request');
    options.log(err);
    reply(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
  };
}
