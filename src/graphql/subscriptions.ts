import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { getOperationAST, GraphQLError, type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
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
import { bytesOf } from '../config-checks.js';
import type { EntityManager, Orm } from '../db/orm.js';
import { createContext } from './context.js';
import { graphqlArmor } from './guards.js';
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
 *
 * The socket is outside the HTTP server's body limit and rate limit, so it sets its own bounds: a message is at most
 * the HTTP body limit, and an operation passes the same token, depth, cost and alias limits (graphqlArmor) as one
 * over HTTP. A token is only checked at connect, yet a subscription lives for hours: each push asks the authenticator
 * again (it keeps a person's answer for a minute; a system client is looked up), so an expired token or a
 * deactivated client ends the connection (4403) instead of being shown alerts.
 */
export function serveSubscriptions({ server, schema, orm, config, rules, security, audit, urgentAlerts, log }: Parts): SubscriptionServer {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: bytesOf(config.http.bodyLimit) });
  const armor = graphqlArmor();
  const parseLimited = (source: Parameters<typeof parse>[0]) => parse(source, armor.parseOptions);
  const sessions = new WeakMap<object, { caller: Caller; authorization?: string }>();
  const authenticate = (authorization: string | undefined) => security.authenticator.authenticate(authorization, asInternal(orm.em.fork() as EntityManager));
  const disposable = useServer(
    {
      schema,
      parse: parseLimited,
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...armor.validationRules]),
      onConnect: async (ctx) => {
        const given = ctx.connectionParams?.authorization;
        const authorization = typeof given === 'string' ? given : undefined;
        try {
          const caller = await authenticate(authorization);
          sessions.set(ctx.extra.socket, { caller, authorization });
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: (_ctx, _id, payload) => {
        try {
          const operation = getOperationAST(parseLimited(payload.query), payload.operationName);
          if (operation?.operation !== 'subscription') return [new GraphQLError('only subscriptions are served over WebSocket; send queries and mutations over HTTP', { extensions: { code: 'BAD_REQUEST' } })];
        } catch {
          // Not GraphQL: left to graphql-ws, which answers with the syntax error.
        }
        return undefined;
      },
      context: (ctx): SubscriptionContext => {
        const { caller, authorization } = sessions.get(ctx.extra.socket)!;
        const socket = ctx.extra.socket;
        const { em, policy } = entityManagerFor(orm, caller, security.policySettings);
        const requestId = randomUUID();
        const sourceIp = ctx.extra.request.socket.remoteAddress;
        const base = createContext({ em, policy, config, rules, security, requestId, audit: audit.forRequest(caller, requestId, sourceIp) });
        return {
          ...base,
          urgentAlerts,
          auditPush: async (patientId) => {
            try {
              await authenticate(authorization);
            } catch {
              socket.close(4403, 'Forbidden');
              throw new GraphQLError('the token is no longer accepted', { extensions: { code: 'UNAUTHENTICATED' } });
            }
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
