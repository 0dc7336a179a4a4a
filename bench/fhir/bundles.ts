/**
 * FHIR transaction Bundles for the import benchmarks (`npm run bench:fhir`, and the import scenario of `npm run
 * bench`): the Synthea patient Bundles of the test data (synthea-qicore-2025-ny and synthea-2019-smart-r4,
 * test/fixtures/fhir or FHIR_DATA_DIR) replicated with fresh identities — new urn:uuid fullUrls and ids, rewritten
 * in every reference, identifier values suffixed per copy — so every copy is a new patient; and the two ways of
 * importing them, in process (as `npm run import` does) and over HTTP (POST /fhir).
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { Orm } from '../../src/db/orm.js';
import { entityManagerFor, type Security } from '../../src/access/index.js';
import { INTERNAL_CALLER } from '../../src/access/caller.js';
import { AuditRecorder } from '../../src/access/audit.js';
import { AuditAction, AuditOutcome } from '../../src/access/audit-event.entity.js';
import { FhirInteractions } from '../../src/fhir/interactions.js';
import { importPaths } from '../../src/cli/import.js';

export const dataDir = path.resolve(process.env.FHIR_DATA_DIR ?? path.join(process.cwd(), 'test', 'fixtures', 'fhir'));
const directoryDir = path.join(dataDir, 'synthea-qicore-2025-ny');
const DIRECTORY_FILE = /^(hospitalInformation|practitionerInformation).*\.json$/;

// ---------------------------------------------------------------------------------------------------------
// Templates and fresh copies

export interface Template {
  file: string;
  text: string;
  /** Every id the Bundle gives its own resources (fullUrl uuids and resource ids): rewritten per copy. */
  ids: Set<string>;
  resources: number;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export function loadTemplates(): Template[] {
  const files = [
    ...fs
      .readdirSync(directoryDir)
      .filter((f) => f.endsWith('.json') && !DIRECTORY_FILE.test(f))
      .sort()
      .map((f) => path.join(directoryDir, f)),
    ...fs
      .readdirSync(path.join(dataDir, 'synthea-2019-smart-r4'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(dataDir, 'synthea-2019-smart-r4', f)),
  ];
  return files.map((file) => {
    const text = fs.readFileSync(file, 'utf8');
    const bundle = JSON.parse(text) as Bundle;
    if (bundle.type !== 'transaction') throw new Error(`${file} is a ${bundle.type} Bundle, not a transaction`);
    const ids = new Set<string>();
    for (const e of bundle.entry ?? []) {
      for (const m of `${e.fullUrl ?? ''} ${e.resource?.id ?? ''}`.match(UUID) ?? []) ids.add(m.toLowerCase());
    }
    return { file, text, ids, resources: bundle.entry?.length ?? 0 };
  });
}

/** A new patient: every id of the Bundle replaced (consistently, references included), identifier values suffixed. */
function freshCopy(t: Template, copy: number): string {
  const map = new Map<string, string>();
  for (const id of t.ids) map.set(id, randomUUID());
  const bundle = JSON.parse(t.text.replace(UUID, (m) => map.get(m.toLowerCase()) ?? m)) as Bundle;
  for (const e of bundle.entry ?? []) {
    const ids = (e.resource as { identifier?: Array<{ value?: string }> } | undefined)?.identifier;
    if (Array.isArray(ids)) for (const i of ids) if (typeof i.value === 'string') i.value = `${i.value}-c${copy}`;
  }
  return JSON.stringify(bundle);
}

export interface Copies {
  texts: string[];
  resources: number;
}

export function makeCopies(templates: Template[], target: number, firstCopy: number): Copies {
  const texts: string[] = [];
  let resources = 0;
  for (let copy = firstCopy; resources < target; copy++) {
    for (const t of templates) {
      if (resources >= target) break;
      texts.push(freshCopy(t, copy));
      resources += t.resources;
    }
  }
  return { texts, resources };
}


// ---------------------------------------------------------------------------------------------------------
// Runs

export interface RunResult {
  label: string;
  bundles: number;
  resources: number;
  failedBundles: number;
  elapsedMs: number;
  latencies: number[];
}

export const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};

export function report(r: RunResult): string {
  const s = r.elapsedMs / 1000;
  return (
    `  ${r.label.padEnd(34)} ${Math.round(r.resources / s).toLocaleString('en').padStart(6)} resources/s  ` +
    `${r.resources.toLocaleString('en').padStart(7)} resources  ${String(r.bundles).padStart(4)} Bundles  ${s.toFixed(1).padStart(7)} s  ` +
    `per Bundle p50 ${pct(r.latencies, 0.5).toFixed(0)} ms, p95 ${pct(r.latencies, 0.95).toFixed(0)} ms` +
    (r.latencies.length >= 50 ? ` (p50 first/last tenth ${pct(r.latencies.slice(0, r.latencies.length / 10), 0.5).toFixed(0)}/${pct(r.latencies.slice((-r.latencies.length / 10) | 0), 0.5).toFixed(0)} ms)` : '') +
    (r.failedBundles ? `  ${r.failedBundles} Bundles FAILED` : '')
  );
}

/**
 * Runs `work` over the items, `n` at a time, each timed. The first item runs alone: the first patient creates
 * shared rows (the "unassigned" organisation) and concurrent first patients collide on them (see the report).
 */
export async function pooled(items: string[], n: number, work: (text: string) => Promise<number>): Promise<{ latencies: number[]; resources: number; failed: number; elapsedMs: number }> {
  const latencies: number[] = [];
  let resources = 0;
  let failed = 0;
  const one = async (text: string) => {
    const start = performance.now();
    try {
      const done = await work(text);
      resources += done;
    } catch (err) {
      failed++;
      if (failed <= 3) console.error(`  a Bundle failed: ${(err as Error).message.slice(0, 500)}`);
    }
    latencies.push(performance.now() - start);
  };
  const t0 = performance.now();
  if (items.length) await one(items[0]!);
  let next = 1;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await one(items[next++]!);
    }),
  );
  return { latencies, resources, failed, elapsedMs: performance.now() - t0 };
}

/** The importer's path: FhirInteractions.bundle as the internal caller, one audit record per Bundle. */
export async function inProcess(orm: Orm, security: Security, config: Config, texts: string[], n: number, label: string): Promise<RunResult> {
  const audit = new AuditRecorder(orm, pino({ level: 'silent' }));
  const baseUrl = `${config.auth.publicUrl}/fhir`;
  const r = await pooled(texts, n, async (text) => {
    const bundle = JSON.parse(text) as Bundle;
    const { em, policy } = entityManagerFor(orm, INTERNAL_CALLER);
    const requestAudit = audit.forRequest(INTERNAL_CALLER, 'bench', undefined);
    const fhir = new FhirInteractions({ em, policy, protector: security.protector, systems: config.identifierSystems, audit: requestAudit, baseUrl });
    const response = await fhir.bundle(bundle);
    await requestAudit.record(AuditAction.CREATE, 'bench FHIR transaction', AuditOutcome.SUCCESS);
    const bad = (response.entry ?? []).filter((e) => !/^2\d\d/.test(e.response?.status ?? ''));
    if (bad.length) throw new Error(`${bad.length} entries not 2xx: ${JSON.stringify(bad[0]).slice(0, 300)}`);
    return response.entry?.length ?? 0;
  });
  return { label, bundles: texts.length, resources: r.resources, failedBundles: r.failed, elapsedMs: r.elapsedMs, latencies: r.latencies };
}

export async function overHttp(orm: Orm, security: Security, config: Config, texts: string[], n: number, label: string): Promise<RunResult> {
  const app = await createApp({ config, orm, security, logger: pino({ level: 'silent' }) });
  const server = app.express.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  const token = await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'bench', 6 * 3600);
  try {
    const r = await pooled(texts, n, async (text) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` }, body: text });
      const body = (await res.json()) as Bundle;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return body.entry?.length ?? 0;
    });
    return { label, bundles: texts.length, resources: r.resources, failedBundles: r.failed, elapsedMs: r.elapsedMs, latencies: r.latencies };
  } finally {
    server.close();
    await app.stop();
  }
}


export async function loadDirectory(orm: Orm, security: Security, config: Config, n: number, label: string): Promise<void> {
  const t0 = performance.now();
  const files = fs
    .readdirSync(directoryDir)
    .filter((f) => DIRECTORY_FILE.test(f))
    .map((f) => path.join(directoryDir, f));
  const dir = await importPaths(orm, security, config, files, { concurrency: n });
  if (dir.failed) throw new Error(`the directory Bundles failed to load: ${dir.failures[0]?.diagnostics}`);
  console.log(`  ${label}: directory loaded (untimed): ${dir.resources} resources in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
