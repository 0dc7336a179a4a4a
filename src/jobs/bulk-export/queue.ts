import { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Security } from '../../access/index.js';
import type { Config } from '../../config.js';
import type { Orm } from '../../db/orm.js';
import { removeExpiredJobs, unfinishedExportJobs } from './jobs.js';
import { serverUrlOf } from './database.js';
import { ExportInterrupted, runBulkExport, type RunBulkExportOptions } from './run.js';

/**
 * Who carries out export jobs. One job model (bulk_export rows) and one job function (runBulkExport) on both
 * databases; only the queue differs (STACK.md):
 *  - PostgreSQL: pg-boss (its own pool and schema `pgboss`). The server, or `npm run worker`, works the queue; a
 *    job whose process stopped is retried (an interrupted run fails its pg-boss job, which is retried; a process that
 *    died stops its heartbeat) and resumes from its checkpoint. With BULK_EXPORT_WORKER=off the server only sends.
 *  - Embedded PGlite: one in-process session, no TCP, so no pg-boss: an in-process runner takes jobs one at a time,
 *    and at start re-takes every job left accepted or in progress.
 */
export interface ExportRunner {
  /** A job was accepted: run it here, or send it to whoever works the queue. */
  enqueue(jobId: string): Promise<void>;
  /** At process start: with the worker on, re-take unfinished jobs (and remove expired ones). */
  start(): Promise<void>;
  /** Stops the job under way between two pages (it stays in progress, to be resumed) and waits for it. */
  stop(): Promise<void>;
}

export interface ExportRunnerOptions {
  /** Whether this process carries jobs out (config.bulkExport.worker), or only accepts them. */
  work: boolean;
  logger?: Logger;
  /** Passed to every run (tests: a page size, a hook). */
  run?: Omit<RunBulkExportOptions, 'signal' | 'logger'>;
}

export const BULK_EXPORT_QUEUE = 'bulk-export';
const HOUR = 3_600_000;

export function exportRunnerFor(orm: Orm, security: Security, config: Config, options: ExportRunnerOptions): ExportRunner {
  return serverUrlOf(orm) ? new PgBossExportRunner(orm, security, config, options) : new InProcessExportRunner(orm, security, config, options);
}

/** The embedded database's runner: jobs in this process, one at a time, in the order accepted. */
export class InProcessExportRunner implements ExportRunner {
  private readonly queue: string[] = [];
  private running?: Promise<void>;
  private readonly abort = new AbortController();
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly orm: Orm,
    private readonly security: Security,
    private readonly config: Config,
    private readonly options: ExportRunnerOptions,
  ) {}

  async start(): Promise<void> {
    if (!this.options.work) return;
    for (const id of await unfinishedExportJobs(this.orm)) this.push(id);
    await removeExpiredJobs(this.orm, this.config.bulkExport);
    this.sweep = setInterval(() => void removeExpiredJobs(this.orm, this.config.bulkExport).catch(() => {}), HOUR);
    this.sweep.unref();
  }

  async enqueue(jobId: string): Promise<void> {
    if (this.options.work) this.push(jobId);
  }

  private push(id: string): void {
    if (this.abort.signal.aborted || this.queue.includes(id)) return;
    this.queue.push(id);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    for (let id = this.queue.shift(); id && !this.abort.signal.aborted; id = this.queue.shift()) {
      try {
        await runBulkExport(this.orm, this.security, this.config, id, { ...this.options.run, signal: this.abort.signal, logger: this.options.logger });
      } catch (err) {
        if (!(err instanceof ExportInterrupted)) this.options.logger?.error({ err, jobId: id }, 'bulk export job stopped; it is taken again at the next start');
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.sweep);
    await this.running;
  }
}

/** PostgreSQL's runner: pg-boss, started when first needed (a job sent, or unfinished jobs found at start). */
export class PgBossExportRunner implements ExportRunner {
  private boss?: Promise<PgBoss>;
  private readonly abort = new AbortController();
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly orm: Orm,
    private readonly security: Security,
    private readonly config: Config,
    private readonly options: ExportRunnerOptions,
  ) {}

  /** `npm run worker`: works the queue whether or not a job is waiting now. */
  async startWorking(): Promise<void> {
    await this.started();
  }

  async start(): Promise<void> {
    if (!this.options.work) return;
    const unfinished = await unfinishedExportJobs(this.orm);
    if (unfinished.length) {
      // A job whose row was stored but never sent (the process died between the two, or send failed), or whose
      // pg-boss job has run out of retries, is sent again: otherwise its status would say 202 for ever.
      const boss = await this.started();
      for (const jobId of unfinished) {
        const live = (await boss.findJobs(BULK_EXPORT_QUEUE, { key: jobId })).some((j) => j.state === 'created' || j.state === 'retry' || j.state === 'active');
        if (!live) await boss.send(BULK_EXPORT_QUEUE, { jobId }, { singletonKey: jobId });
      }
    }
    await removeExpiredJobs(this.orm, this.config.bulkExport);
    this.sweep = setInterval(() => void removeExpiredJobs(this.orm, this.config.bulkExport).catch(() => {}), HOUR);
    this.sweep.unref();
  }

  async enqueue(jobId: string): Promise<void> {
    const boss = await this.started();
    await boss.send(BULK_EXPORT_QUEUE, { jobId }, { singletonKey: jobId });
  }

  private started(): Promise<PgBoss> {
    this.boss ??= (async () => {
      const boss = new PgBoss({ connectionString: serverUrlOf(this.orm)!, schema: 'pgboss', max: 4 });
      boss.on('error', (err: unknown) => this.options.logger?.error({ err }, 'pg-boss error'));
      await boss.start();
      // Retried after an interrupted run or a lost worker (no heartbeat for 30 s); each retry resumes from the checkpoint.
      if (!(await boss.getQueue(BULK_EXPORT_QUEUE))) {
        await boss.createQueue(BULK_EXPORT_QUEUE, { retryLimit: 20, retryDelay: 1, heartbeatSeconds: 30, expireInSeconds: 12 * 3600 });
      }
      if (this.options.work) {
        await boss.work<{ jobId: string }>(BULK_EXPORT_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
          if (this.abort.signal.aborted) throw new ExportInterrupted(job!.data.jobId);
          await runBulkExport(this.orm, this.security, this.config, job!.data.jobId, { ...this.options.run, signal: this.abort.signal, logger: this.options.logger });
        });
      }
      return boss;
    })();
    return this.boss;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.sweep);
    if (!this.boss) return;
    const boss = await this.boss.catch(() => undefined);
    await boss?.stop({ graceful: true, timeout: 15_000 });
  }
}
