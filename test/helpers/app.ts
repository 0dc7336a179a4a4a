import 'reflect-metadata';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import supertest from 'supertest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Orm, type EntityManager } from '../../src/db/orm.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { asInternal } from '../../src/access/index.js';
import { buildCounty, type County } from './fixtures.js';

export interface TestApp {
  app: App;
  orm: Orm;
  db: TestDatabase;
  em(): EntityManager;
  http: ReturnType<typeof supertest>;
  /** SQL statements run since the last reset. */
  queries: string[];
  /** Runs an operation as `as` (a bearer token; default: a platform administrator). */
  gql<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, as?: string): Promise<ExecutionResult<R>>;
  /** Runs an operation that must succeed: asserts that it returned no errors, and returns its data. */
  ok<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, as?: string): Promise<R>;
  /** A development token for a person with these roles at the organisation with this code. */
  tokenFor(claims: { roles: string[]; org?: string; practitioner?: string; sub?: string }): Promise<string>;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * The real HTTP app over a real database (embedded, or Postgres when TEST_DATABASE_URL is set). `env`: settings on
 * top of the test configuration (e.g. EVENT_WORKER=off, for a test whose derived state is written by construction).
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const queries: string[] = [];
  const orm = await openDatabase({
    databaseUrl: db.databaseUrl,
    embeddedDataDir: db.embeddedDataDir,
    onQuery: (message) => {
      const sql = message.replace(/\x1B\[[0-9;]*m/g, '').replace(/^\[query\]\s*/, '');
      if (!/^(begin|commit|rollback|savepoint|release savepoint)\b/i.test(sql)) queries.push(sql);
    },
  });
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  const app = await createApp({ config, orm });
  const http = supertest(app.express);
  const tokenFor = (claims: { roles: string[]; org?: string; practitioner?: string; sub?: string }) =>
    app.security.tokens.sign({ ncd_kind: 'user', roles: claims.roles, org: claims.org, practitioner: claims.practitioner }, claims.sub ?? `test-${claims.roles.join('-')}`, 3600);
  const adminToken = await tokenFor({ roles: ['PLATFORM_ADMIN'], sub: 'test-admin' });
  async function gql<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, as: string = adminToken) {
    const res = await http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${as}`)
      .send({ query: print(doc), variables });
    if (res.status >= 500) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as ExecutionResult<R>;
  }
  return {
    app,
    orm,
    db,
    em: () => asInternal(orm.em.fork() as EntityManager),
    http,
    queries,
    tokenFor,
    adminToken,
    gql,
    async ok<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, as?: string) {
      const res = await gql(doc, variables, as);
      expect(res.errors).toBeUndefined();
      return res.data!;
    },
    async close() {
      await app.stop();
      await orm.close();
      await db.drop();
    },
  };
}

/** The set-up most domain tests share: the app over a fresh database holding one minimal county (see buildCounty). */
export async function startCountyApp(tag: string): Promise<{ t: TestApp; county: County }> {
  const t = await startTestApp();
  return { t, county: await buildCounty(t.em(), tag) };
}
