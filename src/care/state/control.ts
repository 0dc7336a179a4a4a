import { controlStatusSql } from '../../care-rules/control.js';
import { controlOfRankSql, controlRankSql } from '../../care-rules/follow-up-interval.js';
import { latestReadingSql } from '../../care-rules/latest.js';
import { MANAGED_KINDS, standingConditionSql } from '../../care-rules/management.js';
import { countsForControlSql } from '../../care-rules/plausibility.js';
import type { CareRules } from '../../care-rules/rules.js';
import { sqlText } from '../../care-rules/sql.js';
import { doneVisitSql } from '../../care-rules/visits.js';
import type { EntityManager } from '../../db/orm.js';
import { ConditionControlStatus, ConditionKind, ControlStatus, ObservationKind } from '../../../vocabulary/index.js';
import { countyDaySql, dayStartSql, type Frame, scoped } from './sql.js';

/**
 * Each done visit's control status, from its readings (ADR 16): the worst of the readings linked to it
 * (`observation.follow_up_id`), or, when none of those is judged, of the patient's readings that county day not
 * linked to another visit; URGENT when the clinician found danger signs. Implausible readings count for nothing
 * (`countsForControlSql`), and every reading is judged by the configured rules now (`controlStatusSql`). Returns
 * the visits whose status changed.
 */
export async function judgeVisits(em: EntityManager, frame: Frame, rules: CareRules): Promise<string[]> {
  const s = scoped(frame, 'f.patient_id');
  const rank = controlRankSql(controlStatusSql(rules, 'o'));
  const rows = (await em.execute(
    `with judged as (
       select f.id, case when f.danger_signs then ${sqlText(ControlStatus.URGENT)} else ${controlOfRankSql('coalesce(l.rank, d.rank)')} end as status
         from follow_up f
         left join lateral (select max(${rank}) as rank from observation o where o.follow_up_id = f.id and ${countsForControlSql('o')}) l on true
         left join lateral (select max(${rank}) as rank from observation o
            where o.patient_id = f.patient_id and (o.follow_up_id is null or o.follow_up_id = f.id) and ${countsForControlSql('o')}
              and o.effective_at >= ${dayStartSql(frame, 'f.done_date')} and o.effective_at < ${dayStartSql(frame, 'f.done_date + 1')}) d on true
        where ${s.sql} and ${doneVisitSql('f')}
     )
     update follow_up f set control_status = j.status, updated_at = now()
       from judged j where j.id = f.id and f.control_status is distinct from j.status
     returning f.id`,
    s.params,
  )) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

/**
 * `condition_control`: for each standing hypertension or type 2 diabetes diagnosis of the patients in scope, the
 * latest counting reading within the look-back (`control.recentDays`) — blood pressure for hypertension; for
 * diabetes the worse of the latest fasting glucose and the latest HbA1c (each a month-to-quarter view of the same
 * control, so either above target means uncontrolled), the later one on a tie — or NO_RECENT_READING. A row changes
 * (and `decided_at` moves) only when its status or deciding reading does; a diagnosis gone takes its row with it.
 */
export async function decideConditionControl(em: EntityManager, frame: Frame, rules: CareRules, recentFrom: Date): Promise<void> {
  const s = scoped(frame, 'c.patient_id');
  const [HTN, T2D] = [sqlText(ConditionKind.HYPERTENSION), sqlText(ConditionKind.TYPE_2_DIABETES)];
  const pick = (kind: ObservationKind, alias: string, conditionKind: string) => {
    const latest = latestReadingSql([kind], 'm.patient_id', { from: recentFrom }, alias);
    return {
      sql: `select ${alias}.id, ${alias}.effective_at, ${controlStatusSql(rules, alias)} as status from ${latest.sql} ${alias} where m.kind = ${conditionKind}`,
      params: latest.params,
    };
  };
  const readings = [pick(ObservationKind.BLOOD_PRESSURE, 'bp', HTN), pick(ObservationKind.FASTING_GLUCOSE, 'fg', T2D), pick(ObservationKind.HBA1C, 'a1c', T2D)];
  const managed = `select distinct c.patient_id, c.kind from condition c where ${s.sql} and c.kind in (${MANAGED_KINDS.map(sqlText).join(', ')}) and ${standingConditionSql('c')}`;
  await em.execute(
    `insert into condition_control (patient_id, condition_kind, control_status, observation_id, decided_at)
     select m.patient_id, m.kind, coalesce(x.status, ${sqlText(ConditionControlStatus.NO_RECENT_READING)}), x.id, now()
       from (${managed}) m
       left join lateral (select r.id, r.status from (${readings.map((r) => r.sql).join(' union all ')}) r
          where r.status is not null order by ${controlRankSql('r.status')} desc, r.effective_at desc, r.id desc limit 1) x on true
     on conflict (patient_id, condition_kind) do update set control_status = excluded.control_status, observation_id = excluded.observation_id, decided_at = excluded.decided_at
       where condition_control.control_status is distinct from excluded.control_status or condition_control.observation_id is distinct from excluded.observation_id`,
    [...s.params, ...readings.flatMap((r) => r.params)],
  );
  const gone = scoped(frame, 'cc.patient_id');
  await em.execute(
    `delete from condition_control cc where ${gone.sql}
       and not exists (select 1 from condition c where c.patient_id = cc.patient_id and c.kind = cc.condition_kind and ${standingConditionSql('c')})`,
    gone.params,
  );
}

/** The day (county calendar) of an observation's time, as SQL: what "the day of the reading" means in the rules. */
export const readingDaySql = (frame: Frame, alias: string): string => countyDaySql(frame, `${alias}.effective_at`);
