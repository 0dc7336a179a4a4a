import type { MeasureReport, Parameters } from '@medplum/fhirtypes';
import { ClientKind } from '../access/caller.js';
import type { AccessPolicy } from '../access/policy.js';
import type { RequestAudit } from '../access/audit.js';
import type { CareRules } from '../care-rules/rules.js';
import type { EntityManager } from '../db/orm.js';
import { DomainError, isUuid } from '../domain/errors.js';
import { measureReportOf } from '../../fhir-mappings/index.js';
import { checkPeriod, evaluateIndicators, type IndicatorPopulation, type IndicatorRequest, indicatorById, indicatorPatientIds, INDICATORS, MAX_PATIENT_IDS } from '../indicators/index.js';
import type { IndicatorDefinition, Period } from '../indicators/indicator.js';
import { indicatorRequest } from '../indicators/table.js';
import { measureCanonicalOf } from './measures.js';
import { fhirError } from './outcome.js';

/**
 * Measure/$evaluate-measure (http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure): one indicator over a
 * period and a subject — an organisation's subtree, a care team, or (none) every patient the caller may see — by the
 * indicator engine, as GraphQL `indicators` computes it (src/indicators/table.ts: the same request), under the
 * caller's policy over the period (an insurer: whom it covered then).
 */

/** The most subjects a subject-list names per population; a larger list is read page by page with GraphQL's `patients`. */
export const MAX_SUBJECT_LIST = 10_000;

/** What the operation takes, from the query string or a Parameters body. */
const PARAMETERS = new Set(['periodStart', 'periodEnd', 'subject', 'reportType', 'measure', 'persist']);

export interface EvaluateContext {
  em: EntityManager;
  policy: AccessPolicy;
  rules: CareRules;
  audit?: RequestAudit;
  /** The most subjects a subject-list names per population (default MAX_SUBJECT_LIST). */
  maxSubjects?: number;
}

export interface Evaluation {
  report: MeasureReport;
  /** `persist=true`: the caller asked for the report to be stored (a summary only). */
  persist: boolean;
}

/** The operation's parameters as one map: the query string's and a POSTed Parameters body's (a name given twice is refused). */
export function operationParameters(query: URLSearchParams, body?: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const add = (name: string, value: string, where: string) => {
    if (!PARAMETERS.has(name)) throw fhirError(400, 'not-supported', `$evaluate-measure does not take "${name}" (it takes ${[...PARAMETERS].join(', ')})`, [where]);
    if (out.has(name)) throw fhirError(400, 'invalid', `$evaluate-measure: "${name}" is given twice`, [where]);
    out.set(name, value);
  };
  for (const [name, value] of query) add(name, value, name);
  const parameters = body as Parameters | undefined;
  if (parameters && Object.keys(parameters).length) {
    if (parameters.resourceType !== 'Parameters') throw fhirError(400, 'invalid', 'POST $evaluate-measure takes a Parameters resource (or none, with the query string)', ['resourceType']);
    (parameters.parameter ?? []).forEach((p, i) => {
      const value = p.valueDate ?? p.valueString ?? p.valueCode ?? p.valueUri ?? p.valueCanonical ?? (p.valueBoolean === undefined ? undefined : String(p.valueBoolean));
      if (!p.name || value === undefined) throw fhirError(400, 'invalid', `parameter ${i}: a name and a date, string, code or boolean value`, [`Parameters.parameter[${i}]`]);
      add(p.name, value, `Parameters.parameter[${i}]`);
    });
  }
  return out;
}

/** Whether a request asks for its report to be stored (for the audit's action, before anything is parsed strictly). */
export function asksToPersist(query: URLSearchParams, body: unknown): boolean {
  const parameter = ((body as Parameters | undefined)?.parameter ?? []).find((p) => p?.name === 'persist');
  return query.get('persist') === 'true' || parameter?.valueBoolean === true || parameter?.valueString === 'true';
}

/** A Measure named by the type-level operation's `measure`: its id, `Measure/<id>` or its canonical url (`|version` too). */
export function measureNamed(value: string): IndicatorDefinition {
  const id = /(?:^|\/)Measure\/([^/|]+)(\|.*)?$/.exec(value)?.[1] ?? value;
  const def = indicatorById(id);
  if (!def || (value.includes('|') && measureCanonicalOf(def) !== value)) throw fhirError(404, 'not-found', `no Measure ${value} (the Measures are the indicators: ${INDICATORS.map((d) => d.id).join(', ')})`, ['measure']);
  return def;
}

/** `2026`, `2026-07`, `2026-07-15` → a county day: the first day of what it names (`end`: the last). */
function dayOf(raw: string | undefined, name: 'periodStart' | 'periodEnd'): string {
  if (raw === undefined) throw fhirError(400, 'required', `$evaluate-measure needs ${name} (a date: YYYY, YYYY-MM or YYYY-MM-DD)`, [name]);
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(raw);
  if (!m || (m[2] && !(Number(m[2]) >= 1 && Number(m[2]) <= 12))) throw fhirError(400, 'invalid', `${name} must be a date (YYYY, YYYY-MM or YYYY-MM-DD), not ${JSON.stringify(raw)}`, [name]);
  if (m[3]) return raw;
  const end = name === 'periodEnd';
  if (m[2]) return end ? new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).toISOString().slice(0, 10) : `${raw}-01`;
  return end ? `${raw}-12-31` : `${raw}-01-01`;
}

function periodOf(params: Map<string, string>): Period {
  const period = { start: dayOf(params.get('periodStart'), 'periodStart'), end: dayOf(params.get('periodEnd'), 'periodEnd') };
  try {
    checkPeriod(period);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    throw fhirError(400, 'invalid', err.message.replace('period.start', 'periodStart').replace('period.end', 'periodEnd'), [err.field === 'period.start' ? 'periodStart' : 'periodEnd']);
  }
  return period;
}

type ReportType = 'summary' | 'subject-list';

/** R4's reportType: `population` (the default), R4B's `summary` the same; `subject-list`. One patient's report (`subject`) is not made. */
function reportTypeOf(raw: string | undefined): ReportType {
  if (raw === undefined || raw === 'population' || raw === 'summary') return 'summary';
  if (raw === 'subject-list') return 'subject-list';
  if (raw === 'subject') throw fhirError(400, 'not-supported', 'reportType=subject (one patient\'s report) is not made: the indicators are counted over organisations and care teams (population or subject-list)', ['reportType']);
  throw fhirError(400, 'code-invalid', `reportType must be population, summary or subject-list, not ${JSON.stringify(raw)}`, ['reportType']);
}

/**
 * Whether the caller may have figures for an organisation's subtree: one it manages (its own subtree; administrators
 * every one); an insurer, for its members there; a hospital system, for the patients it sent or exchanged referrals
 * about. Anyone else's figures for another township would count nobody (they see none of its patients) and would
 * read as that township's: refused.
 */
function assertMayCountUnder(policy: AccessPolicy, path: string, what: string): void {
  const kind = policy.caller.clientKind;
  if (kind === ClientKind.INSURER || kind === ClientKind.HOSPITAL || policy.manages(path)) return;
  throw fhirError(403, 'forbidden', `${what} is outside your organisation: its figures are for its own organisation and those above it`, ['subject']);
}

interface Subject {
  scope: { organizationId?: string; careTeamId?: string };
  /** The organisation the figures are for (MeasureReport.reporter). */
  reporter?: string;
  reference?: string;
}

async function subjectOf(ctx: EvaluateContext, raw: string | undefined): Promise<Subject> {
  if (raw === undefined) return { scope: {} };
  const m = /^(Organization|CareTeam)\/([^/]+)$/.exec(raw);
  if (!m) throw fhirError(400, 'not-supported', `subject must be Organization/<id> or CareTeam/<id>, not ${JSON.stringify(raw)}`, ['subject']);
  const [, type, id] = m as unknown as [string, 'Organization' | 'CareTeam', string];
  const notFound = () => fhirError(404, 'not-found', `${type}/${id} not found`, ['subject']);
  if (!isUuid(id)) throw notFound();
  if (type === 'Organization') {
    const [org] = (await ctx.em.execute('select o.path from organization o where o.id = ?', [id])) as Array<{ path: string }>;
    if (!org) throw notFound();
    assertMayCountUnder(ctx.policy, org.path, raw);
    return { scope: { organizationId: id }, reporter: raw, reference: raw };
  }
  const [team] = (await ctx.em.execute(
    `select o.path, exists (select 1 from care_team_member m where m.care_team_id = ct.id and m.practitioner_id = ?) as member
       from care_team ct join organization o on o.id = ct.organization_id where ct.id = ?`,
    [ctx.policy.caller.practitionerId ?? null, id],
  )) as Array<{ path: string; member: boolean }>;
  if (!team) throw notFound();
  // A team's own members count its patients, whatever organisation the team belongs to.
  if (!team.member) assertMayCountUnder(ctx.policy, team.path, raw);
  return { scope: { careTeamId: id }, reference: raw };
}

/**
 * The ids of the numerator's and the denominator's subjects, page by page, up to MAX_SUBJECT_LIST each: both first pages
 * are read before any other, so that a list too long is refused (413, as a Bundle answering too much is) for the price
 * of two statements, not after paging through the other. Of patients, only those the caller may see today (an insurer
 * counted over a past period sees today's members only, as GraphQL's `patients` shows them), each named in the audit.
 */
async function subjectListsOf(ctx: EvaluateContext, request: IndicatorRequest, def: IndicatorDefinition): Promise<Record<'numerator' | 'denominator', string[]>> {
  const page = (population: IndicatorPopulation, after?: string) => indicatorPatientIds(ctx.em, ctx.policy, { ...request, id: def.id, population, first: MAX_PATIENT_IDS, after });
  const firsts = { denominator: await page('denominator'), numerator: await page('numerator') };
  const max = ctx.maxSubjects ?? MAX_SUBJECT_LIST;
  for (const [population, { total }] of Object.entries(firsts)) {
    if (total > max) {
      throw fhirError(413, 'too-costly', `the ${population} of ${def.id} holds ${total.toLocaleString('en')} subjects, more than a subject-list names (${max.toLocaleString('en')}): narrow the subject, or page through GraphQL indicators { rows { patients(population:, first:, after:) } }`, ['reportType']);
    }
  }
  const out = { numerator: [] as string[], denominator: [] as string[] };
  for (const population of ['numerator', 'denominator'] as const) {
    let current = firsts[population];
    out[population].push(...current.patientIds);
    while (current.hasMore && current.patientIds.length) {
      current = await page(population, current.patientIds.at(-1));
      out[population].push(...current.patientIds);
    }
    if (def.numeratorUnit !== 'townships') out[population] = await shownToday(ctx, out[population]);
  }
  return out;
}

/** Of these patients, those the caller may see today, in id order; each is named in the audit. */
async function shownToday(ctx: EvaluateContext, ids: string[]): Promise<string[]> {
  const visible = ctx.policy.patientVisible('p.id');
  const shown =
    visible && ids.length
      ? ((await ctx.em.execute(`select p.id from patient p where p.id = any(?::uuid[]) and (${visible.sql}) order by p.id`, [`{${ids.join(',')}}`, ...visible.params])) as Array<{ id: string }>).map((r) => r.id)
      : ids;
  shown.forEach((id) => ctx.audit?.touch(id));
  return shown;
}

/**
 * The operation on one Measure (`def`), with its parameters: a summary names no patient and is audited naming none
 * (a count identifies no one: ADR 18); a subject-list names each patient it lists, and so does its audit.
 */
export async function evaluateMeasure(ctx: EvaluateContext, def: IndicatorDefinition, params: Map<string, string>, method: 'GET' | 'POST'): Promise<Evaluation> {
  const measure = params.get('measure');
  if (measure !== undefined && measureNamed(measure).id !== def.id) throw fhirError(400, 'invalid', `measure ${measure} is not Measure/${def.id}, the one the operation is invoked on`, ['measure']);
  const period = periodOf(params);
  const type = reportTypeOf(params.get('reportType'));
  const persistRaw = params.get('persist');
  if (persistRaw !== undefined && persistRaw !== 'true' && persistRaw !== 'false') throw fhirError(400, 'invalid', `persist must be true or false, not ${JSON.stringify(persistRaw)}`, ['persist']);
  const persist = persistRaw === 'true';
  if (persist && method !== 'POST') throw fhirError(400, 'invalid', 'persist=true stores a MeasureReport: POST the operation (a GET changes nothing)', ['persist']);
  if (persist && type === 'subject-list') throw fhirError(400, 'invalid', 'a subject-list is not stored (its Lists name patients outside any record): persist a population report', ['persist']);
  const subject = await subjectOf(ctx, params.get('subject'));
  const request = await indicatorRequest(ctx.em, ctx.policy, ctx.rules, { scope: subject.scope, period, only: [def.id] });
  const [result] = await evaluateIndicators(ctx.em, ctx.policy, request);
  const subjects = type === 'subject-list' ? { type: def.numeratorUnit === 'townships' ? ('Organization' as const) : ('Patient' as const), ...(await subjectListsOf(ctx, request, def)) } : undefined;
  const report = measureReportOf({
    measure: measureCanonicalOf(def),
    type,
    period,
    date: new Date().toISOString(),
    reporter: subject.reporter,
    scope: subject.reference,
    improvement: def.improvement,
    numerator: result!.numerator,
    denominator: result!.denominator,
    value: result!.value,
    subjects,
  });
  return { report, persist };
}
