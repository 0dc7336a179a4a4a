import { Migration } from '@mikro-orm/migrations';

/**
 * A patient's medicines as prescriptions (MedicationRequest) and statements (MedicationStatement) say them
 * (src/domain/medication): one record per resource, under its id. (Written as `npm run migrate -- create` writes
 * it, this table only.)
 */
export class Migration20261201151000_medication extends Migration {
  override name = 'Migration20261201151000_medication';

  override up(): void {
    this.addSql(`create table "medication_use" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "name" varchar(255) not null, "code" varchar(255) null, "system" varchar(255) null, "drug_class" text not null, "status" text not null, "dosage" text null, "since" date null, "until" date null, "source_type" varchar(255) not null, "organization_id" uuid null, primary key ("id"));`);
    this.addSql(`create index "medication_use_patient_id_status_index" on "medication_use" ("patient_id", "status");`);
    this.addSql(`alter table "medication_use" add constraint "medication_use_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "medication_use" add constraint "medication_use_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "medication_use" add constraint "medication_use_drug_class_check" check ("drug_class" in ('ANTIHYPERTENSIVE', 'ANTIDIABETIC', 'LIPID_LOWERING', 'OTHER'));`);
    this.addSql(`alter table "medication_use" add constraint "medication_use_status_check" check ("status" in ('ACTIVE', 'ON_HOLD', 'PLANNED', 'COMPLETED', 'STOPPED', 'CANCELLED', 'NOT_TAKEN', 'UNKNOWN'));`);
  }

  override down(): void {
    this.addSql(`drop table if exists "medication_use" cascade;`);
  }
}
