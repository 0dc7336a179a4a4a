/**
 * The floor of the indicators scenario (bench/indicators.ts): every indicator of the care model over an organisation's
 * subtree (or the whole county) and a period, in one statement over node:http + pg, in the GraphQL answer's shape.
 * What each indicator counts is its definition's own population SQL (src/indicators/definitions/, the one place each
 * indicator is defined, as the worklists' floor uses the overdue rule's SQL twin) over the patients managed at the
 * period's end (the rules' managedOnSql); what is hand-written here is everything the service adds around them: the
 * scope (the subtree by path, no access policy), the sums, the JSON. No GraphQL, no token, no audit.
 *   GET /indicators?start=YYYY-MM-DD&end=YYYY-MM-DD[&org=<path>]
 */
import type pg from 'pg';
import { countyTimeZone, countyToday } from '../../src/care-rules/calendar.js';
import { managedOnSql } from '../../src/care-rules/managed.js';
import { DEFAULT_CARE_RULES } from '../../src/care-rules/rules.js';
import { INDICATORS } from '../../src/indicators/registry.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const enumName = (id: string) => id.toUpperCase().replace(/-/g, '_');

/** The statement for a period; $1 is the subtree's path (null: every patient). */
function statement(period: { start: string; end: string }): { sql: string; params: unknown[] } {
  const input = { period, rules: DEFAULT_CARE_RULES, today: countyToday(), timeZone: countyTimeZone() };
  const pops = INDICATORS.map((d) => d.populationSql(input));
  const params: unknown[] = [null, ...pops.flatMap((p) => p.params)];
  let n = 1;
  const numbered = (sql: string) => sql.replace(/\?/g, () => `$${++n}`);
  const sums = INDICATORS.map((d, k) => `select ${k} as k, coalesce(sum(numerator), 0)::bigint as n, coalesce(sum(denominator), 0)::bigint as d from i${k}`);
  const sql = `with scoped as materialized (
        select p.id, p.managing_organization_id, p.created_at, p.care_status, p.care_status_on, p.management_tier from patient p
         where $1::text is null or p.managing_organization_id in (select o.id from organization o where o.path like $1 || '%')),
      managed as materialized (${managedOnSql('scoped', `date '${period.end}'`, input.timeZone, ['managing_organization_id', 'management_tier'])}),
      ${pops.map((p, i) => `i${i} as (${numbered(p.sql)})`).join(',\n      ')},
      totals as (${sums.join('\n union all ')})
    select json_build_object('data', json_build_object('indicators', json_build_object('rows',
      json_agg(json_build_object('indicator', (array[${INDICATORS.map((d) => `'${enumName(d.id)}'`).join(', ')}])[k + 1],
        'numerator', n, 'denominator', d, 'value', case when d = 0 then null else n::float8 / d end) order by k))))::text as body
    from totals`;
  return { sql, params };
}

/** The body for this request, or undefined when it is not the indicators route. */
export async function indicatorsPage(pool: pg.Pool, url: URL): Promise<string | undefined> {
  if (url.pathname !== '/indicators') return undefined;
  const [start, end] = [url.searchParams.get('start') ?? '', url.searchParams.get('end') ?? ''];
  if (!DAY.test(start) || !DAY.test(end)) throw new Error('start and end must be YYYY-MM-DD');
  const { sql, params } = statement({ start, end });
  params[0] = url.searchParams.get('org');
  const client = await pool.connect();
  try {
    // As the engine: no JIT for the rules' wide statements (PostgreSQL would compile them for longer than they run).
    await client.query('begin');
    await client.query('set local jit = off');
    const { rows } = await client.query<{ body: string }>(sql, params);
    await client.query('commit');
    return rows[0]?.body;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
