import { Migration } from '@mikro-orm/migrations';

/**
 * Audit records are append-only for every database role, the service's own included: a trigger refuses
 * UPDATE, DELETE and TRUNCATE on audit_event. (Hand-written: schema diffs do not see triggers.)
 */
export class Migration20261123100000_audit_append_only extends Migration {
  override name = 'Migration20261123100000_audit_append_only';

  override up(): void {
    this.addSql(`create or replace function audit_event_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_event is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end $$;`);
    this.addSql(`create trigger audit_event_no_update before update or delete on audit_event for each row execute function audit_event_append_only();`);
    this.addSql(`create trigger audit_event_no_truncate before truncate on audit_event for each statement execute function audit_event_append_only();`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists audit_event_no_truncate on audit_event;`);
    this.addSql(`drop trigger if exists audit_event_no_update on audit_event;`);
    this.addSql(`drop function if exists audit_event_append_only();`);
  }
}
