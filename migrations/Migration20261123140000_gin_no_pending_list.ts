import { Migration } from '@mikro-orm/migrations';

/**
 * The FHIR store's GIN indexes (source keys, codes) without a pending list. With it, every lookup scans all
 * entries inserted since the last vacuum, once per key asked for: a Bundle's idempotency lookup of ~900 keys
 * took 725 ms at 40,000 resources instead of 6 ms, and grew with every import until (auto)vacuum ran.
 * Without it each insert updates the index in place — a little slower, but flat. (Hand-written: schema
 * diffs do not see index storage parameters.)
 */
export class Migration20261123140000_gin_no_pending_list extends Migration {
  override name = 'Migration20261123140000_gin_no_pending_list';

  override up(): void {
    for (const index of ['fhir_resource_source_keys_idx', 'fhir_resource_codes_idx']) {
      this.addSql(`alter index ${index} set (fastupdate = off);`);
      // Entries already pending move into the index proper.
      this.addSql(`select gin_clean_pending_list('${index}'::regclass);`);
    }
  }

  override down(): void {
    for (const index of ['fhir_resource_source_keys_idx', 'fhir_resource_codes_idx']) this.addSql(`alter index ${index} set (fastupdate = on);`);
  }
}
