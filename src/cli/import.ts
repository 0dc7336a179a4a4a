/**
 * npm run import -- [--continue-on-error] [--concurrency N] [--batch-size 500] <file or folder> …
 *
 * Loads FHIR R4 data into the configured database (DATABASE_URL → that Postgres, otherwise the embedded one)
 * through the same code path as `POST /fhir`: every file becomes transaction or batch Bundles handed to
 * FhirInteractions.bundle, as the internal caller, with one audit record per Bundle. The embedded database is
 * one process at a time (src/db/embedded-lock.ts): while a development server holds it, the same Bundles, in
 * the same order, go to that server as `POST /fhir` instead (with a platform-administrator development token
 * minted from the local keys), so that the server sees them at once; the summary is the same.
 *
 *  - Bundle JSON (`transaction` / `batch`) goes as it is; other Bundle types are reported and skipped.
 *  - A JSON file holding one resource goes as a batch of one POST.
 *  - NDJSON (bulk export, one resource a line) is streamed line by line into batches of up to 500 POSTs;
 *    re-sending is harmless: a resource is found again by the sender's own `Type/id`.
 *
 * Order: directory data first (hospitalInformation* / practitionerInformation* files, and Organization,
 * Location, Practitioner, PractitionerRole NDJSON), then Patient NDJSON, then patient Bundles and the other
 * NDJSON types (Encounter before what refers to it, …). Folders are walked recursively (*.json, *.ndjson).
 *
 * Exit code 1 when any resource failed; without --continue-on-error the import stops after the first
 * Bundle that had a failure.
 */
import 'reflect-metadata';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import cliProgress from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createSecurity, entityManagerFor, type Security } from '../access/index.js';
import { INTERNAL_CALLER } from '../access/caller.js';
import { AuditRecorder } from '../access/audit.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import { type Config, loadConfig } from '../config.js';
import { openDatabase, type Orm } from '../db/orm.js';
import { FhirInteractions, MAX_BUNDLE_ENTRIES } from '../fhir/interactions.js';
import { toFhirError } from '../fhir/outcome.js';
import { EmbeddedDatabaseInUseError } from '../db/embedded-lock.js';
import { requestId, type RunningServer, runningServer } from './via-server.js';

export const DEFAULT_BATCH_SIZE = 500;

/** Directory types, in the order they refer to each other (a role names a practitioner and an organisation). */
const DIRECTORY_TYPES = ['Organization', 'Location', 'Practitioner', 'PractitionerRole'];

/**
 * Clinical types in an order where what is referred to comes before what refers to it (bulk NDJSON refers by
 * the sender's ids, which resolve only to resources already stored). Types not listed go after these, Provenance last.
 */
const CLINICAL_ORDER = [
  'Patient',
  'RelatedPerson',
  'Device',
  'Medication',
  'Coverage',
  'Encounter',
  'EpisodeOfCare',
  'Condition',
  'AllergyIntolerance',
  'Procedure',
  'Immunization',
  'MedicationRequest',
  'MedicationDispense',
  'MedicationAdministration',
  'MedicationStatement',
  'Observation',
  'DiagnosticReport',
  'DocumentReference',
  'ImagingStudy',
  'CareTeam',
  'Goal',
  'CarePlan',
  'ServiceRequest',
  'Task',
  'Consent',
  'Claim',
  'ExplanationOfBenefit',
  'SupplyDelivery',
];

const DIRECTORY_FILE = /^(hospitalInformation|practitionerInformation)/;

export interface ImportProgress {
  /** Resources processed (created, updated, unchanged or failed) out of the total counted before the start. */
  done: number;
  total: number;
  failed: number;
  file: string;
}

export interface ImportFailure {
  file: string;
  /** `line 12` (NDJSON), `entry 3` (Bundle), or `file` when the file itself could not be read. */
  where: string;
  resourceType?: string;
  /** The sender's id of the resource, when it had one. */
  id?: string;
  status: string;
  diagnostics: string;
}

export interface TypeCounts {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export interface ImportSummary {
  files: number;
  skipped: Array<{ file: string; reason: string }>;
  /** Resources processed: created + updated + unchanged + failed. */
  resources: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  byType: Record<string, TypeCounts>;
  failures: ImportFailure[];
  bundles: number;
  elapsedMs: number;
  /** True when the import stopped at a failure (no --continue-on-error). */
  stopped: boolean;
}

export interface ImportOptions {
  onProgress?: (progress: ImportProgress) => void;
  /** Go on after a Bundle with failures (default: stop after it). */
  continueOnError?: boolean;
  /** Bundles in flight at once within a stage (Postgres only; the embedded database has one connection). */
  concurrency?: number;
  /** NDJSON lines per batch Bundle (default 500). */
  batchSize?: number;
  /** Notes for the operator (skipped files, the plan); default: none. */
  log?: (message: string) => void;
}

type FileKind = 'ndjson' | 'bundle' | 'resource';

interface PlannedFile {
  file: string;
  kind: FileKind;
  /** 0 directory, 1 patients, 2 the rest. */
  phase: number;
  /** Order within the phase; files of the same phase and rank may run concurrently. */
  rank: number;
  resources: number;
  resourceType?: string;
}

/** A unit handed to FhirInteractions.bundle, with what is needed to name its entries in failures. */
interface Unit {
  file: string;
  bundle: Bundle;
  /** Per entry: where it came from (`line 12`, `entry 3`). */
  where: string[];
}

const typeRank = (type: string | undefined): number => {
  if (!type) return CLINICAL_ORDER.length;
  const d = DIRECTORY_TYPES.indexOf(type);
  if (d >= 0) return d;
  if (type === 'Provenance') return CLINICAL_ORDER.length + 1;
  const c = CLINICAL_ORDER.indexOf(type);
  return c >= 0 ? c : CLINICAL_ORDER.length;
};

/** Every *.json / *.ndjson under the paths given (folders recursively), in a stable order. */
async function listFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string) => {
    const stat = await fs.promises.stat(p);
    if (stat.isDirectory()) {
      const names = (await fs.promises.readdir(p)).sort();
      for (const name of names) {
        if (name.startsWith('.')) continue;
        const child = path.join(p, name);
        const s = await fs.promises.stat(child);
        if (s.isDirectory() || /\.(nd)?json$/i.test(name)) await walk(child);
      }
    } else out.push(p);
  };
  for (const p of paths) await walk(p);
  return [...new Set(out)];
}

function lines(file: string): readline.Interface {
  return readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/** The cheap scan: resource counts (NDJSON lines; Bundle entries) and what kind of file each is. */
async function planFile(file: string, skipped: ImportSummary['skipped'], failures: ImportFailure[]): Promise<PlannedFile | undefined> {
  const base = path.basename(file);
  if (/\.ndjson$/i.test(file)) {
    let count = 0;
    let resourceType: string | undefined;
    for await (const line of lines(file)) {
      if (!line.trim()) continue;
      if (count === 0) {
        try {
          resourceType = (JSON.parse(line) as Resource).resourceType;
        } catch {
          // reported per line during the import
        }
      }
      count++;
    }
    resourceType ??= /^([A-Z][A-Za-z]+)/.exec(base)?.[1];
    const directory = DIRECTORY_TYPES.includes(resourceType ?? '');
    return { file, kind: 'ndjson', phase: directory ? 0 : resourceType === 'Patient' ? 1 : 2, rank: typeRank(resourceType), resources: count, resourceType };
  }
  let json: Resource;
  try {
    json = JSON.parse(await fs.promises.readFile(file, 'utf8')) as Resource;
  } catch (err) {
    failures.push({ file, where: 'file', status: 'unreadable', diagnostics: (err as Error).message });
    return undefined;
  }
  if (!json || typeof json !== 'object' || typeof json.resourceType !== 'string') {
    failures.push({ file, where: 'file', status: 'unreadable', diagnostics: 'not a FHIR resource (no resourceType)' });
    return undefined;
  }
  if (json.resourceType === 'Bundle') {
    const bundle = json as Bundle;
    if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
      skipped.push({ file, reason: `a ${bundle.type ?? 'typeless'} Bundle (only transaction and batch Bundles are imported)` });
      return undefined;
    }
    const types = (bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType ? [e.resource.resourceType as string] : []));
    const directory = DIRECTORY_FILE.test(base) || (types.length > 0 && types.every((t) => DIRECTORY_TYPES.includes(t)));
    // Directory Bundles by their first type (organisations before practitioners); patient Bundles all in one
    // stage (rank -1 of phase 2), before the NDJSON of phase 2.
    const rank = directory ? (types.length ? Math.min(...types.map(typeRank)) : 0) : -1;
    return { file, kind: 'bundle', phase: directory ? 0 : 2, rank, resources: bundle.entry?.length ?? 0 };
  }
  const t = json.resourceType;
  const phase = DIRECTORY_TYPES.includes(t) ? 0 : t === 'Patient' ? 1 : 2;
  return { file, kind: 'resource', phase, rank: typeRank(t), resources: 1, resourceType: t };
}

/**
 * Runs up to `size` tasks at once; `submit` waits for a free slot (back-pressure for the NDJSON reader). The
 * first task runs alone: a first Bundle may create rows that later ones share (the "unassigned" organisation
 * patients are managed by when no organisation is known), and concurrent first Bundles would collide on them.
 */
class Pool {
  private readonly running = new Set<Promise<void>>();
  private error: unknown;
  private submitted = 0;
  constructor(private readonly size: number) {}

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.size) await Promise.race(this.running);
    if (this.error) throw this.error;
    const p: Promise<void> = task()
      .catch((err) => {
        this.error ??= err;
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
    if (this.submitted++ === 0) await p;
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.error) throw this.error;
  }
}

function diagnosticsOf(outcome: OperationOutcome | undefined, fallback: string): string {
  const issues = outcome?.issue ?? [];
  if (!issues.length) return fallback;
  return issues.map((i) => `${i.diagnostics ?? i.code}${i.expression?.length ? ` @ ${i.expression.join(', ')}` : ''}`).join('; ');
}

const resourceOf = (entry: BundleEntry | undefined) => entry?.resource as Resource | undefined;

/** What one Bundle came back as: the response Bundle (entry by entry), or the error that failed all of it. */
export type BundleResult = { response: Bundle } | { error: { status: string; diagnostics: string } };

/** Hands one Bundle to the FHIR API: in this process, or over HTTP to a running server. */
export type BundleSender = (bundle: Bundle, file: string) => Promise<BundleResult>;

/**
 * The sender behind `importPaths`: FhirInteractions.bundle (the code behind `POST /fhir`) in this process, as
 * the internal caller, with one audit record per Bundle.
 */
export function inProcessSender(orm: Orm, security: Security, config: Config): BundleSender {
  const baseUrl = `${config.auth.publicUrl}/fhir`;
  const audit = new AuditRecorder(orm, pino({ level: 'silent' }));
  return async (bundle, file) => {
    const { em, policy } = entityManagerFor(orm, INTERNAL_CALLER);
    const requestAudit = audit.forRequest(INTERNAL_CALLER, `import:${path.basename(file)}`, undefined);
    const fhir = new FhirInteractions({ em, policy, protector: security.protector, systems: config.identifierSystems, audit: requestAudit, baseUrl, rules: config.careRules });
    const entries = bundle.entry?.length ?? 0;
    let outcome = AuditOutcome.SUCCESS;
    try {
      const response = await fhir.bundle(bundle);
      if ((response.entry ?? []).some((r) => !/^2\d\d/.test(r.response?.status ?? ''))) outcome = AuditOutcome.FAILURE;
      return { response };
    } catch (err) {
      const fe = toFhirError(err);
      outcome = fe?.status === 403 ? AuditOutcome.DENIED : AuditOutcome.FAILURE;
      return { error: { status: fe ? String(fe.status) : '500', diagnostics: fe ? diagnosticsOf(fe.outcome, fe.message) : `unexpected error: ${(err as Error).message}` } };
    } finally {
      await requestAudit.record(AuditAction.CREATE, `FHIR import ${bundle.type} Bundle (${entries} entries) from ${file}`.slice(0, 500), outcome);
    }
  };
}

/**
 * The sender for a server that holds the embedded database: each Bundle as `POST /fhir` to it (its FHIR API
 * audits each as the command's platform-administrator token, request id `import:<file>`).
 */
export function serverSender(server: RunningServer): BundleSender {
  return async (bundle, file) => {
    const res = await server.fetch('/fhir', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', 'x-request-id': requestId(`import:${path.basename(file)}`) },
      body: JSON.stringify(bundle),
    });
    const text = await res.text();
    let body: Resource | undefined;
    try {
      body = JSON.parse(text) as Resource;
    } catch {
      body = undefined;
    }
    if (res.status === 200 && body?.resourceType === 'Bundle') return { response: body as Bundle };
    const outcome = body?.resourceType === 'OperationOutcome' ? (body as OperationOutcome) : undefined;
    return { error: { status: String(res.status), diagnostics: diagnosticsOf(outcome, `HTTP ${res.status}${outcome ? '' : `: ${text.slice(0, 300)}`}`) } };
  };
}

/**
 * Imports FHIR files and folders through FhirInteractions.bundle (the code behind `POST /fhir`) as the
 * internal caller. Returns the counts; failures carry the OperationOutcome diagnostics.
 */
export async function importPaths(orm: Orm, security: Security, config: Config, paths: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  // The embedded database has a single connection: Bundles there go one at a time.
  const concurrency = config.databaseUrl ? Math.max(1, options.concurrency ?? 2) : 1;
  return importWith(inProcessSender(orm, security, config), concurrency, paths, options);
}

/**
 * The same import through a running server that holds the embedded database (one connection there too:
 * one Bundle at a time), in the same order and with the same summary.
 */
export async function importThroughServer(server: RunningServer, paths: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  return importWith(serverSender(server), 1, paths, options);
}

/** Plans the files, sends their Bundles stage by stage through `send`, and counts the outcome entry by entry. */
export async function importWith(send: BundleSender, concurrency: number, paths: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const batchSize = Math.min(Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE), MAX_BUNDLE_ENTRIES);

  const summary: ImportSummary = {
    files: 0,
    skipped: [],
    resources: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    byType: {},
    failures: [],
    bundles: 0,
    elapsedMs: 0,
    stopped: false,
  };
  const counts = (type: string | undefined) => (summary.byType[type ?? '(unknown)'] ??= { created: 0, updated: 0, unchanged: 0, failed: 0 });

  const planned: PlannedFile[] = [];
  for (const file of await listFiles(paths)) {
    const plan = await planFile(file, summary.skipped, summary.failures);
    if (plan) planned.push(plan);
  }
  for (const f of summary.failures) {
    summary.failed++;
    summary.resources++;
    counts(undefined).failed++;
    log(`cannot read ${f.file}: ${f.diagnostics}`);
  }
  for (const s of summary.skipped) log(`skipping ${s.file}: ${s.reason}`);
  planned.sort((a, b) => a.phase - b.phase || a.rank - b.rank || a.file.localeCompare(b.file));
  summary.files = planned.length;
  const total = planned.reduce((n, f) => n + f.resources, 0) + summary.failed;
  let done = summary.failed;
  let current = '';
  const progress = () => options.onProgress?.({ done, total, failed: summary.failed, file: current });
  progress();

  const fail = (file: string, where: string, resource: Resource | undefined, status: string, diagnostics: string) => {
    summary.failures.push({ file, where, resourceType: resource?.resourceType, id: resource?.id, status, diagnostics });
    summary.failed++;
    counts(resource?.resourceType).failed++;
  };

  /** One Bundle through the same path as POST /fhir, its outcome counted entry by entry. */
  const run = async (unit: Unit): Promise<void> => {
    const entries = unit.bundle.entry ?? [];
    // Kept before the call: processing rewrites references and ids in place.
    const sent = entries.map((e) => ({ resourceType: e.resource?.resourceType, id: e.resource?.id }) as Resource);
    const result = await send(unit.bundle, unit.file);
    if ('response' in result) {
      (result.response.entry ?? []).forEach((r, i) => {
        const status = r.response?.status ?? '';
        const code = Number.parseInt(status, 10);
        const resource = resourceOf(r) ?? sent[i];
        if (code >= 200 && code < 300) {
          const c = counts(resource?.resourceType);
          const modified = r.response?.lastModified ? Date.parse(r.response.lastModified) : Date.now();
          if (code === 201) {
            summary.created++;
            c.created++;
          } else if (modified < started) {
            summary.unchanged++;
            c.unchanged++;
          } else {
            summary.updated++;
            c.updated++;
          }
        } else {
          fail(unit.file, unit.where[i] ?? `entry ${i}`, sent[i], status, diagnosticsOf(r.response?.outcome as OperationOutcome | undefined, `HTTP ${status}`));
        }
      });
    } else {
      // A transaction is all or nothing: every entry failed, for the reason given.
      const { status, diagnostics } = result.error;
      entries.forEach((_e, i) => {
        if (i === 0) fail(unit.file, unit.bundle.type === 'transaction' ? 'transaction' : (unit.where[0] ?? 'entry 0'), sent[0], status, diagnostics);
        else {
          summary.failed++;
          counts(sent[i]?.resourceType).failed++;
        }
      });
      if (entries.length > 1) summary.failures[summary.failures.length - 1]!.where += ` (all ${entries.length} entries)`;
    }
    summary.bundles++;
    done += entries.length;
    progress();
  };

  // Stages: files of one phase and rank; within a stage, Bundles run `concurrency` at a time.
  let stageKey = '';
  let pool = new Pool(concurrency);
  const stopNow = () => !options.continueOnError && summary.failed > 0;
  try {
    for (const plan of planned) {
      if (stopNow()) break;
      const key = `${plan.phase}:${plan.rank}`;
      if (key !== stageKey) {
        await pool.drain();
        if (stopNow()) break;
        pool = new Pool(concurrency);
        stageKey = key;
      }
      current = plan.file;
      if (plan.kind === 'ndjson') {
        let batch: BundleEntry[] = [];
        let where: string[] = [];
        const flush = async () => {
          if (!batch.length) return;
          const unit: Unit = { file: plan.file, bundle: { resourceType: 'Bundle', type: 'batch', entry: batch }, where };
          batch = [];
          where = [];
          await pool.submit(() => run(unit));
        };
        let n = 0;
        for await (const line of lines(plan.file)) {
          n++;
          if (!line.trim()) continue;
          let resource: Resource;
          try {
            resource = JSON.parse(line) as Resource;
          } catch (err) {
            fail(plan.file, `line ${n}`, undefined, 'unreadable', `malformed JSON: ${(err as Error).message}`);
            done++;
            continue;
          }
          batch.push({ resource, request: { method: 'POST', url: String(resource?.resourceType ?? '') } });
          where.push(`line ${n}`);
          if (batch.length >= batchSize) {
            await flush();
            if (stopNow()) break;
          }
        }
        // The batch a failure happened in still goes (a batch is entry by entry); nothing after it does.
        await flush();
      } else {
        let json: Resource;
        try {
          json = JSON.parse(await fs.promises.readFile(plan.file, 'utf8')) as Resource;
        } catch (err) {
          fail(plan.file, 'file', undefined, 'unreadable', (err as Error).message);
          done += plan.resources;
          continue;
        }
        const unit: Unit =
          plan.kind === 'bundle'
            ? { file: plan.file, bundle: json as Bundle, where: ((json as Bundle).entry ?? []).map((_e, i) => `entry ${i}`) }
            : { file: plan.file, bundle: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: json, request: { method: 'POST', url: json.resourceType } }] }, where: ['resource'] };
        await pool.submit(() => run(unit));
      }
    }
    await pool.drain();
  } finally {
    await pool.drain().catch(() => {});
  }
  summary.stopped = stopNow() && done < total;
  summary.resources = summary.created + summary.updated + summary.unchanged + summary.failed;
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/** The summary as printed at the end of `npm run import`. */
export function formatSummary(s: ImportSummary, maxFailures = 50): string {
  const seconds = s.elapsedMs / 1000;
  const n = (x: number) => x.toLocaleString('en');
  const out: string[] = [];
  out.push(`Imported ${n(s.files)} file${s.files === 1 ? '' : 's'} (${n(s.bundles)} Bundles) in ${seconds.toFixed(1)} s: ${n(s.resources)} resources, ${n(Math.round(s.resources / Math.max(seconds, 0.001)))} resources/s.`);
  const types = Object.keys(s.byType).sort();
  if (types.length) {
    const width = Math.max(12, ...types.map((t) => t.length));
    out.push(`  ${'type'.padEnd(width)}  ${'created'.padStart(9)}  ${'updated'.padStart(9)}  ${'unchanged'.padStart(9)}  ${'failed'.padStart(9)}`);
    for (const t of types) {
      const c = s.byType[t]!;
      out.push(`  ${t.padEnd(width)}  ${n(c.created).padStart(9)}  ${n(c.updated).padStart(9)}  ${n(c.unchanged).padStart(9)}  ${n(c.failed).padStart(9)}`);
    }
    out.push(`  ${'total'.padEnd(width)}  ${n(s.created).padStart(9)}  ${n(s.updated).padStart(9)}  ${n(s.unchanged).padStart(9)}  ${n(s.failed).padStart(9)}`);
  }
  for (const k of s.skipped) out.push(`Skipped ${k.file}: ${k.reason}`);
  if (s.failures.length) {
    out.push(`\n${n(s.failed)} resource${s.failed === 1 ? '' : 's'} failed:`);
    for (const f of s.failures.slice(0, maxFailures)) {
      const what = f.resourceType ? ` ${f.resourceType}${f.id ? `/${f.id}` : ''}` : '';
      out.push(`  ${f.file} ${f.where}${what}: ${f.status} ${f.diagnostics}`);
    }
    if (s.failures.length > maxFailures) out.push(`  … and ${n(s.failures.length - maxFailures)} more`);
  }
  if (s.stopped) out.push('\nStopped at the first failure (pass --continue-on-error to go on past failures).');
  return out.join('\n');
}

const USAGE = 'usage: npm run import -- [--continue-on-error] [--concurrency N] [--batch-size N] <file or folder> …';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      'continue-on-error': { type: 'boolean', default: false },
      concurrency: { type: 'string', short: 'c' },
      'batch-size': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const int = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"\n${USAGE}`);
    return v;
  };
  const concurrency = int('concurrency', values.concurrency);
  const batchSize = int('batch-size', values['batch-size']);
  for (const p of positionals) if (!fs.existsSync(p)) throw new Error(`no such file or folder: ${p}`);

  const config = loadConfig();
  // While a development server holds the embedded database, the Bundles go to it: a second process must not open it.
  const server = await runningServer(config, 'ncd-cli-import');
  const where = server
    ? `the server that holds the embedded database (${server.describe}), through POST /fhir`
    : config.databaseUrl
      ? 'PostgreSQL (DATABASE_URL)'
      : `embedded PGlite (${config.embeddedDataDir})`;
  if ((server || !config.databaseUrl) && (concurrency ?? 1) > 1) console.error('The embedded database has one connection: --concurrency is ignored.');
  const security = server ? undefined : await createSecurity(config);
  const orm = server
    ? undefined
    : await openDatabase({ databaseUrl: config.databaseUrl, embeddedDataDir: config.embeddedDataDir, poolMax: Math.max(10, (concurrency ?? 2) + 2), owner: 'npm run import' });
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: 'resources {bar} {percentage}% | {value}/{total} | {rate} resources/s | eta {eta_formatted} | failed {failed} | {file}', hideCursor: true, etaBuffer: 50, fps: 5 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  try {
    console.error(`Importing into ${where} …`);
    const t0 = Date.now();
    let started = false;
    let lastLogged = 0;
    const importOptions: ImportOptions = {
      continueOnError: values['continue-on-error'],
      concurrency,
      batchSize,
      log: (m) => console.error(m),
      onProgress: ({ done, total, failed, file }) => {
        const rate = Math.round(done / Math.max((Date.now() - t0) / 1000, 0.001));
        const payload = { rate: rate.toLocaleString('en'), failed, file: path.basename(file) };
        if (bar) {
          if (!started) {
            bar.start(total, done, payload);
            started = true;
          } else bar.update(done, payload);
        } else if (done === total || done - lastLogged >= Math.max(1000, total / 20)) {
          lastLogged = done;
          console.error(`  ${done.toLocaleString('en')}/${total.toLocaleString('en')} resources, ${payload.rate} resources/s${failed ? `, ${failed} failed` : ''}`);
        }
      },
    };
    const summary = server ? await importThroughServer(server, positionals, importOptions) : await importPaths(orm!, security!, config, positionals, importOptions);
    bar?.stop();
    console.log(formatSummary(summary));
    return summary.failed > 0 ? 1 : 0;
  } finally {
    bar?.stop();
    await orm?.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      if (err instanceof Error && err.stack && !err.message.includes(USAGE) && !(err instanceof EmbeddedDatabaseInUseError) && err.name !== 'ServerRequestError') console.error(err.stack);
      process.exit(1);
    },
  );
}
