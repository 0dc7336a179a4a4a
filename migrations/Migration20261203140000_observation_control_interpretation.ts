import { Migration } from '@mikro-orm/migrations';

/**
 * Observations carry which way they stand from their target (issue 13): `control_interpretation`, the HL7 v3
 * ObservationInterpretation code their FHIR resource's `interpretation` says, stored beside `control_status` when a
 * reading is written (`controlInterpretationOf` with the configured rules). Existing rows are filled from their
 * stored control status, the urgent low glucose by the default rules' 3.9 mmol/L — `controlInterpretationOf`
 * (src/care-rules/control.ts) as it stood when this was written, copied so that this migration does not change when
 * the rules do. FHIR resources already written are not rewritten here; a reading's next version carries it.
 */
export class Migration20261203140000_observation_control_interpretation extends Migration {
  override name = 'Migration20261203140000_observation_control_interpretation';

  override up(): void {
    this.addSql(`alter table "observation" add column "control_interpretation" text null;`);
    this.addSql(`alter table "observation" add constraint "observation_control_interpretation_check" check ("control_interpretation" in ('N', 'H', 'HH', 'LL'));`);
    this.addSql(
      `update "observation" o set "control_interpretation" = case o.control_status ` +
        `when 'CONTROLLED' then 'N' when 'UNCONTROLLED' then 'H' ` +
        `when 'URGENT' then case when o.kind in ('FASTING_GLUCOSE', 'GLUCOSE') and o.value <= 3.9 then 'LL' else 'HH' end end ` +
        `where o.control_status is not null;`,
    );
  }

  override down(): void {
    this.addSql(`alter table "observation" drop constraint if exists "observation_control_interpretation_check";`);
    this.addSql(`alter table "observation" drop column if exists "control_interpretation";`);
  }
}
