import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { EntityManager } from '../db/orm.js';
import { fhirError } from './outcome.js';
import { type FhirStore, toPgArray } from './store.js';
import { countResources, selectResources } from './store-sql.js';
import { CANONICAL_PARAMS, REFERENCE_PARAMS } from './indexing.js';

export const MAX_COUNT = 1000;
const DEFAULT_COUNT = 50;

/** The largest value an integer parameter (`_count`, `_offset`, a version id) may take: PostgreSQL's `integer`. */
export const MAX_INTEGER_PARAM = 2_147_483_647;

/**
 * An integer parameter: plain decimal digits from `min` to MAX_INTEGER_PARAM, else a 400 — so SQL is only ever
 * given a number it can hold (`_offset=99999999999999999999` is refused here, not by the database).
 */
export function integerParam(raw: string | null | undefined, name: string, fallback: number, min = 0): number {
  if (raw === null || raw === undefined) return fallback;
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= MAX_INTEGER_PARAM)) throw fhirError(400, 'invalid', `${name} must be an integer from ${min} to ${MAX_INTEGER_PARAM}, not "${raw}"`, [name]);
  return n;
}

/** U+0000: a URL may carry it (`%00`); no PostgreSQL text can hold it. */
const NUL = '\u0000';

interface Clause {
  sql: string;
  params: unknown[];
}

/** `ge2026-01-01` → its prefix and the range [start, end) it names: a bare date is the whole day (or month, or year). */
function dateRange(raw: string, name: string): { prefix: string; start: Date; end: Date } {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$/.exec(raw);
  if (!m) throw fhirError(400, 'invalid', `${name}: "${raw}" is not a date with an optional prefix (ge, le, gt, lt, eq, ne)`);
  const prefix = m[1] ?? 'eq';
  const value = m[2]!;
  const start = new Date(value.length === 4 ? `${value}-01-01T00:00:00Z` : value.length === 7 ? `${value}-01T00:00:00Z` : value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(start.getTime())) throw fhirError(400, 'invalid', `${name}: "${raw}" is not a date`);
  const end = new Date(start);
  if (value.length === 4) end.setUTCFullYear(end.getUTCFullYear() + 1);
  else if (value.length === 7) end.setUTCMonth(end.getUTCMonth() + 1);
  else if (value.length === 10) end.setUTCDate(end.getUTCDate() + 1);
  else end.setTime(end.getTime() + 1);
  return { prefix, start, end };
}

/** `ge2026-01-01` → a comparison of one instant column; a bare date means the whole day (or month, or year) it names. */
function dateClause(column: string, raw: string, name: string): Clause {
  const { prefix, start, end } = dateRange(raw, name);
  switch (prefix) {
    case 'eq':
      return { sql: `(${column} >= ? and ${column} < ?)`, params: [start, end] };
    case 'ne':
      return { sql: `(${column} < ? or ${column} >= ?)`, params: [start, end] };
    case 'gt':
    case 'sa':
      return { sql: `${column} >= ?`, params: [end] };
    case 'ge':
      return { sql: `${column} >= ?`, params: [start] };
    case 'lt':
    case 'eb':
      return { sql: `${column} < ?`, params: [start] };
    default:
      return { sql: `${column} < ?`, params: [end] };
  }
}

function tokenClause(column: string, param: string, raw: string): Clause {
  // system|code, |code (no system), or code (any system), under the parameter's name (see indexing.ts).
  const values = raw.split(',').map((v) => `${param}:${v.startsWith('|') ? v.slice(1) : v}`);
  return { sql: `${column} && ?::text[]`, params: [toPgArray(values)] };
}

/** LIKE pattern text matching `value` literally (likeText: lower-cased, for the lower-cased name columns). */
const likeEscape = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
const likeText = (value: string) => likeEscape(value.toLowerCase());

/** HumanName parts (`family`, or each of `given`) — starts-with by default, as FHIR string search is. */
function namePartClause(part: 'family' | 'given', raw: string, modifier: string | undefined): Clause {
  const names = `jsonb_array_elements(case when jsonb_typeof(r.content->'name') = 'array' then r.content->'name' else '[]'::jsonb end)`;
  const value = part === 'family' ? `n->>'family'` : 'g';
  const from = part === 'family' ? `${names} n` : `${names} n, jsonb_array_elements_text(case when jsonb_typeof(n->'given') = 'array' then n->'given' else '[]'::jsonb end) g`;
  const alternatives = raw.split(',');
  const match = modifier === 'exact' ? `${value} = ?` : `lower(${value}) like ?`;
  const params = alternatives.map((v) => (modifier === 'exact' ? v : modifier === 'contains' ? `%${likeText(v)}%` : `${likeText(v)}%`));
  return { sql: `exists (select 1 from ${from} where ${alternatives.map(() => match).join(' or ')})`, params };
}

/** A reference parameter (indexing.ts, REFERENCE_PARAMS): `Type/id`, a bare id, or an absolute URL ending in `Type/id`. */
function indexedReferenceClause(param: string, raw: string): Clause {
  const values = raw.split(',').map((v) => `${param}:${/([A-Za-z]+\/[^/]+)$/.exec(v)?.[1] ?? v}`);
  return { sql: 'r.codes && ?::text[]', params: [toPgArray(values)] };
}

function referenceClause(raw: string, type = 'Patient'): Clause {
  const ids = raw.split(',').map((v) => v.replace(new RegExp(`^.*${type}/`), ''));
  return { sql: 'r.patient_id = any(?::uuid[])', params: [`{${ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id)).join(',') || '00000000-0000-0000-0000-000000000000'}}`] };
}

/**
 * A Period element searched by date (MeasureReport `period`), as FHIR compares ranges: `eq` the search's range holds
 * the period, `ge` the period reaches into it or beyond, `le` it starts before its end, `sa`/`eb` after / before it
 * wholly. Compared by day: a period's start and end are read to the day they name (a year alone to its first / last day).
 */
function periodClause(element: string, raw: string, name: string): Clause {
  const { prefix, start, end } = dateRange(raw, name);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const from = `left(coalesce(r.content->'${element}'->>'start', '0001') || '-01-01', 10)::date`;
  const until = `(left(coalesce(r.content->'${element}'->>'end', '9999') || '-12-31', 10)::date + 1)`;
  const [s, e] = [day(start), end.getTime() - start.getTime() < 86_400_000 ? day(new Date(start.getTime() + 86_400_000)) : day(end)];
  const clause = (sql: string, ...params: string[]): Clause => ({ sql, params });
  switch (prefix) {
    case 'eq':
      return clause(`(${from} >= ?::date and ${until} <= ?::date)`, s, e);
    case 'ne':
      return clause(`not (${from} >= ?::date and ${until} <= ?::date)`, s, e);
    case 'gt':
      return clause(`${until} > ?::date`, e);
    case 'sa':
      return clause(`${from} >= ?::date`, e);
    case 'ge':
      return clause(`${until} > ?::date`, s);
    case 'lt':
      return clause(`${from} < ?::date`, s);
    case 'eb':
      return clause(`${until} <= ?::date`, s);
    default:
      return clause(`${from} < ?::date`, e);
  }
}

const SORTS: Record<string, string> = { _lastUpdated: 'r.last_updated', date: 'r.date_at', birthdate: 'r.date_at', _id: 'r.id' };

/** Parameters every search understands; the rest are per type. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_summary', '_include', '_offset', '_format', '_total', '_elements']);

export interface SearchRequest {
  resourceType: string;
  params: URLSearchParams;
  baseUrl: string;
}

export interface SearchResult {
  bundle: Bundle;
  patientIds: string[];
}

/**
 * FHIR search over the store, for the parameters a hospital needs; an unknown parameter is an error
 * (not silently ignored, which would return more than the caller asked for).
 */
export async function search(em: EntityManager, store: FhirStore, req: SearchRequest): Promise<SearchResult> {
  const { resourceType, params } = req;
  store.assertCan(resourceType, 's');
  // Every search comes through here (GET, conditional create / update / delete, Bundle entries), and every value may reach SQL.
  for (const [name, raw] of params) {
    if (name.includes(NUL) || raw.includes(NUL)) {
      const which = name.includes(NUL) ? 'a search parameter name' : `search parameter ${name}`;
      throw fhirError(400, 'invalid', `${which} contains the NUL character (%00), which no stored text holds`, name.includes(NUL) ? undefined : [name]);
    }
  }
  const clauses: Clause[] = [{ sql: 'r.resource_type = ? and not r.deleted', params: [resourceType] }];
  // What the caller may read is added by the builder (store-sql.ts), to the count, the page and the includes alike.
  for (const [name, raw] of params) {
    if (RESULT_PARAMS.has(name)) continue;
    const [base, modifier] = name.split(':') as [string, string | undefined];
    switch (base) {
      case '_id':
        clauses.push({ sql: 'r.id = any(?::uuid[])', params: [`{${raw.split(',').filter((v) => /^[0-9a-f-]{36}$/i.test(v)).join(',') || '00000000-0000-0000-0000-000000000000'}}`] });
        break;
      case '_lastUpdated':
        clauses.push(dateClause('r.last_updated', raw, name));
        break;
      case 'identifier':
        // system|value matches exactly; a bare value matches it in any system.
        // Resident IDs are indexed by their keyed hash (store.identifierKey), so a bare value is also tried as one.
        clauses.push(
          raw.includes('|')
            ? { sql: 'r.source_keys && ?::text[]', params: [toPgArray(raw.split(',').map((v) => store.identifierKey(v.slice(0, v.indexOf('|')), v.slice(v.indexOf('|') + 1))))] }
            : {
                sql: `(exists (select 1 from unnest(r.source_keys) k where k like ?) or r.source_keys && ?::text[])`,
                params: [`%|${likeEscape(raw)}`, toPgArray([store.identifierKey(store.residentIdSystem, raw)])],
              },
        );
        break;
      case 'patient':
      case 'subject':
        clauses.push(referenceClause(raw));
        break;
      case 'code':
      case 'category':
      case 'type':
      case 'class':
        clauses.push(tokenClause('r.codes', base, raw));
        break;
      case 'status':
      case 'clinical-status':
      case 'intent':
        clauses.push({ sql: 'r.status = any(?::text[])', params: [toPgArray(raw.split(','))] });
        break;
      case 'date':
      case 'birthdate':
      case 'onset-date':
      case 'authored':
        clauses.push(dateClause('r.date_at', raw, name));
        break;
      case 'gender':
        clauses.push({ sql: 'r.gender = ?', params: [raw] });
        break;
      case 'name':
        clauses.push(modifier === 'exact' ? { sql: `(' ' || r.names || ' ') like ?`, params: [`% ${likeText(raw)} %`] } : { sql: 'r.names like ?', params: [`%${likeText(raw)}%`] });
        break;
      case 'family':
      case 'given':
        clauses.push(namePartClause(base, raw, modifier));
        break;
      default:
        if (!modifier && REFERENCE_PARAMS[resourceType]?.[base]) {
          clauses.push(indexedReferenceClause(base, raw));
          break;
        }
        if (!modifier && CANONICAL_PARAMS[resourceType]?.[base]) {
          clauses.push(tokenClause('r.codes', base, raw));
          break;
        }
        if (resourceType === 'MeasureReport' && base === 'period') {
          clauses.push(periodClause('period', raw, name));
          break;
        }
        throw fhirError(400, 'not-supported', `search parameter "${name}" is not supported for ${resourceType}`, [name]);
    }
  }
  const where = clauses.map((c) => `(${c.sql})`).join(' and ');
  const values = clauses.flatMap((c) => c.params);
  const count = Math.min(integerParam(params.get('_count'), '_count', DEFAULT_COUNT), MAX_COUNT);
  const offset = integerParam(params.get('_offset'), '_offset', 0);
  // `_total=none` (conditional matching asks for it): no count, one row more tells whether there is a next page.
  const counted = params.get('_total') !== 'none' || params.get('_summary') === 'count';
  const total = counted ? await countResources(em, store.scope, { where, params: values, purpose: 's' }) : undefined;
  if (params.get('_summary') === 'count') return { bundle: { resourceType: 'Bundle', type: 'searchset', total }, patientIds: [] };

  const order = (params.get('_sort') ?? '_lastUpdated')
    .split(',')
    .map((s) => {
      const desc = s.startsWith('-');
      const column = SORTS[desc ? s.slice(1) : s];
      if (!column) throw fhirError(400, 'not-supported', `_sort by "${s}" is not supported`, ['_sort']);
      return `${column} ${desc ? 'desc' : 'asc'} nulls last`;
    })
    .concat('r.id asc')
    .join(', ');
  const fetched = await selectResources(em, store.scope, { where, params: values, orderBy: order, limit: counted ? count : count + 1, offset, purpose: 's' });
  const hasNext = counted ? offset + count < total! : fetched.length > count;
  const rows = fetched.slice(0, count);
  const resources = rows.map((r) => store.output(r));
  const patientIds = new Set(rows.map((r) => r.patient_id).filter((p): p is string => !!p));

  const included: Resource[] = [];
  for (const include of params.getAll('_include')) {
    const [source, path, target] = include.split(':');
    const element = source === resourceType ? REFERENCE_PARAMS[resourceType]?.[path ?? ''] : undefined;
    if (element) {
      // A reference parameter (Task:focus, ServiceRequest:based-on, …): the resources the page's matches name there.
      const named = resources.flatMap((res) => [(res as unknown as Record<string, unknown>)[element]].flat()).map((ref) => /^([A-Za-z]+)\/([0-9a-f-]{36})$/i.exec(String((ref as { reference?: unknown } | undefined)?.reference ?? '')));
      const wanted = named.filter((m): m is RegExpExecArray => !!m && (!target || m[1] === target));
      const have = new Set(included.map((res) => res.id));
      const ids = [...new Set(wanted.map((m) => m[2]!.toLowerCase()))].filter((id) => !have.has(id));
      if (ids.length === 0) continue;
      const found = await selectResources(em, store.scope, { where: `not r.deleted and r.id = any(?::uuid[])`, params: [`{${ids.join(',')}}`] });
      // What is included is read too: its patients are audited with the matches'.
      for (const row of found) if (row.patient_id) patientIds.add(row.patient_id as string);
      included.push(...found.map((r) => store.output(r)));
      continue;
    }
    if (!['patient', 'subject'].includes(path ?? '') || (target ?? 'Patient') !== 'Patient') {
      throw fhirError(400, 'not-supported', `_include=${include} is not supported (use :patient or :subject, or a reference parameter of ${resourceType})`, ['_include']);
    }
    const ids = [...patientIds].filter((id) => !included.some((res) => res.resourceType === 'Patient' && res.id === id));
    if (ids.length === 0) continue;
    const found = await selectResources(em, store.scope, { where: `r.resource_type = 'Patient' and not r.deleted and r.id = any(?::uuid[])`, params: [`{${ids.join(',')}}`] });
    included.push(...found.map((r) => store.output(r)));
  }

  const self = new URLSearchParams(params);
  const link = (off: number) => {
    const p = new URLSearchParams(self);
    p.set('_offset', String(off));
    p.set('_count', String(count));
    return `${req.baseUrl}/${resourceType}?${p.toString()}`;
  };
  const links: Bundle['link'] = [{ relation: 'self', url: link(offset) }];
  if (hasNext) links.push({ relation: 'next', url: link(offset + count) });
  if (offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, offset - count)) });
  return {
    bundle: {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(total === undefined ? {} : { total }),
      link: links,
      entry: [
        ...resources.map((resource) => ({ fullUrl: `${req.baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' as const } })),
        ...included.map((resource) => ({ fullUrl: `${req.baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'include' as const } })),
      ],
    },
    patientIds: [...patientIds],
  };
}
