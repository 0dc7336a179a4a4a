/** Process entry: configuration → database (migrated) → demo data on an empty database → HTTP. */
import 'reflect-metadata';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { embeddedLockOf, openDatabase, type EntityManager } from './db/orm.js';
import { EmbeddedDatabaseInUseError, serverAdvert } from './db/embedded-lock.js';
import { asInternal, createSecurity } from './access/index.js';
import { hasPatients, seedCounty } from './seed/generate.js';
import { backfillFhir } from './fhir/materialise.js';

async function main() {
  const config = loadConfig();
  const log = pino({ level: config.logLevel === 'silent' ? 'info' : config.logLevel });
  const security = await createSecurity(config);
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  log.info({ database: config.databaseUrl ? 'postgres' : `embedded (${config.embeddedDataDir})` }, 'database ready, migrations applied');

  if (config.seedOnEmptyStart && !(await hasPatients(asInternal(orm.em.fork() as EntityManager)))) {
    log.info({ patients: config.seedPatients }, 'empty database: seeding a demo county');
    const summary = await seedCounty(asInternal(orm.em.fork() as EntityManager), { patients: config.seedPatients, protector: security.protector });
    log.info(summary, 'demo county seeded');
    // The seeder writes plain SQL, past the hook that writes records as FHIR: so that FHIR sees the county too.
    const started = performance.now();
    const written = await backfillFhir(asInternal(orm.em.fork() as EntityManager));
    log.info({ resources: written, ms: Math.round(performance.now() - started) }, 'demo county written as FHIR');
  }

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
  const shutdown = async () => {
    server.close();
    await app.stop();
    await orm.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err instanceof EmbeddedDatabaseInUseError ? err.message : err);
  process.exit(1);
});
