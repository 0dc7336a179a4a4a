/**
 * How the seed writes rows: buffered per table and sent as `INSERT … SELECT … FROM json_populate_recordset(…)`
 * statements of ~1000 rows, in order, on the transaction's connection (src/seed/generate.ts explains why).
 * Columns come from the entity metadata, so a renamed or added column cannot drift out of step.
 */
import { ReferenceKind } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';

/** A row of an entity table keyed by property name; relations are given by id. */
export type Row<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]?: NonNullable<T[K]> extends Date
    ? Date
    : NonNullable<T[K]> extends { id: string }
      ? string
      : T[K];
};

interface Column {
  prop: string;
  field: string;
  /** Value to write when the row leaves the property out (the column's default). */
  fallback: unknown;
}

/** Issues statements in order on the transaction's connection, letting generation run ahead of it. */
export class StatementQueue {
  private pending: Array<Promise<unknown>> = [];

  constructor(
    private readonly em: EntityManager,
    private readonly maxInFlight = 8,
  ) {}

  async push(statement: string): Promise<void> {
    const previous = this.pending[this.pending.length - 1] ?? Promise.resolve();
    const next = previous.then(() => this.em.execute(statement, [], 'run'));
    next.catch(() => undefined); // surfaced by drain()/push(); keeps Node from reporting it unhandled meanwhile
    this.pending.push(next);
    while (this.pending.length > this.maxInFlight) await this.pending.shift();
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}

/**
 * Buffers rows of one table and writes them as
 * `insert into t (cols) select cols from json_populate_recordset(null::t, $json$[…]$json$)`:
 * one literal per statement, parsed by Postgres' JSON parser: about 3× cheaper for the server than a
 * multi-row VALUES list of the same rows, a third of the client-side work (JSON.stringify is native), no
 * bind-parameter limit, and no escaping to get wrong (the dollar-quote tag is checked against the text).
 */
export class TableWriter<T> {
  readonly table: string;
  private readonly head: string;
  private readonly tail: string;
  private readonly columns: Column[];
  private buffer: string[] = [];
  private checked = false;
  count = 0;

  constructor(
    em: EntityManager,
    entity: new () => T,
    private readonly queue: StatementQueue,
    private readonly rowsPerInsert: number,
  ) {
    const meta = em.getMetadata().get(entity);
    const platform = em.getPlatform();
    this.table = meta.tableName;
    this.columns = [];
    for (const prop of meta.props) {
      if (prop.persist === false) continue;
      if (prop.kind !== ReferenceKind.SCALAR && prop.kind !== ReferenceKind.MANY_TO_ONE && !(prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)) continue;
      if (prop.fieldNames.length !== 1) throw new Error(`seed: ${meta.className}.${prop.name} maps to ${prop.fieldNames.length} columns`);
      this.columns.push({ prop: prop.name, field: prop.fieldNames[0]!, fallback: prop.default ?? null });
    }
    const table = platform.quoteIdentifier(this.table);
    const fields = this.columns.map((c) => platform.quoteIdentifier(c.field)).join(', ');
    this.head = `insert into ${table} (${fields}) select ${fields} from json_populate_recordset(null::${table}, `;
    this.tail = `)`;
  }

  add(row: Row<T>): void {
    const r = row as Record<string, unknown>;
    if (!this.checked) {
      for (const key of Object.keys(r)) {
        if (!this.columns.some((c) => c.prop === key)) throw new Error(`seed: ${this.table} has no column for property "${key}"`);
      }
      this.checked = true;
    }
    const out: Record<string, unknown> = {};
    for (const col of this.columns) {
      const v = r[col.prop];
      out[col.field] = v === undefined ? col.fallback : v;
    }
    this.buffer.push(JSON.stringify(out));
    this.count++;
  }

  async flush(): Promise<void> {
    for (let i = 0; i < this.buffer.length; i += this.rowsPerInsert) {
      const json = `[${this.buffer.slice(i, i + this.rowsPerInsert).join(',')}]`;
      let tag = '$seed$';
      for (let n = 0; json.includes(tag); n++) tag = `$seed${n}$`;
      await this.queue.push(`${this.head}${tag}${json}${tag}${this.tail}`);
    }
    this.buffer = [];
  }
}
