import { Migration } from '@mikro-orm/migrations';

export class Migration20261123085222_initial extends Migration {

  override name = 'Migration20261123085222_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "audit_event" ("id" uuid not null, "recorded_at" timestamptz not null default now(), "actor_type" varchar(255) not null, "actor" varchar(255) not null, "practitioner_id" uuid null, "organization_id" uuid null, "on_behalf_of" varchar(255) null, "action" text not null, "what" text not null, "patient_ids" uuid[] not null, "outcome" text not null, "request_id" varchar(255) not null, "source_ip" varchar(255) null, primary key ("id"));`);
    this.addSql(`create index "audit_event_organization_id_index" on "audit_event" ("organization_id");`);
    this.addSql(`create index "audit_event_patient_ids_idx" on "audit_event" using gin ("patient_ids");`);
    this.addSql(`create index "audit_event_recorded_at_index" on "audit_event" ("recorded_at");`);

    this.addSql(`create table "organization" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "name" varchar(255) not null, "code" varchar(255) not null, "level" text not null, "type" text not null, "parent_id" uuid null, "path" text not null, "address" varchar(255) null, "phone" varchar(255) null, primary key ("id"));`);
    this.addSql(`alter table "organization" add constraint "organization_code_unique" unique ("code");`);
    this.addSql(`create index "organization_path_idx" on "organization" ("path" text_pattern_ops);`);

    this.addSql(`create table "grid" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "name" varchar(255) not null, "code" varchar(255) not null, "kind" text not null, "organization_id" uuid not null, primary key ("id"));`);
    this.addSql(`alter table "grid" add constraint "grid_code_unique" unique ("code");`);
    this.addSql(`create index "grid_organization_id_index" on "grid" ("organization_id");`);

    this.addSql(`create table "care_team" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "name" varchar(255) not null, "organization_id" uuid not null, "grid_id" uuid null, primary key ("id"));`);
    this.addSql(`create index "care_team_organization_id_index" on "care_team" ("organization_id");`);
    this.addSql(`create index "care_team_grid_id_index" on "care_team" ("grid_id");`);

    this.addSql(`create table "practitioner" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "name" varchar(255) not null, "gender" text null, "code" varchar(255) not null, "phone" varchar(255) null, primary key ("id"));`);
    this.addSql(`alter table "practitioner" add constraint "practitioner_code_unique" unique ("code");`);

    this.addSql(`create table "patient" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "name" varchar(255) not null, "gender" text not null, "birth_date" date null, "phone" varchar(255) null, "address" varchar(255) null, "grid_id" uuid null, "managing_organization_id" uuid not null, "family_doctor_team_id" uuid null, "contract_signed_on" date null, "contract_expires_on" date null, "management_tier" text null, "management_colour" text null, "management_override_reason" text null, "management_overridden_by_id" uuid null, "registered_by_id" uuid null, primary key ("id"));`);
    this.addSql(`create index "patient_grid_id_index" on "patient" ("grid_id");`);
    this.addSql(`create index "patient_family_doctor_team_id_index" on "patient" ("family_doctor_team_id");`);
    this.addSql(`create index "patient_management_tier_index" on "patient" ("management_tier");`);
    this.addSql(`create index "patient_management_colour_index" on "patient" ("management_colour");`);
    this.addSql(`create index "patient_registered_by_id_index" on "patient" ("registered_by_id");`);
    this.addSql(`create index "patient_name_idx" on "patient" ("name" text_pattern_ops);`);
    this.addSql(`create index "patient_managing_organization_id_id_index" on "patient" ("managing_organization_id", "id");`);

    this.addSql(`create table "patient_identifier" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "system" varchar(255) not null, "value" varchar(255) not null, "lookup" text not null, "cipher" text null, "kind" text not null, primary key ("id"));`);
    this.addSql(`create index "patient_identifier_patient_id_index" on "patient_identifier" ("patient_id");`);
    this.addSql(`alter table "patient_identifier" add constraint "patient_identifier_system_lookup_unique" unique ("system", "lookup");`);

    this.addSql(`create table "coverage" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "insurer_id" uuid not null, "member_number" varchar(255) not null, "plan" varchar(255) null, "status" text not null, "period_start" date not null, "period_end" date null, primary key ("id"));`);
    this.addSql(`create index "coverage_patient_id_index" on "coverage" ("patient_id");`);
    this.addSql(`create index "coverage_insurer_id_index" on "coverage" ("insurer_id");`);
    this.addSql(`alter table "coverage" add constraint "coverage_insurer_id_member_number_unique" unique ("insurer_id", "member_number");`);

    this.addSql(`create table "condition" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "code" varchar(255) not null, "system" varchar(255) not null, "display" varchar(255) null, "kind" text not null, "onset_date" date null, "clinical_status" text not null, "verification_status" text not null, "confirmed_by_id" uuid null, "confirmed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "condition_patient_id_kind_index" on "condition" ("patient_id", "kind");`);

    this.addSql(`create table "observation" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "code" varchar(255) not null, "system" varchar(255) not null, "kind" text not null, "value" double precision null, "systolic" double precision null, "diastolic" double precision null, "unit" varchar(255) null, "received_value" double precision null, "received_unit" varchar(255) null, "effective_at" timestamptz not null, "source" text not null, "performer_id" uuid null, "organization_id" uuid null, "device_id" varchar(255) null, "source_system" varchar(255) null, "source_id" varchar(255) null, primary key ("id"));`);
    this.addSql(`create index "observation_effective_at_index" on "observation" ("effective_at");`);
    this.addSql(`create index "observation_patient_kind_time_idx" on "observation" ("patient_id", "kind", "effective_at");`);
    this.addSql(`alter table "observation" add constraint "observation_source_system_source_id_unique" unique ("source_system", "source_id");`);

    this.addSql(`create table "follow_up" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "type" text not null, "planned_date" date null, "done_date" date null, "findings" text null, "control_status" text null, "adverse_reaction" boolean not null default false, "new_complication" boolean not null default false, "next_due_date" date null, "practitioner_id" uuid null, "organization_id" uuid null, primary key ("id"));`);
    this.addSql(`create index "follow_up_next_due_date_index" on "follow_up" ("next_due_date");`);
    this.addSql(`create index "follow_up_patient_id_planned_date_index" on "follow_up" ("patient_id", "planned_date");`);

    this.addSql(`create table "consent" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "purpose" text not null, "decision" text not null, "period_start" date not null, "period_end" date null, "recorded_by_id" uuid null, "note" text null, primary key ("id"));`);
    this.addSql(`create index "consent_patient_id_purpose_index" on "consent" ("patient_id", "purpose");`);

    this.addSql(`create table "care_team_member" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "care_team_id" uuid not null, "practitioner_id" uuid not null, "role" text not null, primary key ("id"));`);
    this.addSql(`create index "care_team_member_care_team_id_index" on "care_team_member" ("care_team_id");`);
    this.addSql(`create index "care_team_member_practitioner_id_index" on "care_team_member" ("practitioner_id");`);
    this.addSql(`alter table "care_team_member" add constraint "care_team_member_care_team_id_practitioner_id_role_unique" unique ("care_team_id", "practitioner_id", "role");`);

    this.addSql(`create table "care_plan" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "title" varchar(255) not null, "status" text not null, "addresses" jsonb not null, "period_start" date not null, "period_end" date null, "author_id" uuid null, "organization_id" uuid null, "note" text null, primary key ("id"));`);
    this.addSql(`create index "care_plan_patient_id_status_index" on "care_plan" ("patient_id", "status");`);

    this.addSql(`create table "care_plan_goal" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "care_plan_id" uuid not null, "description" varchar(255) not null, "measure" text null, "target_below" double precision null, "diastolic_below" double precision null, "due_date" date null, primary key ("id"));`);
    this.addSql(`create index "care_plan_goal_care_plan_id_index" on "care_plan_goal" ("care_plan_id");`);

    this.addSql(`create table "care_plan_activity" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "care_plan_id" uuid not null, "category" text not null, "status" text not null, "description" text not null, "frequency" varchar(255) null, "medication_code" varchar(255) null, "medication_name" varchar(255) null, "dosage" varchar(255) null, primary key ("id"));`);
    this.addSql(`create index "care_plan_activity_care_plan_id_index" on "care_plan_activity" ("care_plan_id");`);

    this.addSql(`create table "practitioner_role" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "practitioner_id" uuid not null, "organization_id" uuid not null, "role" text not null, "specialty" varchar(255) null, primary key ("id"));`);
    this.addSql(`create index "practitioner_role_practitioner_id_index" on "practitioner_role" ("practitioner_id");`);
    this.addSql(`create index "practitioner_role_organization_id_index" on "practitioner_role" ("organization_id");`);
    this.addSql(`alter table "practitioner_role" add constraint "practitioner_role_practitioner_id_organization_id_role_unique" unique ("practitioner_id", "organization_id", "role");`);

    this.addSql(`create table "referral" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "patient_id" uuid not null, "direction" text not null, "from_organization_id" uuid not null, "to_organization_id" uuid not null, "from_practitioner_id" uuid null, "to_practitioner_id" uuid null, "reason" text not null, "reason_text" text null, "urgency" text not null, "status" text not null, "clinical_summary" text null, "status_reason" text null, "outcome_summary" text null, "requested_at" timestamptz not null, "accepted_at" timestamptz null, "rejected_at" timestamptz null, "completed_at" timestamptz null, "cancelled_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "referral_patient_id_index" on "referral" ("patient_id");`);
    this.addSql(`create index "referral_to_organization_id_status_index" on "referral" ("to_organization_id", "status");`);
    this.addSql(`create index "referral_from_organization_id_status_index" on "referral" ("from_organization_id", "status");`);

    this.addSql(`create table "system_client" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "client_id" varchar(255) not null, "name" varchar(255) not null, "kind" text not null, "organization_id" uuid not null, "jwks" jsonb null, "jwks_url" varchar(255) null, "scopes" jsonb not null, "active" boolean not null default true, primary key ("id"));`);
    this.addSql(`alter table "system_client" add constraint "system_client_client_id_unique" unique ("client_id");`);

    this.addSql(`create table "used_assertion" ("key" text not null, "expires_at" timestamptz not null, primary key ("key"));`);
    this.addSql(`create index "used_assertion_expires_at_index" on "used_assertion" ("expires_at");`);

    this.addSql(`alter table "audit_event" add constraint "audit_event_action_check" check ("action" in ('READ', 'SEARCH', 'CREATE', 'UPDATE', 'DELETE', 'EXPORT'));`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_outcome_check" check ("outcome" in ('SUCCESS', 'FAILURE', 'DENIED'));`);

    this.addSql(`alter table "organization" add constraint "organization_parent_id_foreign" foreign key ("parent_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "organization" add constraint "organization_level_check" check ("level" in ('COUNTY', 'TOWNSHIP', 'VILLAGE', 'EXTERNAL'));`);
    this.addSql(`alter table "organization" add constraint "organization_type_check" check ("type" in ('MEDICAL_COMMUNITY_LEAD', 'COUNTY_HOSPITAL', 'TOWNSHIP_HEALTH_CENTRE', 'COMMUNITY_HEALTH_CENTRE', 'VILLAGE_CLINIC', 'INSURER', 'OTHER'));`);

    this.addSql(`alter table "grid" add constraint "grid_organization_id_foreign" foreign key ("organization_id") references "organization" ("id");`);
    this.addSql(`alter table "grid" add constraint "grid_kind_check" check ("kind" in ('URBAN_BLOCK', 'VILLAGE', 'SPECIAL_GROUP'));`);

    this.addSql(`alter table "care_team" add constraint "care_team_organization_id_foreign" foreign key ("organization_id") references "organization" ("id");`);
    this.addSql(`alter table "care_team" add constraint "care_team_grid_id_foreign" foreign key ("grid_id") references "grid" ("id") on delete set null;`);

    this.addSql(`alter table "practitioner" add constraint "practitioner_gender_check" check ("gender" in ('MALE', 'FEMALE', 'OTHER', 'UNKNOWN'));`);

    this.addSql(`alter table "patient" add constraint "patient_grid_id_foreign" foreign key ("grid_id") references "grid" ("id") on delete set null;`);
    this.addSql(`alter table "patient" add constraint "patient_managing_organization_id_foreign" foreign key ("managing_organization_id") references "organization" ("id");`);
    this.addSql(`alter table "patient" add constraint "patient_family_doctor_team_id_foreign" foreign key ("family_doctor_team_id") references "care_team" ("id") on delete set null;`);
    this.addSql(`alter table "patient" add constraint "patient_management_overridden_by_id_foreign" foreign key ("management_overridden_by_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "patient" add constraint "patient_registered_by_id_foreign" foreign key ("registered_by_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "patient" add constraint "patient_gender_check" check ("gender" in ('MALE', 'FEMALE', 'OTHER', 'UNKNOWN'));`);
    this.addSql(`alter table "patient" add constraint "patient_management_tier_check" check ("management_tier" in ('INTENSIVE', 'ROUTINE', 'GENERAL'));`);
    this.addSql(`alter table "patient" add constraint "patient_management_colour_check" check ("management_colour" in ('RED', 'YELLOW', 'GREEN'));`);

    this.addSql(`alter table "patient_identifier" add constraint "patient_identifier_patient_id_foreign" foreign key ("patient_id") references "patient" ("id") on delete cascade;`);
    this.addSql(`alter table "patient_identifier" add constraint "patient_identifier_kind_check" check ("kind" in ('RESIDENT_ID', 'HEALTH_RECORD', 'INSURANCE', 'MRN', 'OTHER'));`);

    this.addSql(`alter table "coverage" add constraint "coverage_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "coverage" add constraint "coverage_insurer_id_foreign" foreign key ("insurer_id") references "organization" ("id");`);
    this.addSql(`alter table "coverage" add constraint "coverage_status_check" check ("status" in ('ACTIVE', 'CANCELLED'));`);

    this.addSql(`alter table "condition" add constraint "condition_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "condition" add constraint "condition_confirmed_by_id_foreign" foreign key ("confirmed_by_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "condition" add constraint "condition_kind_check" check ("kind" in ('HYPERTENSION', 'TYPE_2_DIABETES', 'COPD', 'CKD', 'STROKE', 'CHD', 'CANCER', 'OTHER'));`);
    this.addSql(`alter table "condition" add constraint "condition_clinical_status_check" check ("clinical_status" in ('ACTIVE', 'RECURRENCE', 'RELAPSE', 'INACTIVE', 'REMISSION', 'RESOLVED'));`);
    this.addSql(`alter table "condition" add constraint "condition_verification_status_check" check ("verification_status" in ('UNCONFIRMED', 'PROVISIONAL', 'DIFFERENTIAL', 'CONFIRMED', 'REFUTED', 'ENTERED_IN_ERROR'));`);

    this.addSql(`alter table "observation" add constraint "observation_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "observation" add constraint "observation_performer_id_foreign" foreign key ("performer_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "observation" add constraint "observation_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "observation" add constraint "observation_kind_check" check ("kind" in ('BLOOD_PRESSURE', 'FASTING_GLUCOSE', 'GLUCOSE', 'HBA1C', 'WEIGHT', 'HEIGHT', 'BMI', 'HEART_RATE', 'WAIST_CIRCUMFERENCE', 'OTHER'));`);
    this.addSql(`alter table "observation" add constraint "observation_source_check" check ("source" in ('CLINIC', 'HOME', 'DEVICE'));`);

    this.addSql(`alter table "follow_up" add constraint "follow_up_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "follow_up" add constraint "follow_up_practitioner_id_foreign" foreign key ("practitioner_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "follow_up" add constraint "follow_up_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "follow_up" add constraint "follow_up_type_check" check ("type" in ('CLINIC', 'HOME', 'PHONE', 'REMOTE'));`);
    this.addSql(`alter table "follow_up" add constraint "follow_up_control_status_check" check ("control_status" in ('CONTROLLED', 'UNCONTROLLED', 'URGENT'));`);

    this.addSql(`alter table "consent" add constraint "consent_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "consent" add constraint "consent_recorded_by_id_foreign" foreign key ("recorded_by_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "consent" add constraint "consent_purpose_check" check ("purpose" in ('TREATMENT', 'INSURER_SHARING', 'RESEARCH'));`);
    this.addSql(`alter table "consent" add constraint "consent_decision_check" check ("decision" in ('PERMIT', 'DENY'));`);

    this.addSql(`alter table "care_team_member" add constraint "care_team_member_care_team_id_foreign" foreign key ("care_team_id") references "care_team" ("id");`);
    this.addSql(`alter table "care_team_member" add constraint "care_team_member_practitioner_id_foreign" foreign key ("practitioner_id") references "practitioner" ("id");`);
    this.addSql(`alter table "care_team_member" add constraint "care_team_member_role_check" check ("role" in ('GENERAL_PRACTITIONER', 'NURSE', 'PUBLIC_HEALTH_OFFICER', 'VILLAGE_DOCTOR', 'SPECIALIST', 'ADMINISTRATOR'));`);

    this.addSql(`alter table "care_plan" add constraint "care_plan_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "care_plan" add constraint "care_plan_author_id_foreign" foreign key ("author_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "care_plan" add constraint "care_plan_organization_id_foreign" foreign key ("organization_id") references "organization" ("id") on delete set null;`);
    this.addSql(`alter table "care_plan" add constraint "care_plan_status_check" check ("status" in ('DRAFT', 'ACTIVE', 'ON_HOLD', 'REVOKED', 'COMPLETED'));`);

    this.addSql(`alter table "care_plan_goal" add constraint "care_plan_goal_care_plan_id_foreign" foreign key ("care_plan_id") references "care_plan" ("id") on delete cascade;`);
    this.addSql(`alter table "care_plan_goal" add constraint "care_plan_goal_measure_check" check ("measure" in ('BLOOD_PRESSURE', 'FASTING_GLUCOSE', 'GLUCOSE', 'HBA1C', 'WEIGHT', 'HEIGHT', 'BMI', 'HEART_RATE', 'WAIST_CIRCUMFERENCE', 'OTHER'));`);

    this.addSql(`alter table "care_plan_activity" add constraint "care_plan_activity_care_plan_id_foreign" foreign key ("care_plan_id") references "care_plan" ("id") on delete cascade;`);
    this.addSql(`alter table "care_plan_activity" add constraint "care_plan_activity_category_check" check ("category" in ('DIET', 'EXERCISE', 'SALT_REDUCTION', 'SMOKING_CESSATION', 'ALCOHOL_LIMITATION', 'SELF_MANAGEMENT_GROUP', 'MEDICATION', 'OTHER'));`);
    this.addSql(`alter table "care_plan_activity" add constraint "care_plan_activity_status_check" check ("status" in ('NOT_STARTED', 'SCHEDULED', 'IN_PROGRESS', 'ON_HOLD', 'COMPLETED', 'CANCELLED', 'STOPPED'));`);

    this.addSql(`alter table "practitioner_role" add constraint "practitioner_role_practitioner_id_foreign" foreign key ("practitioner_id") references "practitioner" ("id");`);
    this.addSql(`alter table "practitioner_role" add constraint "practitioner_role_organization_id_foreign" foreign key ("organization_id") references "organization" ("id");`);
    this.addSql(`alter table "practitioner_role" add constraint "practitioner_role_role_check" check ("role" in ('GENERAL_PRACTITIONER', 'NURSE', 'PUBLIC_HEALTH_OFFICER', 'VILLAGE_DOCTOR', 'SPECIALIST', 'ADMINISTRATOR'));`);

    this.addSql(`alter table "referral" add constraint "referral_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "referral" add constraint "referral_from_organization_id_foreign" foreign key ("from_organization_id") references "organization" ("id");`);
    this.addSql(`alter table "referral" add constraint "referral_to_organization_id_foreign" foreign key ("to_organization_id") references "organization" ("id");`);
    this.addSql(`alter table "referral" add constraint "referral_from_practitioner_id_foreign" foreign key ("from_practitioner_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "referral" add constraint "referral_to_practitioner_id_foreign" foreign key ("to_practitioner_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "referral" add constraint "referral_direction_check" check ("direction" in ('UP', 'DOWN'));`);
    this.addSql(`alter table "referral" add constraint "referral_reason_check" check ("reason" in ('UNCLEAR_DIAGNOSIS', 'POOR_CONTROL', 'ACUTE_EXACERBATION', 'COMPLICATION', 'STABLE', 'RECOVERY', 'OTHER'));`);
    this.addSql(`alter table "referral" add constraint "referral_urgency_check" check ("urgency" in ('ROUTINE', 'URGENT'));`);
    this.addSql(`alter table "referral" add constraint "referral_status_check" check ("status" in ('REQUESTED', 'ACCEPTED', 'REJECTED', 'COMPLETED', 'CANCELLED'));`);

    this.addSql(`alter table "system_client" add constraint "system_client_organization_id_foreign" foreign key ("organization_id") references "organization" ("id");`);
    this.addSql(`alter table "system_client" add constraint "system_client_kind_check" check ("kind" in ('HOSPITAL', 'INSURER'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "organization" drop constraint "organization_parent_id_foreign";`);
    this.addSql(`alter table "grid" drop constraint "grid_organization_id_foreign";`);
    this.addSql(`alter table "care_team" drop constraint "care_team_organization_id_foreign";`);
    this.addSql(`alter table "patient" drop constraint "patient_managing_organization_id_foreign";`);
    this.addSql(`alter table "patient" drop constraint "patient_registered_by_id_foreign";`);
    this.addSql(`alter table "coverage" drop constraint "coverage_insurer_id_foreign";`);
    this.addSql(`alter table "condition" drop constraint "condition_confirmed_by_id_foreign";`);
    this.addSql(`alter table "observation" drop constraint "observation_organization_id_foreign";`);
    this.addSql(`alter table "follow_up" drop constraint "follow_up_organization_id_foreign";`);
    this.addSql(`alter table "care_plan" drop constraint "care_plan_organization_id_foreign";`);
    this.addSql(`alter table "practitioner_role" drop constraint "practitioner_role_organization_id_foreign";`);
    this.addSql(`alter table "referral" drop constraint "referral_from_organization_id_foreign";`);
    this.addSql(`alter table "referral" drop constraint "referral_to_organization_id_foreign";`);
    this.addSql(`alter table "system_client" drop constraint "system_client_organization_id_foreign";`);
    this.addSql(`alter table "care_team" drop constraint "care_team_grid_id_foreign";`);
    this.addSql(`alter table "patient" drop constraint "patient_grid_id_foreign";`);
    this.addSql(`alter table "patient" drop constraint "patient_family_doctor_team_id_foreign";`);
    this.addSql(`alter table "care_team_member" drop constraint "care_team_member_care_team_id_foreign";`);
    this.addSql(`alter table "patient" drop constraint "patient_management_overridden_by_id_foreign";`);
    this.addSql(`alter table "observation" drop constraint "observation_performer_id_foreign";`);
    this.addSql(`alter table "follow_up" drop constraint "follow_up_practitioner_id_foreign";`);
    this.addSql(`alter table "consent" drop constraint "consent_recorded_by_id_foreign";`);
    this.addSql(`alter table "care_team_member" drop constraint "care_team_member_practitioner_id_foreign";`);
    this.addSql(`alter table "care_plan" drop constraint "care_plan_author_id_foreign";`);
    this.addSql(`alter table "practitioner_role" drop constraint "practitioner_role_practitioner_id_foreign";`);
    this.addSql(`alter table "referral" drop constraint "referral_from_practitioner_id_foreign";`);
    this.addSql(`alter table "referral" drop constraint "referral_to_practitioner_id_foreign";`);
    this.addSql(`alter table "patient_identifier" drop constraint "patient_identifier_patient_id_foreign";`);
    this.addSql(`alter table "coverage" drop constraint "coverage_patient_id_foreign";`);
    this.addSql(`alter table "condition" drop constraint "condition_patient_id_foreign";`);
    this.addSql(`alter table "observation" drop constraint "observation_patient_id_foreign";`);
    this.addSql(`alter table "follow_up" drop constraint "follow_up_patient_id_foreign";`);
    this.addSql(`alter table "consent" drop constraint "consent_patient_id_foreign";`);
    this.addSql(`alter table "care_plan" drop constraint "care_plan_patient_id_foreign";`);
    this.addSql(`alter table "referral" drop constraint "referral_patient_id_foreign";`);
    this.addSql(`alter table "care_plan_goal" drop constraint "care_plan_goal_care_plan_id_foreign";`);
    this.addSql(`alter table "care_plan_activity" drop constraint "care_plan_activity_care_plan_id_foreign";`);

    this.addSql(`drop table if exists "audit_event" cascade;`);
    this.addSql(`drop table if exists "organization" cascade;`);
    this.addSql(`drop table if exists "grid" cascade;`);
    this.addSql(`drop table if exists "care_team" cascade;`);
    this.addSql(`drop table if exists "practitioner" cascade;`);
    this.addSql(`drop table if exists "patient" cascade;`);
    this.addSql(`drop table if exists "patient_identifier" cascade;`);
    this.addSql(`drop table if exists "coverage" cascade;`);
    this.addSql(`drop table if exists "condition" cascade;`);
    this.addSql(`drop table if exists "observation" cascade;`);
    this.addSql(`drop table if exists "follow_up" cascade;`);
    this.addSql(`drop table if exists "consent" cascade;`);
    this.addSql(`drop table if exists "care_team_member" cascade;`);
    this.addSql(`drop table if exists "care_plan" cascade;`);
    this.addSql(`drop table if exists "care_plan_goal" cascade;`);
    this.addSql(`drop table if exists "care_plan_activity" cascade;`);
    this.addSql(`drop table if exists "practitioner_role" cascade;`);
    this.addSql(`drop table if exists "referral" cascade;`);
    this.addSql(`drop table if exists "system_client" cascade;`);
    this.addSql(`drop table if exists "used_assertion" cascade;`);
  }

}
