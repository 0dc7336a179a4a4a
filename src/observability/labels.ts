import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Request } from 'express';

/**
 * What a request was, in words a dashboard can group by: the API it reached and the operation it asked for (a
 * GraphQL operation name, a FHIR interaction, a route). Labels of metrics and fields of the request log alike, so
 * they must stay few: never an id, never a query string, never what a client may vary at will without bound.
 */
export interface RequestLabels {
  api: 'graphql' | 'fhir' | 'auth' | 'admin' | 'ops' | 'other';
  operation: string;
}

/** The resolved GraphQL operation name of each request, keyed by its parsed body (the one object Apollo and Express share). */
const graphqlOperations = new WeakMap<object, string>();

/** Names a client picks: kept as labels up to this many distinct ones, the rest counted as `(other)`. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const seenOperationNames = new Set<string>();

function boundedOperationName(name: string | null | undefined): string {
  if (!name) return '(anonymous)';
  if (!OPERATION_NAME.test(name)) return '(other)';
  if (seenOperationNames.has(name)) return name;
  if (seenOperationNames.size >= MAX_OPERATION_NAMES) return '(other)';
  seenOperationNames.add(name);
  return name;
}

/**
 * Notes the operation Apollo resolved (the name in the document, picked by `operationName` when it holds several),
 * for the request's metrics and log line. A request Apollo never resolved (refused token, unparsable query) has none.
 */
export function operationNamePlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName, request }) {
          const body = request.http?.body;
          if (body && typeof body === 'object') graphqlOperations.set(body, boundedOperationName(operationName));
        },
      };
    },
  };
}

function graphqlOperation(req: Request): string {
  const body: unknown = req.body;
  if (body && typeof body === 'object') return graphqlOperations.get(body) ?? '(unresolved)';
  // GET: the Sandbox page, or a query in the URL (Apollo parses it from there; no body to key it by).
  if (req.method === 'GET') return typeof req.query.operationName === 'string' ? boundedOperationName(req.query.operationName) : '(get)';
  return '(unresolved)';
}

const RESOURCE_TYPE = '[A-Z][A-Za-z]+';
/** FHIR RESTful interactions (http://hl7.org/fhir/R4/http.html), by method and path shape under /fhir. */
const FHIR_ROUTES: Array<[method: string, path: RegExp, interaction: string]> = [
  ['GET', /^\/metadata$/, 'capabilities'],
  ['GET', new RegExp(`^/(${RESOURCE_TYPE}/)?([^/]+/)?\\$[A-Za-z-]+$`), 'operation'],
  ['GET', new RegExp(`^/${RESOURCE_TYPE}/[^/]+/_history/[^/]+$`), 'vread'],
  ['GET', new RegExp(`^/${RESOURCE_TYPE}/[^/]+/_history$`), 'history-instance'],
  ['GET', new RegExp(`^/${RESOURCE_TYPE}/[^/]+$`), 'read'],
  ['GET', new RegExp(`^/${RESOURCE_TYPE}$`), 'search-type'],
  ['POST', new RegExp(`^/${RESOURCE_TYPE}$`), 'create'],
  ['PUT', new RegExp(`^/${RESOURCE_TYPE}/[^/]+$`), 'update'],
  ['PUT', new RegExp(`^/${RESOURCE_TYPE}$`), 'conditional-update'],
  ['PATCH', new RegExp(`^/${RESOURCE_TYPE}/[^/]+$`), 'patch'],
  ['DELETE', new RegExp(`^/${RESOURCE_TYPE}/[^/]+$`), 'delete'],
];

function fhirInteraction(req: Request, path: string): string {
  if (req.method === 'POST' && path === '/') {
    const type = (req.body as { type?: unknown } | undefined)?.type;
    return type === 'transaction' || type === 'batch' ? type : 'bundle';
  }
  for (const [method, shape, interaction] of FHIR_ROUTES) if (req.method === method && shape.test(path)) return interaction;
  return 'other';
}

/** A route's template (`/clients/:clientId/deactivate`), never the path it matched. */
const routeOf = (req: Request) => `${req.method} ${typeof req.route?.path === 'string' ? req.route.path : '(unmatched)'}`;

/** The path a request asked for, without its query string (query strings may hold identifiers). */
export const pathOf = (req: Request): string => req.originalUrl.split('?')[0]!;

/** Read once the response is finished: by then the routers have parsed the body and matched their routes. */
export function labelsOf(req: Request): RequestLabels {
  const path = pathOf(req);
  const under = (prefix: string) => (path === prefix || path.startsWith(`${prefix}/`) ? path.slice(prefix.length) || '/' : undefined);
  let rest: string | undefined;
  if ((rest = under('/graphql')) !== undefined) return { api: 'graphql', operation: graphqlOperation(req) };
  if ((rest = under('/fhir')) !== undefined) return { api: 'fhir', operation: fhirInteraction(req, rest) };
  if (under('/auth') !== undefined) return { api: 'auth', operation: routeOf(req) };
  if (under('/.well-known') !== undefined) return { api: 'auth', operation: 'discovery' };
  if (under('/admin') !== undefined) return { api: 'admin', operation: routeOf(req) };
  if (['/health', '/healthz', '/ready', '/readyz', '/metrics'].includes(path)) return { api: 'ops', operation: path.slice(1) };
  return { api: 'other', operation: '(none)' };
}
