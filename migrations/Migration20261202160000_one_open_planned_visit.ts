import { Migration } from '@mikro-orm/migrations';

/**
 * At most one open planned visit per patient (ADR 16), kept by the database and not only by the rules: two
 * transactions reassessing the same patient at once (a visit recorded while the care-rules consumer runs) each saw
 * none and each planned one. A unique partial index over the condition src/care-rules/visits.ts defines; the rules'
 * insert gives way to it (`on conflict do nothing`, src/care/state/schedule.ts). Visits already open twice are
 * cancelled first as the rules cancel them (SUPERSEDED, the earliest kept). Declared on the FollowUp entity too.
 */
export class Migration20261202160000_one_open_planned_visit extends Migration {
  override name = 'Migration20261202160000_one_open_planned_visit';

  override up(): void {
    this.addSql(
      `update "follow_up" f set "cancelled_at" = now(), "cancel_reason" = 'SUPERSEDED', "updated_at" = now()
        where f."planned_date" is not null and f."done_date" is null and f."cancelled_at" is null
          and exists (select 1 from "follow_up" k where k."patient_id" = f."patient_id" and k."planned_date" is not null and k."done_date" is null
            and k."cancelled_at" is null and (k."planned_date", k."id") < (f."planned_date", f."id"));`,
    );
    this.addSql(
      `create unique index "follow_up_one_open_planned_unique" on "follow_up" ("patient_id") where "planned_date" is not null and "done_date" is null and "cancelled_at" is null;`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "follow_up_one_open_planned_unique";`);
  }
}
