import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import type { CareRules } from './care-rules/rules.js';
import type { Orm } from './db/orm.js';
import { asInternal, createSecurity, entityManagerFor, type Security } from './access/index.js';
import type { Caller } from './access/caller.js';
import { AuthenticationError, BEARER_CHALLENGE } from './access/tokens.js';
import { createAuthRouter, smartConfiguration } from './access/smart/token-endpoint.js';
import { AuditRecorder, requestIdFrom } from './access/audit.js';
import { type Context, createContext } from './graphql/context.js';
import { formatError, httpErrorHandler } from './graphql/errors.js';
import { getSchema } from './graphql/schema.js';
import { createFhirRouter } from './fhir/router.js';
import { fhirError } from './fhir/outcome.js';
import { createAdminRouter } from './access/admin-router.js';
import { indicatorsCsvRoute } from './indicators/csv-route.js';
import { auditPlugin, graphqlArmor, inputTextPlugin, queryCostPlugin } from './graphql/guards.js';
import { Startup } from './startup.js';
import { operationNamePlugin, vitalSigns } from './observability/index.js';
import { UrgentAlertFeed } from './care/alerts/urgent-feed.js';
import { outboxWritten } from './events/nudge.js';
import { serveSubscriptions, type SubscriptionServer } from './graphql/subscriptions.js';
import type { Server } from 'node:http';
import { type ExportRunner, exportRunnerFor, type ExportRunnerOptions } from './jobs/bulk-export/queue.js';

export interface App {
  express: Express;
  security: Security;
  /** What the process is still preparing (the demo county); `/ready` answers 503 until it is done. */
  startup: Startup;
  /** The audit trail's writer (its queue: metrics; flushed by stop). */
  audit: AuditRecorder;
  /**
   * Serves GraphQL subscriptions (graphql-ws over WebSocket) at /graphql on `server`, the HTTP server listening
   * with `express` (src/graphql/subscriptions.ts). Once; stop() ends them, as does closeSubscriptions().
   */
  serveSubscriptions(server: Server): void;
  /** Ends every subscription and closes its socket: the first thing a graceful shutdown does (sockets would hold the server open). */
  closeSubscriptions(): Promise<void>;
  /** Carries out Bulk export jobs in this process, or sends them to the worker (BULK_EXPORT_WORKER; src/jobs/bulk-export/queue.ts). */
  exports: ExportRunner;
  /** Stops Apollo and the export job under way (resumed at the next start) and waits for the audit rows queued to be durable; the caller owns the ORM and closes it. */
  stop(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  orm: Orm;
  /** The care rules; default the configured ones (config.careRules, CARE_RULES_FILE). */
  rules?: CareRules;
  logger?: Logger;
  security?: Security;
  /** Passed to every export job run here (tests: a page size, a hook after each page). */
  exportRun?: ExportRunnerOptions['run'];
}

type AuthedRequest = Request & { caller?: Caller; requestId?: string };

/** Assembles HTTP: `/graphql`, `/fhir`, `/auth/token` (SMART backend services), discovery documents, probes and metrics. */
export async function createApp({ config, orm, rules = config.careRules, logger, security: given, exportRun }: AppOptions): Promise<App> {
  const log = logger ?? pino({ level: config.logLevel });
  const production = config.env === 'production';
  const security = given ?? (await createSecurity(config));
  const armor = graphqlArmor();
  const schema = await getSchema();
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !production,
    // main.ts drains the HTTP server first, then calls stop(): Apollo's own handler would stop it under the requests in flight.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: !production,
    // Compact JSON: Apollo pretty-prints by default, a third more bytes on a 50-patient page for no reader.
    stringifyResult: (value) => JSON.stringify(value),
    ...armor,
    plugins: [
      ...armor.plugins,
      queryCostPlugin(),
      inputTextPlugin(),
      auditPlugin(),
      // Patient data is never cached by HTTP caches, and the cache-control plugin wraps every field's resolver
      // (Apollo's willResolveField instrumentation) to compute hints no one reads.
      ApolloServerPluginCacheControlDisabled(),
      operationNamePlugin(),
      production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
    ],
    formatError: (formatted, error) => formatError(formatted, error, { production, log: (err) => log.error({ err }, 'unexpected GraphQL error') }),
  });
  await apollo.start();
  const audit = new AuditRecorder(orm, log);
  const startup = new Startup();
  // Jobs left unfinished by a process that stopped are taken again now (with the worker on in this process).
  const exports = exportRunnerFor(orm, security, config, { work: config.bulkExport.worker, logger: log, run: exportRun });
  await exports.start();
  // Probes, /metrics and the request log (docs/operations.md).
  const vitals = vitalSigns({ config, orm, startup, audit, log });

  const app = express();
  app.disable('x-powered-by');
  // First, so that every request is timed and logged, whoever answers it.
  app.use(vitals.requests);
  // A write has committed by the time its answer is sent: the event worker and the urgent-alert feed look now (events/nudge.ts).
  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') res.once('finish', outboxWritten);
    next();
  });
  // Whose X-Forwarded-For names the client (req.ip: the audit's source address, the rate limit's key): only the
  // proxies configured (TRUSTED_PROXIES); none by default, and then a client's own header is ignored.
  app.set('trust proxy', config.http.trustedProxies.length ? config.http.trustedProxies : false);
  app.use(
    helmet({
      // The Apollo Sandbox landing page (development only) loads its scripts from Apollo's CDN.
      contentSecurityPolicy: production ? undefined : false,
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(cors({ origin: config.http.corsOrigins.length ? config.http.corsOrigins : false, credentials: false }));
  app.use((req: AuthedRequest, res, next) => {
    // One check for every path, before any router: a caller's request id is kept when it is a plain token the audit
    // record can hold (requestIdFrom), anything else replaced; the response says which one the request went by.
    req.requestId = requestIdFrom(req.headers['x-request-id'], randomUUID);
    res.setHeader('X-Request-Id', req.requestId);
    next();
  });

  app.use(vitals.routes);
  app.get('/.well-known/smart-configuration', (_req, res) => {
    res.json(smartConfiguration(config));
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.json({ keys: [security.keys.signing.publicJwk] });
  });
  app.use('/auth', createAuthRouter({ config, orm, security, logger: log }));

  /**
   * Every API request names its caller with a bearer token; nothing below runs without one. A refused token
   * goes on as an AuthenticationError, for each API's error handler to answer in that API's own form.
   */
  const authenticate = async (req: AuthedRequest, _res: Response, next: NextFunction) => {
    try {
      req.caller = await security.authenticator.authenticate(req.headers.authorization, asInternal(orm.em.fork() as never));
    } catch (err) {
      return next(err);
    }
    next();
  };
  /** FHIR's 429: an OperationOutcome, answered by the FHIR router's error handler. */
  const fhirTooMany = (next: NextFunction, limit: number, what: string) =>
    next(fhirError(429, 'throttled', `too many requests: at most ${limit} ${what} a minute for this caller; retry when the RateLimit header says (Retry-After)`));
  /** One limit per caller across /graphql, /admin and /fhir (RATE_LIMIT_PER_MINUTE). */
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: config.http.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Per client or user once authenticated: one hospital's bulk load must not throttle a village clinic.
    keyGenerator: (req: AuthedRequest) => req.caller?.subject ?? ipKeyGenerator(req.ip ?? 'unknown'),
    handler: (req, res, next) => {
      if (req.baseUrl === '/fhir') return fhirTooMany(next, config.http.rateLimitPerMinute, 'requests');
      res.status(429).json({ errors: [{ message: 'Too many requests', extensions: { code: 'RATE_LIMITED' } }] });
    },
  });
  /**
   * A system client's FHIR writes (FHIR_WRITE_RATE_LIMIT_PER_MINUTE, default 6,000 — five times the interactive
   * limit): hospitals post records one resource at a time as well as in Bundles, and a county's bulk import must
   * not be throttled to a clinic's pace, nor use up the client's reads. Per client; its reads count as everyone's.
   */
  const fhirSystemWrites = rateLimit({
    windowMs: 60_000,
    limit: config.http.fhirWriteRateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'fhir-system-writes',
    keyGenerator: (req: AuthedRequest) => req.caller!.subject,
    handler: (_req, _res, next) => fhirTooMany(next, config.http.fhirWriteRateLimitPerMinute, 'writes'),
  });

  app.use(
    '/fhir',
    createFhirRouter({
      config,
      orm,
      rules,
      security,
      audit,
      authenticate: (req, res, next) => void authenticate(req as AuthedRequest, res, next),
      logger: log,
      rateLimits: { requests: limiter, systemWrites: fhirSystemWrites },
      exports,
    }),
  );
  // Platform administration (client registration): what `npm run client` uses while a server holds the embedded database.
  app.use('/admin', createAdminRouter({ orm, audit, limiter, authenticate: (req, res, next) => void authenticate(req as AuthedRequest, res, next), logger: log }));
  // The indicator table as CSV, for the bureau's spreadsheets (src/indicators/csv-route.ts; GraphQL `indicators` is the same call).
  app.get(
    '/indicators.csv',
    ...indicatorsCsvRoute({ orm, security, rules, audit, limiter, authenticate: (req, res, next) => void authenticate(req as AuthedRequest, res, next), logger: log }),
  );

  app.use(
    '/graphql',
    (req: Request, res: Response, next: NextFunction) => {
      // GET serves the Sandbox page in development; queries themselves need a token.
      if (req.method === 'GET' && !production && !req.headers.authorization && String(req.headers.accept ?? '').includes('text/html')) {
        return next();
      }
      return authenticate(req as AuthedRequest, res, next);
    },
    limiter,
    express.json({ limit: config.http.bodyLimit }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const { caller, requestId } = req as AuthedRequest;
        const { em, policy } = entityManagerFor(orm, caller!, security.policySettings);
        return createContext({ em, policy, config, rules, security, requestId: requestId!, audit: audit.forRequest(caller!, requestId!, req.ip) });
      },
    }),
    // A refused token, answered in GraphQL's error shape (FHIR answers its own with an OperationOutcome).
    (err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (!(err instanceof AuthenticationError)) return next(err);
      res.status(401).set('WWW-Authenticate', BEARER_CHALLENGE).json({ errors: [{ message: err.message, extensions: { code: 'UNAUTHENTICATED' } }] });
    },
    // … and so is a body that is not JSON or is too large, or anything unexpected: never Express's HTML page.
    httpErrorHandler({ bodyLimit: config.http.bodyLimit, log: (err) => log.error({ err }, 'unexpected error at /graphql') }),
  );
  const urgentAlerts = new UrgentAlertFeed(orm, { logger: log });
  let subscriptions: SubscriptionServer | undefined;
  const closeSubscriptions = async () => {
    await subscriptions?.close();
    subscriptions = undefined;
  };
  const stop = async () => {
    await closeSubscriptions();
    await apollo.stop();
    await exports.stop();
    await audit.flush();
  };
  const serve = (server: Server) => {
    if (subscriptions) throw new Error('subscriptions are served already');
    subscriptions = serveSubscriptions({ server, schema, orm, config, rules, security, audit, urgentAlerts, log });
  };
  return { express: app, security, startup, audit, exports, serveSubscriptions: serve, closeSubscriptions, stop };
}
