import { Migration } from '@mikro-orm/migrations';

/**
 * "The latest counting reading of a patient's kind in a period" (src/care-rules/latest.ts, latestReadingSql) as an
 * index-only scan: the plausible readings only (the others never count), newest first with the id tie-break, and the
 * columns a judgement reads beside them. The indicators' control rates ask it once per managed patient; with the
 * (patient, kind, effective_at) index each asked a sort of the period's rows and a heap read of whole rows. Declared
 * on the Observation entity too.
 */
export class Migration20261203160000_observation_latest_counting extends Migration {
  override name = 'Migration20261203160000_observation_latest_counting';

  override up(): void {
    this.addSql(
      `create index "observation_latest_counting_idx" on "observation" ("patient_id", "kind", "effective_at" desc, "id" desc) include ("systolic", "diastolic", "value", "plausibility") where "plausibility" = 'PLAUSIBLE';`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "observation_latest_counting_idx";`);
  }
}
