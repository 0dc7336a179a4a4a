import { Migration } from '@mikro-orm/migrations';

/**
 * The care state the rules derive (ADR 16, src/care/state/): each managed condition's control status
 * (`condition_control`), planned visits that can be cancelled and say why they are due on their date, readings
 * linked to the visit they were taken at, a visit's danger signs and a clinician's asked-for next date, who
 * overrode a tier and until when, and the day of the last daily sweep. Existing overrides are dated from their
 * patient's last change and stand for a year (the default `management.overrideReviewDays`); existing visits keep
 * their control status until the rules reassess their patient (the first daily sweep does all).
 */
export class Migration20261202100000_care_state extends Migration {
  override name = 'Migration20261202100000_care_state';

  override up(): void {
    this.addSql(`create table "care_sweep" ("name" text not null, "swept_on" date not null, "swept_at" timestamptz not null, primary key ("name"));`);
    this.addSql(`create table "condition_control" ("patient_id" uuid not null, "condition_kind" text not null, "control_status" text not null, "observation_id" uuid null, "decided_at" timestamptz not null, primary key ("patient_id", "condition_kind"));`);
    this.addSql(`create index "condition_control_control_status_index" on "condition_control" ("control_status");`);
    this.addSql(`alter table "patient" add "management_overridden_at" timestamptz null, add "management_override_review_on" date null;`);
    this.addSql(`alter table "follow_up" add "danger_signs" boolean not null default false, add "next_due_requested" date null, add "due_reason" text null, add "cancelled_at" timestamptz null, add "cancel_reason" text null;`);
    this.addSql(`alter table "follow_up" add constraint "follow_up_due_reason_check" check ("due_reason" in ('CONTROLLED', 'UNCONTROLLED', 'ADVERSE_REACTION', 'AFTER_REFERRAL', 'TIER_MAXIMUM', 'FACE_TO_FACE_MINIMUM', 'ANNUAL_CHECK', 'CLINICIAN'));`);
    this.addSql(`alter table "observation" add "follow_up_id" uuid null;`);
    this.addSql(`alter table "observation" add constraint "observation_follow_up_id_foreign" foreign key ("follow_up_id") references "follow_up" ("id") on delete set null;`);
    this.addSql(`create index "observation_follow_up_id_index" on "observation" ("follow_up_id");`);
    this.addSql(`alter table "condition_control" add constraint "condition_control_patient_id_foreign" foreign key ("patient_id") references "patient" ("id") on delete cascade;`);
    this.addSql(`alter table "condition_control" add constraint "condition_control_observation_id_foreign" foreign key ("observation_id") references "observation" ("id") on delete set null;`);
    this.addSql(`alter table "condition_control" add constraint "condition_control_condition_kind_check" check ("condition_kind" in ('HYPERTENSION', 'TYPE_2_DIABETES', 'COPD', 'CKD', 'STROKE', 'CHD', 'CANCER', 'OTHER'));`);
    this.addSql(`alter table "condition_control" add constraint "condition_control_control_status_check" check ("control_status" in ('CONTROLLED', 'UNCONTROLLED', 'URGENT', 'NO_RECENT_READING'));`);
    this.addSql(`update "patient" set "management_overridden_at" = "updated_at", "management_override_review_on" = ("updated_at"::date + 365) where "management_override_reason" is not null;`);
  }

  override down(): void {
    this.addSql(`drop table if exists "care_sweep" cascade;`);
    this.addSql(`drop table if exists "condition_control" cascade;`);
    this.addSql(`alter table "observation" drop constraint "observation_follow_up_id_foreign";`);
    this.addSql(`alter table "follow_up" drop constraint "follow_up_due_reason_check";`);
    this.addSql(`alter table "follow_up" drop column "danger_signs", drop column "next_due_requested", drop column "due_reason", drop column "cancelled_at", drop column "cancel_reason";`);
    this.addSql(`drop index "observation_follow_up_id_index";`);
    this.addSql(`alter table "observation" drop column "follow_up_id";`);
    this.addSql(`alter table "patient" drop column "management_overridden_at", drop column "management_override_review_on";`);
  }
}
