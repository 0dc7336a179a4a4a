/**
 * The export scenario of issue 13 (`--only export`): a fresh Bulk Data job for the insurer's Group — every resource of
 * its members on the days it covered them (ADR 18), asked by the insurer's own registered system client — carried out
 * by a worker of its own (servers/export-worker.ts: runBulkExport, as `npm run worker` runs it), whose resident set
 * is sampled (VmHWM of /proc/<pid>/status) and which reports its own maxRSS; beside it the floor: per type, one
 * `COPY (select content from fhir_resource …) TO STDOUT` by psql into a file, with the membership and covered-day
 * conditions written by hand. Before anything is reported, every file of both is read back: the same lines per type,
 * every line a resource of its file's type, no id twice, and the floor's ids the job's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { asInternal, type Security } from '../src/access/index.js';
import { systemCaller } from '../src/access/authenticate.js';
import { ClientKind } from '../src/access/caller.js';
import { SystemClient } from '../src/access/system-client.entity.js';
import { countyTimeZone, countyToday } from '../src/care-rules/calendar.js';
import { type EntityManager, openDatabase } from '../src/db/orm.js';
import { Organization } from '../src/domain/organization/organization.entity.js';
import { createBulkExportJob } from '../src/jobs/bulk-export/run.js';
import type { BulkExportFile } from '../src/jobs/bulk-export/job.entity.js';
import { benchEnv, type BenchDatabase } from './seed.js';
import { WrongAnswerError } from './verify.js';

export interface ExportFigures {
  seconds: number;
  resourcesPerSecond: number;
  megabytes: number;
  peakMemoryMb: number;
}

export interface ExportResult {
  insurer: { id: string; name: string; members: number };
  caller: string;
  period: { start: string; end: string };
  pageSize: number;
  files: Array<{ type: string; lines: number; floorLines: number }>;
  resources: number;
  observations: number;
  ours: ExportFigures & { wallSeconds: number };
  floor: ExportFigures;
}

const CLIENT_ID = 'bench-insurer';
const OUT = path.resolve('data/bench-exports');
const WORKER = path.resolve('dist/bench/servers/export-worker.js');
const MEMBERSHIP_TYPES = ['Patient', 'Coverage', 'Consent'];

interface Insurer {
  id: string;
  name: string;
  members: number;
  earliest: string;
}

/** The insurer with the most members, and its earliest coverage day (the Group's period starts there, as a kick-off without _since). */
async function busiestInsurer(c: pg.Client): Promise<Insurer> {
  const { rows } = await c.query<Insurer>(
    `select o.id, o.name, count(distinct cv.patient_id)::int as members, min(cv.period_start)::text as earliest
       from organization o join coverage cv on cv.insurer_id = o.id and cv.status = 'ACTIVE'
      where o.type = 'INSURER' group by o.id order by count(distinct cv.patient_id) desc, o.id limit 1`,
  );
  if (!rows[0]) throw new Error('the bench database has no insurer with members: is it seeded?');
  return rows[0];
}

/** The insurer's system client, registered once per database (reading scopes only; insurers never write). */
async function insurerClient(em: EntityManager, insurerId: string): Promise<SystemClient> {
  const found = await em.findOne(SystemClient, { clientId: CLIENT_ID }, { populate: ['organization'] });
  if (found) return found;
  const client = em.create(SystemClient, {
    clientId: CLIENT_ID,
    name: 'Bench insurer (bulk export)',
    kind: ClientKind.INSURER,
    organization: em.getReference(Organization, insurerId),
    scopes: ['system/*.rs'],
    active: true,
  } as never) as SystemClient;
  await em.flush();
  return (await em.findOne(SystemClient, { id: client.id }, { populate: ['organization'] }))!;
}

/** Peak resident set of a running process, sampled: max of VmHWM seen (the process's own high-water mark). */
function sampler(pid: number): { stop(): number } {
  let peakKb = 0;
  const read = () => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (kb) peakKb = Math.max(peakKb, Number(kb[1]));
    } catch {
      // gone
    }
  };
  read();
  const timer = setInterval(read, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return peakKb;
    },
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, stdoutFile?: string): Promise<{ code: number | null; stdout: string; stderr: string; peakKb: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const out = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'pipe';
    const child = spawn(command, args, { env, stdio: ['ignore', out, 'pipe'] });
    if (typeof out === 'number') fs.closeSync(out);
    const memory = sampler(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, peakKb: memory.stop(), seconds: (performance.now() - t0) / 1000 }));
  });
}

const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The floor's statement for one type, by hand: the insurer's members over the period (an ACTIVE coverage overlapping
 * it; the last insurer-sharing consent decision in force then or today not a DENY), and of their resources the
 * membership types whatever their date, the rest only on a covered day (date_at, else the last update, in the county's
 * calendar); nothing updated after the job's transaction time.
 */
function floorSql(type: string, insurerId: string, period: { start: string; end: string }, today: string, transactionTime: Date): string {
  const [ins, start, end, now] = [insurerId, period.start, period.end, today].map(literal);
  const day = `(coalesce(r.date_at, r.last_updated) at time zone ${literal(countyTimeZone())})::date`;
  const inForce = (from: string, to: string) => `(cs.period_start <= ${to} and (cs.period_end is null or cs.period_end >= ${from}))`;
  const covered = MEMBERSHIP_TYPES.includes(type)
    ? 'true'
    : `exists (select 1 from coverage cd where cd.patient_id = r.patient_id and cd.insurer_id = ${ins} and cd.status = 'ACTIVE'
         and cd.period_start <= ${day} and (cd.period_end is null or cd.period_end >= ${day}))`;
  return `copy (select r.content::text from fhir_resource r
     where r.resource_type = ${literal(type)} and not r.deleted and r.patient_id is not null and r.last_updated <= ${literal(transactionTime.toISOString())}
       and r.patient_id in (select cv.patient_id from coverage cv where cv.insurer_id = ${ins} and cv.status = 'ACTIVE'
             and cv.period_start <= ${end} and (cv.period_end is null or cv.period_end >= ${start}))
       and coalesce((select cs.decision from consent cs where cs.patient_id = r.patient_id and cs.purpose = 'INSURER_SHARING'
             and (${inForce(start, end)} or ${inForce(now, now)}) order by cs.created_at desc, cs.id desc limit 1), 'PERMIT') = 'PERMIT'
       and ${covered}) to stdout with (format csv, quote e'\\x01', delimiter e'\\x02')`;
}

/** Reads an NDJSON file back: its lines, each a resource of `type`, no id twice; the ids when asked for. */
async function readBack(file: string, type: string, label: string, ids?: Set<string>): Promise<{ lines: number; ids: Set<string> }> {
  const seen = ids ?? new Set<string>();
  let lines = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    lines++;
    const r = JSON.parse(line) as { resourceType?: string; id?: string };
    if (r.resourceType !== type || !r.id) throw new WrongAnswerError(`export, ${label}: line ${lines} of ${path.basename(file)} is a ${r.resourceType}/${r.id}, not a ${type}`);
    if (!ids) {
      if (seen.has(r.id)) throw new WrongAnswerError(`export, ${label}: ${type}/${r.id} written twice`);
      seen.add(r.id);
    } else if (!seen.has(r.id)) throw new WrongAnswerError(`export: the floor has ${type}/${r.id}, the job did not export it`);
  }
  return { lines, ids: seen };
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const sizeOf = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson')).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);

/** Runs the job and the floor, checks both, and removes their files. */
export async function exportAgainstFloor(db: BenchDatabase, security: Security, minObservations: number): Promise<ExportResult> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const orm = await openDatabase({ databaseUrl: db.url, embeddedDataDir: 'memory://' });
  const dir = path.join(OUT, db.name);
  try {
    const insurer = await busiestInsurer(c);
    const client = await insurerClient(asInternal(orm.em.fork() as EntityManager), insurer.id);
    const caller = systemCaller(client, [...client.scopes]);
    const today = countyToday();
    const period = { start: insurer.earliest, end: today };
    const jobId = await createBulkExportJob(orm, caller, { level: 'group', insurerId: insurer.id, period }, `bench: Group/${insurer.id}/$export`);
    const env = { ...process.env, ...benchEnv(db.url), BULK_EXPORT_DIR: dir, LOG_LEVEL: 'silent', EXPORT_JOB_ID: jobId };
    const pageSize = Number(process.env.BULK_EXPORT_PAGE_SIZE ?? 5000);
    console.log(`  export: Group/${insurer.id} (${insurer.name}, ${insurer.members.toLocaleString('en')} members, ${period.start} … ${period.end}) as the insurer's client, job ${jobId}`);

    const worker = await run(process.execPath, [WORKER], env);
    if (worker.code !== 0) throw new Error(`export worker exited with ${worker.code}:\n${worker.stderr.slice(-3000)}`);
    const report = JSON.parse(worker.stdout.trim().split('\n').at(-1)!) as { status: string; seconds: number; maxRssKb: number };
    if (report.status !== 'completed') throw new WrongAnswerError(`export: the job ended ${report.status}`);
    const { rows } = await c.query<{ output: BulkExportFile[]; transaction_time: Date; written: number }>('select output, transaction_time, written from bulk_export where id = $1', [jobId]);
    const job = rows[0]!;
    const jobDir = path.join(dir, jobId);

    const floorDir = path.join(dir, 'floor');
    fs.mkdirSync(floorDir, { recursive: true });
    let floorSeconds = 0;
    let floorPeakKb = 0;
    for (const f of job.output) {
      const psql = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url, '-c', floorSql(f.type, insurer.id, period, today, new Date(job.transaction_time))], process.env, path.join(floorDir, f.file));
      if (psql.code !== 0) throw new Error(`floor COPY of ${f.type} failed: ${psql.stderr}`);
      floorSeconds += psql.seconds;
      floorPeakKb = Math.max(floorPeakKb, psql.peakKb);
    }

    const files: ExportResult['files'] = [];
    for (const f of job.output) {
      const ours = await readBack(path.join(jobDir, f.file), f.type, 'the job');
      if (ours.lines !== f.count) throw new WrongAnswerError(`export: ${f.file} has ${ours.lines} lines, the job says ${f.count}`);
      const floor = await readBack(path.join(floorDir, f.file), f.type, 'the floor', ours.ids);
      if (floor.lines !== ours.lines) throw new WrongAnswerError(`export: ${f.type}: the job wrote ${ours.lines} resources, the floor ${floor.lines}`);
      files.push({ type: f.type, lines: ours.lines, floorLines: floor.lines });
    }
    const resources = files.reduce((n, f) => n + f.lines, 0);
    const observations = files.find((f) => f.type === 'Observation')?.lines ?? 0;
    if (observations < minObservations) console.log(`  (export: ${observations.toLocaleString('en')} Observations, fewer than ${minObservations.toLocaleString('en')}: seed with more --years)`);
    const result: ExportResult = {
      insurer: { id: insurer.id, name: insurer.name, members: insurer.members },
      caller: `system client ${CLIENT_ID} (INSURER, system/*.rs)`,
      period,
      pageSize,
      files,
      resources,
      observations,
      ours: {
        seconds: report.seconds,
        wallSeconds: worker.seconds,
        resourcesPerSecond: Math.round(resources / report.seconds),
        megabytes: mb(sizeOf(jobDir)),
        peakMemoryMb: Math.round(Math.max(worker.peakKb, report.maxRssKb) / 1024),
      },
      floor: { seconds: floorSeconds, resourcesPerSecond: Math.round(resources / floorSeconds), megabytes: mb(sizeOf(floorDir)), peakMemoryMb: Math.round(floorPeakKb / 1024) },
    };
    console.log(
      `  export: ${resources.toLocaleString('en')} resources (${observations.toLocaleString('en')} Observations) in ${report.seconds.toFixed(1)} s, ` +
        `${result.ours.resourcesPerSecond.toLocaleString('en')} resources/s, worker peak ${result.ours.peakMemoryMb} MB; ` +
        `floor ${floorSeconds.toFixed(1)} s, ${result.floor.resourcesPerSecond.toLocaleString('en')} resources/s`,
    );
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await orm.close();
    await c.end();
  }
}
