import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox of domain events and the position of each consumer in it (src/events/, ADR 13). Hand-written, as
 * the schema diff would write it.
 */
export class Migration20261201153000_domain_events extends Migration {
  override name = 'Migration20261201153000_domain_events';

  override up(): void {
    this.addSql(
      `create table "domain_event" ("id" bigserial primary key, "tx" xid8 not null default pg_current_xact_id(), "occurred_at" timestamptz not null default now(), "type" text not null, "aggregate_type" text not null, "aggregate_id" uuid not null, "patient_id" uuid null, "payload" jsonb not null);`,
    );
    this.addSql(`create index "domain_event_order_idx" on "domain_event" ("tx", "id");`);
    this.addSql(`create index "domain_event_patient_idx" on "domain_event" ("patient_id", "id");`);
    this.addSql(
      `create table "event_consumer" ("name" text not null, "last_tx" xid8 not null default '0', "last_id" bigint not null default 0, "updated_at" timestamptz not null default now(), constraint "event_consumer_pkey" primary key ("name"));`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "event_consumer";`);
    this.addSql(`drop table if exists "domain_event";`);
  }
}
