import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { Startup } from '../startup.js';
import { outboxLag, pendingMigrations, ping, withTimeout } from './database.js';

/** What a readiness probe waits for the database, per statement: longer, and the probe itself times out instead of saying why. */
const PROBE_DATABASE_MS = 2000;

export interface HealthSources {
  config: Config;
  orm: Orm;
  startup: Startup;
}

interface Check {
  ok: boolean;
  [detail: string]: unknown;
}

const failed = (err: unknown): Check => ({ ok: false, error: err instanceof Error ? err.message : String(err) });

/**
 * `/healthz` (and `/health`): liveness. The process is up and its event loop answers; the database is not asked,
 * so a database outage makes the service unready, not restarted. Says what start-up is doing.
 */
export function healthz({ startup }: HealthSources) {
  return (_req: Request, res: Response) => {
    res.json({ status: 'ok', ...startup.state() });
  };
}

/**
 * `/readyz` (and `/ready`): readiness, 503 until every check passes — start-up done (the demo county prepared),
 * the database answering, every migration of this build recorded as executed, and, where this process runs the
 * event consumers, none more than READY_MAX_EVENT_LAG events behind the outbox. The body says what was checked.
 */
export function readyz({ config, orm, startup }: HealthSources) {
  const maxLag = config.observability.readyMaxEventLag;
  return async (_req: Request, res: Response) => {
    const state = startup.state();
    const checks: Record<string, Check> = { startup: { ok: state.ready, phase: state.phase, ...(state.error ? { error: state.error } : {}) } };
    if (startup.databaseBusy) {
      // Seeding holds the embedded database's one connection in a single transaction: a probe would only queue behind it.
      checks.database = { ok: false, skipped: 'the demo county is being seeded' };
    } else {
      const started = performance.now();
      checks.database = await withTimeout(ping(orm), PROBE_DATABASE_MS, 'the database')
        .then(() => ({ ok: true, ms: Math.round(performance.now() - started) }))
        .catch(failed);
      if (checks.database.ok) {
        checks.migrations = await withTimeout(pendingMigrations(orm), PROBE_DATABASE_MS, 'the migrations table')
          .then((pending) => ({ ok: pending.length === 0, pending }))
          .catch(failed);
        checks.events = config.eventWorker
          ? await withTimeout(outboxLag(orm, config), PROBE_DATABASE_MS, 'the outbox')
              .then((lag) => ({ ok: Object.values(lag).every((n) => n <= maxLag), maxLag, lag }))
              .catch(failed)
          : { ok: true, skipped: 'EVENT_WORKER=off: the consumers run in a process of their own' };
      }
    }
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ready, phase: state.phase, uptimeSeconds: state.uptimeSeconds, checks });
  };
}
