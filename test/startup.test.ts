/**
 * Start-up from an empty database, as `npm start` does it (the real server as a process): it listens before the
 * demo county is prepared — `/health` answers at once and says what it is doing, `/ready` is 503 until the county
 * is seeded and written as FHIR — and what a query sees meanwhile is all of the county or none of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecurity } from '../src/access/index.js';
import { loadConfig } from '../src/config.js';
import { createScratchDatabase, type ScratchDatabase } from '../src/db/scratch-database.js';
import { type Built, buildService, freePort, NODE } from './helpers/built.js';
import { spawn, type ChildProcess } from 'node:child_process';

const POSTGRES = process.env.TEST_DATABASE_URL;
const PATIENTS = 300;

let built: Built;
let tmp: string;
let scratch: ScratchDatabase | undefined;
let child: ChildProcess | undefined;

beforeAll(async () => {
  built = await buildService();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-startup-'));
  scratch = POSTGRES ? await createScratchDatabase(POSTGRES, 'ncd_startup') : undefined;
}, 300_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await scratch?.drop();
  built?.remove();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('listens first, prepares the demo county in the background, and says when it is ready', async () => {
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['NODE_ENV', 'DATABASE_URL', 'EMBEDDED_IN_MEMORY', 'PORT', 'SEED_ON_START'].includes(k)));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    NODE_ENV: 'development',
    EMBEDDED_DATA_DIR: path.join(tmp, 'data', 'pglite'),
    KEYS_DIR: path.join(tmp, 'keys'),
    SEED_PATIENTS: String(PATIENTS),
    LOG_LEVEL: 'warn',
    PORT: String(port),
    ...(scratch ? { DATABASE_URL: scratch.databaseUrl } : {}),
  };
  child = spawn(NODE, [built.script('src/main.js')], { env, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;

  const phases: string[] = [];
  const counts = new Set<number>();
  let token: string | undefined;
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`not ready in time; phases seen: ${phases.join(' → ')}\n${output}`);
    const health = await fetch(`${url}/health`).catch(() => undefined);
    if (health) {
      const body = (await health.json()) as { status: string; ready: boolean; phase: string };
      expect(health.status).toBe(200);
      if (phases.at(-1) !== body.phase) phases.push(body.phase);
      // /ready's status agrees with its own body (the phase may have moved on since /health answered).
      const ready = await fetch(`${url}/ready`).catch(() => undefined);
      if (!ready) {
        // As for /health: a connection refused or reset is tried again (a crash is caught at the top of the loop).
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const readyBody = (await ready.json()) as { ready: boolean; phase: string };
      expect(ready.status).toBe(readyBody.ready ? 200 : 503);
      if (phases.at(-1) !== readyBody.phase) phases.push(readyBody.phase);
      token ??= await createSecurity(loadConfig(env)).then((s) => s.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'startup-test', 3600));
      if (body.phase !== 'seeding the demo county') {
        // While seeding, the database is in one transaction; between phases a query sees all of it or none.
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ patients(first: 1) { totalCount } }' }),
        });
        counts.add(((await res.json()) as { data: { patients: { totalCount: number } } }).data.patients.totalCount);
      }
      if (ready.status === 200) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // It answered before the county was there, and went through the phases in order.
  expect(phases[0]).not.toBe('ready');
  expect(phases.at(-1)).toBe('ready');
  const order = ['seeding the demo county', 'writing the demo county as FHIR', 'ready'];
  expect(phases.every((p, i) => i === 0 || order.indexOf(p) > order.indexOf(phases[i - 1]!))).toBe(true);
  expect([...counts].every((n) => n === 0 || n === PATIENTS)).toBe(true);

  // Ready means ready: the county is in GraphQL and in FHIR.
  const fhir = await fetch(`${url}/fhir/Patient?_summary=count`, { headers: { authorization: `Bearer ${token}` } });
  expect(((await fhir.json()) as { total: number }).total).toBe(PATIENTS);
}, 300_000);
