import { nextFollowUpSql } from '../../care-rules/follow-up-interval.js';
import { hasManagedConditionSql, MANAGED_KINDS, standingConditionSql } from '../../care-rules/management.js';
import type { CareRules } from '../../care-rules/rules.js';
import { sqlNumber, sqlText } from '../../care-rules/sql.js';
import { doneVisitSql, openPlannedVisitSql } from '../../care-rules/visits.js';
import type { EntityManager } from '../../db/orm.js';
import { newId } from '../../domain/base.entity.js';
import { CareStatus, ConditionControlStatus, FollowUpType, ManagementTier, ReferralStatus } from '../../../vocabulary/index.js';
import { countyDaySql, type Frame, scoped } from './sql.js';

const t = sqlText;
/** A managed patient: a standing hypertension or diabetes diagnosis, and still in the programme. */
const managedSql = (p: string): string => `${p}.care_status = ${t(CareStatus.ACTIVE)} and ${hasManagedConditionSql(`${p}.id`)}`;

/**
 * The facts `nextFollowUpOf` dates the next visit from (care-rules/follow-up-interval.ts, NEXT_FOLLOW_UP_FACT_COLUMNS),
 * one row per managed patient in scope, with the last done visit (`last_visit_id`, its practitioner and place).
 */
export function scheduleFactsSql(frame: Frame, rules: CareRules): { sql: string; params: unknown[] } {
  const s = scoped(frame, 'p.id');
  const day = (instant: string) => countyDaySql(frame, instant);
  const sql = `
    select p.id as patient_id, coalesce(p.management_tier, ${t(ManagementTier.ROUTINE)}) as tier, lv.id as last_visit_id, lv.practitioner_id,
      coalesce(lv.organization_id, p.managing_organization_id) as organization_id, b.base_date,
      (select max(${day('o.effective_at')}) from condition_control cc join observation o on o.id = cc.observation_id
        where cc.patient_id = p.id and cc.control_status in (${t(ConditionControlStatus.UNCONTROLLED)}, ${t(ConditionControlStatus.URGENT)})) as uncontrolled_day,
      coalesce(lv.adverse_reaction, false) as adverse_reaction,
      (select max(v.d) from referral r cross join lateral (values (${day('r.requested_at')}), (${day('r.completed_at')})) v(d)
        where r.patient_id = p.id and r.status in (${[ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED].map(t).join(', ')}) and v.d >= b.base_date) as referral_day,
      (exists (select 1 from condition_control cc where cc.patient_id = p.id)
        and not exists (select 1 from condition_control cc where cc.patient_id = p.id and cc.control_status <> ${t(ConditionControlStatus.CONTROLLED)})) as all_controlled,
      (select count(*)::int from follow_up v where v.patient_id = p.id and ${doneVisitSql('v')} and v.type in (${t(FollowUpType.CLINIC)}, ${t(FollowUpType.HOME)})
        and v.done_date >= date_trunc('year', b.base_date)::date and v.done_date <= b.base_date) as face_to_face_in_year,
      (select max(a.assessed_on) + ${sqlNumber(rules.followUpDays.annualCheck)} from assessment a where a.patient_id = p.id) as annual_check_day,
      -- A date a person asked for: at the last visit, or as the date of a visit they planned by hand.
      least(lv.next_due_requested, (select min(k.next_due_requested) from follow_up k where k.patient_id = p.id and ${openPlannedVisitSql('k')})) as clinician_date,
      coalesce((select k.type from follow_up k where k.patient_id = p.id and ${openPlannedVisitSql('k')} and k.next_due_requested is not null order by k.planned_date, k.id limit 1), lv.type) as last_type
    from patient p
    left join lateral (select v.id, v.done_date, v.adverse_reaction, v.type, v.next_due_requested, v.practitioner_id, v.organization_id
        from follow_up v where v.patient_id = p.id and ${doneVisitSql('v')} order by v.done_date desc, v.id desc limit 1) lv on true
    cross join lateral (select coalesce(lv.done_date, (select min(${day('c.created_at')}) from condition c
        where c.patient_id = p.id and c.kind in (${MANAGED_KINDS.map(t).join(', ')}) and ${standingConditionSql('c')})) as base_date) b
    where ${s.sql} and ${managedSql('p')}`;
  return { sql, params: s.params };
}

export interface ScheduleWrites {
  created: string[];
  changed: string[];
}

/**
 * At most one open planned visit per managed patient, dated and typed by the interval rules, with its reason:
 * extra open visits are cancelled (SUPERSEDED: the earliest is kept), and so are those of patients who left the
 * programme (the care status is the reason) and the rules' visits (dated by them: a due reason) of a patient no
 * longer managed — the diagnosis refuted, entered in error or resolved (NOT_MANAGED): the reason for the visit went,
 * and an open visit keeps them on the overdue lists. A visit a person planned for a patient the rules never managed
 * stays. A managed patient without one gets one, at the last visit's place.
 * The latest done visit's `next_due_date` is the planned visit's date. Only what differs is written.
 */
export async function schedule(em: EntityManager, frame: Frame, rules: CareRules): Promise<ScheduleWrites> {
  const changed = new Set<string>();
  const s = scoped(frame, 'p.id');
  const cancelled = (await em.execute(
    `update follow_up f set cancelled_at = now(), updated_at = now(),
       cancel_reason = case when p.care_status <> ${t(CareStatus.ACTIVE)} then p.care_status when not ${hasManagedConditionSql('p.id')} then 'NOT_MANAGED' else 'SUPERSEDED' end
       from patient p
      where p.id = f.patient_id and ${s.sql} and ${openPlannedVisitSql('f')}
        and (p.care_status <> ${t(CareStatus.ACTIVE)}
          or (not ${hasManagedConditionSql('p.id')} and f.due_reason is not null)
          or (${hasManagedConditionSql('p.id')} and exists (select 1 from follow_up k
          where k.patient_id = f.patient_id and ${openPlannedVisitSql('k')} and (k.planned_date, k.id) < (f.planned_date, f.id))))
     returning f.id`,
    s.params,
  )) as Array<{ id: string }>;
  for (const r of cancelled) changed.add(r.id);

  const facts = scheduleFactsSql(frame, rules);
  const targets = (await em.execute(
    // Materialised: the rule reads each fact several times, and a fact inlined would be its subquery run again each time.
    `with fa as materialized (${facts.sql})
     select fa.patient_id, fa.practitioner_id, fa.organization_id, nf.planned_date::text as planned_date, nf.due_reason, nf.type, k.id as keep_id
       from fa
       cross join lateral (${nextFollowUpSql(rules, 'fa')}) nf
       left join lateral (select f.id, f.planned_date, f.due_reason, f.type from follow_up f where f.patient_id = fa.patient_id and ${openPlannedVisitSql('f')}
          order by f.planned_date, f.id limit 1) k on true
      where nf.planned_date is not null and (k.id is null or k.planned_date <> nf.planned_date or k.due_reason is distinct from nf.due_reason or k.type <> nf.type)`,
    facts.params,
  )) as Array<{ patient_id: string; practitioner_id: string | null; organization_id: string; planned_date: string; due_reason: string; type: string; keep_id: string | null }>;

  const updates = targets.filter((r) => r.keep_id).map((r) => ({ id: r.keep_id, planned_date: r.planned_date, due_reason: r.due_reason, type: r.type }));
  if (updates.length) {
    const rows = (await em.execute(
      `update follow_up f set planned_date = u.planned_date, due_reason = u.due_reason, type = u.type, updated_at = now()
         from jsonb_to_recordset(?::jsonb) as u(id uuid, planned_date date, due_reason text, type text) where f.id = u.id returning f.id`,
      [JSON.stringify(updates)],
    )) as Array<{ id: string }>;
    for (const r of rows) changed.add(r.id);
  }
  const inserts = targets.filter((r) => !r.keep_id).map((r) => ({ ...r, id: newId() }));
  const created: string[] = [];
  if (inserts.length) {
    // A transaction reassessing the same patient at once may have planned their visit first (the unique index
    // follow_up_one_open_planned_unique): then that one is the patient's, and this one is not written.
    const rows = (await em.execute(
      `insert into follow_up (id, version, patient_id, type, planned_date, due_reason, practitioner_id, organization_id, adverse_reaction, new_complication, danger_signs)
       select u.id, 1, u.patient_id, u.type, u.planned_date, u.due_reason, u.practitioner_id, u.organization_id, false, false, false
         from jsonb_to_recordset(?::jsonb) as u(id uuid, patient_id uuid, type text, planned_date date, due_reason text, practitioner_id uuid, organization_id uuid)
       on conflict do nothing returning id`,
      [JSON.stringify(inserts)],
    )) as Array<{ id: string }>;
    created.push(...rows.map((r) => r.id));
  }

  // The latest done visit says when the next one is due: the planned visit's date.
  const dated = (await em.execute(
    `update follow_up f set next_due_date = k.planned_date, updated_at = now()
       from patient p
       cross join lateral (select v.id from follow_up v where v.patient_id = p.id and ${doneVisitSql('v')} order by v.done_date desc, v.id desc limit 1) lv
       cross join lateral (select k.planned_date from follow_up k where k.patient_id = p.id and ${openPlannedVisitSql('k')} order by k.planned_date, k.id limit 1) k
      where ${s.sql} and ${managedSql('p')} and f.id = lv.id and f.next_due_date is distinct from k.planned_date
     returning f.id`,
    s.params,
  )) as Array<{ id: string }>;
  for (const r of dated) changed.add(r.id);
  for (const id of created) changed.delete(id);
  return { created, changed: [...changed] };
}
