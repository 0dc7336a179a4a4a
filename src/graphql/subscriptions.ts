import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { getOperationAST, GraphQLError, type GraphQLSchema, parse } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { asInternal, entityManagerFor, type Security } from '../access/index.js';
import type { AuditRecorder } from '../access/audit.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import type { Caller } from '../access/caller.js';
import type { UrgentAlertFeed } from '../care/alerts/urgent-feed.js';
import type { CareRules } from '../care-rules/rules.js';
import type { Config } from '../config.js';
import type { EntityManager, Orm } from '../db/orm.js';
import { createContext } from './context.js';
import type { SubscriptionContext } from './resolvers/alert.resolver.js';

export interface SubscriptionServer {
  /** Ends every subscription and closes every socket (app.stop, and the start of a graceful shutdown). */
  close(): Promise<void>;
}

interface Parts {
  server: Server;
  schema: GraphQLSchema;
  orm: Orm;
  config: Config;
  rules: CareRules;
  security: Security;
  audit: AuditRecorder;
  urgentAlerts: UrgentAlertFeed;
  log: Logger;
}

/**
 * GraphQL subscriptions over WebSocket (the graphql-ws protocol) at /graphql on the HTTP server: a client connects
 * with `connectionParams: { authorization: 'Bearer …' }`, the token checked by the same authenticator as an HTTP
 * request's (a refused one closes the socket, 4403 Forbidden). Only subscriptions are served this way — queries and
 * mutations go over HTTP, through the request limits and the audit of each request. Each subscription has its own
 * unit of work under the caller's access policy; each alert pushed is audited as a read of its patient.
 */
export function serveSubscriptions({ server, schema, orm, config, rules, security, audit, urgentAlerts, log }: Parts): SubscriptionServer {
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const callers = new WeakMap<object, Caller>();
  const disposable = useServer(
    {
      schema,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          const caller = await security.authenticator.authenticate(typeof authorization === 'string' ? authorization : undefined, asInternal(orm.em.fork() as EntityManager));
          callers.set(ctx.extra.socket, caller);
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: (_ctx, _id, payload) => {
        try {
          const operation = getOperationAST(parse(payload.query), payload.operationName);
          if (operation?.operation !== 'subscription') return [new GraphQLError('only subscriptions are served over WebSocket; send queries and mutations over HTTP', { extensions: { code: 'BAD_REQUEST' } })];
        } catch {
          // Not GraphQL: left to graphql-ws, which answers with the syntax error.
        }
        return undefined;
      },
      context: (ctx): SubscriptionContext => {
        const caller = callers.get(ctx.extra.socket)!;
        const { em, policy } = entityManagerFor(orm, caller, security.policySettings);
        const requestId = randomUUID();
        const sourceIp = ctx.extra.request.socket.remoteAddress;
        const base = createContext({ em, policy, config, rules, security, requestId, audit: audit.forRequest(caller, requestId, sourceIp) });
        return {
          ...base,
          urgentAlerts,
          auditPush: async (patientId) => {
            const push = audit.forRequest(caller, requestId, sourceIp);
            push.touch(patientId);
            await push.record(AuditAction.READ, 'subscription urgentAlertRaised', AuditOutcome.SUCCESS);
          },
        };
      },
      onError: (_ctx, _id, _payload, errors) => {
        log.warn({ errors: errors.map((e) => e.message) }, 'subscription error');
      },
    },
    wss,
  );
  return {
    async close() {
      await urgentAlerts.close();
      await disposable.dispose();
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
