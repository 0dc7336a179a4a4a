/**
 * The Bulk Data export job, one function whoever runs it (pg-boss on PostgreSQL, the in-process runner on the
 * embedded database, a benchmark):
 *
 *   createBulkExportJob(orm, caller, request, requestUrl?) → Promise<string>   a job, accepted, without HTTP
 *   runBulkExport(orm, security, config, jobId, options?) → Promise<BulkExportStatus>
 *
 * runBulkExport carries a job out, or on from its checkpoint: it acts as the client that asked — its Caller re-made
 * from its registration, its policy through entityManagerFor, never the internal caller — and writes one NDJSON file
 * per type under config.bulkExport.dir/<job>/, streamed from the database (a cursor on PostgreSQL, keyset pages on
 * the embedded database), each line the stored JSON as the API would return it to that client (resident IDs revealed
 * or masked by its policy). After each page the file's length and the last id are saved; a resumed job cuts the
 * file back to that length and reads on after that id, so no line is written twice. `options.signal` stops it
 * between pages (left in progress, to be resumed); a cancelled job stops at its next page. On completion one
 * EXPORT audit record names the caller and every patient exported.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { pino, type Logger } from 'pino';
import { entityManagerFor, type Security } from '../../access/index.js';
import { type Caller } from '../../access/caller.js';
import { systemCaller } from '../../access/authenticate.js';
import { SystemClient } from '../../access/system-client.entity.js';
import { AuditRecorder } from '../../access/audit.js';
import { AuditAction, AuditOutcome } from '../../access/audit-event.entity.js';
import type { Config } from '../../config.js';
import type { Orm } from '../../db/orm.js';
import { FhirStore, type StoredRow } from '../../fhir/store.js';
import { type ExportRow, resourcePages, type RowSource, StoreScope, unscopedResourceTypes } from '../../fhir/store-sql.js';
import { typesAllowed } from '../../access/scopes.js';
import type { BulkExportFile, BulkExportRequest, BulkExportStatus } from './job.entity.js';
import { type ExportJob, insertExportJob, jobDirectory, loadExportJob, removeJobFiles, updateExportJob } from './jobs.js';
import { exportWhere } from './query.js';
import { serverUrlOf } from './database.js';

export interface RunBulkExportOptions {
  /** Stops the job between pages, left in progress for a later run to resume (a process shutting down). */
  signal?: AbortSignal;
  /** Rows per page and per checkpoint (default config.bulkExport.pageSize). */
  pageSize?: number;
  /** Called after each page is written and its checkpoint saved (tests stop a job half-way with it). */
  onPage?: (progress: { jobId: string; type: string; written: number }) => Promise<void> | void;
  logger?: Logger;
}

/** Thrown when a job was stopped by its signal: it is still in progress and resumes from its checkpoint. */
export class ExportInterrupted extends Error {
  constructor(jobId: string) {
    super(`export ${jobId} interrupted; it resumes from its checkpoint`);
    this.name = 'ExportInterrupted';
  }
}

/** A job for `caller`, without HTTP (the kick-off's, a benchmark's): its id. */
export async function createBulkExportJob(orm: Orm, caller: Caller, request: BulkExportRequest, requestUrl = '(created without HTTP)'): Promise<string> {
  if (caller.kind === 'internal') throw new Error('an export is made for a named caller, never the internal one');
  return (await insertExportJob(orm, caller, request, requestUrl)).id;
}

/**
 * The requester as it is now: a system client re-read from its registration (its organisation, kind; the scopes it
 * was granted at kick-off, while it still holds them); a person as the token said. A client no longer active gets nothing.
 */
async function requesterOf(orm: Orm, job: ExportJob): Promise<Caller> {
  const c = job.caller;
  if (c.kind === 'internal') throw new Error('an export job never runs as the internal caller');
  if (c.kind !== 'system') return c;
  const client = await orm.em.fork().findOne(SystemClient, { clientId: c.clientId, active: true }, { filters: false, populate: ['organization'] });
  if (!client) throw new Error(`client ${c.clientId} is no longer active`);
  return systemCaller(client, c.scopes.filter((s) => client.scopes.includes(s)), c.onBehalfOf);
}

/** Rows from a cursor of their own connection (PostgreSQL), or keyset pages on the unit of work (embedded). */
async function rowSource(orm: Orm, em: RowSource & { kind: 'keyset' }): Promise<{ source: RowSource; close: () => Promise<void> }> {
  const url = serverUrlOf(orm);
  if (!url) return { source: em, close: async () => {} };
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // In id order (the checkpoint is the last id) by walking the primary key, never a sort of the whole result: the
  // planner, misjudging the policy's predicates, chose a sequential scan and an on-disk sort of every row before the
  // first was sent (300,000 observations: 250 MB of temporary files, 13 s). No JIT either: a second and more compiling
  // one long-running statement whose cost is the rows, not the expressions.
  await client.query('set enable_sort = off; set jit = off');
  const query = (sql: string, params: unknown[], batchSize: number): AsyncIterable<ExportRow> => {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    if (n !== params.length) throw new Error(`export query: ${n} placeholders for ${params.length} parameters`);
    return client.query(new QueryStream(text, params, { batchSize }));
  };
  return { source: { kind: 'cursor', query }, close: () => client.end() };
}

const WRITE_CHUNK = 1000;

const sizeOf = async (file: string): Promise<number> => (await fs.promises.stat(file).catch(() => undefined))?.size ?? -1;

/** Every finished file is there, and the one in progress and the patients' file are at least as long as the checkpoint. */
async function filesHoldCheckpoint(dir: string, patientsFile: string, output: ExportJob['output'], checkpoint: ExportJob['checkpoint']): Promise<boolean> {
  for (const f of output) {
    const size = await sizeOf(path.join(dir, f.file));
    if (f.done && (size < 0 || (f.count > 0 && size === 0))) return false;
    if (!f.done && checkpoint?.type === f.type && checkpoint.lastId && size < checkpoint.offset) return false;
  }
  return !checkpoint?.patientsOffset || (await sizeOf(patientsFile)) >= checkpoint.patientsOffset;
}

/** A file cut back to `length` (what the checkpoint says was written), opened to append. */
async function openAt(file: string, length: number): Promise<fs.promises.FileHandle> {
  const fh = await fs.promises.open(file, fs.existsSync(file) ? 'r+' : 'w+');
  await fh.truncate(length);
  return fh;
}

export async function runBulkExport(orm: Orm, security: Security, config: Config, jobId: string, options: RunBulkExportOptions = {}): Promise<BulkExportStatus> {
  const log = options.logger ?? pino({ level: 'silent' });
  let job = await loadExportJob(orm, jobId);
  if (!job || !['accepted', 'in-progress'].includes(job.status)) return job?.status ?? 'cancelled';
  let caller: Caller;
  try {
    caller = await requesterOf(orm, job);
  } catch (err) {
    await updateExportJob(orm, jobId, { status: 'failed', error: (err as Error).message }, ['accepted', 'in-progress']);
    return 'failed';
  }
  await updateExportJob(orm, jobId, { status: 'in-progress', attempt: true }, ['accepted', 'in-progress']);
  const { em, policy } = entityManagerFor(orm, caller, security.policySettings);
  const store = new FhirStore(em, policy, security.protector, config.identifierSystems);
  const scope = new StoreScope(policy, job.params.period);
  const where = exportWhere(job.params, caller, job.transactionTime);
  const pageSize = Math.max(1, options.pageSize ?? config.bulkExport.pageSize);
  const dir = jobDirectory(config.bulkExport, jobId);
  await fs.promises.mkdir(dir, { recursive: true });

  // The files, decided once (the first run) so that a resumed job writes the same ones.
  let output = job.output;
  if (output.length === 0) {
    const readable = typesAllowed(caller, 'r');
    const types = job.params.types ?? (await unscopedResourceTypes(em)).filter((t) => readable === '*' || readable.includes(t));
    output = types.map((type) => ({ type, file: `${type}.ndjson`, count: 0, done: false }));
    await updateExportJob(orm, jobId, { output });
  }

  // The patients exported so far (the audit names them): a file beside the output, cut back like it on resume.
  const patientsFile = path.join(dir, 'patients.txt');
  // A resumed job's files must hold at least what its checkpoint says: on another host (a fresh BULK_EXPORT_DIR), or
  // after a crash lost writes, they may not, and cutting a short file "back" would pad it with NUL bytes. Then the
  // job starts over.
  if (job.output.length && !(await filesHoldCheckpoint(dir, patientsFile, job.output, job.checkpoint))) {
    log.warn({ jobId }, 'bulk export files are not what the checkpoint says; the job starts over');
    output = output.map((f) => ({ ...f, count: 0, done: false }));
    job = { ...job, written: 0, checkpoint: null };
    await updateExportJob(orm, jobId, { output, written: 0, checkpoint: null });
  }
  let patientsOffset = job.checkpoint?.patientsOffset ?? 0;
  const patientsFh = await openAt(patientsFile, patientsOffset);
  const patients = new Set(patientsOffset ? (await fs.promises.readFile(patientsFile, 'utf8')).split('\n').filter(Boolean) : []);
  const { source, close } = await rowSource(orm, { kind: 'keyset', em });
  const system = config.identifierSystems.residentId;
  let written = job.written;
  let outcome: BulkExportStatus = 'completed';
  try {
    for (const file of output) {
      if (file.done) continue;
      const resume = job.checkpoint?.type === file.type && job.checkpoint.lastId ? job.checkpoint : undefined;
      const fh = await openAt(path.join(dir, file.file), resume?.offset ?? 0);
      let offset = resume?.offset ?? 0;
      if (!resume) {
        written -= file.count;
        file.count = 0;
      }
      try {
        const q = where.ofType(file.type);
        // Each batch is written as it comes (a cursor's: CURSOR_BATCH rows); the checkpoint, and with it the cancel
        // check, every pageSize rows and at the file's end. A page gathered whole before it was written held 5,000
        // rows and their text at once: 425 MB peak for 426,475 encounters, 236 MB a batch at a time.
        let unsaved = 0;
        let lastId = '';
        const checkpointed = async (): Promise<boolean> => {
          unsaved = 0;
          const checkpoint = { type: file.type, lastId, offset, patientsOffset };
          // On disk before the checkpoint says so: a crash must not leave a checkpoint beyond what the files hold.
          await fh.datasync();
          await patientsFh.datasync();
          // The checkpoint moves only while the job is in progress: a cancelled job stops here.
          if (!(await updateExportJob(orm, jobId, { written, output, checkpoint }, ['in-progress']))) return false;
          await options.onPage?.({ jobId, type: file.type, written });
          return true;
        };
        for await (const page of resourcePages(source, scope, { where: q.sql, params: q.params, after: resume?.lastId, pageSize, resourceType: file.type })) {
          if (options.signal?.aborted) throw new ExportInterrupted(jobId);
          let newPatients = '';
          // Written a thousand lines at a time: a page's text whole (megabytes) made the resident set twice as large.
          for (let start = 0; start < page.length; start += WRITE_CHUNK) {
            let text = '';
            for (const row of page.slice(start, start + WRITE_CHUNK)) {
              // Only a resource holding a resident ID changes on the way out; the rest go as stored.
              text += `${row.content.includes(system) ? JSON.stringify(store.output(row as unknown as StoredRow)) : row.content}\n`;
              if (row.patient_id && !patients.has(row.patient_id)) {
                patients.add(row.patient_id);
                newPatients += `${row.patient_id}\n`;
              }
            }
            const bytes = Buffer.from(text);
            await fh.write(bytes, 0, bytes.length, offset);
            offset += bytes.length;
          }
          if (newPatients) {
            const p = Buffer.from(newPatients);
            await patientsFh.write(p, 0, p.length, patientsOffset);
            patientsOffset += p.length;
          }
          file.count += page.length;
          written += page.length;
          unsaved += page.length;
          lastId = page[page.length - 1]!.id;
          if (unsaved >= pageSize && !(await checkpointed())) {
            outcome = 'cancelled';
            break;
          }
        }
        if (outcome !== 'cancelled' && unsaved && !(await checkpointed())) outcome = 'cancelled';
      } finally {
        await fh.close();
      }
      if (outcome === 'cancelled') break;
      file.done = true;
      const next = output.find((f) => !f.done);
      await updateExportJob(orm, jobId, { output, checkpoint: { type: next?.type ?? '', lastId: '', offset: 0, patientsOffset } }, ['in-progress']);
      job = { ...job, checkpoint: null };
    }
  } catch (err) {
    await close().catch(() => {});
    await patientsFh.close();
    if (err instanceof ExportInterrupted) throw err;
    log.error({ err, jobId }, 'bulk export failed');
    await updateExportJob(orm, jobId, { status: 'failed', error: (err as Error).message }, ['in-progress']);
    await audited(orm, caller, jobId, job.requestUrl, patients, AuditOutcome.FAILURE);
    return 'failed';
  }
  await close();
  await patientsFh.close();
  if (outcome === 'cancelled') {
    await removeJobFiles(config.bulkExport, jobId);
    return 'cancelled';
  }
  // Recorded before the job is marked complete: a job that dies in between is recorded twice, never not at all.
  await audited(orm, caller, jobId, job.requestUrl, patients, AuditOutcome.SUCCESS);
  const expiresAt = new Date(Date.now() + config.bulkExport.expiryHours * 3_600_000);
  const done = await updateExportJob(orm, jobId, { status: 'completed', output, checkpoint: null, expiresAt }, ['in-progress']);
  return done ? 'completed' : 'cancelled';
}

/** The job's EXPORT audit record, naming the caller and every patient whose data went into the files. */
async function audited(orm: Orm, caller: Caller, jobId: string, requestUrl: string, patients: Set<string>, outcome: AuditOutcome): Promise<void> {
  const recorder = new AuditRecorder(orm, pino({ level: 'silent' }));
  const audit = recorder.forRequest(caller, `export:${jobId}`, undefined);
  patients.forEach((p) => audit.touch(p));
  await audit.record(AuditAction.EXPORT, `FHIR Bulk export ${jobId} of ${requestUrl}`, outcome);
  await recorder.flush();
}

export type { BulkExportFile };
