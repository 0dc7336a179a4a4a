/**
 * The real server as a process (issue 11): SIGTERM stops it accepting connections, lets the request in flight
 * finish, closes an idle keep-alive connection at once, closes what is still open after SHUTDOWN_TIMEOUT_MS,
 * stops the worker, the app and the database, and exits 0, saying each step. A bad configuration stops it at
 * once: exit 1, the problems named, no stack trace.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createSecurity } from '../src/access/index.js';
import { loadConfig } from '../src/config.js';
import { createScratchDatabase, type ScratchDatabase } from '../src/db/scratch-database.js';
import { type Built, buildService, freePort, runCommand, type ServerProcess, startServer } from './helpers/built.js';

const POSTGRES = process.env.TEST_DATABASE_URL;

let built: Built;
let tmp: string;
let scratch: ScratchDatabase | undefined;
let env: NodeJS.ProcessEnv;
let server: ServerProcess | undefined;

beforeAll(async () => {
  built = await buildService();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-shutdown-'));
  scratch = POSTGRES ? await createScratchDatabase(POSTGRES, 'ncd_shutdown') : undefined;
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['NODE_ENV', 'DATABASE_URL', 'EMBEDDED_IN_MEMORY', 'PORT', 'SEED_ON_START', 'LOG_LEVEL'].includes(k)));
  env = {
    ...inherited,
    NODE_ENV: 'development',
    EMBEDDED_IN_MEMORY: '1',
    KEYS_DIR: path.join(tmp, 'keys'),
    SEED_ON_START: '0',
    LOG_LEVEL: 'info',
    ...(scratch ? { DATABASE_URL: scratch.databaseUrl } : {}),
  };
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await scratch?.drop();
  built?.remove();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const QUERY = JSON.stringify({ query: 'query WhoAmI { viewer { subject } }' });

/** A POST /graphql whose body is sent in two halves: in flight from the first half until `finish()`. */
function slowRequest(url: string, token: string, agent?: http.Agent): { response: Promise<{ status: number; body: string }>; finish(): void } {
  const { hostname, port } = new URL(url);
  const req = http.request({ hostname, port, path: '/graphql', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(QUERY) } });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(QUERY.slice(0, 10));
  return { response, finish: () => req.end(QUERY.slice(10)) };
}

const exitOf = (s: ServerProcess) =>
  new Promise<{ code: number | null; at: number }>((resolve) => {
    if (s.child.exitCode !== null) resolve({ code: s.child.exitCode, at: Date.now() });
    else s.child.once('exit', (code) => resolve({ code, at: Date.now() }));
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The pino lines the server wrote, by message. */
const messages = (s: ServerProcess) =>
  s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: number; time: number })
    .sort((a, b) => a.time - b.time);

async function start(shutdownTimeoutMs: number): Promise<{ s: ServerProcess; token: string }> {
  const port = await freePort();
  const s = await startServer(built.script('src/main.js'), { ...env, SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) }, tmp, port);
  server = s;
  const security = await createSecurity(loadConfig({ ...env, PORT: String(port) }));
  return { s, token: await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'shutdown-test', 3600) };
}

test('SIGTERM: no new connections, the request in flight finishes, an idle keep-alive connection does not hold the process, exit 0', async () => {
  const { s, token } = await start(20_000);
  // A client's connection left open after its answer (keep-alive), as a load balancer's or a browser's would be.
  const agent = new http.Agent({ keepAlive: true });
  const first = slowRequest(s.url, token, agent);
  first.finish();
  expect((await first.response).status).toBe(200);

  const inFlight = slowRequest(s.url, token);
  await sleep(300); // the server has the request's headers and waits for its body
  const exited = exitOf(s);
  s.child.kill('SIGTERM');
  await sleep(300);
  await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  expect(s.child.exitCode).toBeNull();

  inFlight.finish();
  const answered = await inFlight.response;
  const finishedAt = Date.now();
  expect(answered.status).toBe(200);
  expect(JSON.parse(answered.body)).toEqual({ data: { viewer: { subject: 'shutdown-test' } } });
  const { code, at } = await exited;
  expect({ code, output: code === 0 ? '' : s.output() }).toEqual({ code: 0, output: '' });
  // Well before SHUTDOWN_TIMEOUT_MS (20 s): the idle keep-alive connection was closed, not waited for.
  expect(at - finishedAt).toBeLessThan(3_000);
  agent.destroy();
  const said = messages(s).map((m) => m.msg);
  const steps = ['shutdown: no longer accepting connections; waiting for requests in flight', 'shutdown: closing the GraphQL subscriptions', 'shutdown: HTTP server closed', 'shutdown: stopping the event worker', 'shutdown: stopping the care rules sweep', 'shutdown: stopping the app (flushing the audit queue)', 'shutdown: closing the database', 'shutdown: done'];
  expect(said.filter((m) => m.startsWith('shutdown:'))).toEqual(steps);
  expect(said).toContain('request');
}, 120_000);

test('SIGTERM: a request still in flight after SHUTDOWN_TIMEOUT_MS has its connection closed, and the process exits 0', async () => {
  const { s, token } = await start(1_000);
  const stalled = slowRequest(s.url, token); // never finished
  const outcome = stalled.response.then(
    () => 'answered',
    () => 'connection closed',
  );
  await sleep(300);
  const exited = exitOf(s);
  const signalled = Date.now();
  s.child.kill('SIGTERM');
  const { code, at } = await exited;
  expect({ code, output: code === 0 ? '' : s.output() }).toEqual({ code: 0, output: '' });
  expect(at - signalled).toBeGreaterThanOrEqual(1_000);
  expect(at - signalled).toBeLessThan(10_000);
  expect(await outcome).toBe('connection closed');
  expect(messages(s).find((m) => m.msg.includes('still in flight after the timeout'))).toMatchObject({ level: 40 });
  expect(messages(s).at(-1)!.msg).toBe('shutdown: done');
}, 120_000);

test.each(['src/main.js', 'src/cli/worker.js', 'src/cli/migrate.js'])('a bad configuration stops %s at once: exit 1, every problem named, no stack trace', async (script) => {
  const result = await runCommand(built.script(script), [], { ...env, PORT: 'eighty', LOG_LEVEL: 'chatty', NODE_ENV: 'staging' }, tmp);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('NODE_ENV must be one of development, test, production, got "staging"');
  expect(result.stderr).toContain('PORT must be an integer from 0 to 65535, got "eighty"');
  expect(result.stderr).toContain('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "chatty"');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).toBe('');
}, 60_000);
