/**
 * The real server and the real command-line tools as separate processes, on one database (the issue: an
 * import run while the server was up was never seen by it and was gone after a restart; a client registered
 * while it ran was unknown until a restart; the embedded database ended up damaged).
 *
 * Embedded (npm run jest): the server holds the data directory's lock; a second opener (seed, migrate, a
 * second server) is refused with the message naming the fix, and nothing is lost; `import` and
 * `client register` go through the server; what they sent is there at once and after a restart.
 * PostgreSQL (npm run jest:postgres): no lock; the same commands write to the database directly, and the
 * running server sees it at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createSecurity } from '../src/access/index.js';
import { loadConfig } from '../src/config.js';
import { createScratchDatabase, type ScratchDatabase } from '../src/db/scratch-database.js';
import { type Built, buildService, freePort, runCommand, type ServerProcess, startServer } from './helpers/built.js';

const POSTGRES = process.env.TEST_DATABASE_URL;
const MRN = 'https://his.example/mrn';
const ORG = '330326000000'; // the seeded county hospital

let built: Built;
let tmp: string;
let env: NodeJS.ProcessEnv;
let server: ServerProcess;
let scratch: ScratchDatabase | undefined;
let adminToken: string;
let port: number;
/** A token request for the client registered in the second test, with its key. */
let tokenFor: (clientId: string) => Promise<{ status: number; body: { access_token?: string; scope?: string; error_description?: string } }>;

const dataDir = () => path.join(tmp, 'data', 'pglite');
const lockFile = () => `${dataDir()}.lock`;
const cli = (name: string, ...args: string[]) => runCommand(built.script(`src/cli/${name}.js`), args, env, tmp);
const start = async () => (server = await startServer(built.script('src/main.js'), env, tmp, port));
const fhir = async (url: string, token = adminToken) => {
  const res = await fetch(`${server.url}/fhir/${url}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } });
  return { status: res.status, body: (await res.json()) as { total?: number; entry?: Array<{ resource: { id: string } }> } };
};
const patientsByMrn = async (value: string) => (await fhir(`Patient?identifier=${encodeURIComponent(`${MRN}|${value}`)}`)).body.total;
const patientCount = async () => (await fhir('Patient?_summary=count')).body.total;

beforeAll(async () => {
  built = await buildService();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-cli-server-'));
  port = await freePort();
  scratch = POSTGRES ? await createScratchDatabase(POSTGRES, 'ncd_cli_server') : undefined;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !['NODE_ENV', 'DATABASE_URL', 'EMBEDDED_IN_MEMORY', 'PUBLIC_URL', 'AUTH_ISSUER', 'SIGNING_KEY_JWK', 'IDENTIFIER_KEY', 'PORT'].includes(k),
    ),
  );
  env = {
    ...inherited,
    NODE_ENV: 'development',
    EMBEDDED_DATA_DIR: dataDir(),
    KEYS_DIR: path.join(tmp, 'keys'),
    SEED_PATIENTS: '5',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    ...(scratch ? { DATABASE_URL: scratch.databaseUrl } : {}),
  };
  await start();
  // Signed with the keys the server made under KEYS_DIR, as `npm run token` would.
  const security = await createSecurity(loadConfig(env));
  adminToken = await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'cli-server-test', 3600);
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await scratch?.drop();
  built?.remove();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

(POSTGRES ? test.skip : test)('a second process is refused while the server holds the embedded database, and nothing is lost', async () => {
  const before = await patientCount();
  expect(before).toBeGreaterThan(0);
  const lock = JSON.parse(fs.readFileSync(lockFile(), 'utf8'));
  expect(lock).toMatchObject({ pid: server.child.pid, owner: 'the NCD Gateway server', server: { url: `http://127.0.0.1:${port}`, devTokens: true } });

  const expected = [
    `The embedded database ${dataDir()} is in use by the NCD Gateway server (pid ${server.child.pid}, http://127.0.0.1:${port}, since ${lock.started}).`,
    'PGlite runs inside one process: a second one would write into its own copy of the database and lose the data, or damage it.',
    'Stop the server first, or point both at a PostgreSQL server with DATABASE_URL.',
    '`npm run import` and `npm run client` go through a running development server by themselves; this command cannot.',
    `(Lock file: ${lockFile()}.)`,
  ].join('\n');
  const seed = await cli('seed', '--reset', '--patients', '3');
  expect(seed.code).toBe(1);
  expect(seed.stderr.trim()).toBe(expected);
  const migrate = await cli('migrate');
  expect(migrate.code).toBe(1);
  expect(migrate.stderr.trim()).toBe(expected);
  const secondServer = await runCommand(built.script('src/main.js'), [], { ...env, PORT: String(await freePort()) }, tmp);
  expect(secondServer.code).toBe(1);
  expect(secondServer.stderr).toContain(expected);

  // The server still holds it, still answers, and has everything it had (seed --reset deleted nothing).
  expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8')).nonce).toBe(lock.nonce);
  expect(await patientCount()).toBe(before);
});

test('a client registered with `npm run client` while the server runs gets a token at once', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const jwksFile = path.join(tmp, 'public-jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...jwk, kid, alg: 'ES384', use: 'sig' }] }));

  const registered = await cli('client', 'register', '--name', 'HIS', '--kind', 'HOSPITAL', '--org', ORG, '--jwks', jwksFile, '--scopes', 'system/Patient.rs', '--client-id', 'his-live');
  expect(registered).toMatchObject({ code: 0 });
  expect(registered.stdout).toContain('client id:      his-live');
  if (!POSTGRES) expect(registered.stderr).toContain(`The server (pid ${server.child.pid}, http://127.0.0.1:${port}) holds the embedded database: going through its admin API.`);
  else expect(fs.existsSync(lockFile())).toBe(false);

  tokenFor = async (clientId: string) => {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`http://localhost:${port}/auth/token`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey);
    const res = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    return { status: res.status, body: (await res.json()) as { access_token?: string; scope?: string; error_description?: string } };
  };
  const token = await tokenFor('his-live');
  expect(token).toMatchObject({ status: 200, body: { scope: 'system/Patient.rs' } });
  expect((await fhir('Patient?_count=1', token.body.access_token)).status).toBe(200);

  const listed = await cli('client', 'list', '--active');
  expect(listed.stdout).toContain('his-live  active    HOSPITAL  HIS  [330326000000]');
});

test('`npm run import` while the server runs: the server sees the data at once, and it is still there after a restart', async () => {
  const value = `MRN-${randomUUID().slice(0, 8)}`;
  const patient = `urn:uuid:${randomUUID()}`;
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: patient, resource: { resourceType: 'Patient', identifier: [{ system: MRN, value }], name: [{ family: '林', given: ['小芳'] }], gender: 'female', birthDate: '1961-04-05' }, request: { method: 'POST', url: 'Patient' } },
      {
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
          subject: { reference: patient },
          effectiveDateTime: '2024-05-01T08:00:00Z',
          valueQuantity: { value: 152, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
  const file = path.join(tmp, 'bundle.json');
  fs.writeFileSync(file, JSON.stringify(bundle));
  const before = await patientCount();

  const imported = await cli('import', file);
  expect(imported.stderr).not.toContain('Error');
  expect(imported.code).toBe(0);
  expect(imported.stderr).toContain(POSTGRES ? 'Importing into PostgreSQL (DATABASE_URL)' : `Importing into the server that holds the embedded database (pid ${server.child.pid}, http://127.0.0.1:${port}), through POST /fhir`);
  expect(imported.stdout).toMatch(/Imported 1 file \(1 Bundles\) in [\d.]+ s: 2 resources/);
  expect(imported.stdout).toMatch(/Observation +1 +0 +0 +0/);
  expect(imported.stdout).toMatch(/Patient +1 +0 +0 +0/);

  // Seen by the running server at once.
  expect(await patientsByMrn(value)).toBe(1);
  expect(await patientCount()).toBe(before! + 1);
  const id = (await fhir(`Patient?identifier=${encodeURIComponent(`${MRN}|${value}`)}`)).body.entry![0]!.resource.id;
  expect((await fhir(`Observation?subject=Patient/${id}`)).body.total).toBe(1);

  // A restart: the lock goes with the server, and everything is still there.
  await server.stop();
  expect(fs.existsSync(lockFile())).toBe(false);
  await start();
  expect(await patientsByMrn(value)).toBe(1);
  expect(await patientCount()).toBe(before! + 1);
  expect((await fhir(`Observation?subject=Patient/${id}`)).body.total).toBe(1);
  // … and so is the client registered before.
  expect((await tokenFor('his-live')).status).toBe(200);
}, 180_000);
