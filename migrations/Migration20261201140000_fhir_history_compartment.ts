import { Migration } from '@mikro-orm/migrations';

/**
 * Every version of a FHIR resource records whose record it was in and who owns it, as the current row does
 * (fhir_resource.patient_id, owner_organization_id): a version is read only by callers who may read both the
 * resource as it is now and that version (src/fhir/store-sql.ts, selectVersions) — a version written into
 * another patient's record stays in that record, deleted or not. Versions stored before take their resource's
 * current patient and owner, which is how they were read until now. (Hand-written, as the schema diff would write
 * it, plus the backfill.)
 */
export class Migration20261201140000_fhir_history_compartment extends Migration {
  override name = 'Migration20261201140000_fhir_history_compartment';

  override up(): void {
    this.addSql(`alter table "fhir_resource_history" add column "patient_id" uuid null, add column "owner_organization_id" uuid null;`);
    this.addSql(
      `update "fhir_resource_history" h set "patient_id" = r."patient_id", "owner_organization_id" = r."owner_organization_id" from "fhir_resource" r where r."id" = h."id" and (r."patient_id" is not null or r."owner_organization_id" is not null);`,
    );
  }

  override down(): void {
    this.addSql(`alter table "fhir_resource_history" drop column if exists "patient_id", drop column if exists "owner_organization_id";`);
  }
}
