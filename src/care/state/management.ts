import { controlStatusSql } from '../../care-rules/control.js';
import { hasComplicationSql, hasManagedConditionSql, managementColourSql, tierOfColourSql } from '../../care-rules/management.js';
import { countsForControlSql } from '../../care-rules/plausibility.js';
import type { CareRules } from '../../care-rules/rules.js';
import { sqlText } from '../../care-rules/sql.js';
import { doneVisitSql } from '../../care-rules/visits.js';
import type { EntityManager } from '../../db/orm.js';
import { AdmissionStatus, ConditionControlStatus, ConditionKind, ControlStatus, ObservationKind } from '../../../vocabulary/index.js';
import { countyDaySql, daySql, dayStartSql, type Frame, scoped } from './sql.js';

const t = sqlText;
const NOT_CONTROLLED = `(${t(ConditionControlStatus.UNCONTROLLED)}, ${t(ConditionControlStatus.URGENT)})`;

/**
 * The facts `managementOf` decides from (care-rules/management.ts, MANAGEMENT_FACT_COLUMNS), one row per patient
 * `p` — the look-backs of `rules.management` counted back from today in the county's calendar. Exported for the
 * test that checks the TypeScript rule and its SQL twin agree over the same rows.
 */
export function managementFactsSql(frame: Frame, rules: CareRules): string {
  const m = rules.management;
  const since = (days: number) => dayStartSql(frame, daySql(frame, days));
  const counts = countsForControlSql('o');
  // A reading of a managed condition's kind: blood pressure for hypertension, glucose and HbA1c for diabetes.
  const ofManagedKind = `exists (select 1 from condition_control k where k.patient_id = o.patient_id and k.condition_kind =
    case when o.kind = ${t(ObservationKind.BLOOD_PRESSURE)} then ${t(ConditionKind.HYPERTENSION)} else ${t(ConditionKind.TYPE_2_DIABETES)} end)`;
  const controlKinds = `o.kind in (${[ObservationKind.BLOOD_PRESSURE, ObservationKind.FASTING_GLUCOSE, ObservationKind.HBA1C].map(t).join(', ')})`;
  return `
    exists (select 1 from observation o where o.patient_id = p.id and o.kind in (${[ObservationKind.BLOOD_PRESSURE, ObservationKind.FASTING_GLUCOSE, ObservationKind.GLUCOSE].map(t).join(', ')})
      and o.effective_at >= ${since(m.urgentWithinDays)} and ${counts} and ${controlStatusSql(rules, 'o')} = ${t(ControlStatus.URGENT)}) as urgent_recently,
    exists (select 1 from condition_control cc where cc.patient_id = p.id and cc.control_status in ${NOT_CONTROLLED}) as uncontrolled,
    (exists (select 1 from condition_control cc where cc.patient_id = p.id)
      and not exists (select 1 from condition_control cc where cc.patient_id = p.id and cc.control_status <> ${t(ConditionControlStatus.CONTROLLED)})) as all_controlled,
    (${hasComplicationSql('p.id')} or exists (select 1 from assessment a where a.patient_id = p.id
      and (jsonb_array_length(a.complications) > 0 or jsonb_array_length(a.target_organ_damage) > 0)
      and not exists (select 1 from assessment b where b.patient_id = a.patient_id and b.condition_kind = a.condition_kind and (b.assessed_on, b.id) > (a.assessed_on, a.id)))) as complication,
    exists (select 1 from admission ad where ad.patient_id = p.id and ad.period_start >= ${since(m.admissionWithinDays)}
      and ad.status not in (${[AdmissionStatus.PLANNED, AdmissionStatus.CANCELLED, AdmissionStatus.ENTERED_IN_ERROR].map(t).join(', ')})) as admitted_recently,
    (not exists (select 1 from observation o where o.patient_id = p.id and ${controlKinds} and o.effective_at >= ${since(m.controlledForDays)} and ${counts}
        and ${controlStatusSql(rules, 'o')} <> ${t(ControlStatus.CONTROLLED)} and ${ofManagedKind})
      and exists (select 1 from observation o where o.patient_id = p.id and ${controlKinds} and o.effective_at < ${since(m.controlledForDays)} and ${counts} and ${ofManagedKind})) as controlled_long,
    coalesce((select count(*) = 2 and bool_and(v.control_status = ${t(ControlStatus.CONTROLLED)}) from (select f.control_status from follow_up f
      where f.patient_id = p.id and ${doneVisitSql('f')} order by f.done_date desc, f.id desc limit 2) v), false) as last_two_controlled`;
}

/** A clinician's override still stands: before its review date, and no health assessment recorded since it was made. */
export function overrideStandsSql(frame: Frame, p = 'p'): string {
  return `(${p}.management_override_reason is not null and (${p}.management_override_review_on is null or ${p}.management_override_review_on > ${daySql(frame)})
    and not exists (select 1 from assessment a where a.patient_id = ${p}.id and a.assessed_on > ${countyDaySql(frame, `coalesce(${p}.management_overridden_at, ${p}.updated_at)`)}))`;
}

/**
 * Tier and colour for the patients in scope: the rule's (managementOf in SQL) for a patient with a standing
 * hypertension or diabetes diagnosis, none for one without; a standing override is kept; an expired one is cleared
 * (who, when, why, until when) and the rule applies again. Written only where something differs. Returns the
 * patients changed.
 */
export async function decideManagement(em: EntityManager, frame: Frame, rules: CareRules): Promise<string[]> {
  const s = scoped(frame, 'p.id');
  const rows = (await em.execute(
    // Materialised: the rule reads a fact more than once, and inlined each read would run its subquery again.
    `with facts as materialized (
       select p.id, ${hasManagedConditionSql('p.id')} as managed, p.management_override_reason is not null as overridden,
         ${overrideStandsSql(frame)} as override_stands, ${managementFactsSql(frame, rules)}
         from patient p
        where ${s.sql} and (${hasManagedConditionSql('p.id')} or p.management_colour is not null or p.management_tier is not null or p.management_override_reason is not null)
     ), decided as (
       select f.id, f.override_stands, f.overridden and not f.override_stands as expired,
         case when f.managed then ${managementColourSql('f')} end as colour
         from facts f
     )
     update patient p set
       management_colour = case when d.override_stands then p.management_colour else d.colour end,
       management_tier = case when d.override_stands then p.management_tier else ${tierOfColourSql('d.colour')} end,
       management_override_reason = case when d.expired then null else p.management_override_reason end,
       management_overridden_by_id = case when d.expired then null else p.management_overridden_by_id end,
       management_overridden_at = case when d.expired then null else p.management_overridden_at end,
       management_override_review_on = case when d.expired then null else p.management_override_review_on end,
       updated_at = now()
       from decided d
      where d.id = p.id and (d.expired or (not d.override_stands and (p.management_colour is distinct from d.colour or p.management_tier is distinct from ${tierOfColourSql('d.colour')})))
     returning p.id`,
    s.params,
  )) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}
