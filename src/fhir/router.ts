import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { CareRules } from '../care-rules/rules.js';
import type { Orm } from '../db/orm.js';
import { entityManagerFor, type Security } from '../access/index.js';
import type { Caller } from '../access/caller.js';
import { AuthenticationError, BEARER_CHALLENGE } from '../access/tokens.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import type { AuditRecorder, RequestAudit } from '../access/audit.js';
import { isR4ResourceType } from '../../fhir-mappings/index.js';
import { capabilityStatement } from './capability.js';
import { assertValid, FhirInteractions, parseEtag } from './interactions.js';
import { FhirError, fhirError, toFhirError } from './outcome.js';
import { integerParam, search } from './search.js';
import { patientEverything } from './everything.js';
import { asksToPersist, evaluateMeasure, measureNamed, operationParameters } from './evaluate-measure.js';
import { indicatorOfMeasure, readMeasure, searchMeasures } from './measures.js';
import { addExportRoutes } from './operations/export.js';
import { addMemberGroupRoutes } from './member-groups.js';
import type { ExportRunner } from '../jobs/bulk-export/queue.js';
import { attributeRefusal, attributeUnseenDelete, touchHistory, touchNamedPatients, touchResources } from './audit-trail.js';

const FHIR_JSON = 'application/fhir+json';
const ACCEPTED_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

export type FhirRequest = Request & { caller?: Caller; requestId?: string; fhir?: FhirInteractions; audit?: RequestAudit };

/** The body parser's other refusals (an unsupported charset or content encoding: 415), which it marks as the client's. */
function bodyParserRefusal(err: unknown): FhirError | undefined {
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: string };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  return fhirError(status, status === 415 ? 'not-supported' : 'invalid', message ?? 'bad request');
}

export interface FhirRouterDeps {
  config: Config;
  orm: Orm;
  /** The care rules the domain projection applies (default config.careRules). */
  rules?: CareRules;
  security: Security;
  audit: AuditRecorder;
  /** Sets `req.caller`, or passes an AuthenticationError on to be answered as an OperationOutcome. */
  authenticate: (req: Request, res: Response, next: NextFunction) => void;
  logger: Logger;
  /**
   * Rate limits, run once the caller is known (app.ts): `requests`, the caller's one limit (shared with /graphql);
   * `systemWrites`, the limit of a system client's FHIR writes. Over either, the limiter passes a 429 FhirError on.
   */
  rateLimits?: { requests: RequestHandler; systemWrites: RequestHandler };
  /** Who carries out Bulk export jobs (src/jobs/bulk-export/queue.ts); without it $export is not offered. */
  exports?: ExportRunner;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A Bundle that reads: any GET entry. */
const readsAnything = (body: unknown) => Array.isArray((body as Bundle | undefined)?.entry) && (body as Bundle).entry!.some((e) => e?.request?.method === 'GET' || e?.request?.method === 'HEAD');

function send(res: Response, status: number, body: unknown, headers: Record<string, string | undefined> = {}) {
  for (const [k, v] of Object.entries(headers)) if (v) res.setHeader(k, v);
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/** What a handler answers; sent once the request's audit record is written. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string | undefined>;
}

function resourceReply(status: number, resource: Resource, baseUrl: string): Reply {
  return {
    status,
    body: resource,
    headers: {
      ETag: resource.meta?.versionId ? `W/"${resource.meta.versionId}"` : undefined,
      'Last-Modified': resource.meta?.lastUpdated ? new Date(resource.meta.lastUpdated).toUTCString() : undefined,
      Location: status === 201 ? `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}` : undefined,
    },
  };
}

/**
 * What a create or update answers: the resource as stored (FHIR's default, `Prefer: return=representation`), or with
 * `Prefer: return=OperationOutcome` an OperationOutcome — the warnings the domain had about the resource (a value
 * outside the plausible range, a reading it left out), or one `information` issue when it had none. Either way the
 * status, Location and ETag are the same; in a Bundle the warnings are on the entry's response.outcome.
 */
function writeReply(req: Request, out: { status: string; resource?: Resource; outcome?: OperationOutcome }, baseUrl: string): Reply {
  const reply = resourceReply(out.status === '201' ? 201 : 200, out.resource!, baseUrl);
  const prefer = String(req.headers.prefer ?? '');
  if (!/(^|[;,\s])return=OperationOutcome\b/i.test(prefer)) return reply;
  const outcome: OperationOutcome = out.outcome ?? {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics: `${out.resource!.resourceType}/${out.resource!.id} stored` }],
  };
  return { ...reply, body: outcome };
}

/**
 * FHIR R4 REST at /fhir: CapabilityStatement, Bundles (transaction, batch), per-type create / read / vread /
 * update / delete / search / history, and Patient/$everything — every one behind authentication, the access
 * policy and the audit, like GraphQL.
 */
export function createFhirRouter(deps: FhirRouterDeps): Router {
  const { config, orm, security } = deps;
  const baseUrl = `${config.auth.publicUrl}/fhir`;
  const router = express.Router();

  router.get('/metadata', (_req, res) => send(res, 200, capabilityStatement(config)));

  router.use(deps.authenticate);
  // Rate limits, before the body is read. A system client's writes count against their own, higher limit — a
  // hospital's bulk import is not starved by the interactive limit — and everything else against the caller's one
  // limit, as on /graphql. A system client's Bundle that reads (GET entries) counts against that too, once read.
  const limits = deps.rateLimits;
  if (limits) {
    router.use((req: FhirRequest, res, next) => (req.caller?.kind === 'system' && WRITES.has(req.method) ? limits.systemWrites : limits.requests)(req, res, next));
  }
  router.use((req: FhirRequest, _res, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(req.method)) {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!ACCEPTED_TYPES.includes(type)) return next(fhirError(415, 'not-supported', `Content-Type must be ${FHIR_JSON}`));
    }
    next();
  });
  router.use(express.json({ limit: config.http.fhirBodyLimit, type: ACCEPTED_TYPES }));
  if (limits) {
    router.use((req: FhirRequest, res, next) => (req.caller?.kind === 'system' && req.method === 'POST' && req.path === '/' && readsAnything(req.body) ? limits.requests(req, res, next) : next()));
  }
  router.use((req: FhirRequest, _res, next) => {
    const { em, policy } = entityManagerFor(orm, req.caller!, security.policySettings);
    req.audit = deps.audit.forRequest(req.caller!, req.requestId!, req.ip);
    req.fhir = new FhirInteractions({ em, policy, protector: security.protector, systems: config.identifierSystems, audit: req.audit, baseUrl, logger: deps.logger, limits: config.fhir, rules: deps.rules ?? config.careRules });
    next();
  });

  const storeContext = (req: FhirRequest) => ({ em: req.fhir!.em, protector: security.protector, systems: config.identifierSystems });

  /**
   * Runs a handler and writes the request's audit record before anything is sent, as GraphQL does: a failure
   * to audit is an error the request must not hide (the caller gets a 500, not the data). A request for one
   * resource (`target`) that is refused is recorded against the patient whose record it is in (audit-trail.ts).
   */
  const audited =
    (actionOf: AuditAction | ((req: FhirRequest) => AuditAction), handler: (req: FhirRequest) => Promise<Reply>, target?: (req: FhirRequest) => { type: string; id: string }) =>
    async (req: FhirRequest, res: Response, next: NextFunction) => {
      const action = typeof actionOf === 'function' ? actionOf(req) : actionOf;
      // Masked and cut to length when written (AuditRecorder.write): cut here, half a resident ID would escape the mask.
      const bundle = req.method === 'POST' && req.path === '/' && ['batch', 'transaction'].includes(req.body?.type) ? ` (${req.body.type})` : '';
      const what = `FHIR ${req.method} ${req.originalUrl}${bundle}`;
      let reply: Reply;
      try {
        reply = await handler(req);
      } catch (err) {
        const outcome = toFhirError(err)?.status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE;
        let auditError: unknown;
        if (target) {
          const { type, id } = target(req);
          await attributeRefusal(req.audit, req.fhir!.store, storeContext(req), type, id, err).catch((e: unknown) => (auditError = e));
        }
        if (!auditError) await req.audit!.record(action, what, outcome).catch((e: unknown) => (auditError = e));
        return next(auditError ?? err);
      }
      try {
        await req.audit!.record(action, what, AuditOutcome.SUCCESS);
      } catch (err) {
        return next(err);
      }
      if (reply.body === undefined) res.status(reply.status).end();
      else send(res, reply.status, reply.body, reply.headers);
    };

  /** The one resource a request is about: `/:type/:id…` (`/Patient/:id/$everything`). */
  const resourceOf = (req: Request) => ({ type: String(req.params.type ?? 'Patient'), id: String(req.params.id) });

  const typeParam = (req: Request) => {
    const type = String(req.params.type);
    if (!/^[A-Z][A-Za-z]+$/.test(type) || !isR4ResourceType(type)) throw fhirError(404, 'not-supported', `unknown resource type ${type}`);
    return type;
  };
  const body = (req: Request, type?: string): Resource => {
    assertValid(req.body);
    if (type && req.body.resourceType !== type) throw fhirError(400, 'invalid', `the body is a ${req.body.resourceType}, not a ${type}`, ['resourceType']);
    return req.body as Resource;
  };

  // Bulk Data $export (operations/export.ts), before the per-type routes that would take `$export` for a type.
  if (deps.exports) addExportRoutes(router, { config, orm, runner: deps.exports, baseUrl, audited });
  // An insurer's covered members as a Group, computed from Coverage on read (member-groups.ts), before the per-type routes.
  addMemberGroupRoutes(router, { baseUrl, audited });

  router.post(
    '/',
    audited(AuditAction.CREATE, async (req) => {
      const result = await req.fhir!.bundle(req.body);
      return { status: 200, body: result };
    }),
  );

  router.get(
    '/Patient/:id/\\$everything',
    audited(AuditAction.READ, async (req) => {
      const id = String(req.params.id);
      const patient = await req.fhir!.store.read('Patient', id);
      req.audit!.touch(patient.id);
      const params = new URLSearchParams(req.query as Record<string, string>);
      const count = Math.min(integerParam(params.get('_count'), '_count', 1000, 1), 5000);
      const offset = integerParam(params.get('_offset'), '_offset', 0);
      const since = params.get('_since');
      const sinceDate = since ? new Date(since) : undefined;
      if (sinceDate && Number.isNaN(sinceDate.getTime())) throw fhirError(400, 'invalid', '_since must be an instant', ['_since']);
      const types = params.get('_type')?.split(',').filter(Boolean);
      const all = await patientEverything(req.fhir!.em, req.fhir!.store, id, { types, since: sinceDate });
      // Every patient whose record the answer holds, not only the one asked for (what the record refers to is in none).
      for (const { row } of all) req.audit!.touch(row.patient_id);
      const total = all.length;
      const link = (o: number) => `${baseUrl}/Patient/${id}/$everything?${new URLSearchParams({ ...Object.fromEntries(params), _count: String(count), _offset: String(o) })}`;
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        total,
        link: [{ relation: 'self', url: link(offset) }, ...(offset + count < total ? [{ relation: 'next', url: link(offset + count) }] : [])],
        entry: all.slice(offset, offset + count).map(({ resource, mode }) => ({ fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode } })),
      };
      return { status: 200, body: bundle };
    }, resourceOf),
  );

  // The indicators as Measures, served from src/indicators/ (measures.ts), and $evaluate-measure (evaluate-measure.ts).
  router.get(
    '/Measure',
    audited(AuditAction.SEARCH, async (req) => {
      req.fhir!.store.assertCan('Measure', 's');
      return { status: 200, body: searchMeasures(new URLSearchParams(req.url.split('?')[1] ?? ''), baseUrl) };
    }),
  );
  const evaluate = audited(
    // Stored (persist=true): a create; else a read of the figures (and, for a subject-list, of whom it names).
    (req) => (req.method === 'POST' && asksToPersist(new URLSearchParams(req.url.split('?')[1] ?? ''), req.body) ? AuditAction.CREATE : AuditAction.READ),
    async (req) => {
      const fhir = req.fhir!;
      fhir.store.assertCan('Measure', 'r');
      const posted = req.method === 'POST' && req.body && Object.keys(req.body).length ? body(req, 'Parameters') : undefined;
      const params = operationParameters(new URLSearchParams(req.url.split('?')[1] ?? ''), posted);
      const named = params.get('measure');
      if (!req.params.id && named === undefined) throw fhirError(400, 'required', 'Measure/$evaluate-measure needs measure (an id or canonical url), or invoke it on Measure/[id]', ['measure']);
      const def = req.params.id ? indicatorOfMeasure(String(req.params.id)) : measureNamed(named!);
      const ctx = { em: fhir.em, policy: fhir.policy, rules: deps.rules ?? config.careRules, audit: req.audit };
      const { report, persist } = await evaluateMeasure(ctx, def, params, req.method === 'POST' ? 'POST' : 'GET');
      if (!persist) return { status: 200, body: report };
      const out = await fhir.ctxTransaction((f) => f.create(report));
      return resourceReply(201, out.resource!, baseUrl);
    },
  );
  router.get('/Measure/\\$evaluate-measure', evaluate);
  router.post('/Measure/\\$evaluate-measure', evaluate);
  router.get('/Measure/:id/\\$evaluate-measure', evaluate);
  router.post('/Measure/:id/\\$evaluate-measure', evaluate);
  router.get(
    '/Measure/:id',
    audited(AuditAction.READ, async (req) => {
      req.fhir!.store.assertCan('Measure', 'r');
      return resourceReply(200, readMeasure(String(req.params.id)), baseUrl);
    }),
  );

  router.get(
    '/:type',
    audited(AuditAction.SEARCH, async (req) => {
      const resourceType = typeParam(req);
      const params = new URLSearchParams(req.url.split('?')[1] ?? '');
      touchNamedPatients(req.audit, resourceType, params);
      const { bundle, patientIds } = await search(req.fhir!.em, req.fhir!.store, { resourceType, params, baseUrl });
      patientIds.forEach((p) => req.audit!.touch(p));
      return { status: 200, body: bundle };
    }),
  );

  router.post(
    '/:type',
    audited(AuditAction.CREATE, async (req) => {
      const type = typeParam(req);
      const ifNoneExist = req.headers['if-none-exist'] as string | undefined;
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.create(body(req, type), ifNoneExist));
      return writeReply(req, out, baseUrl);
    }),
  );

  router.get(
    '/:type/:id',
    audited(AuditAction.READ, async (req) => {
      // An id that is no UUID may be the caller's own name for one of its resources (PUT Patient/<its id>: ADR 12).
      const type = typeParam(req);
      const { resource, patientId } = await req.fhir!.store.readWithPatient(type, await req.fhir!.resolveId(type, String(req.params.id)));
      req.audit!.touch(patientId);
      return resourceReply(200, resource, baseUrl);
    }, resourceOf),
  );

  router.get(
    '/:type/:id/_history',
    audited(AuditAction.READ, async (req) => {
      const type = typeParam(req);
      const history = await req.fhir!.store.history(type, String(req.params.id));
      // The resource's patient now, and the patient of every version (one may have named another).
      req.audit!.touch((await req.fhir!.store.row(type, String(req.params.id)))?.patient_id);
      touchHistory(req.audit, history);
      return { status: 200, body: history };
    }, resourceOf),
  );

  router.get(
    '/:type/:id/_history/:vid',
    audited(AuditAction.READ, async (req) => {
      const vid = integerParam(String(req.params.vid), 'version id', 1, 1);
      const type = typeParam(req);
      const version = await req.fhir!.store.vread(type, String(req.params.id), vid);
      req.audit!.touch((await req.fhir!.store.row(type, String(req.params.id)))?.patient_id);
      touchResources(req.audit, [version]);
      return resourceReply(200, version, baseUrl);
    }, resourceOf),
  );

  router.put(
    '/:type/:id',
    audited(AuditAction.UPDATE, async (req) => {
      const type = typeParam(req);
      const ifMatch = parseEtag(req.headers['if-match'] as string | undefined);
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.update(body(req, type), String(req.params.id), ifMatch));
      return writeReply(req, out, baseUrl);
    }, resourceOf),
  );

  router.put(
    '/:type',
    audited(AuditAction.UPDATE, async (req) => {
      const type = typeParam(req);
      const query = req.url.split('?')[1];
      if (!query) throw fhirError(400, 'invalid', `PUT /${type} needs a search (conditional update) or an id`);
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.conditionalUpdate(body(req, type), query));
      return writeReply(req, out, baseUrl);
    }),
  );

  router.delete(
    '/:type/:id',
    audited(AuditAction.DELETE, async (req) => {
      const type = typeParam(req);
      await req.fhir!.ctxTransaction((fhir) => fhir.delete(type, String(req.params.id)));
      await attributeUnseenDelete(req.audit, req.fhir!.store, storeContext(req), type, String(req.params.id));
      return { status: 204 };
    }, resourceOf),
  );

  // Errors as OperationOutcomes: missing or refused tokens, malformed JSON, wrong content type, oversized bodies, refusals.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof AuthenticationError) {
      return send(res, 401, fhirError(401, 'login', `authentication failed: ${err.message}`).outcome, { 'WWW-Authenticate': BEARER_CHALLENGE });
    }
    const fe =
      toFhirError(err) ??
      ((err as { type?: string }).type === 'entity.parse.failed'
        ? fhirError(400, 'structure', `malformed JSON: ${(err as Error).message}`)
        : (err as { type?: string }).type === 'entity.too.large'
          ? fhirError(413, 'too-costly', `request body over ${config.http.fhirBodyLimit}`)
          : bodyParserRefusal(err));
    if (fe) return send(res, fe.status, fe.outcome);
    deps.logger.error({ err }, 'unexpected FHIR error');
    send(res, 500, new FhirError(500, [{ severity: 'fatal', code: 'exception', diagnostics: config.env === 'production' ? 'internal error' : String((err as Error).message) }]).outcome);
  });
  return router;
}
