import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { EntityManager, Orm } from '../db/orm.js';
import { AuditAction, AuditOutcome } from './audit-event.entity.js';
import type { AuditRecorder, RequestAudit } from './audit.js';
import { type Caller, ClientKind, hasRole, Role } from './caller.js';
import { asInternal } from './index.js';
import { ClientRegistrationError, clientView, deactivateClient, listClients, registerClient } from './smart/client-registry.js';
import { AuthenticationError, BEARER_CHALLENGE } from './tokens.js';

/**
 * `/admin`: platform administration over HTTP, for platform administrators only, behind the same bearer
 * authentication as the APIs and audited like their writes. What `npm run client` does on the database, it
 * does here while a server holds the embedded one (a second process must not open it: src/db/embedded-lock.ts).
 *
 *   POST /admin/clients                       register a SMART backend client → 201 { client }
 *        { name, kind, organizationCode, jwks | jwksUrl, scopes: [..] | "a b", clientId? }
 *   GET  /admin/clients[?active=true]         list → { clients: [...] }
 *   POST /admin/clients/:clientId/deactivate  → { client }
 *
 * Refusals: 401 (no or bad token), 403 (not a platform administrator), 400 { error: "invalid_registration", message }.
 */

export interface AdminRouterDeps {
  orm: Orm;
  audit: AuditRecorder;
  /** Sets `req.caller`, or passes an AuthenticationError on. */
  authenticate: RequestHandler;
  /** The APIs' rate limit, applied once the caller is known. */
  limiter?: RequestHandler;
  logger: Logger;
}

type AdminRequest = Request & { caller?: Caller; requestId?: string };

interface Reply {
  status: number;
  body: unknown;
  /** The audit record's `what`. */
  what: string;
}

const isPlatformAdmin = (caller: Caller | undefined) => !!caller && caller.kind === 'user' && hasRole(caller, Role.PLATFORM_ADMIN);

function scopesOf(raw: unknown): string[] {
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return raw as string[];
  if (typeof raw === 'string') return raw.split(/[\s,]+/);
  throw new ClientRegistrationError('scopes must be a list of SMART scopes, e.g. ["system/Patient.rs"]');
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ClientRegistrationError(`${name} must be a string`);
  return value;
}

export function createAdminRouter(deps: AdminRouterDeps): Router {
  const { orm, logger } = deps;
  const router = express.Router();
  router.use(deps.authenticate);
  if (deps.limiter) router.use(deps.limiter);
  router.use(express.json({ limit: '256kb' }));

  /** Checks the role, runs the handler and writes the audit record before answering (a failed audit is a 500). */
  const admin =
    (action: AuditAction, label: string, handler: (req: AdminRequest, em: EntityManager) => Promise<Reply>) =>
    async (req: AdminRequest, res: Response, next: NextFunction) => {
      const audit: RequestAudit = deps.audit.forRequest(req.caller!, req.requestId!, req.ip);
      const refuse = async (status: number, outcome: AuditOutcome, error: string, message: string) => {
        await audit.record(action, `admin: ${label} refused: ${message}`, outcome);
        res.status(status).json({ error, message });
      };
      try {
        if (!isPlatformAdmin(req.caller)) return await refuse(403, AuditOutcome.DENIED, 'forbidden', 'platform administrators only');
        let reply: Reply;
        try {
          reply = await handler(req, asInternal(orm.em.fork() as EntityManager));
        } catch (err) {
          if (err instanceof ClientRegistrationError) return await refuse(400, AuditOutcome.FAILURE, 'invalid_registration', err.message);
          await audit.record(action, `admin: ${label} failed`, AuditOutcome.FAILURE).catch(() => {});
          throw err;
        }
        await audit.record(action, reply.what, AuditOutcome.SUCCESS);
        res.status(reply.status).json(reply.body);
      } catch (err) {
        next(err);
      }
    };

  router.post(
    '/clients',
    admin(AuditAction.CREATE, 'client registration', async (req, em) => {
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const kind = String(body.kind ?? '').toUpperCase() as ClientKind;
      if (body.jwks !== undefined && (typeof body.jwks !== 'object' || body.jwks === null)) throw new ClientRegistrationError('jwks must be a JWKS object: { "keys": [ … ] }');
      const client = await registerClient(em, {
        name: optionalString(body, 'name') ?? '',
        kind,
        organizationCode: optionalString(body, 'organizationCode') ?? '',
        jwks: body.jwks as { keys: Record<string, unknown>[] } | undefined,
        jwksUrl: optionalString(body, 'jwksUrl'),
        scopes: scopesOf(body.scopes),
        clientId: optionalString(body, 'clientId'),
      });
      logger.info({ clientId: client.clientId, kind: client.kind, organization: client.organization.code }, 'SMART backend client registered');
      return {
        status: 201,
        body: { client: clientView(client) },
        what: `admin: registered ${client.kind} client ${client.clientId} ("${client.name}") for ${client.organization.code}, scopes ${client.scopes.join(' ')}`,
      };
    }),
  );

  router.get(
    '/clients',
    admin(AuditAction.READ, 'client list', async (req, em) => {
      const activeOnly = req.query.active === 'true' || req.query.active === '1';
      const clients = await listClients(em, { includeInactive: !activeOnly });
      return { status: 200, body: { clients: clients.map(clientView) }, what: `admin: listed ${activeOnly ? 'active ' : ''}clients (${clients.length})` };
    }),
  );

  router.post(
    '/clients/:clientId/deactivate',
    admin(AuditAction.UPDATE, 'client deactivation', async (req, em) => {
      const client = await deactivateClient(em, String(req.params.clientId));
      logger.info({ clientId: client.clientId }, 'SMART backend client deactivated');
      return { status: 200, body: { client: clientView(client) }, what: `admin: deactivated client ${client.clientId} ("${client.name}")` };
    }),
  );

  router.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: 'no such admin endpoint' });
  });

  router.use((err: unknown, req: AdminRequest, res: Response, _next: NextFunction) => {
    if (err instanceof AuthenticationError) {
      res.status(401).set('WWW-Authenticate', BEARER_CHALLENGE).json({ error: 'unauthenticated', message: err.message });
      return;
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_request', message: `malformed JSON: ${(err as Error).message}` });
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json({ error: 'invalid_request', message: 'request body too large' });
      return;
    }
    logger.error({ err, requestId: req.requestId }, 'admin request failed');
    res.status(500).json({ error: 'server_error', message: 'the request failed' });
  });

  return router;
}
