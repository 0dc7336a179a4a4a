import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { type CareRules, DEFAULT_CARE_RULES } from './care-rules/rules.js';
import type { Orm, EntityManager } from './db/orm.js';
import { type Context, createContext } from './graphql/context.js';
import { formatError } from './graphql/errors.js';
import { getSchema } from './graphql/schema.js';

export interface App {
  express: Express;
  /** Stops Apollo; the caller owns the ORM and closes it. */
  stop(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  orm: Orm;
  rules?: CareRules;
  logger?: Logger;
}

/** Assembles HTTP: `/graphql` and `/health`. */
export async function createApp({ config, orm, rules = DEFAULT_CARE_RULES, logger }: AppOptions): Promise<App> {
  const log = logger ?? pino({ level: config.logLevel });
  const production = config.env === 'production';
  const apollo = new ApolloServer<Context>({
    schema: await getSchema(),
    introspection: !production,
    includeStacktraceInErrorResponses: !production,
    plugins: [
      production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
    ],
    formatError: (formatted, error) => formatError(formatted, error, { production, log: (err) => log.error({ err }, 'unexpected GraphQL error') }),
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', async (_req, res) => {
    try {
      await (orm.em.fork() as EntityManager).execute('select 1');
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable' });
    }
  });
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
        return createContext(orm.em.fork() as EntityManager, config, rules, requestId);
      },
    }),
  );
  return { express: app, stop: () => apollo.stop() };
}
