import type { Bundle, Resource } from '@medplum/fhirtypes';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import { entityManagerFor, type Security } from '../access/index.js';
import type { Caller } from '../access/caller.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import type { AuditRecorder, RequestAudit } from '../access/audit.js';
import { isR4ResourceType } from '../../fhir-mappings/index.js';
import { capabilityStatement } from './capability.js';
import { assertValid, FhirInteractions, parseEtag } from './interactions.js';
import { FhirError, fhirError, toFhirError } from './outcome.js';
import { search } from './search.js';
import { visitReferences } from './indexing.js';
import type { StoredRow } from './store.js';

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

/** What a handler answers; sent once the request's audit record is written. */
interface Reply {
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

  /**
   * Runs a handler and writes the request's audit record before anything is sent, as GraphQL does: a failure
   * to audit is an error the request must not hide (the caller gets a 500, not the data).
   */
  const audited =
    (action: AuditAction, handler: (req: FhirRequest) => Promise<Reply>) => async (req: FhirRequest, res: Response, next: NextFunction) => {
      const what = `FHIR ${req.method} ${req.originalUrl}`.slice(0, 500);
      let reply: Reply;
      try {
        reply = await handler(req);
      } catch (err) {
        const outcome = toFhirError(err)?.status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE;
        let auditError: unknown;
        await req.audit!.record(action, what, outcome).catch((e: unknown) => (auditError = e));
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
      const count = Math.min(Number(params.get('_count') ?? 1000), 5000);
      const offset = Number(params.get('_offset') ?? 0);
      if (!Number.isInteger(count) || count < 1 || !Number.isInteger(offset) || offset < 0) throw fhirError(400, 'invalid', '_count and _offset must be positive integers');
      const since = params.get('_since');
      const sinceDate = since ? new Date(since) : undefined;
      if (sinceDate && Number.isNaN(sinceDate.getTime())) throw fhirError(400, 'invalid', '_since must be an instant', ['_since']);
      const types = params.get('_type')?.split(',').filter(Boolean);
      const store = req.fhir!.store;
      const em = req.fhir!.em;
      const vis = store.visibility();
      // The patient's compartment, then (as the operation's definition asks) the resources it refers to that are
      // in no patient's compartment: practitioners, organisations, locations, medications.
      const compartment = (await em.execute(
        `select * from fhir_resource r where r.patient_id = ? and not r.deleted${vis ? ` and ${vis.sql}` : ''} order by (r.resource_type = 'Patient') desc, r.resource_type, r.id`,
        [id, ...(vis?.params ?? [])],
      )) as StoredRow[];
      const inCompartment = new Set(compartment.map((r) => r.id));
      const refs = new Set<string>();
      const resources = compartment.map((row) => store.output(row));
      for (const resource of resources) {
        visitReferences(resource, (ref) => {
          const m = /^[A-Z][A-Za-z]+\/([0-9a-f-]{36})$/i.exec(ref);
          if (m && !inCompartment.has(m[1]!.toLowerCase())) refs.add(m[1]!.toLowerCase());
        });
      }
      const referenced = refs.size
        ? ((await em.execute(`select * from fhir_resource r where r.id = any(?::uuid[]) and r.patient_id is null and not r.deleted order by r.resource_type, r.id`, [
            `{${[...refs].join(',')}}`,
          ])) as StoredRow[])
        : [];
      const wanted = (row: StoredRow) => (!types?.length || types.includes(row.resource_type)) && (!sinceDate || new Date(row.last_updated) >= sinceDate);
      const all = [
        ...compartment.map((row, i) => ({ row, resource: resources[i]!, mode: 'match' as const })),
        ...referenced.map((row) => ({ row, resource: store.output(row), mode: 'include' as const })),
      ].filter((e) => wanted(e.row));
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
    }),
  );

  router.get(
    '/:type',
    audited(AuditAction.SEARCH, async (req) => {
      const { bundle, patientIds } = await search(req.fhir!.em, req.fhir!.store, {
        resourceType: typeParam(req),
        params: new URLSearchParams(req.url.split('?')[1] ?? ''),
        baseUrl,
      });
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
      return resourceReply(out.status === '201' ? 201 : 200, out.resource!, baseUrl);
    }),
  );

  router.get(
    '/:type/:id',
    audited(AuditAction.READ, async (req) => {
      const resource = await req.fhir!.store.read(typeParam(req), String(req.params.id));
      req.audit!.touch((await req.fhir!.store.row(resource.resourceType, resource.id!))?.patient_id);
      return resourceReply(200, resource, baseUrl);
    }),
  );

  router.get(
    '/:type/:id/_history',
    audited(AuditAction.READ, async (req) => {
      return { status: 200, body: await req.fhir!.store.history(typeParam(req), String(req.params.id)) };
    }),
  );

  router.get(
    '/:type/:id/_history/:vid',
    audited(AuditAction.READ, async (req) => {
      const vid = Number(req.params.vid);
      if (!Number.isInteger(vid) || vid < 1) throw fhirError(400, 'invalid', 'version ids are positive integers');
      return resourceReply(200, await req.fhir!.store.vread(typeParam(req), String(req.params.id), vid), baseUrl);
    }),
  );

  router.put(
    '/:type/:id',
    audited(AuditAction.UPDATE, async (req) => {
      const type = typeParam(req);
      const ifMatch = parseEtag(req.headers['if-match'] as string | undefined);
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.update(body(req, type), String(req.params.id), ifMatch));
      return resourceReply(out.status === '201' ? 201 : 200, out.resource!, baseUrl);
    }),
  );

  router.put(
    '/:type',
    audited(AuditAction.UPDATE, async (req) => {
      const type = typeParam(req);
      const query = req.url.split('?')[1];
      if (!query) throw fhirError(400, 'invalid', `PUT /${type} needs a search (conditional update) or an id`);
      const out = await req.fhir!.ctxTransaction((fhir) => fhir.conditionalUpdate(body(req, type), query));
      return resourceReply(out.status === '201' ? 201 : 200, out.resource!, baseUrl);
    }),
  );

  router.delete(
    '/:type/:id',
    audited(AuditAction.DELETE, async (req) => {
      await req.fhir!.ctxTransaction((fhir) => fhir.delete(typeParam(req), String(req.params.id)));
      return { status: 204 };
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
