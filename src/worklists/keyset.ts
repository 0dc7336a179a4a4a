import type { Predicate } from '../access/policy.js';
import { badInput, isUuid } from '../domain/errors.js';
import { decodeCursor, encodeCursor } from '../domain/pagination.js';

/** The SQL type of a sort key's value, as its cursor carries it and its parameter is cast. */
export type KeyType = 'date' | 'timestamptz' | 'text' | 'int' | 'uuid';

/**
 * One key of a sort: a SQL expression that is never null for a row on the list (a keyset over nulls would skip
 * rows), its type, and its direction. The last key of every sort is unique per entry, so the order is total and a
 * cursor names one place in it (ADR 3).
 */
export interface SortKey {
  sql: string;
  type: KeyType;
  desc?: boolean;
}

const DATE = /^\d{4}-\d\d-\d\d$/;
/** An instant as PostgreSQL writes `timestamptz::text` (microseconds kept: a cursor rounded to milliseconds would skip rows). */
const INSTANT = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d(:?\d\d)?)$/;

/** Whether a value read back from a cursor is one of this type: a cursor is the client's to send, so it is checked. */
function ofType(type: KeyType, v: unknown): boolean {
  switch (type) {
    case 'date':
      return typeof v === 'string' && DATE.test(v);
    case 'timestamptz':
      return typeof v === 'string' && INSTANT.test(v);
    case 'text':
      return typeof v === 'string';
    case 'int':
      return Number.isInteger(v);
    case 'uuid':
      return typeof v === 'string' && isUuid(v);
  }
}

/** A key as the page's statement selects it: as text, so that an instant keeps its microseconds and a date is YYYY-MM-DD. */
export const keyColumn = (k: SortKey) => `(${k.sql})::text`;

/** A key's value (as keyColumn read it) as the cursor keeps it. */
export function cursorValue(type: KeyType, v: unknown): unknown {
  return type === 'int' ? Number(v) : v;
}

/** An opaque cursor for a row of a list in one sort: the list and the sort are in it, so it fits no other. */
export function cursorOf(list: string, sort: string, keys: readonly SortKey[], values: readonly unknown[]): string {
  return encodeCursor([list, sort, ...keys.map((k, i) => cursorValue(k.type, values[i]))]);
}

/** The key values a cursor carries, checked to be one this list issued in this sort; undefined when none was sent. */
export function keysAfter(after: string | null | undefined, list: string, sort: string, keys: readonly SortKey[]): unknown[] | undefined {
  const decoded = decodeCursor(after, keys.length + 2);
  if (!decoded) return undefined;
  const [l, s, ...values] = decoded;
  if (l !== list || s !== sort || !keys.every((k, i) => ofType(k.type, values[i]))) throw badInput('after is not a cursor of this list in this sort', 'after');
  return values;
}

/**
 * The rows after `values` in the sort `keys`: a row comparison `(k1, k2, …) > (?, ?, …)` when every key runs the
 * same way (PostgreSQL can walk an index with it), else the expanded form `k1 > v1 or (k1 = v1 and k2 > v2) …`.
 */
export function keysetPredicate(keys: readonly SortKey[], values: readonly unknown[]): Predicate {
  const param = (k: SortKey) => `?::${k.type}`;
  const sameWay = keys.every((k) => !!k.desc === !!keys[0]!.desc);
  if (sameWay) {
    return { sql: `(${keys.map((k) => k.sql).join(', ')}) ${keys[0]!.desc ? '<' : '>'} (${keys.map(param).join(', ')})`, params: [...values] };
  }
  const parts: string[] = [];
  const params: unknown[] = [];
  keys.forEach((k, i) => {
    const equal = keys.slice(0, i).map((e) => `${e.sql} = ${param(e)}`);
    parts.push(`(${[...equal, `${k.sql} ${k.desc ? '<' : '>'} ${param(k)}`].join(' and ')})`);
    params.push(...values.slice(0, i), values[i]);
  });
  return { sql: `(${parts.join(' or ')})`, params };
}

export function orderBy(keys: readonly SortKey[]): string {
  return keys.map((k) => `${k.sql}${k.desc ? ' desc' : ''}`).join(', ');
}
