import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { badInput, isUuid } from '../../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../../domain/pagination.js';
import { indicatorsCsv } from '../../indicators/csv.js';
import { type IndicatorPopulation as Population, type IndicatorResult, indicatorPatientIds, indicatorTrend } from '../../indicators/engine.js';
import { indicatorTable, meetsTarget } from '../../indicators/table.js';
import { monthsOf } from '../../indicators/period.js';
import type { Context } from '../context.js';
import { PatientConnection } from './patient.resolver.js';
import {
  Indicator,
  IndicatorDefinitionText,
  IndicatorOrganizationValue,
  IndicatorPopulation,
  IndicatorRow,
  IndicatorScopeInput,
  IndicatorTable,
  IndicatorTrendPoint,
  PeriodInput,
  PeriodOutput,
} from './indicator.types.js';

/**
 * The most trend points one request may ask for, over all its tables' rows: each point is one engine statement over
 * the scope (the trend is cumulative, month by month), so eleven indicators' trends over five years would be 660
 * statements of the county. Sixty is five years of one indicator, or a year of five. A table's points (its rows times
 * the period's months: `trend` is asked of every row) are counted when its first row asks, before any is computed.
 */
export const MAX_TREND_POINTS = 60;
const trendPointsOf = new WeakMap<Context, number>();
const trendAllowed = new WeakMap<IndicatorRow['request'], boolean>();

function trendAsked(ctx: Context, row: IndicatorRow): boolean {
  const known = trendAllowed.get(row.request);
  if (known !== undefined) return known;
  const points = (trendPointsOf.get(ctx) ?? 0) + row.rowsOfTable * monthsOf(row.request.period).length;
  const allowed = points <= MAX_TREND_POINTS;
  trendAllowed.set(row.request, allowed);
  if (!allowed) {
    throw badInput(`trend: at most ${MAX_TREND_POINTS} monthly points a request (the period's months times the indicators asked for); ask for fewer indicators (only) or a shorter period`, 'trend');
  }
  trendPointsOf.set(ctx, points);
  return true;
}

const period = (p: { start: string; end: string }) => Object.assign(new PeriodOutput(), { start: p.start, end: p.end });

function rowOf(result: IndicatorResult, request: IndicatorRow['request'], rowsOfTable: number): IndicatorRow {
  const d = result.definition;
  return Object.assign(new IndicatorRow(), {
    result,
    request,
    rowsOfTable,
    indicator: d.id,
    title: d.title.en,
    titleZh: d.title.zh,
    numerator: result.numerator,
    denominator: result.denominator,
    value: result.value,
    target: result.target ?? null,
    meetsTarget: meetsTarget(result) ?? null,
    improvement: d.improvement,
    numeratorUnit: d.numeratorUnit,
    denominatorUnit: d.denominatorUnit,
    definition: Object.assign(new IndicatorDefinitionText(), d.definition),
    byOrganization: result.byOrganization?.map((o) => Object.assign(new IndicatorOrganizationValue(), o)) ?? null,
  });
}

/** A page's cursor: the list (indicator, population) and the last patient of the page, so that it fits no other list. */
const CURSOR = 'indicator-patients';
const cursorOf = (id: string, population: string, patientId: string) => encodeCursor([CURSOR, id, population, patientId]);
function patientAfter(after: string | undefined, id: string, population: string): string | undefined {
  const key = decodeCursor(after, 4);
  if (!key) return undefined;
  const [list, i, p, patientId] = key;
  if (list !== CURSOR || i !== id || p !== population || typeof patientId !== 'string' || !isUuid(patientId)) {
    throw badInput('after is not a cursor of this indicator’s patients in this population', 'after');
  }
  return patientId;
}

@Resolver(() => IndicatorTable)
export class IndicatorResolver {
  @Query(() => IndicatorTable, {
    description:
      'Quality indicators (docs/api.md, "Indicators"; ADR 18) over the patients of this scope you may see — over the period, for an insurer: whom it covered then — and the period asked for.',
  })
  async indicators(
    @Ctx() ctx: Context,
    @Arg('period', () => PeriodInput) periodAsked: PeriodInput,
    @Arg('scope', () => IndicatorScopeInput, { nullable: true }) scope?: IndicatorScopeInput,
    @Arg('only', () => [Indicator], { nullable: true, description: 'These indicators only, in the order of INDICATORS; none: all of them.' }) only?: string[],
    @Arg('breakdown', { defaultValue: false, description: 'Also each indicator per organisation: the scope’s own and each directly below it (byOrganization).' }) breakdown: boolean = false,
  ): Promise<IndicatorTable> {
    // Aggregates name no patient in the audit (ADR 18): a count identifies no one, and a bureau's dashboard would
    // otherwise write the county's 50,000 patients into the audit on every load. The request itself is recorded
    // (guards.ts: `indicators` is a root of patient data), and the patient lists below name everyone they list.
    const p = { start: periodAsked.start, end: periodAsked.end };
    const { request, results } = await indicatorTable(ctx.em, ctx.policy, ctx.rules, { scope: scope ?? {}, period: p, only, breakdown });
    return Object.assign(new IndicatorTable(), {
      results,
      organizationId: request.scope.organizationId ?? undefined,
      period: period(p),
      rows: results.map((r) => rowOf(r, request, results.length)),
    });
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'The scope’s organisation, when one was asked for.' })
  organization(@Root() t: IndicatorTable, @Ctx() ctx: Context): Promise<Organization | null> | null {
    return t.organizationId ? ctx.loaders.organization.load(t.organizationId) : null;
  }

  @FieldResolver(() => String, { description: 'The table as GET /indicators.csv answers it (without the byte-order mark): see docs/api.md.' })
  async csv(@Root() t: IndicatorTable, @Ctx() ctx: Context): Promise<string> {
    const org = t.organizationId ? await ctx.loaders.organization.load(t.organizationId) : null;
    return indicatorsCsv(t.results, t.period, { organizationId: org?.id, organizationName: org?.name });
  }
}

@Resolver(() => IndicatorRow)
export class IndicatorRowResolver {
  @FieldResolver(() => [IndicatorTrendPoint], {
    description: "Month by month from the period's start: each point counts from the start to the month's end. Computed only when asked for; at most 60 points a request, over all rows.",
  })
  async trend(@Root() row: IndicatorRow, @Ctx() ctx: Context): Promise<IndicatorTrendPoint[]> {
    // The table's other rows, once its first was refused: the refusal nulls the whole table, so nothing is computed for them.
    if (!trendAsked(ctx, row)) return [];
    const points = await indicatorTrend(ctx.em, ctx.policy, { ...row.request, id: row.indicator });
    return points.map((pt) => Object.assign(new IndicatorTrendPoint(), { ...pt, period: period(pt.period) }));
  }

  @FieldResolver(() => PatientConnection, {
    description:
      'The patients behind the figures, in a stable order (first ≤ 200, after): those you may see today (an insurer counted over a past period sees today’s members only). Audited as a search naming every patient listed.',
  })
  async patients(
    @Root() row: IndicatorRow,
    @Ctx() ctx: Context,
    @Arg('population', () => IndicatorPopulation) population: Population,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the page before.' }) after?: string,
  ) {
    const size = pageSize(first);
    const id = row.indicator;
    // Its numerator and denominator are townships (those running a group), not patients: there is no one to list.
    if (row.result.definition.denominatorUnit === 'townships') throw badInput(`${id} counts townships, not patients: it has no patients to list`, 'patients');
    const page = await indicatorPatientIds(ctx.em, ctx.policy, { ...row.request, id, population, first: size, after: patientAfter(after, id, population) });
    // Through the policy (the loader's select): the engine's ids are of patients counted, the page shows whom the caller may read.
    const loaded = await ctx.loaders.patient.loadMany(page.patientIds);
    const items = loaded.filter((p): p is Patient => p instanceof Patient);
    const connection = PatientConnection.from({ items, hasNextPage: page.hasMore, cursorOf: (p) => cursorOf(id, population, p.id), count: async () => page.total });
    // The next page starts after the engine's last id, shown or not: a page whose last patient is not shown must not repeat.
    const last = page.patientIds.at(-1);
    if (last) connection.pageInfo.endCursor = cursorOf(id, population, last);
    return connection;
  }
}

@Resolver(() => IndicatorOrganizationValue)
export class IndicatorOrganizationValueResolver {
  @FieldResolver(() => Organization, { nullable: true, description: 'Null only if the organisation has left the directory since.' })
  organization(@Root() v: IndicatorOrganizationValue, @Ctx() ctx: Context): Promise<Organization | null> {
    return ctx.loaders.organization.load(v.organizationId);
  }
}
