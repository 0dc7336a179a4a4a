import type { Logger } from 'pino';
import type { EntityManager } from '../db/orm.js';
import { onOutboxWritten, outboxWritten } from './nudge.js';

export interface DomainEventRow {
  id: string;
  tx: string;
  occurredAt: Date;
  type: string;
  aggregateType: string;
  aggregateId: string;
  patientId: string | null;
  payload: Record<string, unknown>;
}

/**
 * Something that reacts to the domain's events: the rules, alerts, indicators and subscriptions that may lag a
 * moment behind a write. `handle` runs in the transaction that moves the consumer's position past the events,
 * so what it writes to the database happens exactly once per event even if the process dies mid-way; what it
 * does outside the database (a notification) happens at least once and must be idempotent by event id.
 */
export interface EventConsumer {
  /** Unique and stable: the position in the outbox is kept under it. */
  name: string;
  /** Event types it wants; others are passed over (its position still moves past them). */
  types?: string[];
  /**
   * Where a consumer that has never run begins: the first event (default), or the end of the outbox as it is then —
   * for one whose work on what came before is already done (derived state the writers keep by the same rule).
   */
  startAt?: 'first' | 'end';
  handle(em: EntityManager, events: DomainEventRow[]): Promise<void>;
}

const SELECT = `select id::text as id, tx::text as tx, occurred_at as "occurredAt", type, aggregate_type as "aggregateType",
  aggregate_id as "aggregateId", patient_id as "patientId", payload from domain_event`;

/**
 * The oldest transaction still running that may write to this database (or, with none, the next to start):
 * events of older transactions are all committed or rolled back, none can appear below it later. The
 * cluster-wide `pg_snapshot_xmin` would let a long transaction in any other database of the server hold every
 * consumer back, so transactions known to belong to another database are left out; every other one counts,
 * including one that ended between the snapshot and the look at pg_stat_activity (its rows may be invisible
 * to this statement: passing it would skip them). A running transaction is matched by its low 32 bits (what
 * pg_stat_activity shows).
 */
export const HORIZON = `select coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot())) from pg_snapshot_xip(pg_current_snapshot()) x
  where (x::text::bigint % 4294967296) not in (select backend_xid::text::bigint from pg_stat_activity
    where datname is not null and datname <> current_database() and backend_xid is not null)`;

/** HORIZON as a value (xid8 as text): what every reader of the outbox in order (consumers, offline sync) stops below. */
export async function outboxHorizon(em: EntityManager): Promise<string> {
  const [row] = (await em.execute(`select (${HORIZON})::text as horizon`)) as Array<{ horizon: string }>;
  return row!.horizon;
}

/**
 * Hands the next events to one consumer, in outbox order (which keeps each patient's events in the order they
 * were written), and moves its position past them, in one transaction. Only events of transactions older than
 * every transaction still running that may write here are read (HORIZON): an event written by a transaction that
 * commits later is never passed over. Two processes running the same consumer do not both handle an event: the position row is
 * locked, and a second process finding it locked returns at once (0).
 */
export async function consumeOnce(em: EntityManager, consumer: EventConsumer, limit = 500): Promise<number> {
  return em.fork().transactional(async (tx) => {
    if (consumer.startAt === 'end') {
      await tx.execute(
        `insert into event_consumer (name, last_tx, last_id)
         select ?, coalesce(max(tx), '0'::xid8), coalesce((select max(id) from domain_event d where d.tx = (select max(tx) from domain_event)), 0) from domain_event
         on conflict do nothing`,
        [consumer.name],
      );
    } else await tx.execute(`insert into event_consumer (name) values (?) on conflict do nothing`, [consumer.name]);
    const [position] = (await tx.execute(`select last_tx::text as tx, last_id::text as id from event_consumer where name = ? for update skip locked`, [consumer.name])) as Array<{ tx: string; id: string }>;
    if (!position) return 0; // another process is at it
    const rows = (await tx.execute(`${SELECT} where (tx, id) > (?::xid8, ?::bigint) and tx < (${HORIZON}) order by tx, id limit ?`, [position.tx, position.id, limit])) as DomainEventRow[];
    if (rows.length === 0) return 0;
    for (const row of rows) if (typeof row.payload === 'string') row.payload = JSON.parse(row.payload);
    const wanted = consumer.types ? rows.filter((r) => consumer.types!.includes(r.type)) : rows;
    if (wanted.length) await consumer.handle(tx as EntityManager, wanted);
    const last = rows[rows.length - 1]!;
    await tx.execute(`update event_consumer set last_tx = ?::xid8, last_id = ?::bigint, updated_at = now() where name = ?`, [last.tx, last.id, consumer.name]);
    return rows.length;
  });
}

/**
 * Runs consumers until stopped: each is caught up, then polled. In the server process by default, or in a
 * process of its own (`npm run worker`) against PostgreSQL. A consumer that fails is logged and retried after
 * a pause, from the same position: its events are neither lost nor skipped.
 */
export class EventWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private busy = false;
  private again = false;
  private unlisten?: () => void;

  constructor(
    private readonly em: EntityManager,
    private readonly consumers: EventConsumer[],
    private readonly options: { pollMs?: number; batch?: number; logger?: Logger } = {},
  ) {}

  start(): this {
    this.stopped = false;
    // A write in this process has committed: look now rather than at the next poll (nudge.ts).
    this.unlisten = onOutboxWritten(() => this.nudge());
    this.schedule(0);
    return this;
  }

  /** Drains now (or right after the drain under way), not at the next poll. */
  nudge(): void {
    if (this.stopped) return;
    if (this.busy) this.again = true;
    else this.schedule(0);
  }

  /** Consumes until every consumer has caught up with what is committed now. */
  async drain(): Promise<number> {
    let total = 0;
    for (const consumer of this.consumers) {
      for (let n = -1; n !== 0; total += n) n = await consumeOnce(this.em, consumer, this.options.batch);
    }
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.busy = true;
      this.again = false;
      this.running = this.drain()
        .then((handled) => {
          this.busy = false;
          // What the consumers wrote (alerts among it) is in the outbox now: the urgent-alert feed looks at once.
          if (handled > 0) outboxWritten();
          this.schedule(this.again ? 0 : (this.options.pollMs ?? 500));
        })
        .catch((err) => {
          this.busy = false;
          this.options.logger?.error({ err }, 'event consumer failed; retrying');
          this.schedule((this.options.pollMs ?? 500) * 4);
        });
    }, ms);
    this.timer.unref?.();
  }
}
