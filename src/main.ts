/** Process entry: configuration → database (migrated) → HTTP → demo data on an empty database, in the background. */
import 'reflect-metadata';
import { pino, type Logger } from 'pino';
import { createApp } from './app.js';
import { type Config, loadConfig } from './config.js';
import { embeddedLockOf, openDatabase, type EntityManager, type Orm } from './db/orm.js';
import { serverAdvert } from './db/embedded-lock.js';
import { asInternal, createSecurity, type Security } from './access/index.js';
import { hasPatients, seedCounty, seedNowFor } from './seed/generate.js';
import type { Startup } from './startup.js';
import { backfillFhir } from './fhir/materialise.js';
import { careSweeper, eventWorker } from './events/consumers.js';
import { gracefulShutdown } from './observability/shutdown.js';
import { exitWith } from './cli/exit.js';

async function main() {
  const config = loadConfig();
  const log = pino({ level: config.logLevel === 'silent' ? 'info' : config.logLevel });
  const security = await createSecurity(config);
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  log.info({ database: config.databaseUrl ? 'postgres' : `embedded (${config.embeddedDataDir})` }, 'database ready, migrations applied');

  const seedDemo = config.seedOnEmptyStart && !(await hasPatients(asInternal(orm.em.fork() as EntityManager)));

  const app = await createApp({ config, orm, logger: log, security });
  const server = app.express.listen(config.port, async () => {
    log.info(`NCD Gateway listening: GraphQL at http://localhost:${config.port}/graphql`);
    // In the embedded database's lock: where `npm run import` / `npm run client` reach this server instead of opening the database.
    embeddedLockOf(orm)?.advertise(serverAdvert(config, (server.address() as { port: number }).port));
    if (config.env === 'development' && config.auth.devTokens) {
      // So that the Sandbox can be tried at once; `npm run token` mints tokens for other roles.
      const token = await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'developer', 12 * 3600);
      log.info(`Development token (platform administrator, 12 h) — Sandbox header "Authorization: Bearer ${token}"`);
    }
  });
  // GraphQL subscriptions (WebSocket) on the same server and path as /graphql.
  app.serveSubscriptions(server);
  // The consumers of the domain events start once the county is there: the seed is one long transaction they would
  // only wait behind (ADR 13), and on the embedded database they would queue on its one connection.
  const worker = config.eventWorker ? eventWorker(asInternal(orm.em.fork() as EntityManager), config, log) : undefined;
  // The care rules' daily sweep runs where the consumers run (src/care/state/sweep.ts).
  const sweeper = config.eventWorker ? careSweeper(asInternal(orm.em.fork() as EntityManager), config, log) : undefined;
  // Listen first, then prepare the demo county: the first answer comes in seconds, and /ready says when it is done.
  if (seedDemo) {
    prepareDemoCounty(orm, config, security, app.startup, log)
      .then(() => {
        worker?.start();
        sweeper?.start();
      })
      .catch((err) => {
        app.startup.fail(err);
        log.error({ err }, 'the demo county could not be prepared');
      });
  } else {
    worker?.start();
    sweeper?.start();
  }
  const shutdown = gracefulShutdown({
    server,
    log,
    timeoutMs: config.observability.shutdownTimeoutMs,
    closing: [{ name: 'closing the GraphQL subscriptions', run: () => app.closeSubscriptions() }],
    steps: [
      { name: 'stopping the event worker', run: async () => worker?.stop() },
      { name: 'stopping the care rules sweep', run: async () => sweeper?.stop() },
      // After the server has closed: no request is left to queue an audit row behind the flush.
      { name: 'stopping the app (flushing the audit queue)', run: () => app.stop() },
      { name: 'closing the database', run: () => orm.close() },
    ],
  });
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** Seeds the demo county (one transaction: all of it or none), then writes it as FHIR. */
async function prepareDemoCounty(orm: Orm, config: Config, security: Security, startup: Startup, log: Logger): Promise<void> {
  startup.begin('seeding the demo county');
  log.info({ patients: config.seedPatients }, 'empty database: seeding a demo county');
  const summary = await seedCounty(asInternal(orm.em.fork() as EntityManager), {
    patients: config.seedPatients,
    protector: security.protector,
    now: seedNowFor(config.seedAsOf),
  });
  log.info(summary, 'demo county seeded');
  // The seeder writes plain SQL, past the hook that writes records as FHIR: so that FHIR sees the county too.
  startup.begin('writing the demo county as FHIR');
  const started = performance.now();
  const written = await backfillFhir(asInternal(orm.em.fork() as EntityManager));
  log.info({ resources: written, ms: Math.round(performance.now() - started) }, 'demo county written as FHIR: ready');
  startup.done();
}

main().catch(exitWith);
