/**
 * Load rounds with autocannon: a target is one server asked one question (the request may change per request,
 * e.g. a rotating patient id); every answer is checked, and a wrong one fails the bench. Latency percentiles
 * are taken over every measured request of every round (autocannon's own summary has no p95); throughput is the
 * median of the rounds'.
 */
import autocannon from 'autocannon';
import type { Child } from './servers/child.js';
import { WrongAnswerError } from './verify.js';

export interface LoadOptions {
  connections: number;
  /** Seconds per measured round. */
  duration: number;
  rounds: number;
  /** Seconds of warm-up per target, before the first round. */
  warmup: number;
}

export interface Target {
  scenario: string;
  label: string;
  server: Child;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** The n-th request: its path (and body, for POST). */
  request(n: number): { path: string; body?: string };
  /** Whether an answer is right enough under load (the full comparison is done before: verify.ts). */
  accept(status: number, body: string): boolean;
}

export interface Round {
  requests: number;
  requestsPerSecond: number;
}

export interface Measured {
  scenario: string;
  label: string;
  rounds: Round[];
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number; max: number };
  peakMemoryMb: number | null;
}

interface Raw {
  latencies: number[];
  rounds: Round[];
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? NaN;

async function once(t: Target, seconds: number, connections: number, latencies?: number[]): Promise<Round> {
  let n = 0;
  let wrong = 0;
  let example = '';
  const options: autocannon.Options = {
    url: t.server.baseUrl,
    connections,
    duration: seconds,
    method: t.method,
    headers: { 'content-type': 'application/json', ...t.headers },
    requests: [
      {
        setupRequest: (req) => ({ ...req, ...t.request(n++) }),
        onResponse: (status, body) => {
          if (t.accept(status, body)) return;
          wrong++;
          example ||= `HTTP ${status}: ${body.slice(0, 300)}`;
        },
      },
    ],
  };
  // The callback form: only it gives the instance, whose 'response' events carry each request's latency.
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err, res) => (err ? reject(err) : resolve(res)));
    if (latencies) instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  const failed = result.errors + result.timeouts + result.non2xx + wrong;
  if (failed) throw new WrongAnswerError(`${t.scenario}, ${t.label}: ${failed} of ${result.requests.total} requests failed under load (${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${wrong} wrong answers) ${example}`);
  return { requests: result.requests.total, requestsPerSecond: result.requests.total / result.duration };
}

/**
 * Warms up each target, then runs the measured rounds in rotation (round 1 of every target, then round 2 …) so
 * that drift on a shared machine falls on all of them alike.
 */
export async function measure(targets: Target[], o: LoadOptions): Promise<Measured[]> {
  const raw = new Map<Target, Raw>(targets.map((t) => [t, { latencies: [], rounds: [] }]));
  for (const t of targets) if (o.warmup > 0) await once(t, o.warmup, o.connections);
  for (let r = 0; r < o.rounds; r++) {
    for (const t of targets) {
      const m = raw.get(t)!;
      m.rounds.push(await once(t, o.duration, o.connections, m.latencies));
      const last = m.rounds.at(-1)!;
      console.log(`  ${t.scenario.padEnd(14)} ${t.label.padEnd(24)} round ${r + 1}/${o.rounds}: ${last.requestsPerSecond.toFixed(last.requestsPerSecond < 10 ? 2 : 0).padStart(6)} req/s`);
    }
  }
  return targets.map((t) => {
    const { latencies, rounds } = raw.get(t)!;
    const sorted = [...latencies].sort((a, b) => a - b);
    const rps = rounds.map((r) => r.requestsPerSecond).sort((a, b) => a - b);
    return {
      scenario: t.scenario,
      label: t.label,
      rounds,
      requestsPerSecond: rps[Math.floor((rps.length - 1) / 2)]!,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
        mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
        max: sorted.at(-1) ?? NaN,
      },
      peakMemoryMb: t.server.peakMemoryMb(),
    };
  });
}
