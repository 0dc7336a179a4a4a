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
 * embedded database is one process at a time: stop the server before registering clients against it.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { asInternal } from '../access/index.js';
import { ClientKind } from '../access/caller.js';
import { ClientRegistrationError, deactivateClient, listClients, registerClient } from '../access/smart/client-registry.js';
import { tokenEndpointUrl } from '../access/smart/token-endpoint.js';
import { loadConfig } from '../config.js';
import { type EntityManager, openDatabase } from '../db/orm.js';

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
  const orm = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir });
  try {
    return await work(asInternal(orm.em.fork() as EntityManager));
  } finally {
    await orm.close();
  }
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
  const client = await withDatabase((em) =>
    registerClient(em, {
      name: required(values.name as string | undefined, 'name'),
      kind: kind as ClientKind,
      organizationCode: required(values.org as string | undefined, 'org'),
      jwks,
      jwksUrl,
      scopes: required(values.scopes as string | undefined, 'scopes').split(/[\s,]+/),
      clientId: values['client-id'] as string | undefined,
    }),
  );
  console.log(`Registered ${client.kind} client "${client.name}" for ${client.organization.name} (${client.organization.code}).`);
  console.log(`  client id:      ${client.clientId}`);
  console.log(`  scopes:         ${client.scopes.join(' ')}`);
  console.log(`  token endpoint: ${tokenEndpointUrl(config)}`);
}

async function list(activeOnly: boolean): Promise<void> {
  const clients = await withDatabase((em) => listClients(em, { includeInactive: !activeOnly }));
  if (clients.length === 0) {
    console.log('No clients registered.');
    return;
  }
  for (const c of clients) {
    const keys = c.jwksUrl ? `jwks_uri ${c.jwksUrl}` : `${c.jwks?.keys.length ?? 0} key(s)`;
    console.log(`${c.clientId}  ${c.active ? 'active  ' : 'INACTIVE'}  ${c.kind.padEnd(8)}  ${c.name}  [${c.organization.code}]`);
    console.log(`    ${c.scopes.join(' ')}  · ${keys}  · registered ${c.createdAt.toISOString()}`);
  }
}

async function deactivate(clientId: string | undefined): Promise<void> {
  if (!clientId) throw new UsageError('deactivate needs the client id');
  const client = await withDatabase((em) => deactivateClient(em, clientId));
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
    else if (err instanceof ClientRegistrationError || err instanceof CliError) console.error(err.message);
    else if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`${err.message}\n${USAGE}`);
    else console.error(err);
    process.exit(1);
  },
);
