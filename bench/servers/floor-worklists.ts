/**
 * The floor of the worklist scenarios (bench/worklists.ts): each page built by one hand-written statement, in the
 * GraphQL answer's shape. What the lists mean is ours — a planned visit open and dated before today, the patient
 * ACTIVE and on the overdue lists by their contact attempts (onOverdueListJoinSql, the rule's own SQL twin, joined so
 * that the open visits are walked by date and the walk stops at the page's end, as ours; with the
 * default care rules the bench's servers run); a condition uncontrolled or urgent in condition_control — and so is
 * the order (most overdue first; urgent first, then the latest decided).
 *   GET /overdue?org=<path>        the township's first 50 overdue planned visits
 *   GET /uncontrolled?org=<path>   the village's first 50 conditions not under control
 */
import type pg from 'pg';
import { countyToday } from '../../src/care-rules/calendar.js';
import { onOverdueListJoinSql } from '../../src/care-rules/overdue-contact.js';
import { DEFAULT_CARE_RULES } from '../../src/care-rules/rules.js';

const inSubtree = `p.managing_organization_id in (select o.id from organization o where o.path like $1 || '%')`;

const overdue = (today: string, contact = onOverdueListJoinSql(DEFAULT_CARE_RULES, { patient: 'p', followUp: 'f' }, today)) => `select json_build_object('data', json_build_object('worklists', json_build_object('followUpsDue', json_build_object('edges',
    coalesce(json_agg(json_build_object('node', json_build_object(
      'daysOverdue', date '${today}' - x.planned_date, 'dueDate', x.planned_date,
      'patient', json_build_object('id', x.patient_id, 'name', x.name),
      'followUp', json_build_object('id', x.id, 'plannedDate', x.planned_date))) order by x.planned_date, x.id), '[]'::json)))))::text as body
  from (select f.id, f.patient_id, f.planned_date, p.name from follow_up f join patient p on p.id = f.patient_id ${contact.join}
         where f.planned_date < date '${today}' and f.done_date is null and f.cancelled_at is null and p.care_status = 'ACTIVE' and ${inSubtree}
           and ${contact.onList}
         order by f.planned_date, f.id limit 50) x`;

const UNCONTROLLED = `select json_build_object('data', json_build_object('worklists', json_build_object('uncontrolled', json_build_object('edges',
    coalesce(json_agg(json_build_object('node', json_build_object(
      'conditionKind', x.condition_kind, 'controlStatus', x.control_status, 'decidedAt', x.decided_at,
      'patient', json_build_object('id', x.patient_id, 'name', x.name),
      'reading', case when x.oid is null then null else json_build_object('id', x.oid, 'systolic', x.systolic, 'diastolic', x.diastolic, 'value', x.value, 'effectiveAt', x.effective_at) end))
      order by x.rank, x.decided_at desc, x.patient_id, x.condition_kind), '[]'::json)))))::text as body
  from (select cc.patient_id, cc.condition_kind, cc.control_status, cc.decided_at, p.name,
               (case cc.control_status when 'URGENT' then 0 else 1 end) as rank,
               o.id as oid, o.systolic, o.diastolic, o.value, o.effective_at
          from condition_control cc join patient p on p.id = cc.patient_id left join observation o on o.id = cc.observation_id
         where cc.control_status in ('UNCONTROLLED', 'URGENT') and p.care_status = 'ACTIVE' and ${inSubtree}
         order by rank, cc.decided_at desc, cc.patient_id, cc.condition_kind limit 50) x`;

/** The body of a worklist page for this request, or undefined when it is not one of these routes. */
export async function worklistPage(pool: pg.Pool, url: URL): Promise<string | undefined> {
  const org = url.searchParams.get('org');
  if (url.pathname === '/overdue' && org) return (await pool.query<{ body: string }>(overdue(countyToday()), [org])).rows[0]?.body;
  if (url.pathname === '/uncontrolled' && org) return (await pool.query<{ body: string }>(UNCONTROLLED, [org])).rows[0]?.body;
  return undefined;
}
