import type { AccessPolicy, Predicate } from '../access/policy.js';
import { countyTimeZone, countyToday } from '../care-rules/calendar.js';
import { managedOnSql } from '../care-rules/managed.js';
import type { CareRules } from '../care-rules/rules.js';
import { sqlText } from '../care-rules/sql.js';
import type { EntityManager } from '../db/orm.js';
import { badInput, isUuid } from '../domain/errors.js';
import { scopeSql, type ResolvedScope } from '../worklists/scope.js';
import { OrganizationLevel } from '../../vocabulary/index.js';
import type { IndicatorDefinition, IndicatorInput, Period } from './indicator.js';
import { checkPeriod, checkTimeZone, monthsOf } from './period.js';
import { INDICATORS, indicatorById } from './registry.js';

export { checkPeriod };

/**
 * The indicator engine (issue 13): who may be counted (the caller's policy over the period, the scope), the
 * definitions' populations (src/indicators/definitions/), the arithmetic. One statement answers every indicator
 * asked for: the scoped patients and the managed ones are worked out once in it, as materialised CTEs, and each
 * definition's population reads them.
 */
export interface IndicatorRequest {
  scope: ResolvedScope;
  period: Period;
  /** The indicators (ids) to compute; default every one. */
  ids?: readonly string[];
  /** Also by sub-organisation (byOrganization). */
  breakdown?: boolean;
  rules: CareRules;
  /** The county's today; default now (calendar.ts). A test fixes it. */
  today?: string;
  /** The county's time zone; default COUNTY_TIME_ZONE (calendar.ts). */
  timeZone?: string;
}

export interface IndicatorValue {
  numerator: number;
  denominator: number;
  /** numerator / denominator; null when the denominator is 0. */
  value: number | null;
}

export interface IndicatorResult extends IndicatorValue {
  definition: IndicatorDefinition;
  target?: number;
  /**
   * The scope's organisation (its own patients only) and each of its immediate children (their subtrees), each
   * patient counted where its managing organisation is. Without an organisation in the scope: the caller's
   * organisation, or for a caller with none in the community (an insurer, an administrator) the county's root.
   * Patients outside that subtree (seen through a care team or a referral) are in the total and in no row.
   */
  byOrganization?: Array<IndicatorValue & { organizationId: string; organizationName: string }>;
}

export interface TrendPoint extends IndicatorValue {
  /** YYYY-MM */
  month: string;
  /** From the request's start to the month's end (or the period's end, in its last month). */
  period: Period;
}

export type IndicatorPopulation = 'numerator' | 'denominator' | 'denominator-not-numerator';

const valueOf = (numerator: number, denominator: number): IndicatorValue => ({ numerator, denominator, value: denominator === 0 ? null : numerator / denominator });

function definitionsOf(ids: readonly string[] | undefined): IndicatorDefinition[] {
  if (!ids) return [...INDICATORS];
  return ids.map((id, i) => {
    const d = indicatorById(id);
    if (!d) throw badInput(`ids[${i}]: no indicator ${JSON.stringify(id)} (known: ${INDICATORS.map((x) => x.id).join(', ')})`, 'ids');
    return d;
  });
}

/**
 * The patients who may be counted: those the caller may see during the period (an insurer: its members covered
 * then, membership.ts) in the scope. A scope already held to a subtree whose every managed patient the caller sees
 * needs no second predicate (policy.seesAllManagedUnder; repeated, it only misleads the planner).
 */
function scopedSql(policy: AccessPolicy, request: IndicatorRequest): Predicate {
  const path = request.scope.organizationPath;
  // An organisation without its path would narrow nothing (scopeSql reads the path): a caller's bug, not the user's.
  if (request.scope.organizationId && !path) throw new Error('indicators: the scope is not resolved (resolveScope, src/worklists/scope.ts)');
  const visible = path && policy.seesAllManagedUnder(path) ? undefined : policy.patientVisibleDuring('p.id', request.period);
  const where = [...(visible ? [visible] : []), ...scopeSql(request.scope, 'p')];
  return {
    sql: `select p.id, p.managing_organization_id, p.created_at, p.care_status, p.care_status_on, p.management_tier from patient p
          where ${where.length ? where.map((w) => `(${w.sql})`).join(' and ') : 'true'}`,
    params: where.flatMap((w) => w.params),
  };
}

function inputOf(request: IndicatorRequest): IndicatorInput {
  const timeZone = checkTimeZone(request.timeZone ?? countyTimeZone());
  const today = request.today ?? countyToday(new Date(), timeZone);
  // Written into the SQL as a literal, as the period's days are (checkPeriod): a day, or nothing.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`indicators: today ${JSON.stringify(today)} is not an ISO date`);
  return { period: request.period, rules: request.rules, today, timeZone };
}

/** `with scoped …, managed …, i0 as (…), …`: the statement's head, the definitions' populations named i0, i1, … */
function populations(policy: AccessPolicy, request: IndicatorRequest, defs: readonly IndicatorDefinition[]): Predicate {
  const input = inputOf(request);
  const scoped = scopedSql(policy, request);
  const end = `date '${input.period.end}'`;
  const managed = managedOnSql('scoped', end, input.timeZone, ['managing_organization_id', 'management_tier']);
  const pops = defs.map((d) => d.populationSql(input));
  return {
    sql: `with scoped as materialized (${scoped.sql}),
      managed as materialized (${managed}),
      ${pops.map((p, i) => `i${i} as (${p.sql})`).join(',\n      ')}`,
    params: [...scoped.params, ...pops.flatMap((p) => p.params)],
  };
}

/**
 * The organisations a breakdown is by: the base (the scope's organisation, else the caller's in the community, else
 * the roots) counting its own patients, and its children counting their subtrees. `org_unit` maps every organisation to the unit it counts in (org_id, id, name).
 */
function breakdownUnitsSql(policy: AccessPolicy, request: IndicatorRequest): Predicate {
  const c = policy.caller;
  const baseId = request.scope.organizationId ?? (c.organizationId && c.organizationPath ? c.organizationId : null);
  const base: Predicate = baseId
    ? { sql: `select o.id from organization o where o.id = ? and o.level <> ${sqlText(OrganizationLevel.EXTERNAL)}`, params: [baseId] }
    : { sql: 'select o.id from organization o where false', params: [] };
  // An insurer's organisation (EXTERNAL) or none: the community's roots.
  return {
    sql: `base as (select id from (${base.sql}) b union all select o.id from organization o where o.parent_id is null and o.level <> ${sqlText(OrganizationLevel.EXTERNAL)} and not exists (${base.sql})),
      units as (select o.id, o.name, o.path, true as own from organization o where o.id in (select id from base)
        union all select o.id, o.name, o.path, false from organization o where o.parent_id in (select id from base)),
      org_unit as materialized (select mo.id as org_id, u.id, u.name from organization mo
        join units u on (u.own and mo.id = u.id) or (not u.own and mo.path like u.path || '%'))`,
    params: [...base.params, ...base.params],
  };
}

/**
 * The populations' rows attributed to the breakdown's units, every indicator in one pass: the patients' rows together
 * join the scoped patients once (one hash of the county, not one per indicator), then their organisation's unit
 * (org_unit: organisations are few, each mapped once); a townships indicator's rows name their organisation.
 */
function attributedSql(defs: readonly IndicatorDefinition[]): string {
  const rows = (unit: 'patients' | 'townships') =>
    defs
      .map((d, k) => ((d.numeratorUnit === 'townships') === (unit === 'townships') ? `select ${k} as k, patient_id, numerator, denominator from i${k}` : null))
      .filter((x): x is string => !!x);
  const group = 'group by x.k, u.id, u.name';
  const select = 'select x.k, u.id as org_id, u.name as org_name, coalesce(sum(x.numerator), 0)::bigint as n, coalesce(sum(x.denominator), 0)::bigint as d';
  const out: string[] = [];
  const patients = rows('patients');
  if (patients.length) out.push(`${select} from (${patients.join(' union all ')}) x join scoped s on s.id = x.patient_id join org_unit u on u.org_id = s.managing_organization_id ${group}`);
  const townships = rows('townships');
  if (townships.length) out.push(`${select} from (${townships.join(' union all ')}) x join org_unit u on u.org_id = x.patient_id ${group}`);
  return out.join('\nunion all ');
}

/** The rules' statements are wide and estimated dear: PostgreSQL would JIT-compile each for longer than it runs (src/care/index.ts). */
async function inTransaction<T>(em: EntityManager, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return em.transactional(async (tem) => {
    await tem.execute('set local jit = off', [], 'run');
    return work(tem as EntityManager);
  });
}

type Row = { k: number; org_id: string | null; org_name: string | null; n: string | number; d: string | number };

/** Every indicator asked for, over the scope and the period, in the care model's order (or the order asked). */
export async function evaluateIndicators(em: EntityManager, policy: AccessPolicy, request: IndicatorRequest): Promise<IndicatorResult[]> {
  checkPeriod(request.period);
  const defs = definitionsOf(request.ids);
  if (defs.length === 0) return [];
  const head = populations(policy, request, defs);
  const totals = defs.map((_, k) => `select ${k} as k, null::uuid as org_id, null::text as org_name, coalesce(sum(numerator), 0)::bigint as n, coalesce(sum(denominator), 0)::bigint as d from i${k}`);
  let sql: string;
  let params: unknown[];
  if (request.breakdown) {
    const units = breakdownUnitsSql(policy, request);
    sql = `${head.sql}, ${units.sql}\n${[...totals, attributedSql(defs)].join('\nunion all ')}`;
    params = [...head.params, ...units.params];
  } else {
    sql = `${head.sql}\n${totals.join('\nunion all ')}`;
    params = head.params;
  }
  const rows = (await inTransaction(em, (tem) => tem.execute(sql, params))) as Row[];
  return defs.map((definition, k) => {
    const mine = rows.filter((r) => Number(r.k) === k);
    const total = mine.find((r) => r.org_id == null)!;
    const result: IndicatorResult = { definition, ...valueOf(Number(total.n), Number(total.d)) };
    if (definition.target !== undefined) result.target = definition.target;
    if (request.breakdown) {
      result.byOrganization = mine
        .filter((r) => r.org_id != null)
        .map((r) => ({ organizationId: r.org_id!, organizationName: r.org_name!, ...valueOf(Number(r.n), Number(r.d)) }))
        .sort((a, b) => a.organizationName.localeCompare(b.organizationName) || a.organizationId.localeCompare(b.organizationId));
    }
    return result;
  });
}

/**
 * One point per calendar month of the period, each over [period.start, the month's end]: cumulative, because a
 * control rate over one month alone would count every patient without a reading that month as uncontrolled (the
 * standard's visits are quarterly), and the follow-up minimum of a month is one visit in three.
 */
export async function indicatorTrend(em: EntityManager, policy: AccessPolicy, request: IndicatorRequest & { id: string }): Promise<TrendPoint[]> {
  checkPeriod(request.period);
  definitionsOf([request.id]);
  const points: TrendPoint[] = [];
  for (const m of monthsOf(request.period)) {
    const period = { start: request.period.start, end: m.end };
    const [r] = await evaluateIndicators(em, policy, { ...request, ids: [request.id], period, breakdown: false });
    points.push({ month: m.month, period, numerator: r!.numerator, denominator: r!.denominator, value: r!.value });
  }
  return points;
}

export const MAX_PATIENT_IDS = 1000;

const POPULATION_SQL: Record<IndicatorPopulation, string> = {
  numerator: 'x.numerator > 0',
  denominator: 'x.denominator > 0',
  // What an auditor asks for: who was counted and fell short (a patient 0/1; a patient with a visit of two late, 1/2).
  'denominator-not-numerator': 'x.denominator > x.numerator',
};

/**
 * The ids in an indicator's numerator, denominator or the denominator less the numerator, in id order, a page of
 * `first` after the id `after` (keyset), with the total. The self-management group coverage counts townships: its
 * ids are organisations' (the indicator's definition says so). The caller audits the patients it shows.
 */
export async function indicatorPatientIds(
  em: EntityManager,
  policy: AccessPolicy,
  request: IndicatorRequest & { id: string; population: IndicatorPopulation; first: number; after?: string },
): Promise<{ patientIds: string[]; hasMore: boolean; total: number }> {
  checkPeriod(request.period);
  const [def] = definitionsOf([request.id]);
  const where = POPULATION_SQL[request.population];
  if (!where) throw badInput(`population must be one of ${Object.keys(POPULATION_SQL).join(', ')}`, 'population');
  if (!Number.isInteger(request.first) || request.first < 0 || request.first > MAX_PATIENT_IDS) throw badInput(`first must be between 0 and ${MAX_PATIENT_IDS}`, 'first');
  if (request.after != null && !isUuid(request.after)) throw badInput('after is not an id', 'after');
  const head = populations(policy, request, [def!]);
  const after = request.after ? `and x.patient_id > ?::uuid` : '';
  const sql = `${head.sql}
    select (select count(*) from i0 x where ${where})::bigint as total,
      array(select x.patient_id::text from i0 x where ${where} ${after} order by x.patient_id limit ${request.first + 1}) as ids`;
  const [row] = (await inTransaction(em, (tem) => tem.execute(sql, [...head.params, ...(request.after ? [request.after.toLowerCase()] : [])]))) as Array<{ total: string | number; ids: string[] | string }>;
  const ids = parseArray(row!.ids);
  return { patientIds: ids.slice(0, request.first), hasMore: ids.length > request.first, total: Number(row!.total) };
}

/** A text[] as the driver gives it: an array, or (some drivers) its literal `{a,b}`. */
function parseArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',') : [];
}
