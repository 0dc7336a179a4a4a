/**
 * SMART Backend Services clients (hospital systems, insurers):
 *
 *   npm run client -- register --name "县人民医院 HIS" --kind HOSPITAL --org <org code> \
 *                      --jwks ./client/public-jwks.json --scopes "system/Patient.rs system/Observation.cruds"
 *                      [--jwks-url https://his.example/jwks.json instead of --jwks] [--client-id <id>]
 *   npm run client -- list [--active]
 *   npm run client -- deactivate <clientId>
 *   npm run client -- keygen [--alg ES384|RS384] [--out ./client]     (no database needed)
 *   npm run client -- assertion --key ./client/private-jwk.json --client-id <id>   (prints a client assertion)
 *
 * Works on the configured database: DATABASE_URL, otherwise the embedded one at EMBEDDED_DATA_DIR. The
 * embedded database is one process at a time (src/db/embedded-lock.ts): while a development server holds it,
 * register, list and deactivate go through that server's admin API (/admin/clients) instead, so that the
 * server sees the client at once; the command says which way it went.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { asInternal } from '../access/index.js';
import { ClientKind } from '../access/caller.js';
import { ClientRegistrationError, clientView, type ClientView, deactivateClient, listClients, registerClient, type RegisterClientInput } from '../access/smart/client-registry.js';
import { tokenEndpointUrl } from '../access/smart/token-endpoint.js';
import { loadConfig } from '../config.js';
import { type EntityManager, openDatabase } from '../db/orm.js';
import { EmbeddedDatabaseInUseError } from '../db/embedded-lock.js';
import { type RunningServer, requestId, runningServer, ServerRequestError, summarise } from './via-server.js';

const USAGE = `usage:
  npm run client -- register --name <name> --kind HOSPITAL|INSURER --org <organisation code>
                     (--jwks <public JWKS file> | --jwks-url <https URL>) --scopes "<scope> <scope> …" [--client-id <id>]
  npm run client -- list [--active]
  npm run client -- deactivate <clientId>
  npm run client -- keygen [--alg ES384|RS384] [--out <directory>]
  npm run client -- assertion --key <private JWK file> --client-id <id> [--aud <token URL>]`;

class UsageError extends Error {}
/** A refusal that needs no usage text. */
class CliError extends Error {}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`--${flag} is required`);
  return value;
}

async function withDatabase<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir, owner: 'npm run client' });
  try {
    return await work(asInternal(orm.em.fork() as EntityManager));
  } finally {
    await orm.close();
  }
}

/**
 * Runs a client command on the database, or — while a development server holds the embedded database — as a
 * request to that server's admin API.
 */
async function viaServerOrDatabase<T>(local: (em: EntityManager) => Promise<T>, remote: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await runningServer(loadConfig(), 'ncd-cli-client');
  if (!server) return withDatabase(local);
  console.error(`The server (${server.describe}) holds the embedded database: going through its admin API.`);
  return remote(server);
}

/** An admin API answer: the body of a success, a ClientRegistrationError for a refusal the server explains. */
async function adminCall<T>(server: RunningServer, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await server.fetch(path, {
    method: init.method,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId(`cli-client:${process.pid}:${Date.now()}`) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (res.status === 400) throw new ClientRegistrationError(summarise(text));
  if (!res.ok) throw new ServerRequestError(`The server (${server.describe}) answered ${path} with HTTP ${res.status}: ${summarise(text)}`, res.status);
  return JSON.parse(text) as T;
}

async function register(values: Record<string, string | boolean | undefined>): Promise<void> {
  const kind = required(values.kind as string | undefined, 'kind').toUpperCase();
  if (!(Object.values(ClientKind) as string[]).includes(kind)) throw new UsageError(`--kind must be ${Object.values(ClientKind).join(' or ')}`);
  const jwksFile = values.jwks as string | undefined;
  const jwksUrl = values['jwks-url'] as string | undefined;
  if (!jwksFile && !jwksUrl) throw new UsageError('--jwks <file> or --jwks-url <URL> is required');
  let jwks: { keys: Record<string, unknown>[] } | undefined;
  if (jwksFile) {
    try {
      jwks = JSON.parse(fs.readFileSync(jwksFile, 'utf8'));
    } catch (err) {
      throw new ClientRegistrationError(`cannot read the key set ${jwksFile}: ${(err as Error).message}`);
    }
  }
  const config = loadConfig();
  const input: RegisterClientInput = {
    name: required(values.name as string | undefined, 'name'),
    kind: kind as ClientKind,
    organizationCode: required(values.org as string | undefined, 'org'),
    jwks,
    jwksUrl,
    scopes: required(values.scopes as string | undefined, 'scopes').split(/[\s,]+/),
    clientId: values['client-id'] as string | undefined,
  };
  const client = await viaServerOrDatabase(
    async (em) => clientView(await registerClient(em, input)),
    async (server) => (await adminCall<{ client: ClientView }>(server, '/admin/clients', { method: 'POST', body: input })).client,
  );
  console.log(`Registered ${client.kind} client "${client.name}" for ${client.organization.name} (${client.organization.code}).`);
  console.log(`  client id:      ${client.clientId}`);
  console.log(`  scopes:         ${client.scopes.join(' ')}`);
  console.log(`  token endpoint: ${tokenEndpointUrl(config)}`);
}

async function list(activeOnly: boolean): Promise<void> {
  const clients = await viaServerOrDatabase(
    async (em) => (await listClients(em, { includeInactive: !activeOnly })).map(clientView),
    async (server) => (await adminCall<{ clients: ClientView[] }>(server, `/admin/clients${activeOnly ? '?active=true' : ''}`)).clients,
  );
  if (clients.length === 0) {
    console.log('No clients registered.');
    return;
  }
  for (const c of clients) {
    const keys = c.jwksUrl ? `jwks_uri ${c.jwksUrl}` : `${c.keys} key(s)`;
    console.log(`${c.clientId}  ${c.active ? 'active  ' : 'INACTIVE'}  ${c.kind.padEnd(8)}  ${c.name}  [${c.organization.code}]`);
    console.log(`    ${c.scopes.join(' ')}  · ${keys}  · registered ${c.createdAt}`);
  }
}

async function deactivate(clientId: string | undefined): Promise<void> {
  if (!clientId) throw new UsageError('deactivate needs the client id');
  const id = clientId;
  const client = await viaServerOrDatabase(
    async (em) => clientView(await deactivateClient(em, id)),
    async (server) => (await adminCall<{ client: ClientView }>(server, `/admin/clients/${encodeURIComponent(id)}/deactivate`, { method: 'POST' })).client,
  );
  console.log(`Deactivated client ${client.clientId} ("${client.name}"); its tokens are no longer accepted.`);
}

/** A key pair for trying the token endpoint out: the private JWK stays with the client, the JWKS is registered. */
async function keygen(alg: string, out: string): Promise<void> {
  if (alg !== 'ES384' && alg !== 'RS384') throw new UsageError('--alg must be ES384 or RS384');
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS384' ? { modulusLength: 2048 } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const jwks = { keys: [{ ...publicJwk, kid, alg, use: 'sig' }] };
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const privateFile = path.join(out, 'private-jwk.json');
  const publicFile = path.join(out, 'public-jwks.json');
  if (fs.existsSync(privateFile)) throw new CliError(`${privateFile} exists; not overwriting a private key`);
  fs.writeFileSync(privateFile, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600 });
  fs.writeFileSync(publicFile, JSON.stringify(jwks, null, 2) + '\n');
  console.log(`${alg} key pair (kid ${kid}):`);
  console.log(`  private JWK (keep secret): ${privateFile}`);
  console.log(`  public JWKS (register it): ${publicFile}`);
}

/** Prints a signed client assertion (valid 2 minutes), e.g. for curl against the token endpoint. */
async function assertion(keyFile: string, clientId: string, aud: string | undefined): Promise<void> {
  const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as JWK;
  const alg = jwk.alg ?? (jwk.kty === 'RSA' ? 'RS384' : 'ES384');
  const key = await importJWK(jwk, alg);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud ?? tokenEndpointUrl(loadConfig()))
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key);
  console.log(token);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      kind: { type: 'string' },
      org: { type: 'string' },
      jwks: { type: 'string' },
      'jwks-url': { type: 'string' },
      scopes: { type: 'string' },
      'client-id': { type: 'string' },
      active: { type: 'boolean', default: false },
      alg: { type: 'string', default: 'ES384' },
      out: { type: 'string', default: './client' },
      key: { type: 'string' },
      aud: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  switch (command) {
    case 'register':
      await register(values);
      return 0;
    case 'list':
      await list(values.active);
      return 0;
    case 'deactivate':
      await deactivate(rest[0]);
      return 0;
    case 'keygen':
      await keygen(values.alg, values.out);
      return 0;
    case 'assertion':
      await assertion(required(values.key, 'key'), required(values['client-id'], 'client-id'), values.aud);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`${err.message}\n${USAGE}`);
    else if (err instanceof ClientRegistrationError || err instanceof CliError || err instanceof EmbeddedDatabaseInUseError || err instanceof ServerRequestError) console.error(err.message);
    else if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`${err.message}\n${USAGE}`);
    else console.error(err);
    process.exit(1);
  },
);
