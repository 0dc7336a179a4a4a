import { Migration } from '@mikro-orm/migrations';

/**
 * The patient's programme status (ADR 16): ACTIVE until a person, a hospital's FHIR Patient (deceased[x]) or an
 * overdue call's outcome says the patient transferred out, moved away, died or withdrew. Every existing patient
 * is ACTIVE. Worklists and indicators leave out the others, so the column is indexed.
 */
export class Migration20261202115000_patient_care_status extends Migration {
  override name = 'Migration20261202115000_patient_care_status';

  override up(): void {
    this.addSql(`alter table "patient" add column "care_status" text not null default 'ACTIVE', add column "care_status_on" date null, add column "care_status_reason" text null;`);
    this.addSql(`alter table "patient" add constraint "patient_care_status_check" check ("care_status" in ('ACTIVE', 'TRANSFERRED_OUT', 'MOVED_AWAY', 'DIED', 'WITHDREW'));`);
    this.addSql(`create index "patient_care_status_index" on "patient" ("care_status");`);
  }

  override down(): void {
    this.addSql(`drop index if exists "patient_care_status_index";`);
    this.addSql(`alter table "patient" drop constraint if exists "patient_care_status_check";`);
    this.addSql(`alter table "patient" drop column if exists "care_status", drop column if exists "care_status_on", drop column if exists "care_status_reason";`);
  }
}
