import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditRecorder } from '../access/audit.js';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { Startup } from '../startup.js';
import type { RequestLabels } from './labels.js';
import { outboxLag, withTimeout } from './database.js';

/** What a scrape may wait for the database (the embedded one has one connection, which a long import holds). */
const SCRAPE_DATABASE_MS = 2000;

export interface MetricSources {
  config: Config;
  orm: Orm;
  startup: Startup;
  /** The audit recorder: its `queued` rows (group commit). */
  audit: Pick<AuditRecorder, 'queued'>;
  log: Logger;
}

/** The pool MikroORM's PostgreSQL driver keeps (pg's Pool): its sizes, read at scrape time. */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

const isPgPool = (pool: unknown): pool is PgPool => typeof (pool as PgPool | undefined)?.totalCount === 'number';

/**
 * The service's metrics, one registry per app (tests build several apps in one process). Request metrics are
 * observed as responses finish; the pool, the audit queue and the outbox lag are read when Prometheus scrapes.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'operation' | 'status'>;
  private readonly durations: Histogram<'api' | 'operation'>;

  constructor(private readonly sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'ncd_http_requests_total',
      help: 'HTTP requests answered, by API, operation (GraphQL operation name, FHIR interaction, route) and status code.',
      labelNames: ['api', 'operation', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'ncd_http_request_duration_seconds',
      help: 'Time from a request arriving to its response finishing, by API and operation.',
      labelNames: ['api', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Gauge({
      name: 'ncd_db_pool_connections',
      help: 'Database connections by state: open (total), idle, and requests waiting for one. Embedded: its one in-process connection.',
      labelNames: ['database', 'state'],
      registers,
      collect: async function () {
        const pool = await poolOf(sources.orm);
        if (isPgPool(pool)) {
          this.set({ database: 'postgresql', state: 'total' }, pool.totalCount);
          this.set({ database: 'postgresql', state: 'idle' }, pool.idleCount);
          this.set({ database: 'postgresql', state: 'waiting' }, pool.waitingCount);
        } else this.set({ database: 'embedded', state: 'total' }, 1);
      },
    });
    new Gauge({
      name: 'ncd_db_pool_max',
      help: 'The most connections the pool opens.',
      labelNames: ['database'],
      registers,
      collect: async function () {
        const pool = await poolOf(sources.orm);
        if (isPgPool(pool)) this.set({ database: 'postgresql' }, pool.options?.max ?? 10);
        else this.set({ database: 'embedded' }, 1);
      },
    });
    new Gauge({
      name: 'ncd_audit_queue_depth',
      help: 'Audit rows waiting to be written (group commit); their responses wait with them.',
      registers,
      collect() {
        this.set(sources.audit.queued);
      },
    });
    new Gauge({
      name: 'ncd_event_consumer_lag_events',
      help: 'Domain events in the outbox past each consumer: the newest event id minus the consumer position.',
      labelNames: ['consumer'],
      registers,
      collect: async function () {
        // While the demo county is seeded the embedded database's one connection is in that transaction: not waited on.
        if (sources.startup.databaseBusy) return;
        try {
          const lag = await withTimeout(outboxLag(sources.orm, sources.config), SCRAPE_DATABASE_MS, 'the outbox lag query');
          this.reset();
          for (const [consumer, events] of Object.entries(lag)) this.set({ consumer }, events);
        } catch (err) {
          this.reset();
          sources.log.warn({ err }, 'metrics: the outbox lag could not be read');
        }
      },
    });
  }

  /** Called once per response, when it has finished. */
  observe(labels: RequestLabels, status: number | 'aborted', seconds: number): void {
    this.requests.inc({ ...labels, status: String(status) });
    this.durations.observe(labels, seconds);
  }

  /**
   * `/metrics`. The metrics hold no patient data, only counts and timings, so they are open unless METRICS_TOKEN
   * is set; then a scraper sends it as a bearer token (Prometheus's `authorization` setting).
   */
  handler() {
    const token = this.sources.config.observability.metricsToken;
    const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
    return async (req: Request, res: Response) => {
      if (expected) {
        const given = Buffer.from(req.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').json({ error: 'unauthenticated', message: 'METRICS_TOKEN is set: send it as Authorization: Bearer <token>' });
          return;
        }
      }
      res.set('Content-Type', this.registry.contentType).send(await this.registry.metrics());
    };
  }
}

/**
 * PostgreSQL: pg's Pool, which MikroORM's connection hands out as its native client. The embedded database has no
 * pool: PGlite is one in-process connection (kysely queues the queries on it), its native client that instance.
 */
const poolOf = (orm: Orm): Promise<unknown> => orm.driver.getConnection().getNativeClient();
