import { ActivityCategory, ActivityStatus, CarePlanStatus } from '../../vocabulary/index.js';
import { sqlText } from './sql.js';

/**
 * A non-medical prescription (非药物处方: every activity category but MEDICATION, care-plan.entity.ts `isNonMedical`)
 * in force on a day, said once: what the non-medical prescription rate's numerator counts at a period's end.
 * The records hold a plan's present status, not its history, so a day is judged from it:
 *  - an ACTIVE plan begun on or before the day, with a non-medical activity still to be done or under way (not
 *    started, scheduled, in progress — not on hold, completed, cancelled or stopped: the worklist's "in force",
 *    src/worklists/no-non-medical.ts, which asks about today);
 *  - a COMPLETED plan whose period held the day, with a non-medical activity not cancelled or stopped: it ran its
 *    course, so what it prescribed was in force through its period (last year's plan, completed by this year's).
 * A plan on hold, revoked or still a draft prescribes nothing. `nonMedicalInForceOnSql` is the same in SQL.
 */
export interface PlanFacts {
  status: CarePlanStatus;
  periodStart: string;
  periodEnd?: string | null;
  activities: ReadonlyArray<{ category: ActivityCategory; status: ActivityStatus }>;
}

const UNDER_WAY: readonly ActivityStatus[] = [ActivityStatus.NOT_STARTED, ActivityStatus.SCHEDULED, ActivityStatus.IN_PROGRESS];
const RAN: readonly ActivityStatus[] = [...UNDER_WAY, ActivityStatus.COMPLETED];

export function nonMedicalInForceOn(plans: readonly PlanFacts[], day: string): boolean {
  return plans.some((p) => {
    if (p.periodStart > day) return false;
    const nonMedical = (statuses: readonly ActivityStatus[]) => p.activities.some((a) => a.category !== ActivityCategory.MEDICATION && statuses.includes(a.status));
    if (p.status === CarePlanStatus.ACTIVE) return nonMedical(UNDER_WAY);
    if (p.status === CarePlanStatus.COMPLETED) return (!p.periodEnd || p.periodEnd >= day) && nonMedical(RAN);
    return false;
  });
}

/**
 * `nonMedicalInForceOn` for the patient `patientColumn`, as SQL; `day` a SQL date expression. An uncorrelated `in`:
 * PostgreSQL hashes the county's plans once rather than probing each patient's.
 */
export function nonMedicalInForceOnSql(patientColumn: string, day: string): string {
  const list = (statuses: readonly ActivityStatus[]) => statuses.map(sqlText).join(', ');
  return `${patientColumn} in (select np.patient_id from care_plan np join care_plan_activity na on na.care_plan_id = np.id
    where np.period_start <= ${day} and na.category <> ${sqlText(ActivityCategory.MEDICATION)}
      and ((np.status = ${sqlText(CarePlanStatus.ACTIVE)} and na.status in (${list(UNDER_WAY)}))
        or (np.status = ${sqlText(CarePlanStatus.COMPLETED)} and (np.period_end is null or np.period_end >= ${day}) and na.status in (${list(RAN)}))))`;
}
