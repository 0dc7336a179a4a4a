/**
 * Development tokens (never in production):
 *
 *   npm run token -- --role VILLAGE_DOCTOR --org <org code> [--practitioner <code>] [--ttl 3600] [--sub someone]
 *   npm run token -- --role PLATFORM_ADMIN
 *
 * Prints a bearer token signed with the service key (the one the server uses: SIGNING_KEY_JWK, or the
 * development key under KEYS_DIR / ./data/keys). Several roles: --role GENERAL_PRACTITIONER,SPECIALIST.
 * Only the token goes to stdout, so `TOKEN=$(npm run --silent token -- …)` works.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createSecurity } from '../access/index.js';
import { Role } from '../access/caller.js';
import { loadConfig } from '../config.js';

const USAGE = `usage: npm run token -- --role <${Object.values(Role).join('|')}>[,<role>…] [--org <organisation code>]
                        [--practitioner <practitioner code>] [--ttl <seconds, default 3600>] [--sub <subject>]`;

const MAX_TTL_SECONDS = 30 * 24 * 3600;

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values } = parseArgs({
    strict: true,
    options: {
      role: { type: 'string', short: 'r' },
      org: { type: 'string', short: 'o' },
      practitioner: { type: 'string', short: 'p' },
      ttl: { type: 'string' },
      sub: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const refused = 'Development tokens are disabled in production (NODE_ENV=production): users sign in through the identity provider.';
  // Checked before loading the configuration too: production configuration refuses to load without its keys.
  if (process.env.NODE_ENV === 'production') {
    console.error(refused);
    return 1;
  }
  const config = loadConfig();
  if (!config.auth.devTokens) {
    console.error(refused);
    return 1;
  }

  if (!values.role) throw new UsageError('--role is required');
  const roles = values.role.split(',').map((r) => r.trim().toUpperCase()).filter(Boolean);
  const unknown = roles.filter((r) => !(Object.values(Role) as string[]).includes(r));
  if (unknown.length || roles.length === 0) throw new UsageError(`unknown role ${unknown.join(', ') || '(none)'}; roles are ${Object.values(Role).join(', ')}`);
  if (!values.org && !roles.includes(Role.PLATFORM_ADMIN)) throw new UsageError('--org is required (every role but PLATFORM_ADMIN acts for an organisation)');
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) throw new UsageError(`--ttl must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS}`);
  const sub = values.sub ?? `dev-${roles[0]!.toLowerCase().replaceAll('_', '-')}${values.practitioner ? `-${values.practitioner}` : ''}`;

  if (!config.auth.signingKeyJwk && !config.keysDir) {
    console.error('Warning: no SIGNING_KEY_JWK and no KEYS_DIR (in-memory keys): no running server will accept this token.');
  }
  const security = await createSecurity(config);
  const token = await security.tokens.sign(
    {
      ncd_kind: 'user',
      roles,
      ...(values.org ? { org: values.org } : {}),
      ...(values.practitioner ? { practitioner: values.practitioner } : {}),
    },
    sub,
    ttl,
  );
  console.error(
    `Development token for ${sub}: ${roles.join(', ')}${values.org ? ` at ${values.org}` : ''}${values.practitioner ? `, practitioner ${values.practitioner}` : ''}; valid ${ttl} s.`,
  );
  console.error('Use it as: Authorization: Bearer <token>');
  console.log(token);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const parseError = err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || parseError) console.error(`${(err as Error).message}\n${USAGE}`);
    else console.error(err);
    process.exit(1);
  },
);
