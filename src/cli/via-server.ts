/**
 * The embedded database is one process at a time (src/db/embedded-lock.ts). When a running development
 * server holds it, `npm run import` and `npm run client` go through that server's API instead of opening the
 * database themselves: with a platform-administrator development token minted here with the local keys (as
 * `npm run token` does), for the issuer and audience the server advertised in its lock.
 */
import { createSecurity } from '../access/index.js';
import type { Config } from '../config.js';
import { currentHolder, type LockHolder, SERVER_OWNER, type ServerAdvert } from '../db/embedded-lock.js';

export class ServerRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ServerRequestError';
  }
}

export interface RunningServer {
  holder: LockHolder;
  server: ServerAdvert;
  /** `pid 1234, http://127.0.0.1:4000`, for messages. */
  describe: string;
  /** A fetch against the server, with the command's bearer token; refusals of the token itself throw. */
  fetch(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Response>;
}

/** Header values the server keeps as the request id of its audit record (x-request-id). */
export const requestId = (text: string) => text.replace(/[^A-Za-z0-9._:@/+=-]/g, '_').slice(0, 200);

/**
 * The server that holds this configuration's embedded database and can be gone through, if there is one
 * (nothing for DATABASE_URL or an in-memory database, or when the database is free: then the command opens it).
 * A holder that cannot be gone through (another command, a server still starting or in production) is left
 * for openDatabase to refuse with its message.
 */
export async function runningServer(config: Config, subject: string, roles: string[] = ['PLATFORM_ADMIN']): Promise<RunningServer | undefined> {
  if (config.databaseUrl || config.embeddedDataDir === 'memory://') return undefined;
  const holder = currentHolder(config.embeddedDataDir);
  const server = holder?.owner === SERVER_OWNER ? holder.server : undefined;
  if (!holder || !server || !server.devTokens) return undefined;
  // The token is checked by the server: its issuer, audience and (development) keys, not this shell's settings.
  const security = await createSecurity({
    ...config,
    keysDir: server.keysDir ?? config.keysDir,
    auth: { ...config.auth, issuer: server.issuer, audience: server.audience },
  });
  const describe = `pid ${holder.pid}, ${server.url}`;
  let token: { value: string; at: number } | undefined;
  const bearer = async () => {
    if (!token || Date.now() - token.at > 10 * 60_000) token = { value: await security.tokens.sign({ ncd_kind: 'user', roles }, subject, 3600), at: Date.now() };
    return token.value;
  };
  return {
    holder,
    server,
    describe,
    async fetch(path, init = {}) {
      let res: Response;
      try {
        res = await fetch(`${server.url}${path}`, { method: init.method ?? 'GET', body: init.body, headers: { ...init.headers, authorization: `Bearer ${await bearer()}` } });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new ServerRequestError(
          `The server that holds the embedded database ${config.embeddedDataDir} (${describe}) does not answer: ${cause?.code ?? cause?.message ?? (err as Error).message}. ` +
            'If it was stopped, run the command again.',
        );
      }
      if (res.status === 401) {
        const text = await res.text().catch(() => '');
        throw new ServerRequestError(
          `The server (${describe}) refused this command's development token (${summarise(text)}). Run the command with the server's key settings ` +
            '(KEYS_DIR, or SIGNING_KEY_JWK and AUTH_ISSUER / PUBLIC_URL as the server has them).',
          401,
        );
      }
      return res;
    },
  };
}

/** The gist of an error body: an OAuth-style message, an OperationOutcome's diagnostics, or the text. */
export function summarise(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; error_description?: string; issue?: Array<{ diagnostics?: string; code?: string }>; errors?: Array<{ message?: string }> };
    return body.message ?? body.error_description ?? body.issue?.map((i) => i.diagnostics ?? i.code).join('; ') ?? body.errors?.map((e) => e.message).join('; ') ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
