import { Migration } from '@mikro-orm/migrations';

/**
 * Observations say whether they are plausible, and carry their control status (issue 10). What hospitals send is
 * stored as sent: a reading outside its plausible range is kept, flagged IMPLAUSIBLE with the reason, and counts for
 * nothing (src/care-rules/plausibility.ts). Every reading stored before passed the plausibility checks (they
 * refused what failed), so existing rows are PLAUSIBLE. The control status is stored when a reading is written
 * (`controlStatusOf` with the configured rules); existing rows are backfilled here with the default rules, as SQL —
 * `controlStatusSql(DEFAULT_CARE_RULES, 'o')` (src/care-rules/control.ts) as it stood when this was written, copied
 * so that this migration does not change when the rules do. (Hand-written: the schema diff's statements plus the backfill.)
 */
export class Migration20261201152000_observation_plausibility_control extends Migration {
  override name = 'Migration20261201152000_observation_plausibility_control';

  override up(): void {
    this.addSql(`alter table "observation" add column "plausibility" text not null default 'PLAUSIBLE', add column "plausibility_reason" text null, add column "control_status" text null;`);
    this.addSql(`alter table "observation" add constraint "observation_plausibility_check" check ("plausibility" in ('PLAUSIBLE', 'IMPLAUSIBLE'));`);
    this.addSql(`alter table "observation" add constraint "observation_control_status_check" check ("control_status" in ('CONTROLLED', 'UNCONTROLLED', 'URGENT'));`);
    this.addSql(
      `update "observation" o set "control_status" = case ` +
        `when o.kind = 'BLOOD_PRESSURE' then case when o.systolic is null or o.diastolic is null then null ` +
        `when o.systolic >= 180 or o.diastolic >= 110 then 'URGENT' when o.systolic < 140 and o.diastolic < 90 then 'CONTROLLED' else 'UNCONTROLLED' end ` +
        `when o.kind in ('FASTING_GLUCOSE', 'GLUCOSE') then case when o.value is null then null ` +
        `when o.value >= 16.7 or o.value <= 3.9 then 'URGENT' when o.kind = 'GLUCOSE' then null when o.value < 7 then 'CONTROLLED' else 'UNCONTROLLED' end ` +
        `when o.kind = 'HBA1C' then case when o.value is null then null when o.value < 7 then 'CONTROLLED' else 'UNCONTROLLED' end ` +
        `else null end ` +
        `where o.kind in ('BLOOD_PRESSURE', 'FASTING_GLUCOSE', 'GLUCOSE', 'HBA1C');`,
    );
  }

  override down(): void {
    this.addSql(`alter table "observation" drop constraint if exists "observation_control_status_check";`);
    this.addSql(`alter table "observation" drop constraint if exists "observation_plausibility_check";`);
    this.addSql(`alter table "observation" drop column if exists "plausibility", drop column if exists "plausibility_reason", drop column if exists "control_status";`);
  }
}
