/**
 * The service's vital signs (issue 11), in process over the test database: liveness that needs no database,
 * readiness that checks what it says (start-up, database, migrations, event consumers) and is 503 when one fails,
 * Prometheus metrics per GraphQL operation and FHIR interaction, the request log line, and configuration errors.
 */
import { jest } from '@jest/globals';
import type { Patient } from '@medplum/fhirtypes';
import { pino } from 'pino';
import supertest from 'supertest';
import { createApp, type App } from '../src/app.js';
import { ConfigurationError, loadConfig } from '../src/config.js';
import { consumersFor, eventWorker } from '../src/events/consumers.js';
import { MIGRATIONS } from '../migrations/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const FHIR_JSON = 'application/fhir+json';
const METRICS_TOKEN = 'scrape-me-please';

let t: TestApp;
/** A second app on the same database, configured tightly: a lag of 3 events is too many, /metrics wants a token, every request logged. */
let strict: App;
let strictHttp: ReturnType<typeof supertest>;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  t = await startTestApp();
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  strict = await createApp({ config: loadConfig({ NODE_ENV: 'test', READY_MAX_EVENT_LAG: '3', METRICS_TOKEN }), orm: t.orm, logger });
  strictHttp = supertest(strict.express);
});

afterAll(async () => {
  await strict?.stop();
  await t?.close();
});

afterEach(() => jest.restoreAllMocks());

const sql = (text: string, params: unknown[] = []) => t.em().getConnection().execute(text, params) as Promise<Array<Record<string, unknown>>>;

describe('probes', () => {
  test('/healthz and /readyz answer 200 with what they checked; /health and /ready are the same', async () => {
    const live = await t.http.get('/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', ready: true, phase: 'ready' });
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      ready: true,
      phase: 'ready',
      checks: {
        startup: { ok: true, phase: 'ready' },
        database: { ok: true },
        migrations: { ok: true, pending: [] },
        events: { ok: true, lag: { [consumersFor(loadConfig({ NODE_ENV: 'test' }))[0]!.name]: expect.any(Number) } },
      },
    });
    expect((await t.http.get('/health')).body).toMatchObject({ status: 'ok', phase: 'ready' });
    expect((await t.http.get('/ready')).body).toMatchObject({ status: 'ready', checks: { migrations: { ok: true } } });
  });

  test('/healthz does not ask the database; /readyz is 503 when the database fails or does not answer', async () => {
    const connection = t.orm.driver.getConnection();
    const execute = jest.spyOn(connection, 'execute').mockRejectedValue(new Error('connection refused'));
    expect((await t.http.get('/healthz')).status).toBe(200);
    expect(execute).not.toHaveBeenCalled();
    const down = await t.http.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'not ready', ready: false, checks: { database: { ok: false, error: 'connection refused' } } });

    execute.mockReturnValue(new Promise(() => {}) as never);
    const started = Date.now();
    const stuck = await t.http.get('/readyz');
    expect(stuck.status).toBe(503);
    expect(stuck.body.checks.database.error).toMatch(/did not answer within \d+ ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
    execute.mockRestore();
    expect((await t.http.get('/readyz')).status).toBe(200);
  });

  test('/readyz is 503 while start-up is preparing the demo county, and when it failed', async () => {
    t.app.startup.begin('writing the demo county as FHIR');
    const starting = await t.http.get('/readyz');
    expect(starting.status).toBe(503);
    expect(starting.body).toMatchObject({ ready: false, phase: 'writing the demo county as FHIR', checks: { startup: { ok: false } } });
    expect((await t.http.get('/healthz')).status).toBe(200);
    // While seeding, the database is held by one long transaction: not asked, and not ready.
    t.app.startup.begin('seeding the demo county');
    expect((await t.http.get('/ready')).body).toMatchObject({ ready: false, checks: { database: { ok: false, skipped: expect.any(String) } } });
    t.app.startup.done();
    expect((await t.http.get('/readyz')).status).toBe(200);
  });

  test('/readyz is 503 while a migration of this build is not recorded as executed', async () => {
    const last = MIGRATIONS.at(-1)!.name;
    const [row] = await sql('select id, name, executed_at from mikro_orm_migrations where name = ?', [last]);
    expect(row).toBeDefined();
    await sql('delete from mikro_orm_migrations where id = ?', [row!.id]);
    try {
      const res = await t.http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.checks.migrations).toEqual({ ok: false, pending: [last] });
    } finally {
      await sql('insert into mikro_orm_migrations (id, name, executed_at) values (?, ?, ?)', [row!.id, row!.name, row!.executed_at]);
    }
    expect((await t.http.get('/readyz')).status).toBe(200);
  });

  test('/readyz is 503 while an event consumer is further behind the outbox than READY_MAX_EVENT_LAG, 200 once it caught up', async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const [consumer] = consumersFor(config);
    // The consumer has read up to here; five events come after it (of a type it passes over).
    await sql(`insert into event_consumer (name, last_tx, last_id) select ?, pg_current_xact_id(), coalesce(max(id), 0) from domain_event on conflict (name) do nothing`, [consumer!.name]);
    for (let i = 0; i < 5; i++) {
      await sql(`insert into domain_event (type, aggregate_type, aggregate_id, payload) values ('VitalSignsTest', 'Test', gen_random_uuid(), '{}')`);
    }
    const behind = await strictHttp.get('/readyz');
    expect(behind.status).toBe(503);
    expect(behind.body.checks.events).toEqual({ ok: false, maxLag: 3, lag: { [consumer!.name]: 5 } });
    // The default allows 10,000.
    expect((await t.http.get('/readyz')).body.checks.events.ok).toBe(true);

    await eventWorker(t.em(), config).drain();
    const caughtUp = await strictHttp.get('/readyz');
    expect(caughtUp.body.checks.events).toEqual({ ok: true, maxLag: 3, lag: { [consumer!.name]: 0 } });
    expect(caughtUp.status).toBe(200);
  });
});

describe('/metrics', () => {
  const gql = (query: string, body: Record<string, unknown> = {}) =>
    t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).send({ query, ...body }).expect(200);
  const fhir = (req: supertest.Test) => req.set('authorization', `Bearer ${t.adminToken}`).set('content-type', FHIR_JSON).set('accept', FHIR_JSON);
  /** The samples of one metric, as `{labels} value` lines. */
  const samples = (text: string, metric: string) => text.split('\n').filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `));

  test('counts and times requests per GraphQL operation and per FHIR interaction, never with ids in the labels', async () => {
    await gql('query WorklistCount { patients(first: 1) { totalCount } }');
    await gql('query WorklistCount { patients(first: 1) { totalCount } }');
    await gql('query First { viewer { subject } } query Second { viewer { subject } }', { operationName: 'Second' });
    await gql('{ viewer { subject } }');
    await t.http.post('/graphql').send({ query: 'query NoToken { viewer { subject } }' }).expect(401);

    const patient: Patient = { resourceType: 'Patient', identifier: [{ system: 'http://hospital.example.org/mrn', value: 'VS-1' }], name: [{ family: 'Wang', given: ['Wu'] }], gender: 'female', birthDate: '1957-05-01' };
    const created = await fhir(t.http.post('/fhir/Patient')).send(JSON.stringify(patient));
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    await fhir(t.http.get(`/fhir/Patient/${id}`)).expect(200);
    await fhir(t.http.get(`/fhir/Patient/${id}/_history/1`)).expect(200);
    await fhir(t.http.get('/fhir/Patient?identifier=http://hospital.example.org/mrn|VS-1')).expect(200);
    await fhir(t.http.get(`/fhir/Patient/${id}/$everything`)).expect(200);
    await fhir(t.http.post('/fhir')).send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [] })).expect(200);
    await fhir(t.http.post('/fhir')).send(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [] })).expect(200);
    await fhir(t.http.delete(`/fhir/Patient/${id}`)).expect(204);

    const res = await t.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    const count = (labels: string) => samples(text, 'ncd_http_request_duration_seconds_count').find((l) => l.includes(labels))?.split(' ').at(-1);
    expect(count('{api="graphql",operation="WorklistCount"}')).toBe('2');
    expect(count('{api="graphql",operation="Second"}')).toBe('1');
    expect(count('{api="graphql",operation="First"}')).toBeUndefined();
    expect(count('{api="graphql",operation="(anonymous)"}')).toBe('1');
    // Refused before Apollo read the document: its name is the client's word only, and not taken.
    expect(count('{api="graphql",operation="(unresolved)"}')).toBe('1');
    expect(text).not.toContain('NoToken');
    for (const interaction of ['create', 'read', 'vread', 'search-type', 'operation', 'transaction', 'batch', 'delete']) {
      expect([interaction, count(`{api="fhir",operation="${interaction}"}`)]).toEqual([interaction, '1']);
    }
    expect(samples(text, 'ncd_http_request_duration_seconds_bucket').filter((l) => l.includes('api="fhir",operation="read"'))).toContainEqual(expect.stringMatching(/le="\+Inf".* 1$/));
    expect(samples(text, 'ncd_http_requests_total')).toContain('ncd_http_requests_total{api="graphql",operation="WorklistCount",status="200"} 2');
    expect(samples(text, 'ncd_http_requests_total')).toContain('ncd_http_requests_total{api="graphql",operation="(unresolved)",status="401"} 1');
    expect(text).not.toContain(id);
    expect(text).not.toContain('VS-1');
  });

  test('default process metrics, the database pool, the audit queue and the outbox lag per consumer', async () => {
    const text = (await t.http.get('/metrics')).text;
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    const database = t.db.label === 'postgres' ? 'postgresql' : 'embedded';
    expect(samples(text, 'ncd_db_pool_connections').some((l) => l.startsWith(`ncd_db_pool_connections{database="${database}",state="total"} `))).toBe(true);
    if (t.db.label === 'postgres') {
      expect(samples(text, 'ncd_db_pool_connections').map((l) => l.split('state="')[1]!.split('"')[0]).sort()).toEqual(['idle', 'total', 'waiting']);
      expect(samples(text, 'ncd_db_pool_max')).toEqual(['ncd_db_pool_max{database="postgresql"} 10']);
    } else expect(samples(text, 'ncd_db_pool_max')).toEqual(['ncd_db_pool_max{database="embedded"} 1']);
    expect(samples(text, 'ncd_audit_queue_depth')).toEqual([expect.stringMatching(/^ncd_audit_queue_depth \d+$/)]);
    const [consumer] = consumersFor(loadConfig({ NODE_ENV: 'test' }));
    expect(samples(text, 'ncd_event_consumer_lag_events')).toEqual([expect.stringMatching(new RegExp(`^ncd_event_consumer_lag_events\\{consumer="${consumer!.name}"\\} \\d+$`))]);
  });

  test('the outbox lag is the newest event id minus the consumer position, read at scrape time', async () => {
    const [consumer] = consumersFor(loadConfig({ NODE_ENV: 'test' }));
    await eventWorker(t.em(), loadConfig({ NODE_ENV: 'test' })).drain();
    const lagOf = async () => Number(samples((await t.http.get('/metrics')).text, 'ncd_event_consumer_lag_events').find((l) => l.includes(consumer!.name))!.split(' ').at(-1));
    expect(await lagOf()).toBe(0);
    for (let i = 0; i < 2; i++) await sql(`insert into domain_event (type, aggregate_type, aggregate_id, payload) values ('VitalSignsTest', 'Test', gen_random_uuid(), '{}')`);
    expect(await lagOf()).toBe(2);
  });

  test('with METRICS_TOKEN set, /metrics answers only that bearer token', async () => {
    expect((await strictHttp.get('/metrics')).status).toBe(401);
    expect((await strictHttp.get('/metrics').set('authorization', 'Bearer wrong')).status).toBe(401);
    expect((await strictHttp.get('/metrics').set('authorization', `Bearer ${t.adminToken}`)).status).toBe(401);
    const ok = await strictHttp.get('/metrics').set('authorization', `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('ncd_http_request_duration_seconds');
    // The probes stay open: a load balancer has no token.
    expect((await strictHttp.get('/healthz')).status).toBe(200);
  });
});

test('one log line per request: method, path without its query string, status, duration, request id (the audit record’s), operation', async () => {
  logLines.length = 0;
  const requestId = 'vital-signs-log-1';
  const res = await strictHttp
    .get('/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|110101195001011234&_count=1')
    .set('authorization', `Bearer ${t.adminToken}`)
    .set('x-request-id', requestId);
  expect(res.status).toBe(200);
  await strictHttp.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).set('x-request-id', 'vital-signs-log-2').send({ query: 'query WhoAmI { viewer { subject } }' }).expect(200);
  await strictHttp.get('/healthz');

  const lines = logLines.filter((l) => l.msg === 'request');
  const fhirLine = lines.find((l) => l.requestId === requestId);
  expect(fhirLine).toEqual(expect.objectContaining({ level: 30, method: 'GET', path: '/fhir/Patient', status: 200, api: 'fhir', operation: 'search-type', ms: expect.any(Number) }));
  expect(JSON.stringify(logLines)).not.toContain('110101195001011234');
  expect(lines.find((l) => l.requestId === 'vital-signs-log-2')).toEqual(expect.objectContaining({ method: 'POST', path: '/graphql', status: 200, api: 'graphql', operation: 'WhoAmI' }));
  // Probes are logged at debug (20): every few seconds, nothing new.
  expect(lines.find((l) => l.path === '/healthz')).toEqual(expect.objectContaining({ level: 20, api: 'ops' }));
  // The same request id is in the audit record the request left.
  const audited = await sql('select count(*)::int as n from audit_event where request_id = ?', [requestId]);
  expect(Number(audited[0]!.n)).toBeGreaterThan(0);
});

describe('configuration is checked at start, each bad value named with what is allowed', () => {
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigurationError);
      return (err as ConfigurationError).problems;
    }
    throw new Error('no configuration error');
  };

  test.each([
    [{ NODE_ENV: 'prod' }, 'NODE_ENV must be one of development, test, production, got "prod"'],
    [{ PORT: 'http' }, 'PORT must be an integer from 0 to 65535, got "http"'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535, got "70000"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ DATABASE_URL: 'mysql://db/ncd' }, 'DATABASE_URL must be a URL starting postgres:// or postgresql://, got "mysql://db/ncd"'],
    [{ DATABASE_URL: 'localhost:5432' }, 'DATABASE_URL must be a URL starting postgres:// or postgresql://, got "localhost:5432"'],
    [{ PUBLIC_URL: 'gateway.county.example' }, 'PUBLIC_URL must be a URL starting http:// or https://, got "gateway.county.example"'],
    [{ OIDC_ISSUER: 'idp' }, 'OIDC_ISSUER must be a URL starting http:// or https://, got "idp"'],
    [{ CORS_ORIGINS: 'https://ok.example,not a url' }, 'CORS_ORIGINS must be a URL starting http:// or https://, got "not a url"'],
    [{ EVENT_WORKER: 'of' }, 'EVENT_WORKER must be one of 1, true, on, yes, 0, false, off, no, got "of"'],
    [{ SEED_ON_START: 'maybe' }, 'SEED_ON_START must be one of 1, true, on, yes, 0, false, off, no, got "maybe"'],
    [{ SEED_AS_OF: '2026-02-30' }, 'SEED_AS_OF must be a date, YYYY-MM-DD, got "2026-02-30"'],
    [{ COUNTY_TIME_ZONE: 'Asia/Beijing' }, 'COUNTY_TIME_ZONE must be an IANA time zone such as Asia/Shanghai, got "Asia/Beijing"'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT must be a size such as 1024, 500kb, 1mb or 1gb, got "lots"'],
    [{ SHUTDOWN_TIMEOUT_MS: '10s' }, 'SHUTDOWN_TIMEOUT_MS must be an integer of at least 0, got "10s"'],
    [{ ACCESS_TOKEN_SECONDS: '0' }, 'ACCESS_TOKEN_SECONDS must be an integer of at least 1, got "0"'],
    [{ ID_SYSTEM_RESIDENT: 'resident id' }, 'ID_SYSTEM_RESIDENT must be an absolute URI (urn:oid:…, https://…), got "resident id"'],
  ])('%o', (env, message) => {
    expect(problemsOf({ NODE_ENV: 'test', ...env })).toEqual([message]);
  });

  test('secrets are named, never echoed', () => {
    const problems = problemsOf({ NODE_ENV: 'test', IDENTIFIER_KEY: 'c2hvcnQ=', SIGNING_KEY_JWK: '{"kty": "EC", "d": "secret', OIDC_JWKS: '{"kids": []}' });
    expect(problems).toEqual([
      expect.stringMatching(/^OIDC_JWKS must be a JSON object with a "keys" array/),
      expect.stringMatching(/^SIGNING_KEY_JWK must be a JSON object/),
      expect.stringMatching(/^IDENTIFIER_KEY must be 32 bytes, base64-encoded/),
    ]);
    expect(problems.join('\n')).not.toMatch(/secret|c2hvcnQ/);
  });

  test('every problem in one error, one line each', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', PORT: 'abc', LOG_LEVEL: 'verbose', TRUSTED_PROXIES: '*' })).toThrow(
      'Configuration:\n  - PORT must be an integer from 0 to 65535, got "abc"\n  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"\n  - TRUSTED_PROXIES must list addresses, CIDR ranges, loopback, linklocal or uniquelocal (or be none), got "*"',
    );
  });

  test('good values and unset ones are taken', () => {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '8080', LOG_LEVEL: 'warn', DATABASE_URL: 'postgresql://ncd@db:5432/ncd', EVENT_WORKER: 'off', SEED_AS_OF: '2026-11-01', SHUTDOWN_TIMEOUT_MS: '2500', METRICS_TOKEN: 'x', BODY_LIMIT: '2mb', COUNTY_TIME_ZONE: 'Asia/Urumqi', PUBLIC_URL: '' });
    expect(config).toMatchObject({ port: 8080, logLevel: 'warn', databaseUrl: 'postgresql://ncd@db:5432/ncd', eventWorker: false, seedAsOf: '2026-11-01', observability: { shutdownTimeoutMs: 2500, metricsToken: 'x', readyMaxEventLag: 10_000 }, http: { bodyLimit: '2mb' } });
    expect(loadConfig({ NODE_ENV: 'test' })).toMatchObject({ port: 4000, eventWorker: true, seedOnEmptyStart: true, observability: { shutdownTimeoutMs: 10_000, readyMaxEventLag: 10_000 } });
  });
});
