import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The service compiled as `npm run build` compiles it, into a temporary folder (never over ./dist, which
 * others may be running), for tests that start the real server and the command-line tools as processes.
 * Type errors do not stop it (tsc --noCheck): the type check is `npm run typecheck`'s job.
 */
export interface Built {
  root: string;
  /** The path of a compiled entry point, e.g. `src/main.js`, `src/cli/import.js`. */
  script(relative: string): string;
  remove(): void;
}

const run = promisify(execFile);
/** The Node the project installs (the machine's own may be older than MikroORM needs). */
export const NODE = path.resolve('node_modules/.bin/node');

export async function buildService(): Promise<Built> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-built-'));
  // Module resolution and "type": "module" as in the repository.
  fs.symlinkSync(path.resolve('node_modules'), path.join(root, 'node_modules'), 'dir');
  fs.copyFileSync('package.json', path.join(root, 'package.json'));
  await run(NODE, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(root, 'dist'), '--sourceMap', 'false', '--noCheck'], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string }) => {
    // Emitted despite errors is fine; nothing emitted is not.
    if (!fs.existsSync(path.join(root, 'dist/src/main.js'))) throw new Error(`build failed:\n${err.stdout ?? err}`);
  });
  return {
    root,
    script: (relative) => path.join(root, 'dist', relative),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a compiled command to the end. */
export function runCommand(script: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [script, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, as Ctrl-C or a service manager stops it; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts the compiled server and waits until it is ready. */
export async function startServer(script: string, env: NodeJS.ProcessEnv, cwd: string, port: number, timeoutMs = 120_000): Promise<ServerProcess> {
  const child = spawn(NODE, [script], { env: { ...env, PORT: String(port) }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${output}`);
    try {
      // Ready: /ready where the server has it (it may listen before the demo county is prepared), else /health.
      const ready = await fetch(`${url}/ready`);
      if (ready.ok || (ready.status === 404 && (await fetch(`${url}/health`)).ok)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not answer within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, url, output: () => output, stop };
}
