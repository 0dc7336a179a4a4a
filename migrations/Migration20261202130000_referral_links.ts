import { Migration } from '@mikro-orm/migrations';

/**
 * Referrals across levels, end to end (issue 12):
 * - `referral.closes_id`: a down-referral names the up-referral it closes (FHIR ServiceRequest.basedOn).
 * - `referral_result`: the readings and diagnoses the receiver sent back with a referral's outcome (FHIR Task.output).
 * - The FHIR store's reference search parameters (Task owner, requester, focus, based-on; ServiceRequest performer,
 *   requester, based-on, replaces) are indexed in `codes` as `param:Type/id` and `param:id` (src/fhir/indexing.ts,
 *   REFERENCE_PARAMS): the Tasks and ServiceRequests already stored get their keys here, as a write would give them.
 */
export class Migration20261202130000_referral_links extends Migration {
  override name = 'Migration20261202130000_referral_links';

  override up(): void {
    this.addSql(`alter table "referral" add column "closes_id" uuid null;`);
    this.addSql(`create index "referral_closes_id_index" on "referral" ("closes_id");`);
    this.addSql(`alter table "referral" add constraint "referral_closes_id_foreign" foreign key ("closes_id") references "referral" ("id") on delete set null;`);

    this.addSql(
      `create table "referral_result" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "referral_id" uuid not null, "observation_id" uuid null, "condition_id" uuid null, primary key ("id"));`,
    );
    this.addSql(`create index "referral_result_observation_id_index" on "referral_result" ("observation_id");`);
    this.addSql(`create index "referral_result_condition_id_index" on "referral_result" ("condition_id");`);
    this.addSql(`alter table "referral_result" add constraint "referral_result_referral_id_observation_id_unique" unique ("referral_id", "observation_id");`);
    this.addSql(`alter table "referral_result" add constraint "referral_result_referral_id_condition_id_unique" unique ("referral_id", "condition_id");`);
    this.addSql(`alter table "referral_result" add constraint "referral_result_referral_id_foreign" foreign key ("referral_id") references "referral" ("id") on delete cascade;`);
    this.addSql(`alter table "referral_result" add constraint "referral_result_observation_id_foreign" foreign key ("observation_id") references "observation" ("id") on delete cascade;`);
    this.addSql(`alter table "referral_result" add constraint "referral_result_condition_id_foreign" foreign key ("condition_id") references "condition" ("id") on delete cascade;`);

    // The reference keys of stored Tasks and ServiceRequests (lax: `$.performer.reference` reads each of an array's).
    this.addSql(`update "fhir_resource" r set "codes" = array(select distinct c from unnest(r."codes" || k.keys) c)
      from (
        select s.id, array_agg(distinct kk.key) as keys
        from "fhir_resource" s
        join (values ('Task', 'owner', '$.owner.reference'), ('Task', 'requester', '$.requester.reference'), ('Task', 'focus', '$.focus.reference'),
                     ('Task', 'based-on', '$.basedOn.reference'), ('ServiceRequest', 'performer', '$.performer.reference'),
                     ('ServiceRequest', 'requester', '$.requester.reference'), ('ServiceRequest', 'based-on', '$.basedOn.reference'),
                     ('ServiceRequest', 'replaces', '$.replaces.reference')) as p(resource_type, param, path) on p.resource_type = s.resource_type
        cross join lateral jsonb_path_query(s.content, ('lax ' || p.path)::jsonpath) as ref(value)
        cross join lateral (values (p.param || ':' || (ref.value #>> '{}')), (p.param || ':' || split_part(ref.value #>> '{}', '/', 2))) as kk(key)
        where jsonb_typeof(ref.value) = 'string' and (ref.value #>> '{}') ~ '^[A-Za-z]+/[^/]+$'
        group by s.id
      ) k
      where k.id = r.id;`);
  }

  override down(): void {
    this.addSql(`drop table if exists "referral_result" cascade;`);
    this.addSql(`alter table "referral" drop constraint if exists "referral_closes_id_foreign";`);
    this.addSql(`drop index if exists "referral_closes_id_index";`);
    this.addSql(`alter table "referral" drop column if exists "closes_id";`);
  }
}
