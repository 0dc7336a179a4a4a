/**
 * The scenarios: what each server is asked, how an answer under load is accepted, and the check before any
 * load that all of them answer the same data.
 */
import type { Child } from './servers/child.js';
import type { Target } from './load.js';
import type { Township, Village } from './servers/ours.js';
import { OVERDUE_QUERY, PATIENT_CARD_QUERY, PATIENT_LIST_QUERY, PEER_PATIENT_CARD_QUERY, PEER_PATIENT_LIST_QUERY, peerToOurs, UNCONTROLLED_QUERY } from './questions.js';
import { assertSameAnswers, WrongAnswerError } from './verify.js';

export interface Servers {
  gp: Child;
  admin: Child;
  peer: Child;
  floor: Child;
}

export interface Fixtures {
  tokens: { gp: string; admin: string };
  township: Township;
  cardPatients: string[];
  observations: string[];
}

/** The role of each server in the tables: ours ÷ peer and ours ÷ floor are taken from these. */
export const LABELS = { gp: 'ours, township GP', admin: 'ours, platform admin', peer: 'PostGraphile 5.1.5', floor: 'SQL floor' } as const;

const graphqlAccepts = (status: number, body: string) => status === 200 && body.startsWith('{"data"') && !/"errors"|"patient(ByRowId)?":null/.test(body);
const gql = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const rotate = <T>(xs: T[], n: number) => xs[n % xs.length]!;

export function cardTargets(s: Servers, f: Fixtures): Target[] {
  const ours = (who: 'gp' | 'admin'): Target => ({
    scenario: 'patient card',
    label: LABELS[who],
    server: s[who],
    method: 'POST',
    headers: bearer(f.tokens[who]),
    request: (n) => ({ path: '/graphql', body: gql(PATIENT_CARD_QUERY, { id: rotate(f.cardPatients, n) }) }),
    accept: graphqlAccepts,
  });
  return [
    ours('gp'),
    ours('admin'),
    { scenario: 'patient card', label: LABELS.peer, server: s.peer, method: 'POST', request: (n) => ({ path: '/graphql', body: gql(PEER_PATIENT_CARD_QUERY, { id: rotate(f.cardPatients, n) }) }), accept: graphqlAccepts },
    { scenario: 'patient card', label: LABELS.floor, server: s.floor, method: 'GET', request: (n) => ({ path: `/card?id=${rotate(f.cardPatients, n)}` }), accept: graphqlAccepts },
  ];
}

export function listTargets(s: Servers, f: Fixtures): Target[] {
  const ours = (who: 'gp' | 'admin'): Target => ({
    scenario: 'patient list',
    label: LABELS[who],
    server: s[who],
    method: 'POST',
    headers: bearer(f.tokens[who]),
    request: () => ({ path: '/graphql', body: gql(PATIENT_LIST_QUERY) }),
    accept: graphqlAccepts,
  });
  return [
    ours('gp'),
    ours('admin'),
    { scenario: 'patient list', label: LABELS.peer, server: s.peer, method: 'POST', request: () => ({ path: '/graphql', body: gql(PEER_PATIENT_LIST_QUERY) }), accept: graphqlAccepts },
    { scenario: 'patient list', label: LABELS.floor, server: s.floor, method: 'GET', request: () => ({ path: '/list' }), accept: graphqlAccepts },
  ];
}

export function fhirTargets(s: Servers, f: Fixtures): Target[] {
  const headers = { ...bearer(f.tokens.gp), accept: 'application/fhir+json' };
  return [
    {
      scenario: 'FHIR read',
      label: LABELS.gp,
      server: s.gp,
      method: 'GET',
      headers,
      request: (n) => ({ path: `/fhir/Observation/${rotate(f.observations, n)}` }),
      accept: (status, body) => status === 200 && body.includes('"resourceType":"Observation"'),
    },
    {
      scenario: 'FHIR search',
      label: LABELS.gp,
      server: s.gp,
      method: 'GET',
      headers,
      request: (n) => ({ path: `/fhir/Observation?patient=${rotate(f.cardPatients, n)}` }),
      accept: (status, body) => status === 200 && body.includes('"resourceType":"Bundle"'),
    },
  ];
}

async function ask(t: Target, n: number): Promise<unknown> {
  const { path, body } = t.request(n);
  const res = await fetch(`${t.server.baseUrl}${path}`, { method: t.method, headers: { 'content-type': 'application/json', ...t.headers }, body });
  const text = await res.text();
  if (!t.accept(res.status, text)) throw new WrongAnswerError(`${t.scenario}, ${t.label}: HTTP ${res.status} ${text.slice(0, 500)}`);
  const json = JSON.parse(text) as { data?: unknown };
  return t.label === LABELS.peer ? peerToOurs(json as never) : json;
}

/**
 * Every server's answer to the first `samples` cards, and to the list, must be the same data. The township GP sees
 * only the township's patients: its list is checked against the floor's list of that subtree.
 */
export async function verifyAnswers(s: Servers, f: Fixtures, samples = 5): Promise<string[]> {
  const notes: string[] = [];
  const card = cardTargets(s, f);
  for (let n = 0; n < Math.min(samples, f.cardPatients.length); n++) {
    assertSameAnswers(`patient card ${f.cardPatients[n]}`, await Promise.all(card.map(async (t) => ({ label: t.label, answer: await ask(t, n) }))));
  }
  notes.push(`patient card: ${Math.min(samples, f.cardPatients.length)} patients, the same data from all four`);
  const [gp, ...others] = listTargets(s, f);
  const answers = await Promise.all(others.map(async (t) => ({ label: t.label, answer: await ask(t, 0) })));
  assertSameAnswers('patient list', answers);
  const floorOfTownship = await (await fetch(`${s.floor.baseUrl}/list?org=${encodeURIComponent(f.township.path)}`)).json();
  assertSameAnswers("patient list (the township's)", [{ label: 'SQL floor, township subtree', answer: floorOfTownship }, { label: gp!.label, answer: await ask(gp!, 0) }]);
  const edges = (answers[0]!.answer as { data: { patients: { edges: unknown[] } } }).data.patients.edges.length;
  notes.push(`patient list: ${edges} patients, the same data from admin, peer and floor; the GP's list is the floor's list of the township`);
  const [read, search] = fhirTargets(s, f);
  const observation = (await ask(read!, 0)) as { id?: string };
  if (observation.id !== f.observations[0]) throw new WrongAnswerError(`FHIR read: asked Observation/${f.observations[0]}, got ${observation.id}`);
  const bundle = (await ask(search!, 0)) as { entry?: Array<{ resource?: { resourceType?: string; subject?: { reference?: string } } }> };
  const entries = bundle.entry ?? [];
  if (!entries.length || entries.some((e) => e.resource?.resourceType === 'Observation' && e.resource.subject?.reference !== `Patient/${f.cardPatients[0]}`)) {
    throw new WrongAnswerError(`FHIR search: Observation?patient=${f.cardPatients[0]} answered ${entries.length} entries, not all of that patient`);
  }
  notes.push(`FHIR: read answers the Observation asked for; search answers ${entries.length} entries of the patient asked for`);
  return notes;
}

/*
 * The worklist scenarios of issue 12: "overdue follow-ups for one township" (the GP's) and "uncontrolled patients in
 * one village" (busiestVillage), asked of ours as the township GP and as platform administrator, and of the floor
 * (servers/floor-worklists.ts). PostGraphile is not asked: its amber preset filters by equality on indexed columns
 * only, so it can say neither "planned before today" nor "managed in this organisation's subtree", nor order one
 * village's conditions across its patients.
 */
export interface WorklistFixtures {
  tokens: { gp: string; admin: string };
  township: Township;
  village: Village;
}

/** A page of a worklist: data, no errors, at least one entry (an empty list would measure nothing). */
const worklistAccepts = (status: number, body: string) => status === 200 && body.startsWith('{"data"') && !body.includes('"errors"') && body.includes('"node"');

function targets(scenario: string, query: string, organizationId: string, floorPath: string, s: Servers, f: WorklistFixtures): Target[] {
  const body = JSON.stringify({ query, variables: { scope: { organizationId } } });
  const ours = (who: 'gp' | 'admin'): Target => ({
    scenario,
    label: LABELS[who],
    server: s[who],
    method: 'POST',
    headers: { authorization: `Bearer ${f.tokens[who]}` },
    request: () => ({ path: '/graphql', body }),
    accept: worklistAccepts,
  });
  return [ours('gp'), ours('admin'), { scenario, label: LABELS.floor, server: s.floor, method: 'GET', request: () => ({ path: floorPath }), accept: worklistAccepts }];
}

export const overdueTargets = (s: Servers, f: WorklistFixtures) =>
  targets('overdue follow-ups (township)', OVERDUE_QUERY, f.township.id, `/overdue?org=${encodeURIComponent(f.township.path)}`, s, f);

export const uncontrolledTargets = (s: Servers, f: WorklistFixtures) =>
  targets('uncontrolled patients (village)', UNCONTROLLED_QUERY, f.village.id, `/uncontrolled?org=${encodeURIComponent(f.village.path)}`, s, f);

/** The GP, the administrator and the floor must give the same page (as sets; the order is the same sort on all three). */
export async function verifyWorklists(s: Servers, f: WorklistFixtures, which: { overdue: boolean; uncontrolled: boolean }): Promise<string[]> {
  const notes: string[] = [];
  for (const [on, scenario, ts] of [
    [which.overdue, 'overdue', overdueTargets(s, f)],
    [which.uncontrolled, 'uncontrolled', uncontrolledTargets(s, f)],
  ] as const) {
    if (!on) continue;
    const answers = await Promise.all(ts.map(async (t) => ({ label: t.label, answer: await ask(t, 0) })));
    assertSameAnswers(ts[0]!.scenario, answers);
    const edges = Object.values((answers[0]!.answer as { data: { worklists: Record<string, { edges: unknown[] }> } }).data.worklists)[0]!.edges.length;
    notes.push(`${ts[0]!.scenario}: ${edges} entries, the same page from the township GP, the administrator and the floor (${scenario === 'overdue' ? f.township.name : f.village.name})`);
  }
  return notes;
}
