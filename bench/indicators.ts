/**
 * The indicators scenario of issue 13 (`--only indicators`): every indicator of the care model over a period, for the
 * whole county (ours as platform administrator, no scope: every patient) and for the township of the hot paths (ours
 * as its GP, scope that township), asked by GraphQL `indicators` over HTTP; beside them the floor
 * (servers/floor-indicators.ts: one statement, the definitions' populations, no policy or audit). Before any load,
 * ours and the floor must give the same numerator and denominator for every indicator; the bench stops otherwise.
 */
import type { Target } from './load.js';
import { LABELS, type Servers } from './scenarios.js';
import type { Township } from './servers/ours.js';
import { SEED_AS_OF } from './seed.js';
import { WrongAnswerError } from './verify.js';

export const INDICATORS_QUERY = `query Indicators($scope: IndicatorScopeInput, $period: PeriodInput!) {
  indicators(scope: $scope, period: $period) { rows { indicator numerator denominator value } }
}`;

/** The seed's calendar year up to the day before its "present" (SEED_AS_OF): the readings of the year so far. */
export function indicatorPeriod(asOf = SEED_AS_OF): { start: string; end: string } {
  const end = new Date(Date.parse(`${asOf}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  return { start: `${end.slice(0, 4)}-01-01`, end };
}

export interface IndicatorFixtures {
  tokens: { gp: string; admin: string };
  township: Township;
  period: { start: string; end: string };
}

/** An answer with rows and no errors (every row's figures are checked before the load). */
const accepts = (status: number, body: string) => status === 200 && /^\{\s*"data"/.test(body) && !body.includes('"errors"') && /"rows"\s*:\s*\[\s*\{/.test(body);

const COUNTY = 'all indicators (county)';
const TOWNSHIP = 'all indicators (township)';

export function indicatorTargets(s: Servers, f: IndicatorFixtures): Target[] {
  const ours = (scenario: string, who: 'gp' | 'admin', scope?: { organizationId: string }): Target => {
    const body = JSON.stringify({ query: INDICATORS_QUERY, variables: { scope, period: f.period } });
    return { scenario, label: LABELS[who], server: s[who], method: 'POST', headers: { authorization: `Bearer ${f.tokens[who]}` }, request: () => ({ path: '/graphql', body }), accept: accepts };
  };
  const floor = (scenario: string, org?: string): Target => {
    const q = new URLSearchParams({ ...f.period, ...(org ? { org } : {}) });
    return { scenario, label: LABELS.floor, server: s.floor, method: 'GET', request: () => ({ path: `/indicators?${q}` }), accept: accepts };
  };
  return [ours(COUNTY, 'admin'), floor(COUNTY), ours(TOWNSHIP, 'gp', { organizationId: f.township.id }), floor(TOWNSHIP, f.township.path)];
}

type Row = { indicator: string; numerator: number; denominator: number; value: number | null };

async function rowsOf(t: Target): Promise<Row[]> {
  const { path, body } = t.request(0);
  const res = await fetch(`${t.server.baseUrl}${path}`, { method: t.method, headers: { 'content-type': 'application/json', ...t.headers }, body });
  const text = await res.text();
  if (!t.accept(res.status, text)) throw new WrongAnswerError(`${t.scenario}, ${t.label}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return (JSON.parse(text) as { data: { indicators: { rows: Row[] } } }).data.indicators.rows;
}

/** Ours and the floor: the same indicators, each with the same numerator and denominator (and value, to 1e-12). */
export async function verifyIndicators(s: Servers, f: IndicatorFixtures): Promise<string[]> {
  const notes: string[] = [];
  const [countyOurs, countyFloor, townOurs, townFloor] = indicatorTargets(s, f);
  for (const [ours, floor, where] of [
    [countyOurs!, countyFloor!, 'the county'],
    [townOurs!, townFloor!, f.township.name],
  ] as const) {
    const [a, b] = await Promise.all([rowsOf(ours), rowsOf(floor)]);
    const byId = new Map(b.map((r) => [r.indicator, r]));
    if (a.length !== b.length) throw new WrongAnswerError(`${ours.scenario}: ${ours.label} answers ${a.length} indicators, the floor ${b.length}`);
    for (const r of a) {
      const x = byId.get(r.indicator);
      const same = x && x.numerator === r.numerator && x.denominator === r.denominator && (x.value === null ? r.value === null : r.value !== null && Math.abs(x.value - r.value) < 1e-12);
      if (!same) throw new WrongAnswerError(`${ours.scenario}, ${r.indicator}: ${ours.label} ${r.numerator}/${r.denominator}, the floor ${x ? `${x.numerator}/${x.denominator}` : 'nothing'}`);
    }
    notes.push(
      `${ours.scenario}: ${a.length} indicators over ${f.period.start} … ${f.period.end}, the same numerators and denominators from ${ours.label} and the floor (${where}: ` +
        a.map((r) => `${r.indicator.toLowerCase()} ${r.numerator}/${r.denominator}`).join(', ') +
        ')',
    );
  }
  return notes;
}
