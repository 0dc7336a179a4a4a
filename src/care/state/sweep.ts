import type { Logger } from 'pino';
import { countyToday } from '../../care-rules/calendar.js';
import type { CareRules } from '../../care-rules/rules.js';
import type { EntityManager } from '../../db/orm.js';
import { reassess } from '../index.js';

const NAME = 'care-rules';

/** Notes that every patient was reassessed as of `today` (the seed does, having reassessed its county). */
export async function markSwept(em: EntityManager, today: string): Promise<void> {
  await em.execute(
    `insert into care_sweep (name, swept_on, swept_at) values (?, ?, now()) on conflict (name) do update set swept_on = excluded.swept_on, swept_at = excluded.swept_at`,
    [NAME, today],
  );
}

/**
 * The daily sweep (ADR 16): the time-driven rules — a reading ageing out of the look-back, an admission or an
 * urgent reading out of its window, controlled long enough to turn green, an override past its review date, a
 * referral not accepted in time — move with no event, so every patient is reassessed once a county day
 * (`reassess(em, { all: true })`, set-based). Returns whether it swept: not when today is done already
 * (`care_sweep`), nor while another process sweeps (its row is locked).
 */
export async function sweepOnce(em: EntityManager, rules: CareRules, today = countyToday()): Promise<boolean> {
  return em.fork().transactional(async (tx) => {
    await tx.execute(`insert into care_sweep (name, swept_on, swept_at) values (?, date '1970-01-01', now()) on conflict do nothing`, [NAME]);
    const [row] = (await tx.execute(`select swept_on::text as swept_on from care_sweep where name = ? for update skip locked`, [NAME])) as Array<{ swept_on: string }>;
    if (!row || row.swept_on >= today) return false;
    await reassess(tx as EntityManager, { all: true }, rules, today);
    await markSwept(tx as EntityManager, today);
    return true;
  });
}

/**
 * Runs the sweep beside the event worker (the server's, or `npm run worker`): at start and then every
 * `intervalMs` (10 minutes), which sweeps at most once a county day — shortly after midnight, or at start-up when
 * the day has not been swept. A failure is logged and retried at the next interval.
 */
export class CareSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly em: EntityManager,
    private readonly rules: CareRules,
    private readonly options: { intervalMs?: number; logger?: Logger } = {},
  ) {}

  start(): this {
    this.stopped = false;
    this.schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.running = sweepOnce(this.em, this.rules)
        .then((swept) => swept && this.options.logger?.info({ ms: Date.now() - started }, 'care rules: every patient reassessed (daily sweep)'))
        .catch((err) => this.options.logger?.error({ err }, 'care rules: the daily sweep failed; retrying at the next interval'))
        .finally(() => this.schedule(this.options.intervalMs ?? 10 * 60_000));
    }, ms);
    this.timer.unref?.();
  }
}
