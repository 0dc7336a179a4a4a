/**
 * FHIR Bulk Data $export (Bulk Data Access IG, v2): kick-off, status, cancel and file download.
 *
 *   GET /fhir/Group/{id}/$export   an insurer's covered members (Group id = the insurer Organization's id)
 *   GET /fhir/Patient/$export      every patient the caller may see (an insurer: its members over the period)
 *   GET /fhir/$export              everything, for platform administrators
 *     Prefer: respond-async → 202, Content-Location: /fhir/$export-status/{job}
 *   GET    /fhir/$export-status/{job}   202 (X-Progress, Retry-After) while running; 200 with the manifest; 500 if it failed
 *   DELETE /fhir/$export-status/{job}   202: cancelled, its files removed
 *   GET    /fhir/$export-file/{job}/{Type}.ndjson   a file of the manifest (application/fhir+ndjson)
 *
 * Only the caller that kicked a job off may poll, cancel or download it (the same client or user; requiresAccessToken).
 * The job itself runs in src/jobs/bulk-export/ as that caller.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Response, Router } from 'express';
import type { Caller } from '../../access/caller.js';
import { ClientKind } from '../../access/caller.js';
import { callerAllows } from '../../access/scopes.js';
import { AuditAction, AuditOutcome } from '../../access/audit-event.entity.js';
import type { Config } from '../../config.js';
import type { Orm } from '../../db/orm.js';
import type { BulkExportRequest } from '../../jobs/bulk-export/job.entity.js';
import { cancelExportJob, type ExportJob, jobDirectory, loadExportJob } from '../../jobs/bulk-export/jobs.js';
import type { ExportRunner } from '../../jobs/bulk-export/queue.js';
import { createBulkExportJob } from '../../jobs/bulk-export/run.js';
import { insurerOfGroup } from '../../domain/coverage/member-group.js';
import { fhirError } from '../outcome.js';
import { parseExportRequest } from './export-request.js';
import type { FhirRequest, Reply } from '../router.js';

type Audited = (action: AuditAction, handler: (req: FhirRequest) => Promise<Reply>) => (req: FhirRequest, res: Response, next: NextFunction) => Promise<void>;

export interface ExportRouteDeps {
  config: Config;
  orm: Orm;
  runner: ExportRunner;
  baseUrl: string;
  audited: Audited;
}

const informational = (diagnostics: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics }] });

/** The same requester: one client (or one person) — another client of the same insurer is someone else. */
const sameCaller = (a: Caller, b: Caller) => a.kind === b.kind && a.subject === b.subject && (a.clientId ?? null) === (b.clientId ?? null);

export function addExportRoutes(router: Router, deps: ExportRouteDeps): void {
  const { orm, config, runner, baseUrl, audited } = deps;

  const kickOff = (level: BulkExportRequest['level']) =>
    audited(AuditAction.EXPORT, async (req) => {
      const caller = req.caller!;
      const policy = req.fhir!.policy;
      if (level === 'system' && !policy.seesEverything) throw fhirError(403, 'forbidden', 'the system-level $export is for platform administrators; use Group/{id}/$export or Patient/$export');
      let insurer: { id: string; earliestCoverage: string | null } | undefined;
      if (level === 'group') insurer = await groupInsurer(req, String(req.params.id));
      else if (caller.clientKind === ClientKind.INSURER && caller.organizationId) insurer = { id: caller.organizationId, earliestCoverage: await earliestCoverage(req, caller.organizationId) };
      const query = new URLSearchParams(req.url.split('?')[1] ?? '');
      const request = parseExportRequest(level, query, { prefer: String(req.headers.prefer ?? ''), accept: req.headers.accept }, insurer);
      // An insurer's own Patient-level export is its members' too: the same period, judged by its policy.
      if (level !== 'group') delete request.insurerId;
      const refused = (request.types ?? []).filter((t) => !callerAllows(caller, t, 'r'));
      if (refused.length) throw fhirError(403, 'forbidden', `not allowed to read ${refused.join(', ')}`, ['_type']);
      const jobId = await createBulkExportJob(orm, caller, request, `${config.auth.publicUrl}${req.originalUrl}`);
      await runner.enqueue(jobId);
      return { status: 202, body: informational(`export ${jobId} accepted`), headers: { 'Content-Location': `${baseUrl}/$export-status/${jobId}` } };
    });

  /** The insurer a Group is: the Group's id is the insurer Organization's. Not an insurer's: 404; another insurer's, for an insurer: 403. */
  async function groupInsurer(req: FhirRequest, id: string): Promise<{ id: string; earliestCoverage: string | null }> {
    const org = await insurerOfGroup(req.fhir!.em, id);
    if (!org) throw fhirError(404, 'not-found', `Group/${id} not found: a Group here is an insurer's covered members`);
    const caller = req.caller!;
    if (!req.fhir!.policy.seesEverything && !(caller.clientKind === ClientKind.INSURER && caller.organizationId === org.id)) {
      throw fhirError(403, 'forbidden', `Group/${id} is another insurer's members`);
    }
    return { id: org.id, earliestCoverage: await earliestCoverage(req, org.id) };
  }

  /** The first day any coverage with the insurer began: where its period starts when `_since` gives none. */
  async function earliestCoverage(req: FhirRequest, insurerId: string): Promise<string | null> {
    const [row] = (await req.fhir!.em.execute(`select min(period_start)::text as day from coverage where insurer_id = ?`, [insurerId])) as Array<{ day: string | null }>;
    return row?.day ?? null;
  }

  /** The job, for its requester only: unknown, expired or cancelled is 404; another caller's is 403. */
  async function ownJob(req: FhirRequest): Promise<ExportJob> {
    const job = await loadExportJob(orm, String(req.params.job));
    if (!job || job.status === 'cancelled' || (job.expiresAt && job.expiresAt < new Date())) throw fhirError(404, 'not-found', `export ${String(req.params.job)} not found (unknown, cancelled or expired)`);
    if (!sameCaller(job.caller, req.caller!)) throw fhirError(403, 'forbidden', 'this export was requested by another client');
    return job;
  }

  router.get('/\\$export', kickOff('system'));
  router.get('/Patient/\\$export', kickOff('patient'));
  router.get('/Group/:id/\\$export', kickOff('group'));

  router.get(
    '/\\$export-status/:job',
    audited(AuditAction.READ, async (req) => {
      const job = await ownJob(req);
      if (job.status === 'failed') throw fhirError(500, 'exception', `export failed: ${job.error ?? 'unknown error'}`);
      if (job.status !== 'completed') {
        const types = job.output.length ? `, ${job.output.filter((f) => f.done).length} of ${job.output.length} types done` : '';
        const progress = `${job.status}: ${job.written} resources written${types}`;
        return { status: 202, body: informational(progress), headers: { 'X-Progress': progress, 'Retry-After': '2' } };
      }
      return {
        status: 200,
        headers: { Expires: job.expiresAt?.toUTCString() },
        body: {
          transactionTime: job.transactionTime.toISOString(),
          request: job.requestUrl,
          requiresAccessToken: true,
          output: job.output.filter((f) => f.count > 0).map((f) => ({ type: f.type, url: `${baseUrl}/$export-file/${job.id}/${f.file}`, count: f.count })),
          error: [],
        },
      };
    }),
  );

  router.delete(
    '/\\$export-status/:job',
    audited(AuditAction.DELETE, async (req) => {
      const job = await ownJob(req);
      if (!(await cancelExportJob(orm, config.bulkExport, job.id))) throw fhirError(404, 'not-found', `export ${job.id} is over`);
      return { status: 202, body: informational(`export ${job.id} cancelled`) };
    }),
  );

  // A file is streamed, not answered as JSON; its audit record names the job's patients before the first byte goes.
  router.get('/\\$export-file/:job/:file', async (req: FhirRequest, res: Response, next: NextFunction) => {
    const what = `FHIR GET ${req.originalUrl}`;
    try {
      const job = await ownJob(req);
      const file = job.status === 'completed' ? job.output.find((f) => f.file === String(req.params.file)) : undefined;
      if (!file) throw fhirError(404, 'not-found', `${String(req.params.file)} is not a file of export ${job.id}`);
      const dir = jobDirectory(config.bulkExport, job.id);
      const patients = await fs.promises.readFile(path.join(dir, 'patients.txt'), 'utf8').catch(() => '');
      for (const p of patients.split('\n')) if (p) req.audit!.touch(p);
      await req.audit!.record(AuditAction.READ, what, AuditOutcome.SUCCESS);
      res.status(200).type('application/fhir+ndjson');
      fs.createReadStream(path.join(dir, file.file)).on('error', next).pipe(res);
    } catch (err) {
      await req.audit!.record(AuditAction.READ, what, (err as { status?: number }).status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE).catch(() => {});
      next(err);
    }
  });
}
