import { Migration } from '@mikro-orm/migrations';

export class Migration20261123091530_fhir_store extends Migration {

  override name = 'Migration20261123091530_fhir_store';

  override up(): void | Promise<void> {
    this.addSql(`create table "fhir_resource" ("id" uuid not null, "resource_type" varchar(255) not null, "version_id" int not null, "last_updated" timestamptz not null, "deleted" boolean not null default false, "patient_id" uuid null, "content" jsonb not null, "source_keys" text[] not null, "codes" text[] not null, "date_at" timestamptz null, "status" text null, "names" text null, "gender" varchar(255) null, primary key ("id"));`);
    this.addSql(`create index "fhir_resource_codes_idx" on "fhir_resource" using gin ("codes");`);
    this.addSql(`create index "fhir_resource_source_keys_idx" on "fhir_resource" using gin ("source_keys");`);
    this.addSql(`create index "fhir_resource_patient_id_resource_type_index" on "fhir_resource" ("patient_id", "resource_type");`);
    this.addSql(`create index "fhir_resource_resource_type_last_updated_index" on "fhir_resource" ("resource_type", "last_updated");`);

    this.addSql(`create table "fhir_resource_history" ("id" uuid not null, "version_id" int not null, "resource_type" varchar(255) not null, "last_updated" timestamptz not null, "deleted" boolean not null default false, "content" jsonb null, primary key ("id", "version_id"));`);

    this.addSql(`drop trigger if exists "audit_event_no_update" on "audit_event";`);
    this.addSql(`drop function if exists "audit_event_audit_event_no_update_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "fhir_resource" cascade;`);
    this.addSql(`drop table if exists "fhir_resource_history" cascade;`);

    this.addSql(`create or replace function "audit_event_audit_event_no_update_fn"() returns trigger as \$\$ begin ; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "audit_event_no_update" BEFORE DELETE OR UPDATE on "audit_event" for each ROW execute function "audit_event_audit_event_no_update_fn"();`);
  }

}
