import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';

/**
 * The embedded database (PGlite) lives inside one process: a second process opening the same data directory
 * works on its own copy of it, so what it writes is never seen by the first and is lost — or it damages the
 * files for both (`RuntimeError: Aborted()` at the next start). So whoever opens an embedded data directory
 * (the server, a CLI command) first takes this lock: a file `<data dir>.lock` created exclusively, naming its
 * holder. A second opener is refused with a message saying who holds it and what to do instead; a running
 * server also writes where it listens, so that `npm run import` and `npm run client` can go through it.
 *
 * A lock whose process is gone (killed, crashed) is stale and taken over. A real PostgreSQL server
 * (DATABASE_URL) needs none of this, nor does an in-memory database.
 */

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Who holds it: `the NCD Gateway server`, `npm run import`, … */
  owner: string;
  started: string;
  /** A server, once it listens: where the command-line tools reach it, and how to mint a token it accepts. */
  server?: ServerAdvert;
  /** Tells this lock from an earlier one of the same process id. */
  nonce: string;
}

export interface ServerAdvert {
  /** Base URL on this machine (`http://127.0.0.1:<port>`). */
  url: string;
  publicUrl: string;
  /** Issuer and audience of the tokens the server accepts from itself. */
  issuer: string;
  audience: string;
  /** Where its development keys are, unless they came from SIGNING_KEY_JWK. */
  keysDir?: string;
  /** Whether it accepts development tokens (never in production). */
  devTokens: boolean;
}

export const SERVER_OWNER = 'the NCD Gateway server';

export class EmbeddedDatabaseInUseError extends Error {
  constructor(
    message: string,
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holder: LockHolder,
  ) {
    super(message);
    this.name = 'EmbeddedDatabaseInUseError';
  }
}

export const lockFileOf = (dataDir: string) => `${path.resolve(dataDir)}.lock`;

/** Locks this process holds, by lock file: released at exit, and a second open in this process is refused too. */
const held = new Map<string, EmbeddedLock>();
let exitHook = false;

export class EmbeddedLock {
  private released = false;

  constructor(
    readonly dataDir: string,
    readonly file: string,
    private holder: LockHolder,
  ) {}

  get info(): LockHolder {
    return this.holder;
  }

  /** A server says where it listens, once it does (written atomically: readers see the old or the new file). */
  advertise(server: ServerAdvert): void {
    if (this.released || !this.ours()) return;
    this.holder = { ...this.holder, server };
    const tmp = `${this.file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.holder, null, 2) + '\n');
    fs.renameSync(tmp, this.file);
  }

  /** Removes the lock file if it is still this lock's. Idempotent; synchronous, so that it also runs at exit. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.file);
    try {
      if (this.ours()) fs.unlinkSync(this.file);
    } catch {
      // gone already
    }
  }

  private ours(): boolean {
    return readHolder(this.file)?.nonce === this.holder.nonce;
  }
}

function readHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return typeof holder?.pid === 'number' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder's process still runs (a lock of another machine, sharing the folder, is taken as live). */
function alive(holder: LockHolder, file: string): boolean {
  if (holder.hostname !== os.hostname()) return true;
  // Our own pid: live only if this process really holds it (a container restarted keeps its pid 1).
  if (holder.pid === process.pid) return held.get(file)?.info.nonce === holder.nonce;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds the lock on this data directory now, if anyone (stale locks are nobody). */
export function currentHolder(dataDir: string): LockHolder | undefined {
  const file = lockFileOf(dataDir);
  const holder = readHolder(file);
  return holder && alive(holder, file) ? holder : undefined;
}

/** The refusal a second opener gets: who holds the database, and what to do instead. */
export function inUseMessage(dataDir: string, holder: LockHolder, file = lockFileOf(dataDir)): string {
  const where = [`pid ${holder.pid}`, ...(holder.hostname !== os.hostname() ? [`on ${holder.hostname}`] : []), ...(holder.server ? [holder.server.url] : []), `since ${holder.started}`];
  const isServer = holder.owner === SERVER_OWNER;
  const stop = isServer ? 'Stop the server first' : `Wait for ${holder.owner} to finish (or stop it)`;
  return [
    `The embedded database ${dataDir} is in use by ${holder.owner} (${where.join(', ')}).`,
    `PGlite runs inside one process: a second one would write into its own copy of the database and lose the data, or damage it.`,
    `${stop}, or point both at a PostgreSQL server with DATABASE_URL.`,
    isServer
      ? holder.server
        ? '`npm run import` and `npm run client` go through a running development server by themselves; this command cannot.'
        : 'The server is still starting (it has not said where it listens yet): `npm run import` and `npm run client` go through it once it does.'
      : '',
    `(Lock file: ${file}${holder.hostname !== os.hostname() ? `; delete it only if ${holder.hostname} no longer runs pid ${holder.pid}` : ''}.)`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Creates the lock file with its content in one step: it appears complete or not at all. */
function create(file: string, holder: LockHolder): boolean {
  const text = JSON.stringify(holder, null, 2) + '\n';
  const tmp = `${file}.${process.pid}.${holder.nonce.slice(0, 8)}.tmp`;
  fs.writeFileSync(tmp, text);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create, written right after.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const GUARD_STALE_MS = 10_000;

/**
 * Removes a stale lock, under a guard file so that two openers finding the same stale lock cannot both
 * remove it (the second would remove the first one's fresh lock).
 */
async function removeStale(file: string, stale: LockHolder | undefined): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    fs.writeFileSync(guard, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > GUARD_STALE_MS) fs.rmSync(guard, { force: true });
    } catch {
      // removed meanwhile
    }
    await sleep(50);
    return;
  }
  try {
    const now = readHolder(file);
    if ((now && now.nonce === stale?.nonce) || (!now && !stale)) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/**
 * Takes the lock on an embedded data directory for this process, or refuses with EmbeddedDatabaseInUseError.
 * Released by `release()` (the ORM's close does it) or, at the latest, when the process exits.
 */
export async function acquireEmbeddedLock(dataDir: string, owner: string): Promise<EmbeddedLock> {
  const dir = path.resolve(dataDir);
  const file = lockFileOf(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const holder: LockHolder = { pid: process.pid, hostname: os.hostname(), owner, started: new Date().toISOString(), nonce: randomUUID() };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (create(file, holder)) {
      const lock = new EmbeddedLock(dir, file, holder);
      held.set(file, lock);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => [...held.values()].forEach((l) => l.release()));
      }
      return lock;
    }
    const current = readHolder(file);
    if (current && alive(current, file)) {
      throw new EmbeddedDatabaseInUseError(inUseMessage(dir, current, file), dir, file, current);
    }
    if (!current) {
      // Unreadable: being written by an opener on a file system without hard links, or left half-written.
      let age = Infinity;
      try {
        age = Date.now() - fs.statSync(file).mtimeMs;
      } catch {
        continue; // gone: try again
      }
      if (age < 2000) {
        await sleep(100);
        continue;
      }
    }
    await removeStale(file, current);
  }
  throw new Error(`could not take the lock ${file} on the embedded database ${dir}: it keeps changing hands`);
}

/** Who a command line opening the database is, for the refusal others get: the server, or `npm run <command>`. */
export function ownerOfThisProcess(): string {
  const script = path.basename(process.argv[1] ?? '').replace(/\.[cm]?[jt]s$/, '');
  if (script === 'main' || script === '') return SERVER_OWNER;
  if (path.basename(path.dirname(process.argv[1] ?? '')) === 'cli') return `npm run ${script}`;
  return `${script} (${process.argv.slice(1, 3).map((a) => path.basename(a)).join(' ')})`;
}

/** What a listening server writes into its lock: enough for a command-line tool on this machine to reach it. */
export function serverAdvert(config: Config, port: number): ServerAdvert {
  return {
    url: `http://127.0.0.1:${port}`,
    publicUrl: config.auth.publicUrl,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    keysDir: config.auth.signingKeyJwk ? undefined : config.keysDir,
    devTokens: config.auth.devTokens,
  };
}
