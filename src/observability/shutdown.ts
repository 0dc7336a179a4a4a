import type { Server } from 'node:http';
import type { Logger } from 'pino';

export interface ShutdownStep {
  /** Said in the log as the step begins: `stopping the event worker`. */
  name: string;
  run(): Promise<unknown>;
}

export interface ShutdownOptions {
  server: Server;
  log: Logger;
  /** How long in-flight requests may take (SHUTDOWN_TIMEOUT_MS); then their connections are closed. */
  timeoutMs: number;
  /** What runs once the HTTP server has closed, in order (the event worker, the app and its audit queue, the ORM). */
  steps: ShutdownStep[];
  /**
   * What runs first, as the server stops accepting connections: closing long-lived connections (the GraphQL
   * subscriptions' WebSockets), which no request ends and which would hold the server open until the timeout.
   */
  closing?: ShutdownStep[];
  exit?: (code: number) => void;
}

/**
 * What SIGTERM and SIGINT do: stop accepting connections, let the requests in flight finish (keep-alive connections
 * are closed as soon as they are idle, so a client's open connection does not hold the process), and after
 * `timeoutMs` close what is left; then the steps, each logged; exit 0. A second signal exits at once (1).
 */
export function gracefulShutdown({ server, log, timeoutMs, steps, closing = [], exit = (code) => process.exit(code) }: ShutdownOptions) {
  let started = false;
  return async (signal: NodeJS.Signals): Promise<void> => {
    if (started) {
      log.warn({ signal }, 'shutdown: second signal, exiting at once');
      return exit(1);
    }
    started = true;
    try {
      log.info({ signal, inFlightConnections: await connectionsOf(server), timeoutMs }, 'shutdown: no longer accepting connections; waiting for requests in flight');
      const closed = closeServer(server, timeoutMs, log);
      for (const step of closing) {
        log.info(`shutdown: ${step.name}`);
        await step.run();
      }
      await closed;
      log.info('shutdown: HTTP server closed');
      for (const step of steps) {
        log.info(`shutdown: ${step.name}`);
        await step.run();
      }
      log.info('shutdown: done');
      exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      exit(1);
    }
  };
}

const connectionsOf = (server: Server) => new Promise<number>((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));

async function closeServer(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve, reject) =>
    server.close((err) => (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve())),
  );
  server.closeIdleConnections();
  // A keep-alive connection turns idle when its response is sent: closed then, not at the end of its keep-alive timeout.
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  try {
    if ((await Promise.race([closed, late])) === 'late') {
      log.warn({ connections: await connectionsOf(server), timeoutMs }, 'shutdown: requests still in flight after the timeout; closing their connections');
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(idle);
    clearTimeout(timer);
  }
}
