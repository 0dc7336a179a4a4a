import type { Bundle, Resource } from '@medplum/fhirtypes';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import { entityManagerFor, type Security } from '../access/index.js';
import type { Caller } from '../access/caller.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import type { AuditRecorder, RequestAudit } from '../access/audit.js';
import { capabilityStatement } from './capability.js';
import { assertValid, FhirInteractions, parseEtag } from './interactions.js';
import { FhirError, fhirError, toFhirError } from './outcome.js';
import { search } from './search.js';

const FHIR_JSON = 'application/fhir+json';
const ACCEPTED_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

type FhirRequest = Request & { caller?: Caller; requestId?: string; fhir?: FhirInteractions; audit?: RequestAudit };

export interface FhirRouterDeps {
  config: Config;
  orm: Orm;
  security: Security;
  audit: AuditRecorder;
  authenticate: (req: Request, res: Response, next: NextFunction) => void;
  logger: Logger;
}

function send(res: Response, status: number, body: unknown, headers: Record<string, string | undefined> = {}) {
  for (const [k, v] of Object.entries(headers)) if (v) res.setHeader(k, v);
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

function sendResource(res: Response, status: number, resource: Resource, baseUrl: string) {
  send(res, status, resource, {
    ETag: resource.meta?.versionId ? `W/"${resource.meta.versionId}"` : undefined,
    'Last-Modified': resource.meta?.lastUpdated ? new Date(resource.meta.lastUpdated).toUTCString() : undefined,
    Location: status === 201 ? `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}` : undefined,
  });
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
  router.use((req: FhirRequest, _res, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(req.method)) {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!ACCEPTED_TYPES.includes(type)) return next(fhirError(415, 'not-supported', `Content-Type must be ${FHIR_JSON}`));
    }
    next();
  });
  router.use(express.json({ limit: config.http.fhirBodyLimit, type: ACCEPTED_TYPES }));
  router.use((req: FhirRequest, _res, next) => {
    const { em, policy } = entityManagerFor(orm, req.caller!);
    req.audit = deps.audit.forRequest(req.caller!, req.requestId!, req.ip);
    req.fhir = new FhirInteractions({ em, policy, protector: security.protector, systems: config.identifierSystems, audit: req.audit, baseUrl });
    next();
  });

  const audited =
    (action: AuditAction, handler: (req: FhirRequest, res: Response) => Promise<void>) => async (req: FhirRequest, res: Response, next: NextFunction) => {
      let outcome = AuditOutcome.SUCCESS;
      try {
        await handler(req, res);
      } catch (err) {
        outcome = toFhirError(err)?.status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE;
        next(err);
      } finally {
        await req.audit!.record(action, `FHIR ${req.method} ${req.originalUrl}`.slice(0, 500), outcome).catch((err) => deps.logger.error({ err }, 'audit failed'));
      }
    };

  const typeParam = (req: Request) => {
    const type = String(req.params.type);
    if (!/^[A-Z][A-Za-z]+$/.test(type)) throw fhirError(404, 'not-supported', `unknown resource type ${type}`);
    return type;
  };
  const body = (req: Request, type?: string): Resource => {
    assertValid(req.body);
    if (type && req.body.resourceType !== type) throw fhirError(400, 'invalid', `the body is a ${req.body.resourceType}, not a ${type}`, ['resourceType']);
    return req.body as Resource;
  };

  router.post(
    '/',
    audited(AuditAction.CREATE, async (req, res) => {
      const result = await req.fhir!.bundle(req.body);
      send(res, 200, result);
    }),
  );

  router.get(
    '/Patient/:id/\\$everything',
    audited(AuditAction.READ, async (req, res) => {
      const id = String(req.params.id);
      const patient = await req.fhir!.store.read('Patient', id);
      req.audit!.touch(patient.id);
      const params = new URLSearchParams(req.query as Record<string, string>);
      const count = Math.min(Number(params.get('_count') ?? 1000), 5000);
      const offset = Number(params.get('_offset') ?? 0);
      if (!Number.isInteger(count) || count < 1 || !Number.isInteger(offset) || offset < 0) throw fhirError(400, 'invalid', '_count and _offset must be positive integers');
      const since = params.get('_since');
      const types = params.get('_type')?.split(',').filter(Boolean);
      const clauses = ['r.patient_id = ?', 'not r.deleted'];
      const values: unknown[] = [id];
      if (since) {
        const d = new Date(since);
        if (Number.isNaN(d.getTime())) throw fhirError(400, 'invalid', '_since must be an instant', ['_since']);
        clauses.push('r.last_updated >= ?');
        values.push(d);
      }
      if (types?.length) {
        clauses.push('r.resource_type = any(?::text[])');
        values.push(`{${types.join(',')}}`);
      }
      const vis = req.fhir!.store.visibility();
      if (vis) {
        clauses.push(vis.sql);
        values.push(...vis.params);
      }
      const where = clauses.join(' and ');
      const em = req.fhir!.em;
      const total = Number(((await em.execute(`select count(*) as n from fhir_resource r where ${where}`, values)) as Array<{ n: string }>)[0]!.n);
      const rows = (await em.execute(`select * from fhir_resource r where ${where} order by (r.resource_type = 'Patient') desc, r.resource_type, r.id limit ? offset ?`, [...values, count, offset])) as never[];
      const link = (o: number) => `${baseUrl}/Patient/${id}/$everything?${new URLSearchParams({ ...Object.fromEntries(params), _count: String(count), _offset: String(o) })}`;
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        total,
        link: [{ relation: 'self', url: link(offset) }, ...(offset + count < total ? [{ relation: 'next', url: link(offset + count) }] : [])],
        entry: rows.map((row) => {
          const resource = req.fhir!.store.output(row);
          return { fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' as const } };
        }),
      };
      send(res, 200, bundle);
    }),
  );

  router.get(
    '/:type',
    audited(AuditAction.SEARCH, async (req, res) => {
      const { bundle, patientIds } = await search(req.fhir!.em, req.fhir!.store, {
        resourceType: typeParam(req),
        params: new URLSearchParams(req.url.split('?')[1] ?? ''),
        baseUrl,
      });
      patientIds.forEach((p) => req.audit!.touch(p));
      send(res, 200, bundle);
    }),
  );

  router.post(
    '/:type',
    audited(AuditAction.CREATE, async (req, res) => {
      const type = typeParam(req);
      const ifNoneExist = req.headers['if-none-exist'] as string | undefined;
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.create(body(req, type), ifNoneExist));
      sendResource(res, out.status === '201' ? 201 : 200, out.resource!, baseUrl);
    }),
  );

  router.get(
    '/:type/:id',
    audited(AuditAction.READ, async (req, res) => {
      const resource = await req.fhir!.store.read(typeParam(req), String(req.params.id));
      req.audit!.touch((await req.fhir!.store.row(resource.resourceType, resource.id!))?.patient_id);
      sendResource(res, 200, resource, baseUrl);
    }),
  );

  router.get(
    '/:type/:id/_history',
    audited(AuditAction.READ, async (req, res) => {
      send(res, 200, await req.fhir!.store.history(typeParam(req), String(req.params.id)));
    }),
  );

  router.get(
    '/:type/:id/_history/:vid',
    audited(AuditAction.READ, async (req, res) => {
      const vid = Number(req.params.vid);
      if (!Number.isInteger(vid) || vid < 1) throw fhirError(400, 'invalid', 'version ids are positive integers');
      sendResource(res, 200, await req.fhir!.store.vread(typeParam(req), String(req.params.id), vid), baseUrl);
    }),
  );

  router.put(
    '/:type/:id',
    audited(AuditAction.UPDATE, async (req, res) => {
      const type = typeParam(req);
      const ifMatch = parseEtag(req.headers['if-match'] as string | undefined);
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.update(body(req, type), String(req.params.id), ifMatch));
      sendResource(res, out.status === '201' ? 201 : 200, out.resource!, baseUrl);
    }),
  );

  router.put(
    '/:type',
    audited(AuditAction.UPDATE, async (req, res) => {
      const type = typeParam(req);
      const query = req.url.split('?')[1];
      if (!query) throw fhirError(400, 'invalid', `PUT /${type} needs a search (conditional update) or an id`);
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.conditionalUpdate(body(req, type), query));
      sendResource(res, out.status === '201' ? 201 : 200, out.resource!, baseUrl);
    }),
  );

  router.delete(
    '/:type/:id',
    audited(AuditAction.DELETE, async (req, res) => {
      await req.fhir!.ctxTransaction((fhir) => fhir.delete(typeParam(req), String(req.params.id)));
      res.status(204).end();
    }),
  );

  // Errors as OperationOutcomes: malformed JSON, wrong content type, oversized bodies, refusals.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const fe =
      toFhirError(err) ??
      ((err as { type?: string }).type === 'entity.parse.failed'
        ? fhirError(400, 'structure', `malformed JSON: ${(err as Error).message}`)
        : (err as { type?: string }).type === 'entity.too.large'
          ? fhirError(413, 'too-costly', `request body over ${config.http.fhirBodyLimit}`)
          : undefined);
    if (fe) return send(res, fe.status, fe.outcome);
    deps.logger.error({ err }, 'unexpected FHIR error');
    send(res, 500, new FhirError(500, [{ severity: 'fatal', code: 'exception', diagnostics: config.env === 'production' ? 'internal error' : String((err as Error).message) }]).outcome);
  });
  return router;
}
