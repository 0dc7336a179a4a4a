/**
 * The bench's results: bench/results.json (everything measured) and bench/RESULTS.md (the tables, the ratios and
 * the issue's targets, met or not: a target not met is reported, never a failure).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Measured } from './load.js';
import type { ImportResult } from './fhir/import-floor.js';
import type { ExportResult } from './export.js';
import type { SeedTiming } from './seed.js';
import { LABELS } from './scenarios.js';

export interface Results {
  meta: Record<string, string | number>;
  options: Record<string, unknown>;
  seed?: SeedTiming;
  checks: string[];
  scenarios: Measured[];
  fhirImport?: ImportResult;
  bulkExport?: ExportResult;
  ratios: Array<{ scenario: string; ours: string; versus: string; throughput: number; p50: number }>;
  targets: Array<{ target: string; measured: string; met: boolean }>;
}

export function machine(command: string, postgres: string): Record<string, string | number> {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  let commit = 'unknown';
  try {
    commit = git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : '');
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    commit,
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    command,
  };
}

const find = (ms: Measured[], scenario: string, label: string) => ms.find((m) => m.scenario === scenario && m.label === label);

/** Ours ÷ peer and ours ÷ floor, per scenario; and the issue's targets against them. */
export function judge(ms: Measured[], seed?: SeedTiming, bulkExport?: ExportResult): Pick<Results, 'ratios' | 'targets'> {
  const ratios: Results['ratios'] = [];
  for (const scenario of new Set(ms.map((m) => m.scenario))) {
    for (const ours of [LABELS.gp, LABELS.admin]) {
      for (const versus of [LABELS.peer, LABELS.floor]) {
        const a = find(ms, scenario, ours);
        const b = find(ms, scenario, versus);
        if (a && b) ratios.push({ scenario, ours, versus, throughput: a.requestsPerSecond / b.requestsPerSecond, p50: a.latencyMs.p50 / b.latencyMs.p50 });
      }
    }
  }
  const ratio = (scenario: string, versus: string) => ratios.find((r) => r.scenario === scenario && r.ours === LABELS.gp && r.versus === versus)?.throughput;
  const targets: Results['targets'] = [];
  const x = (r: number) => `${r.toFixed(2)}×`;
  const card = ratio('patient card', LABELS.peer);
  if (card !== undefined) targets.push({ target: 'patient card, township GP: ≥ 1.5× PostGraphile throughput', measured: x(card), met: card >= 1.5 });
  const cardGp = find(ms, 'patient card', LABELS.gp);
  if (cardGp) targets.push({ target: 'patient card, township GP: p99 < 50 ms', measured: `${cardGp.latencyMs.p99.toFixed(1)} ms`, met: cardGp.latencyMs.p99 < 50 });
  const list = ratio('patient list', LABELS.peer);
  if (list !== undefined) targets.push({ target: 'patient list, township GP: ≥ 1× PostGraphile throughput', measured: x(list), met: list >= 1 });
  const floor = ratio('patient list', LABELS.floor);
  if (floor !== undefined) targets.push({ target: 'patient list, township GP: within 3× of the SQL floor (≥ 0.33× its throughput)', measured: x(floor), met: floor >= 1 / 3 });
  // Issue 12's worklists: within 3× of the floor, p99 under 100 ms.
  for (const scenario of ['overdue follow-ups (township)', 'uncontrolled patients (village)']) {
    const r = ratio(scenario, LABELS.floor);
    if (r !== undefined) targets.push({ target: `${scenario}, township GP: within 3× of the SQL floor (≥ 0.33× its throughput)`, measured: x(r), met: r >= 1 / 3 });
    const gp = find(ms, scenario, LABELS.gp);
    if (gp) targets.push({ target: `${scenario}, township GP: p99 < 100 ms`, measured: `${gp.latencyMs.p99.toFixed(1)} ms`, met: gp.latencyMs.p99 < 100 });
  }
  // Issue 13: all indicators of the county under a second.
  for (const [scenario, who] of [
    ['all indicators (county)', LABELS.admin],
    ['all indicators (township)', LABELS.gp],
  ] as const) {
    const m = find(ms, scenario, who);
    if (m) targets.push({ target: `${scenario}, ${who}: p99 < 1 s`, measured: `p50 ${m.latencyMs.p50.toFixed(0)} ms, p99 ${m.latencyMs.p99.toFixed(0)} ms`, met: m.latencyMs.p99 < 1000 });
  }
  if (bulkExport) {
    const e = bulkExport;
    const size = `${e.observations.toLocaleString('en')} Observations`;
    targets.push({ target: 'Bulk export of ≥ 1,000,000 observations: ≥ 50,000 resources/s', measured: `${e.ours.resourcesPerSecond.toLocaleString('en')} resources/s (${size})`, met: e.observations >= 1_000_000 && e.ours.resourcesPerSecond >= 50_000 });
    targets.push({ target: 'Bulk export: the exporting process peaks below 300 MB', measured: `${e.ours.peakMemoryMb} MB (${size})`, met: e.ours.peakMemoryMb < 300 });
  }
  if (seed) targets.push({ target: 'FHIR backfill of the seeded county: ≥ 10,000 resources/s', measured: `${seed.resourcesPerSecond.toLocaleString('en')} resources/s`, met: seed.resourcesPerSecond >= 10_000 });
  return { ratios, targets };
}

const n0 = (v: number) => Math.round(v).toLocaleString('en');
const ms1 = (v: number) => v.toFixed(1);
/** Requests a second: whole above 10, else two decimals (a county's indicators take seconds each). */
const rps = (v: number) => (v < 10 ? v.toFixed(2) : n0(v));

function markdown(r: Results): string {
  const m = r.meta;
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`${m.command}\` (bench/README.md says what is measured and how).`,
    '',
    `| | |`,
    `|---|---|`,
    `| date | ${m.date} |`,
    `| commit | ${m.commit} |`,
    `| machine | ${m.cores} cores, ${m.cpu}, ${m.memoryGb} GB |`,
    `| Node | ${m.node} |`,
    `| PostgreSQL | ${m.postgres} |`,
    `| load | autocannon, ${r.options.connections} connections (indicators: ${r.options.indicatorConnections ?? 1}), ${r.options.rounds} round(s) of ${r.options.duration} s after ${r.options.warmup} s of warm-up per server |`,
    '',
  ];
  if (r.seed) {
    const s = r.seed;
    lines.push(
      '## Data',
      '',
      `${n0(s.patients)} patients seeded (${n0(s.rows)} rows, ${n0(s.counts.observation ?? 0)} readings; ${s.historyYears ?? 2} years of history, ${s.coverageYears ?? 1} calendar year(s) of coverage) in ${ms1(s.seedSeconds)} s; ` +
        `written as FHIR (backfill) in ${ms1(s.backfillSeconds)} s: ${n0(s.resources)} resources, **${n0(s.resourcesPerSecond)} resources/s**.`,
      '',
    );
  } else lines.push('## Data', '', `An existing database (${r.options.reuse}), not seeded by this run: no seed or backfill timing.`, '');
  if (r.targets.length) {
    lines.push('## Targets (issues 11, 12 and 13)', '', '| target | measured | |', '|---|---|---|');
    for (const t of r.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met ? 'met' : '**not met**'} |`);
    lines.push('');
  }
  if (r.scenarios.length) {
    lines.push('## Side by side', '', 'Throughput is the median round; latencies over every measured request; memory is the server process\'s peak resident set (VmHWM) so far.', '');
    lines.push('| question | server | req/s | p50 ms | p95 ms | p99 ms | peak MB | ÷ peer | ÷ floor |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of r.scenarios) {
      const ratio = (versus: string) => r.ratios.find((x) => x.scenario === s.scenario && x.ours === s.label && x.versus === versus)?.throughput;
      const [peer, floor] = [ratio(LABELS.peer), ratio(LABELS.floor)];
      lines.push(
        `| ${s.scenario} | ${s.label} | ${rps(s.requestsPerSecond)} | ${ms1(s.latencyMs.p50)} | ${ms1(s.latencyMs.p95)} | ${ms1(s.latencyMs.p99)} | ${s.peakMemoryMb ?? '—'} | ` +
          `${peer === undefined ? '' : `${peer.toFixed(2)}×`} | ${floor === undefined ? '' : `${floor.toFixed(2)}×`} |`,
      );
    }
    lines.push('', 'Rounds (req/s): ' + r.scenarios.map((s) => `${s.scenario} / ${s.label}: ${s.rounds.map((x) => rps(x.requestsPerSecond)).join(', ')}`).join('; ') + '.', '');
  }
  if (r.fhirImport) {
    const f = r.fhirImport;
    lines.push(
      '## FHIR transaction-Bundle import',
      '',
      '| | resources/s | time | |',
      '|---|---:|---:|---|',
      `| ours, in process (as \`npm run import\`), ${f.concurrency} Bundles at a time | ${n0(f.import.resourcesPerSecond)} | ${ms1(f.import.seconds)} s | ${f.bundles} Bundles, ${n0(f.resources)} resources; per Bundle p50 ${n0(f.import.bundleP50Ms)} ms, p95 ${n0(f.import.bundleP95Ms)} ms |`,
      `| floor: the same rows by multi-row INSERT | ${n0(f.floor.resourcesPerSecond)} | ${ms1(f.floor.seconds)} s | ${n0(f.floor.rows)} rows into ${f.floor.tables} tables, ${n0(f.floor.rowsPerSecond)} rows/s |`,
      `| ours ÷ floor | ${(f.import.resourcesPerSecond / f.floor.resourcesPerSecond).toFixed(3)}× | | |`,
      '',
    );
  }
  if (r.bulkExport) {
    const e = r.bulkExport;
    const o = e.ours;
    const f = e.floor;
    lines.push(
      '## Bulk export',
      '',
      `Group/${e.insurer.id}/$export (${e.insurer.name}, ${n0(e.insurer.members)} members; period ${e.period.start} … ${e.period.end}) as ${e.caller}, pages of ${n0(e.pageSize)}: ` +
        `${n0(e.resources)} resources, ${n0(e.observations)} of them Observations, in ${e.files.length} files (${e.files.map((x) => `${x.type} ${n0(x.lines)}`).join(', ')}).`,
      '',
      '| | resources/s | time | output | peak MB |',
      '|---|---:|---:|---:|---:|',
      `| ours: the job (runBulkExport) in a worker process of its own | ${n0(o.resourcesPerSecond)} | ${ms1(o.seconds)} s (process ${ms1(o.wallSeconds)} s) | ${n0(o.megabytes)} MB | ${o.peakMemoryMb} |`,
      `| floor: COPY … TO STDOUT by psql, one statement per type | ${n0(f.resourcesPerSecond)} | ${ms1(f.seconds)} s | ${n0(f.megabytes)} MB | ${f.peakMemoryMb} (psql) |`,
      `| ours ÷ floor | ${(o.resourcesPerSecond / f.resourcesPerSecond).toFixed(2)}× | | | |`,
      '',
    );
  }
  lines.push('## Checks before measuring', '', ...r.checks.map((c) => `- ${c}`), '');
  return lines.join('\n');
}

export function writeResults(r: Results, dir = path.resolve(process.env.BENCH_RESULTS_DIR ?? 'bench')): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'RESULTS.md'), markdown(r));
  console.log(`\n${markdown(r)}\n(written: ${path.relative('.', path.join(dir, 'RESULTS.md'))}, ${path.relative('.', path.join(dir, 'results.json'))})`);
}
