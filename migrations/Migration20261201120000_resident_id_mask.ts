import { Migration } from '@mikro-orm/migrations';

/**
 * Resident IDs stored before the mask hid everything after the area code (src/access/identifier-protection.ts,
 * maskIdentifier) kept `330326********1234` in patient_identifier.value: with the patient's birth date beside it,
 * the whole number. Re-masked here as maskIdentifier masks: the first 6 characters, the rest `*` (values of 10
 * characters or fewer were masked whole already). The mask needs only the characters it keeps, so no key is needed.
 * Irreversible by design: down() leaves the new masks in place.
 */
export class Migration20261201120000_resident_id_mask extends Migration {
  override name = 'Migration20261201120000_resident_id_mask';

  override up(): void {
    this.addSql(
      `update "patient_identifier" set "value" = substr("value", 1, 6) || repeat('*', length("value") - 6)
        where "kind" = 'RESIDENT_ID' and length("value") > 10 and "value" <> substr("value", 1, 6) || repeat('*', length("value") - 6);`,
    );
  }

  override down(): void {
    // The old masks showed what they must not: nothing to restore.
  }
}
