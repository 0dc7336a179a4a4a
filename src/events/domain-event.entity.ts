import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The outbox: one row per change to the domain, written by the flush that makes the change, in its database
 * transaction (recorder.ts). Consumers read it in order (consumer.ts); nothing here is ever updated.
 */
@Entity({ tableName: 'domain_event' })
@Index({ name: 'domain_event_order_idx', properties: ['tx', 'id'] })
@Index({ name: 'domain_event_patient_idx', properties: ['patientId', 'id'] })
export class DomainEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  /**
   * The writing transaction's id. Sequence numbers are handed out before commit, so a consumer going by id
   * alone could pass a number whose transaction commits later and miss it; going by (tx, id) and reading only
   * transactions older than every running one (consumer.ts) cannot.
   */
  @Property({ type: 'string', columnType: 'xid8', defaultRaw: 'pg_current_xact_id()' })
  tx?: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  occurredAt?: Date;

  /** `ObservationRecorded`, `ReferralChanged`, … (recorder.ts, EVENT_SOURCES). */
  @Property({ type: 'text' })
  type!: string;

  @Property({ type: 'text' })
  aggregateType!: string;

  @Property({ type: 'uuid' })
  aggregateId!: string;

  /** The patient whose record changed; consumers keep per-patient order by it. */
  @Property({ type: 'uuid', nullable: true })
  patientId?: string;

  @Property({ type: 'json', columnType: 'jsonb' })
  payload!: Record<string, unknown>;
}

/** How far each consumer has read the outbox: the (tx, id) of the last event it handled. */
@Entity({ tableName: 'event_consumer' })
export class EventConsumerPosition {
  @PrimaryKey({ type: 'text' })
  name!: string;

  @Property({ type: 'string', columnType: 'xid8', default: '0' })
  lastTx: string = '0';

  @Property({ type: 'bigint', defaultRaw: '0' })
  lastId: string = '0';

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
