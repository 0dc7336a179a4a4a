import { ReferenceKind } from '@mikro-orm/core';
import { type Predicate } from '../access/policy.js';
import { readOnly } from '../db/read-only.js';
import type { EntityManager } from '../db/orm.js';
import { badInput } from '../domain/errors.js';
import type { SortKey } from './keyset.js';
import { type Page, pageSize } from '../domain/pagination.js';
import { cursorOf, keyColumn, keysAfter, keysetPredicate, orderBy } from './keyset.js';

type Ctor<T> = new () => T;
type Row = Record<string, unknown>;

/** An entity's columns under one alias: what `columnsOf` selects and `recordOf` reads back, worked out once. */
interface Aliased {
  select: string;
  /** Each column with the key it comes back under (`"alias__column"`). */
  columns: ReadonlyArray<readonly [column: string, key: string]>;
}

const aliased = new WeakMap<object, Map<string, Aliased>>();

function aliasedColumns(em: EntityManager, entity: Ctor<object>, alias: string): Aliased {
  const meta = readOnly(em, entity).meta;
  let byAlias = aliased.get(meta);
  if (!byAlias) aliased.set(meta, (byAlias = new Map()));
  let known = byAlias.get(alias);
  if (!known) {
    const columns = meta.props
      .filter((p) => p.persist !== false && (p.kind === ReferenceKind.SCALAR || p.kind === ReferenceKind.MANY_TO_ONE || (p.kind === ReferenceKind.ONE_TO_ONE && p.owner)))
      .flatMap((p) => p.fieldNames)
      .map((c) => [c, `${alias}__${c}`] as const);
    known = { select: columns.map(([c, key]) => `${alias}."${c}" as "${key}"`).join(', '), columns };
    byAlias.set(alias, known);
  }
  return known;
}

/**
 * The columns of an entity's table under `alias`, each selected as `"alias__column"`: a page's statement reads a
 * patient and the records its entries name (a visit, a reading, a referral) side by side, and their columns clash.
 */
export function columnsOf(em: EntityManager, entity: Ctor<object>, alias: string): string {
  return aliasedColumns(em, entity, alias).select;
}

/**
 * The record (src/db/read-only.ts) of the columns `columnsOf(entity, alias)` selected; null when the row has none (an
 * outer join found nothing). Reads just those keys (worked out once per entity and alias), not every key of the row.
 */
export function recordOf<T extends object>(em: EntityManager, entity: Ctor<T>, row: Row, alias: string): T | null {
  if (row[`${alias}__id`] == null) return null;
  const own: Row = {};
  for (const [column, key] of aliasedColumns(em, entity, alias).columns) if (key in row) own[column] = row[key];
  return readOnly(em, entity).record(own);
}

/**
 * One worklist as SQL: where its entries come from (`from`, with the patient as `p`), what makes an entry (`where`:
 * membership, the access policy, scope and filters, all ANDed), what else a row carries (`select`), and its sorts.
 * A page is one statement: the patient's columns and those of the records an entry names come with it.
 */
export interface ListQuery<E> {
  /** Named in every cursor, with the sort: a cursor of one list or sort is refused by another. */
  list: string;
  from: string;
  where: Predicate[];
  select: string[];
  sorts: Readonly<Record<string, readonly SortKey[]>>;
  entry(row: Row): E;
}

const and = (parts: Predicate[]): Predicate => ({
  sql: parts.length ? parts.map((p) => `(${p.sql})`).join(' and ') : 'true',
  params: parts.flatMap((p) => p.params),
});

/** The `?` placeholders of `sql` in order, as MikroORM's `execute` takes them; a literal `?` never appears in ours. */
async function run(em: EntityManager, sql: string, params: unknown[]): Promise<Row[]> {
  return (await em.execute(sql, params)) as Row[];
}

/** A page of a list in `sort`, keyset-paginated after the cursor `after` (ADR 3); `count` only when `totalCount` is asked. */
export async function pageOf<E extends object>(em: EntityManager, q: ListQuery<E>, sort: string, first: number | null | undefined, after: string | null | undefined): Promise<Page<E>> {
  const keys = q.sorts[sort];
  if (!keys) throw badInput(`sort ${sort} is not a sort of this list`, 'sort');
  const limit = pageSize(first);
  const values = keysAfter(after, q.list, sort, keys);
  const where = and(values ? [...q.where, keysetPredicate(keys, values)] : q.where);
  const select = [...q.select, ...keys.map((k, i) => `${keyColumn(k)} as "k__${i}"`)].join(', ');
  const rows = await run(em, `select ${select} from ${q.from} where ${where.sql} order by ${orderBy(keys)} limit ${limit + 1}`, where.params);
  const cursors = new WeakMap<E, string>();
  const items = rows.slice(0, limit).map((row) => {
    const entry = q.entry(row);
    cursors.set(entry, cursorOf(q.list, sort, keys, keys.map((_, i) => row[`k__${i}`])));
    return entry;
  });
  const all = and(q.where);
  return {
    items,
    hasNextPage: rows.length > limit,
    cursorOf: (e) => cursors.get(e)!,
    count: async () => Number((await run(em, `select count(*) as n from ${q.from} where ${all.sql}`, all.params))[0]!.n),
  };
}
