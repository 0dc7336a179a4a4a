import { Migration } from '@mikro-orm/migrations';

/** Creates sent under a client's own id (ADR 17, src/offline/write-once.ts): a repeat is answered from here. */
export class Migration20261202145500_client_write extends Migration {
  override name = 'Migration20261202145500_client_write';

  override up(): void {
    this.addSql(`create table "client_write" ("id" uuid not null, "operation" text not null, "digest" text not null, "patient_id" uuid null, "record_type" text not null, "record_id" uuid not null, "answer" jsonb null, "created_at" timestamptz not null default now(), primary key ("id"));`);
  }

  override down(): void {
    this.addSql(`drop table if exists "client_write" cascade;`);
  }
}
