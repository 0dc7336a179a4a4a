/**
 * The audit is written by group commit (AuditRecorder): many requests' rows in one INSERT, each response released
 * only once its row is committed. Two promises that must hold whatever the batching (issue 11):
 *  - a request whose audit cannot be written fails rather than answering, on GraphQL and on FHIR, and the others
 *    batched with it are still answered;
 *  - no audit record is lost when the process is stopped (SIGTERM) under load: every request that was answered
 *    has its row once the process has exited.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createSecurity } from '../src/access/index.js';
import { AuditAction, AuditOutcome } from '../src/access/audit-event.entity.js';
import type { Caller } from '../src/access/caller.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/orm.js';
import { createScratchDatabase, type ScratchDatabase } from '../src/db/scratch-database.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { buildAccessCounty } from './helpers/access-fixtures.js';
import { type Built, buildService, freePort, startServer } from './helpers/built.js';

const POSTGRES = process.env.TEST_DATABASE_URL;
const SEARCH = JSON.stringify({ query: 'query Count { patients(first: 1) { totalCount } }' });

describe('an audit that cannot be written', () => {
  let t: TestApp;
  let patient: string;
  beforeAll(async () => {
    t = await startTestApp();
    patient = (await buildAccessCounty(t.em(), t.app.security.protector, 'DUR')).patients.a1.id;
  }, 120_000);
  afterAll(() => t?.close());

  /** Makes every INSERT into audit_event fail (as a full disk or a lost connection would), until undone. */
  const auditFails = async (on: boolean) => {
    const sql = t.em().getConnection();
    if (on) {
      await sql.execute(`create or replace function audit_refused() returns trigger language plpgsql as $$ begin raise exception 'audit refused (test)'; end $$`);
      await sql.execute(`create trigger audit_refused before insert on audit_event for each row execute function audit_refused()`);
    } else await sql.execute(`drop trigger audit_refused on audit_event`);
  };
  const rowsFor = async (requestId: string) => ((await t.em().getConnection().execute(`select count(*)::int as n from audit_event where request_id = ?`, [requestId])) as Array<{ n: number }>)[0]!.n;

  test('GraphQL: no data, an INTERNAL_SERVER_ERROR; FHIR: a 500 OperationOutcome, no resource; answered again once the audit can be written', async () => {
    const card = { query: `query Card($id: ID!) { patient(id: $id) { id name } }`, variables: { id: patient } };
    await auditFails(true);
    try {
      const graphql = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).set('x-request-id', 'audit-fails-graphql').send(card);
      expect(graphql.body.data ?? null).toBeNull();
      expect(graphql.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(graphql.body)).not.toContain(patient);

      const fhir = await t.http.get(`/fhir/Patient/${patient}`).set('authorization', `Bearer ${t.adminToken}`).set('x-request-id', 'audit-fails-fhir');
      expect(fhir.status).toBe(500);
      expect(fhir.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(fhir.body)).not.toContain(patient);
    } finally {
      await auditFails(false);
    }
    expect(await rowsFor('audit-fails-graphql')).toBe(0);
    const again = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).set('x-request-id', 'audit-works-again').send(card);
    expect(again.body).toEqual({ data: { patient: { id: patient, name: expect.any(String) } } });
    expect(await rowsFor('audit-works-again')).toBe(1);
  });

  test('requests finishing together share one INSERT, each released once its row is committed; a row that cannot be written fails only its own request', async () => {
    t.queries.length = 0;
    const caller = { kind: 'user', subject: 'batch-test', roles: [], scopes: [] } as unknown as Caller;
    const row = (patientIds: string[]) => [{ action: AuditAction.SEARCH, what: 'batched', patientIds, outcome: AuditOutcome.SUCCESS }];
    const ids = Array.from({ length: 12 }, (_, i) => `batched-${i}`);
    // Twelve requests finishing in one tick: the first goes at once, the eleven that came while it was written in the next.
    const written = await Promise.allSettled(ids.map((id, i) => t.app.audit.write(t.app.audit.forRequest(caller, id, undefined), row(i === 5 ? ['not-a-uuid'] : [patient]))));
    expect(written.map((w) => w.status)).toEqual(ids.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    for (const [i, id] of ids.entries()) expect(await rowsFor(id)).toBe(i === 5 ? 0 : 1);
    // 2 batches, then the failed batch of 11 tried request by request (11): never one statement per request for the good batch.
    const inserts = t.queries.filter((q) => /insert into audit_event/i.test(q));
    expect(inserts.map((q) => (q.match(/::uuid\[\]/g) ?? []).length)).toEqual([1, 11, ...Array(11).fill(1)]);
    expect(t.app.audit.queued).toBe(0);
  });

  test('a write that arrives just as the last batch is committed is written too (not left waiting for a drain that ended)', async () => {
    const caller = { kind: 'user', subject: 'race-test', roles: [], scopes: [] } as unknown as Caller;
    const row = [{ action: AuditAction.READ, what: 'race', patientIds: [patient], outcome: AuditOutcome.SUCCESS }];
    const audit = t.app.audit;
    await audit.write(audit.forRequest(caller, 'race-a', undefined), row).then(() => audit.write(audit.forRequest(caller, 'race-b', undefined), row));
    expect([await rowsFor('race-a'), await rowsFor('race-b')]).toEqual([1, 1]);
  });
});

describe('SIGTERM under load', () => {
  let built: Built;
  let tmp: string;
  let scratch: ScratchDatabase | undefined;
  beforeAll(async () => {
    built = await buildService();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-audit-sigterm-'));
    scratch = POSTGRES ? await createScratchDatabase(POSTGRES, 'ncd_audit_sigterm') : undefined;
  }, 300_000);
  afterAll(async () => {
    await scratch?.drop();
    built?.remove();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every request answered before the process exited has its audit row', async () => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['NODE_ENV', 'DATABASE_URL', 'EMBEDDED_IN_MEMORY', 'PORT', 'SEED_ON_START', 'LOG_LEVEL'].includes(k)));
    // Embedded: a data folder (not in memory), to count the rows after the process is gone.
    const dataDir = path.join(tmp, 'pglite');
    const env = {
      ...inherited,
      NODE_ENV: 'development',
      KEYS_DIR: path.join(tmp, 'keys'),
      EMBEDDED_DATA_DIR: dataDir,
      SEED_ON_START: '0',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...(scratch ? { DATABASE_URL: scratch.databaseUrl } : {}),
    };
    const port = await freePort();
    const server = await startServer(built.script('src/main.js'), env, tmp, port);
    const token = await (await createSecurity(loadConfig({ ...env, PORT: String(port) }))).tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'sigterm-load', 3600);
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));

    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const answered: string[] = [];
    let refused = 0;
    let n = 0;
    let stopping = false;
    const one = (id: string) =>
      new Promise<boolean>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': id } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(res.statusCode === 200 && !body.includes('"errors"')));
          res.on('error', () => resolve(false));
        });
        req.on('error', () => resolve(false));
        req.end(SEARCH);
      });
    const loop = async () => {
      // Until the server is gone: after SIGTERM, requests on open connections may still be answered (and must be audited).
      for (let misses = 0; misses < 3; ) {
        const id = `sigterm-${n++}`;
        if (await one(id)) answered.push(id);
        else if (stopping) {
          misses++;
          refused++;
        }
      }
    };
    const loops = Array.from({ length: 16 }, loop);
    await new Promise((r) => setTimeout(r, 1_500));
    stopping = true;
    const before = answered.length;
    server.child.kill('SIGTERM');
    const code = await exited;
    await Promise.all(loops);
    agent.destroy();
    expect({ code, output: code === 0 ? '' : server.output() }).toEqual({ code: 0, output: '' });
    expect(before).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(0);

    const orm = await openDatabase({ databaseUrl: scratch?.databaseUrl, embeddedDataDir: dataDir });
    try {
      const rows = (await orm.em.fork().getConnection().execute(`select request_id from audit_event where actor = 'sigterm-load'`)) as Array<{ request_id: string }>;
      const audited = new Set(rows.map((r) => r.request_id));
      expect(answered.filter((id) => !audited.has(id))).toEqual([]);
    } finally {
      await orm.close();
    }
  }, 240_000);
});
