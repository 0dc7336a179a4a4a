import { Migration } from '@mikro-orm/migrations';

/** A type's rows in id order (FhirResource's index): each file of a Bulk export walks it instead of the whole table. */
export class Migration20261203131000_fhir_resource_type_id extends Migration {
  override name = 'Migration20261203131000_fhir_resource_type_id';

  override up(): void {
    this.addSql(`create index "fhir_resource_resource_type_id_index" on "fhir_resource" ("resource_type", "id");`);
  }

  override down(): void {
    this.addSql(`drop index if exists "fhir_resource_resource_type_id_index";`);
  }
}
