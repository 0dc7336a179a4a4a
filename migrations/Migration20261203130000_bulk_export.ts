import { Migration } from '@mikro-orm/migrations';

/** Bulk Data $export jobs (issue 13, src/jobs/bulk-export/): kick-off, progress, checkpoint, manifest, expiry. */
export class Migration20261203130000_bulk_export extends Migration {
  override name = 'Migration20261203130000_bulk_export';

  override up(): void {
    this.addSql(
      `create table "bulk_export" ("id" uuid not null, "caller" jsonb not null, "request_url" text not null, "params" jsonb not null, "status" text not null default 'accepted', "written" int not null default 0, "output" jsonb not null, "checkpoint" jsonb null, "error" text null, "transaction_time" timestamptz not null, "expires_at" timestamptz null, "attempts" int not null default 0, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "bulk_export_status_index" on "bulk_export" ("status");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "bulk_export" cascade;`);
  }
}
