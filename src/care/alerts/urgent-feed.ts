import type { Logger } from 'pino';
import { type AccessPolicy, sqlAnd } from '../../access/policy.js';
import { asInternal } from '../../access/index.js';
import type { EntityManager, Orm } from '../../db/orm.js';
import { readOnly } from '../../db/read-only.js';
import { HORIZON } from '../../events/consumer.js';
import { onOutboxWritten } from '../../events/nudge.js';
import { Alert, AlertSeverity } from './alert.entity.js';

/** One subscription: whom it is for, which organisation's alerts it asked for, and where to put them. */
interface Subscriber {
  policy: AccessPolicy;
  /** The organisation the subscription named (`organizationId`): alerts concerning it or one below it. */
  organizationPath?: string;
  push(alert: Alert): void;
}

/**
 * Urgent alerts as they are raised, for the `urgentAlertRaised` subscription — whichever process raised them (this
 * server's event worker, or `npm run worker`): while anyone subscribes, it reads the outbox's `AlertRaised` events of
 * severity URGENT in outbox order, below the horizon every ordered reader of the outbox stops at (events/consumer.ts),
 * so none is passed over. It polls every `pollMs` and at once when this process has written (events/nudge.ts). Each
 * subscriber gets the alerts of patients its caller may see (the access policy) that concern the caller's own
 * organisation or one below it.
 */
export class UrgentAlertFeed {
  private readonly subscribers = new Set<Subscriber>();
  private position?: { tx: string; id: string };
  private timer?: NodeJS.Timeout;
  private polling = false;
  private again = false;
  private closed = false;
  private unlisten?: () => void;

  constructor(
    private readonly orm: Orm,
    private readonly options: { pollMs?: number; logger?: Logger } = {},
  ) {}

  /** The alerts for one subscriber, until `return()` (the client unsubscribes or the socket closes). */
  subscribe(policy: AccessPolicy, organizationPath?: string): AsyncIterableIterator<Alert> {
    const queue: Alert[] = [];
    let wake: ((r: IteratorResult<Alert>) => void) | undefined;
    let done = false;
    const subscriber: Subscriber = {
      policy,
      organizationPath,
      push: (alert) => {
        if (wake) {
          const w = wake;
          wake = undefined;
          w({ value: alert, done: false });
        } else queue.push(alert);
      },
    };
    const end = (): Promise<IteratorResult<Alert>> => {
      done = true;
      this.subscribers.delete(subscriber);
      wake?.({ value: undefined, done: true });
      wake = undefined;
      if (this.subscribers.size === 0) this.idle();
      return Promise.resolve({ value: undefined, done: true });
    };
    const ready = this.add(subscriber);
    const iterator: AsyncIterableIterator<Alert> = {
      next: async () => {
        await ready;
        if (queue.length) return { value: queue.shift()!, done: false };
        if (done || this.closed) return { value: undefined, done: true };
        return new Promise((resolve) => (wake = resolve));
      },
      return: end,
      throw: async (err) => {
        await end();
        throw err;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Ends every subscription (app.stop): their clients see them complete. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.subscribers]) s.push = () => {};
    this.subscribers.clear();
    this.idle();
  }

  private async add(subscriber: Subscriber): Promise<void> {
    if (this.closed) return;
    // The first subscriber starts at the horizon: what committed before it subscribed is not news.
    if (this.subscribers.size === 0 || !this.position) this.position = { tx: await this.horizon(), id: '0' };
    this.subscribers.add(subscriber);
    if (!this.unlisten) this.unlisten = onOutboxWritten(() => this.poll(0));
    this.poll(this.options.pollMs ?? 100);
  }

  private idle(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unlisten?.();
    this.unlisten = undefined;
    this.position = undefined;
  }

  private em(): EntityManager {
    return asInternal(this.orm.em.fork() as EntityManager);
  }

  private async horizon(): Promise<string> {
    const [row] = (await this.em().execute(`select (${HORIZON})::text as horizon`)) as Array<{ horizon: string }>;
    return row!.horizon;
  }

  private poll(ms: number): void {
    if (this.closed || this.subscribers.size === 0) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.polling = true;
      this.again = false;
      this.read()
        .catch((err) => this.options.logger?.error({ err }, 'urgent-alert feed: reading the outbox failed; retrying'))
        .finally(() => {
          this.polling = false;
          this.poll(this.again ? 0 : (this.options.pollMs ?? 100));
        });
    }, ms);
    this.timer.unref?.();
  }

  /** The urgent alerts raised since the last look, handed to each subscriber that may see them. */
  private async read(): Promise<void> {
    const from = this.position;
    if (!from) return;
    const em = this.em();
    const limit = 500;
    // Always one row (the horizon), with the events below it, if any, beside it.
    const rows = (await em.execute(
      `with h as (select (${HORIZON}) as x)
       select h.x::text as horizon, d.tx, d.id, d."alertId" from h left join lateral (
         select e.tx::text as tx, e.id::text as id, e.aggregate_id as "alertId" from domain_event e
         where (e.tx, e.id) > (?::xid8, ?::bigint) and e.tx < h.x and e.type = 'AlertRaised' and e.payload->>'severity' = ?
         order by e.tx, e.id limit ?) d on true`,
      [from.tx, from.id, AlertSeverity.URGENT, limit],
    )) as Array<{ horizon: string; tx: string | null; id: string | null; alertId: string | null }>;
    const events = rows.filter((r) => r.id !== null) as Array<{ horizon: string; tx: string; id: string; alertId: string }>;
    // A full batch: go on from its last event; else everything below the horizon has been read.
    this.position = events.length === limit ? { tx: events.at(-1)!.tx, id: events.at(-1)!.id } : { tx: rows[0]!.horizon, id: '0' };
    if (events.length === 0) return;
    const ids = `{${events.map((r) => r.alertId).join(',')}}`;
    for (const subscriber of [...this.subscribers]) {
      for (const alert of await this.visibleTo(em, subscriber, ids)) subscriber.push(alert);
    }
  }

  private async visibleTo(em: EntityManager, { policy, organizationPath }: Subscriber, ids: string): Promise<Alert[]> {
    const read = readOnly(em, Alert);
    const caller = policy.caller;
    const wheres = [`a.id = any(?::uuid[])`];
    const params: unknown[] = [ids];
    // The organisation concerned is the caller's own or one below it (administrators: any).
    if (!policy.seesEverything) {
      if (!caller.organizationPath) return [];
      wheres.push(`o.path like ?`);
      params.push(`${caller.organizationPath}%`);
    }
    if (organizationPath) {
      wheres.push(`o.path like ?`);
      params.push(`${organizationPath}%`);
    }
    const { sql, params: all } = sqlAnd({ sql: wheres.join(' and '), params }, policy.rowsVisible('Alert', 'a'));
    const found = (await em.execute(`select a.* from alert a join organization o on o.id = a.organization_id where ${sql} order by a.id`, all)) as Array<Record<string, unknown>>;
    return found.map((row) => read.record(row) as Alert);
  }
}
