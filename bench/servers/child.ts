/**
 * Every server under test runs as a child process of its own, so that each one's peak memory is its own (VmHWM
 * of /proc/<pid>/status) and the load generator in the parent does not share its event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const LOG_DIR = path.resolve('data/bench-logs');

export interface Child {
  name: string;
  pid: number;
  baseUrl: string;
  /** Peak resident set size so far, in MB (null where /proc is not there). */
  peakMemoryMb(): number | null;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function vmHwmMb(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Math.round(Number(kb[1]) / 1024) : null;
  } catch {
    return null;
  }
}

const tail = (file: string) => fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');

/**
 * Starts `node script` with `env` (PORT set to a free port) and waits until `ready(baseUrl)` says yes. The
 * child's output goes to data/bench-logs/<name>.log, shown when it dies or never becomes ready.
 */
export async function startChild(name: string, script: string, env: Record<string, string>, ready: (baseUrl: string) => Promise<boolean>): Promise<Child> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [script], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`${name} exited (code ${exited}) before it was ready; ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after 180 s; ${logFile}:\n${tail(logFile)}`);
    }
    if (await ready(baseUrl).catch(() => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    pid: child.pid!,
    baseUrl,
    peakMemoryMb: () => vmHwmMb(child.pid!),
    stop: async () => {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Readiness by a GraphQL request that must answer data. */
export const answersGraphql = (urlPath: string, headers: Record<string, string> = {}) => async (baseUrl: string) => {
  const res = await fetch(`${baseUrl}${urlPath}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ __typename }' }) });
  return res.ok && !!((await res.json()) as { data?: unknown }).data;
};
