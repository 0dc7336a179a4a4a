import { Migration } from '@mikro-orm/migrations';

/**
 * MeasureReport's search parameters (issue 13; src/fhir/indexing.ts): `reporter` (REFERENCE_PARAMS: `reporter:Type/id`,
 * `reporter:id`) and the canonical `measure` (CANONICAL_PARAMS: `measure:<as sent>`, `measure:<url without |version>`,
 * `measure:Measure/<id>`, `measure:<id>`), kept in `codes`. MeasureReports stored before get their keys here, as a
 * write would give them.
 */
export const MEASURE_REPORT_KEYS_SQL = `update "fhir_resource" r set "codes" = array(select distinct c from unnest(r."codes" || k.keys) c)
  from (
    select s.id, array_remove(array[
        case when v.ref ~ '^[A-Za-z]+/[^/]+$' then 'reporter:' || v.ref end,
        case when v.ref ~ '^[A-Za-z]+/[^/]+$' then 'reporter:' || split_part(v.ref, '/', 2) end,
        case when v.measure is not null then 'measure:' || v.measure end,
        case when v.measure is not null then 'measure:' || v.url end,
        'measure:' || substring(v.url from '(?:^|/)([A-Z][A-Za-z]+/[^/]+)$'),
        'measure:' || substring(v.url from '(?:^|/)[A-Z][A-Za-z]+/([^/]+)$')
      ], null) as keys
    from "fhir_resource" s
    cross join lateral (select case when jsonb_typeof(s.content->'measure') = 'string' then s.content->>'measure' end as measure,
                               case when jsonb_typeof(s.content->'reporter'->'reference') = 'string' then s.content->'reporter'->>'reference' end as ref) m
    cross join lateral (select m.measure, m.ref, split_part(m.measure, '|', 1) as url) v
    where s.resource_type = 'MeasureReport'
  ) k
  where k.id = r.id;`;

export class Migration20261203110000_measure_report_search extends Migration {
  override name = 'Migration20261203110000_measure_report_search';

  override up(): void {
    this.addSql(MEASURE_REPORT_KEYS_SQL);
  }

  override down(): void {
    // The keys are harmless without the parameters that read them; a write would make them again.
  }
}
