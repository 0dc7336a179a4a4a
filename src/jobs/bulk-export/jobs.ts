import fs from 'node:fs';
import path from 'node:path';
import type { Caller } from '../../access/caller.js';
import { asInternal } from '../../access/index.js';
import type { BulkExportConfig } from '../../config.js';
import type { EntityManager, Orm } from '../../db/orm.js';
import { type BulkExportCheckpoint, type BulkExportFile, BulkExportJob, type BulkExportRequest, type BulkExportStatus } from './job.entity.js';

/**
 * The job rows (bulk_export): made at kick-off, moved on by the job (run.ts), read by the status and download
 * requests. Job bookkeeping, not patient data: read and written as the internal caller, and no content of the FHIR
 * store is read here.
 */

const internal = (orm: Orm) => asInternal(orm.em.fork() as EntityManager);

/** Columns as the job reads them (jsonb may come back as text from the embedded driver). */
interface JobRow {
  id: string;
  caller: Caller | string;
  request_url: string;
  params: BulkExportRequest | string;
  status: BulkExportStatus;
  written: number;
  output: BulkExportFile[] | string;
  checkpoint: BulkExportCheckpoint | string | null;
  error: string | null;
  transaction_time: Date | string;
  expires_at: Date | string | null;
  attempts: number;
}

export interface ExportJob {
  id: string;
  caller: Caller;
  requestUrl: string;
  params: BulkExportRequest;
  status: BulkExportStatus;
  written: number;
  output: BulkExportFile[];
  checkpoint: BulkExportCheckpoint | null;
  error: string | null;
  transactionTime: Date;
  expiresAt: Date | null;
  attempts: number;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

function fromRow(r: JobRow): ExportJob {
  return {
    id: r.id,
    caller: json(r.caller),
    requestUrl: r.request_url,
    params: json(r.params),
    status: r.status,
    written: Number(r.written),
    output: json(r.output),
    checkpoint: r.checkpoint === null ? null : json(r.checkpoint),
    error: r.error,
    transactionTime: new Date(r.transaction_time),
    expiresAt: r.expires_at ? new Date(r.expires_at) : null,
    attempts: Number(r.attempts),
  };
}

/** A new job, `accepted`: its transaction time is now (nothing updated later is exported). */
export async function insertExportJob(orm: Orm, caller: Caller, params: BulkExportRequest, requestUrl: string): Promise<ExportJob> {
  const em = internal(orm);
  const job = em.create(BulkExportJob, { caller, params, requestUrl, transactionTime: new Date(), output: [] } as never) as BulkExportJob;
  await em.flush();
  return (await loadExportJob(orm, job.id))!;
}

export async function loadExportJob(orm: Orm, id: string): Promise<ExportJob | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = (await internal(orm).execute(`select * from bulk_export where id = ?`, [id])) as JobRow[];
  return row && fromRow(row);
}

/** The jobs a runner must (re)take: accepted, or in progress when their process stopped. */
export async function unfinishedExportJobs(orm: Orm): Promise<string[]> {
  return ((await internal(orm).execute(`select id from bulk_export where status in ('accepted', 'in-progress') order by created_at`)) as Array<{ id: string }>).map((r) => r.id);
}

/** Moves a job on; with `from`, only a job still in one of those states (a cancelled job is not revived). True when it moved. */
export async function updateExportJob(
  orm: Orm,
  id: string,
  set: Partial<Pick<ExportJob, 'status' | 'written' | 'output' | 'checkpoint' | 'error' | 'expiresAt'>> & { attempt?: boolean },
  from?: BulkExportStatus[],
): Promise<boolean> {
  const columns: string[] = ['updated_at = now()'];
  const params: unknown[] = [];
  const put = (column: string, value: unknown, cast = '') => {
    columns.push(`${column} = ?${cast}`);
    params.push(value);
  };
  if (set.status !== undefined) put('status', set.status);
  if (set.written !== undefined) put('written', set.written);
  if (set.output !== undefined) put('output', JSON.stringify(set.output), '::jsonb');
  if (set.checkpoint !== undefined) put('checkpoint', set.checkpoint === null ? null : JSON.stringify(set.checkpoint), '::jsonb');
  if (set.error !== undefined) put('error', set.error);
  if (set.expiresAt !== undefined) put('expires_at', set.expiresAt);
  if (set.attempt) columns.push('attempts = attempts + 1');
  const guard = from ? ` and status = any(?::text[])` : '';
  const rows = (await internal(orm).execute(`update bulk_export set ${columns.join(', ')} where id = ?${guard} returning id`, [...params, id, ...(from ? [`{${from.join(',')}}`] : [])])) as unknown[];
  return rows.length > 0;
}

/** The directory of a job's files. */
export const jobDirectory = (config: BulkExportConfig, id: string) => path.join(config.dir, id);

/** Removes a job's files (cancelled, expired). */
export async function removeJobFiles(config: BulkExportConfig, id: string): Promise<void> {
  await fs.promises.rm(jobDirectory(config, id), { recursive: true, force: true });
}

/** Cancels a job (DELETE on its status URL): the job stops at its next page and its files go. False when already over. */
export async function cancelExportJob(orm: Orm, config: BulkExportConfig, id: string): Promise<boolean> {
  const cancelled = await updateExportJob(orm, id, { status: 'cancelled' }, ['accepted', 'in-progress', 'completed']);
  if (cancelled) await removeJobFiles(config, id);
  return cancelled;
}

/** Expired jobs: their files removed and their rows deleted (the status URL then answers 404). How many. */
export async function removeExpiredJobs(orm: Orm, config: BulkExportConfig): Promise<number> {
  const rows = (await internal(orm).execute(`delete from bulk_export where expires_at < now() or (status = 'cancelled' and updated_at < now() - interval '1 day') returning id`)) as Array<{ id: string }>;
  for (const { id } of rows) await removeJobFiles(config, id);
  return rows.length;
}
