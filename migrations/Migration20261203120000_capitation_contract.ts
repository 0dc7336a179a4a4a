import { Migration } from '@mikro-orm/migrations';

/**
 * Performance-linked capitation contracts (src/domain/capitation): insurer, medical community (the root of its
 * member organisations), period, base rate per head and year in fen, and the terms as json — risk adjustments,
 * indicator terms, the kept-share function, overspend sharing, the split formula. (Written as
 * `npm run migrate -- create` writes it, this table only.)
 */
export class Migration20261203120000_capitation_contract extends Migration {
  override name = 'Migration20261203120000_capitation_contract';

  override up(): void {
    this.addSql(`create table "capitation_contract" ("id" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "version" int not null default 1, "name" varchar(255) not null, "insurer_id" uuid not null, "medical_community_id" uuid not null, "period_start" date not null, "period_end" date not null, "base_rate_per_head_per_year_fen" int not null, "risk_combination" text not null, "risk_adjustments" jsonb not null, "indicator_terms" jsonb not null, "kept_share" jsonb not null, "overspend_sharing" jsonb not null, "split_formula" jsonb not null, primary key ("id"));`);
    this.addSql(`create index "capitation_contract_insurer_id_index" on "capitation_contract" ("insurer_id");`);
    this.addSql(`create index "capitation_contract_medical_community_id_index" on "capitation_contract" ("medical_community_id");`);
    this.addSql(`alter table "capitation_contract" add constraint "capitation_contract_risk_combination_check" check ("risk_combination" in ('ADDITIVE', 'LARGEST'));`);
    this.addSql(`alter table "capitation_contract" add constraint "capitation_contract_insurer_id_foreign" foreign key ("insurer_id") references "organization" ("id");`);
    this.addSql(`alter table "capitation_contract" add constraint "capitation_contract_medical_community_id_foreign" foreign key ("medical_community_id") references "organization" ("id");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "capitation_contract" cascade;`);
  }
}
