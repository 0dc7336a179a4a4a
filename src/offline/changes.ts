import { IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import type { AccessPolicy, Predicate } from '../access/policy.js';
import { badInput, isUuid } from '../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../domain/pagination.js';
import { outboxHorizon } from '../events/consumer.js';
import { rowsWhereAny } from '../graphql/loaders.js';
import { SYNCED, SYNCED_TYPES, type SyncedField } from './synced.js';

/** Patients (snapshot, reconciliation) or events (otherwise) one answer covers when the client does not say. */
export const DEFAULT_SYNC_PAGE = 100;
/** The most patient ids a tablet may say it holds in one call (a township GP's tablet holds a few thousand). */
export const MAX_HELD_PATIENTS = 20_000;

/** A record the tablet holds that is gone: removed, or no longer the caller's to see. */
export interface RemovedRecord {
  type: string;
  id: string;
  patientId: string | null;
}

export interface ChangesPage {
  records: Record<SyncedField, object[]>;
  removed: RemovedRecord[];
  removedPatientIds: string[];
  viewChanged: boolean;
  cursor: string;
  hasMore: boolean;
}

/**
 * Where a tablet is (opaque to it): the phase (`s`napshot of the visible patients by id, then `e`vents of the
 * outbox), the outbox position (tx, id) past which events are still to come, the last patient of the snapshot, and
 * the digest of the view the tablet holds (viewDigest).
 */
interface Position {
  phase: 's' | 'e';
  tx: string;
  id: string;
  after: string | null;
  view: string;
}

const DIGITS = /^\d+$/;

function decode(since: string | null | undefined): Position | undefined {
  const key = decodeCursor(since, 5, 'since');
  if (!key) return undefined;
  const [phase, tx, id, after, view] = key;
  const ok =
    (phase === 's' || phase === 'e') &&
    typeof tx === 'string' && DIGITS.test(tx) &&
    typeof id === 'string' && DIGITS.test(id) &&
    (after === null || (typeof after === 'string' && isUuid(after))) &&
    typeof view === 'string' && /^[0-9a-f]{32}$/.test(view);
  if (!ok) throw badInput('since is not a cursor this API issued', 'since');
  return { phase, tx, id, after, view } as Position;
}

const encode = (p: Position) => encodeCursor([p.phase, p.tx, p.id, p.after, p.view]);

const emptyRecords = () => Object.fromEntries(SYNCED.map((s) => [s.field, [] as object[]])) as Record<SyncedField, object[]>;

/**
 * The changes a tablet has not seen (ADR 17), in one REPEATABLE READ transaction: the horizon, the events, the
 * records and the caller's view are of one snapshot, so none of them can disagree with another.
 */
export async function changesSince(
  em: EntityManager,
  policy: AccessPolicy,
  args: { since?: string | null; first?: number | null; heldPatientIds?: string[] | null },
): Promise<ChangesPage> {
  const limit = Math.max(1, pageSize(args.first ?? DEFAULT_SYNC_PAGE));
  const position = decode(args.since);
  const held = args.heldPatientIds ?? undefined;
  if (held && held.length > MAX_HELD_PATIENTS) throw badInput(`at most ${MAX_HELD_PATIENTS} held patient ids`, 'heldPatientIds');
  const bad = held?.findIndex((id) => !isUuid(id)) ?? -1;
  if (bad >= 0) throw badInput('a held patient id is not an id', `heldPatientIds.${bad}`);
  return em.transactional(
    (tx) => new Sync(tx as EntityManager, policy, limit).run(position, held && [...new Set(held.map((id) => id.toLowerCase()))]),
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}

class Sync {
  /** The caller's patients (alias p), read scopes included; undefined: every patient. */
  private readonly visible: Predicate;

  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly limit: number,
  ) {
    this.visible = policy.rowsVisible('Patient', 'p') ?? { sql: 'true', params: [] };
  }

  async run(position: Position | undefined, held: string[] | undefined): Promise<ChangesPage> {
    if (!position) {
      // The horizon first, the rows after: every change the snapshot may miss is of a transaction at or past it.
      const tx = await outboxHorizon(this.em);
      return this.snapshot({ phase: 's', tx, id: '0', after: null, view: await this.viewDigest(tx, '0') });
    }
    if (position.phase === 's') return this.snapshot(position);
    if (held) return this.reconcile(position, held);
    if ((await this.viewDigest(position.tx, position.id)) !== position.view) {
      return { records: emptyRecords(), removed: [], removedPatientIds: [], viewChanged: true, cursor: encode(position), hasMore: true };
    }
    return this.events(position);
  }

  /**
   * The caller's patients that have an event at or before the position, as one md5: what the tablet holds if its view
   * has not changed. Patients registered since are left out — their every record comes as events.
   */
  private async viewDigest(tx: string, id: string): Promise<string> {
    const [row] = (await this.em.execute(
      `select md5(coalesce(string_agg(p.id::text, ',' order by p.id), '')) as digest from patient p
       where (${this.visible.sql}) and exists (select 1 from domain_event e where e.patient_id = p.id and (e.tx, e.id) <= (?::xid8, ?::bigint))`,
      [...this.visible.params, tx, id],
    )) as Array<{ digest: string }>;
    return row!.digest;
  }

  /** The next page of the caller's patients by id, each whole; then events from the horizon taken at the start. */
  private async snapshot(position: Position): Promise<ChangesPage> {
    const ids = await this.patientIds(`p.id > ?::uuid`, [position.after ?? '00000000-0000-0000-0000-000000000000']);
    const records = await this.wholePatients(ids.slice(0, this.limit));
    const more = ids.length > this.limit;
    const next: Position = more ? { ...position, after: ids[this.limit - 1]! } : { ...position, phase: 'e', after: null };
    return { records, removed: [], removedPatientIds: [], viewChanged: false, cursor: encode(next), hasMore: true };
  }

  /**
   * The tablet said which patients it holds: those it may no longer see are removed, those it lacks are sent whole
   * (`limit` at a time: until none is missing the view digest stays, so the next call asks again). The outbox position
   * does not move.
   */
  private async reconcile(position: Position, held: string[]): Promise<ChangesPage> {
    const gone = (await this.em.execute(
      `select h.id::text as id from unnest(?::uuid[]) h(id) where not exists (select 1 from patient p where p.id = h.id and (${this.visible.sql})) order by h.id`,
      [`{${held.join(',')}}`, ...this.visible.params],
    )) as Array<{ id: string }>;
    const missing = await this.patientIds(`not (p.id = any(?::uuid[]))`, [`{${held.join(',')}}`]);
    const records = await this.wholePatients(missing.slice(0, this.limit));
    const done = missing.length <= this.limit;
    const next: Position = done ? { ...position, view: await this.viewDigest(position.tx, position.id) } : position;
    return { records, removed: [], removedPatientIds: gone.map((g) => g.id), viewChanged: false, cursor: encode(next), hasMore: true };
  }

  /**
   * The outbox past the position and below the horizon (the consumers' HORIZON: no event of a transaction still running
   * is passed over), of synced records whose patient the caller sees: each changed record as it is now, or removed.
   */
  private async events(position: Position): Promise<ChangesPage> {
    const horizon = await outboxHorizon(this.em);
    const rows = (await this.em.execute(
      `select d.tx::text as tx, d.id::text as id, d.aggregate_type as type, d.aggregate_id::text as "aggregateId", d.patient_id::text as "patientId"
       from domain_event d
       where (d.tx, d.id) > (?::xid8, ?::bigint) and d.tx < ?::xid8 and d.aggregate_type = any(?::text[])
         and exists (select 1 from patient p where p.id = d.patient_id and (${this.visible.sql}))
       order by d.tx, d.id limit ?`,
      [position.tx, position.id, horizon, `{${SYNCED_TYPES.join(',')}}`, ...this.visible.params, this.limit],
    )) as Array<{ tx: string; id: string; type: string; aggregateId: string; patientId: string }>;
    const records = emptyRecords();
    const removed: RemovedRecord[] = [];
    for (const synced of SYNCED) {
      const changed = new Map(rows.filter((r) => r.type === synced.type).map((r) => [r.aggregateId, r.patientId]));
      if (changed.size === 0) continue;
      const found = (await rowsWhereAny(this.em, this.policy, synced.entity as never, 'id', [...changed.keys()], 't.id')) as Array<{ id: string }>;
      records[synced.field] = found;
      const present = new Set(found.map((r) => r.id));
      for (const [id, patientId] of changed) if (!present.has(id)) removed.push({ type: synced.type, id, patientId });
    }
    const full = rows.length === this.limit;
    const last = rows.at(-1);
    // A short page read everything below the horizon: the next one starts there.
    const at = full ? { tx: last!.tx, id: last!.id } : { tx: horizon, id: '0' };
    const next: Position = { ...position, ...at, view: await this.viewDigest(at.tx, at.id) };
    return { records, removed, removedPatientIds: [], viewChanged: false, cursor: encode(next), hasMore: full };
  }

  /** The caller's patient ids matching `where`, by id, one more than a page (to know whether more follow). */
  private async patientIds(where: string, params: unknown[]): Promise<string[]> {
    const rows = (await this.em.execute(`select p.id::text as id from patient p where (${this.visible.sql}) and ${where} order by p.id limit ?`, [...this.visible.params, ...params, this.limit + 1])) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  /** Every synced record of these (visible) patients, through the read path. */
  private async wholePatients(ids: string[]): Promise<Record<SyncedField, object[]>> {
    const records = emptyRecords();
    if (ids.length === 0) return records;
    for (const synced of SYNCED) {
      records[synced.field] = await rowsWhereAny(this.em, this.policy, synced.entity as never, synced.type === 'Patient' ? 'id' : 'patient', ids, 't.id');
    }
    return records;
  }
}
