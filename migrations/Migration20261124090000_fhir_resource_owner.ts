import { Migration } from '@mikro-orm/migrations';

/**
 * The organisation that owns a stored FHIR resource: the sender's, recorded when the resource is created. A
 * resource outside any patient's record may be changed or deleted only from its owner's subtree (or by a
 * platform administrator): src/access/policy.ts, FHIR_WRITE_RULES. Rows stored before have no owner; only
 * platform administrators change those. (Hand-written, as the schema diff would write it.)
 */
export class Migration20261124090000_fhir_resource_owner extends Migration {
  override name = 'Migration20261124090000_fhir_resource_owner';

  override up(): void {
    this.addSql(`alter table "fhir_resource" add column "owner_organization_id" uuid null;`);
  }

  override down(): void {
    this.addSql(`alter table "fhir_resource" drop column if exists "owner_organization_id";`);
  }
}
