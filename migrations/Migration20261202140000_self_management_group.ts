import { Migration } from '@mikro-orm/migrations';

/**
 * Self-management groups (患者自我管理小组, src/domain/self-management-group): a group per village clinic or township
 * centre, led by an expert patient or a practitioner; its members with the days they joined and left; its sessions
 * and who attended. A care plan's SELF_MANAGEMENT_GROUP activity may name its group (nullable column, set null when
 * a group is deleted). (Written as `npm run migrate -- create` writes it, these tables only.)
 */
export class Migration20261202140000_self_management_group extends Migration {
  override name = 'Migration20261202140000_self_management_group';

  override up(): void {
    this.addSql(`create table "self_management_group" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "organization_id" uuid not null, "name" varchar(255) not null, "condition_kinds" jsonb not null, "leader_patient_id" uuid null, "leader_practitioner_id" uuid null, "closed_on" date null, primary key ("id"));`);
    this.addSql(`create index "self_management_group_organization_id_index" on "self_management_group" ("organization_id");`);
    this.addSql(`create index "self_management_group_leader_patient_id_index" on "self_management_group" ("leader_patient_id");`);

    this.addSql(`create table "self_management_group_member" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "group_id" uuid not null, "patient_id" uuid not null, "joined_on" date not null, "left_on" date null, primary key ("id"));`);
    this.addSql(`create index "self_management_group_member_patient_id_index" on "self_management_group_member" ("patient_id");`);
    this.addSql(`create index "self_management_group_member_group_id_patient_id_index" on "self_management_group_member" ("group_id", "patient_id");`);

    this.addSql(`create table "self_management_group_session" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "group_id" uuid not null, "held_on" date not null, "topic" varchar(255) not null, "note" text null, primary key ("id"));`);
    this.addSql(`create index "self_management_group_session_group_id_held_on_index" on "self_management_group_session" ("group_id", "held_on");`);

    this.addSql(`create table "self_management_group_attendance" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "session_id" uuid not null, "patient_id" uuid not null, primary key ("id"));`);
    this.addSql(`create index "self_management_group_attendance_patient_id_index" on "self_management_group_attendance" ("patient_id");`);
    this.addSql(`alter table "self_management_group_attendance" add constraint "self_management_group_attendance_session_id_patient_id_unique" unique ("session_id", "patient_id");`);

    this.addSql(`alter table "self_management_group" add constraint "self_management_group_organization_id_foreign" foreign key ("organization_id") references "organization" ("id");`);
    this.addSql(`alter table "self_management_group" add constraint "self_management_group_leader_patient_id_foreign" foreign key ("leader_patient_id") references "patient" ("id") on delete set null;`);
    this.addSql(`alter table "self_management_group" add constraint "self_management_group_leader_practitioner_id_foreign" foreign key ("leader_practitioner_id") references "practitioner" ("id") on delete set null;`);
    this.addSql(`alter table "self_management_group_member" add constraint "self_management_group_member_group_id_foreign" foreign key ("group_id") references "self_management_group" ("id") on delete cascade;`);
    this.addSql(`alter table "self_management_group_member" add constraint "self_management_group_member_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);
    this.addSql(`alter table "self_management_group_session" add constraint "self_management_group_session_group_id_foreign" foreign key ("group_id") references "self_management_group" ("id") on delete cascade;`);
    this.addSql(`alter table "self_management_group_attendance" add constraint "self_management_group_attendance_session_id_foreign" foreign key ("session_id") references "self_management_group_session" ("id") on delete cascade;`);
    this.addSql(`alter table "self_management_group_attendance" add constraint "self_management_group_attendance_patient_id_foreign" foreign key ("patient_id") references "patient" ("id");`);

    this.addSql(`alter table "care_plan_activity" add column "self_management_group_id" uuid null;`);
    this.addSql(`alter table "care_plan_activity" add constraint "care_plan_activity_self_management_group_id_foreign" foreign key ("self_management_group_id") references "self_management_group" ("id") on delete set null;`);
  }

  override down(): void {
    this.addSql(`alter table "care_plan_activity" drop constraint if exists "care_plan_activity_self_management_group_id_foreign";`);
    this.addSql(`alter table "care_plan_activity" drop column if exists "self_management_group_id";`);
    this.addSql(`drop table if exists "self_management_group_attendance" cascade;`);
    this.addSql(`drop table if exists "self_management_group_session" cascade;`);
    this.addSql(`drop table if exists "self_management_group_member" cascade;`);
    this.addSql(`drop table if exists "self_management_group" cascade;`);
  }
}
