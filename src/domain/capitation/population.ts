import type { Predicate } from '../../access/policy.js';
import { countyTimeZone } from '../../care-rules/calendar.js';
import { countyDayOfSql, managedOnSql } from '../../care-rules/managed.js';
import { standingConditionSql } from '../../care-rules/management.js';
import { sqlText } from '../../care-rules/sql.js';
import { doneVisitSql } from '../../care-rules/visits.js';
import type { EntityManager } from '../../db/orm.js';
import { checkTimeZone } from '../../indicators/period.js';
import { CoverageStatus, type ConditionKind, type OrganizationLevel } from '../../../vocabulary/index.js';
import type { CapitationContract } from './capitation-contract.entity.js';
import type { HeadGroup, MemberOrganization } from './settle.js';
import { MEMBER_LEVELS, RiskAdjustmentKind, WorkloadMeasure } from './terms.js';

/**
 * What a settlement reads from the database besides the indicators: the contract's heads with the attributes its
 * risk adjustments look at, and the member organisations with their workloads. Both are counts: they name no patient
 * (ADR 18: aggregates are not audited per patient).
 *
 * A head is a member of the contract's insurer — an ACTIVE coverage overlapping the period, on any day of it, counted
 * whole — managed (patient.managing_organization) in the medical community's subtree. Consent to share data with the
 * insurer is not asked: a head is what the insurer pays for, its own membership list, and a member who keeps their
 * records from the insurer is still owed care; only counts leave the database. (The indicators, in contrast, are the
 * engine's and the caller's: an insurer's count only the members who share their data, membership.ts.)
 */
function headsSql(contract: CapitationContract): Predicate {
  return {
    sql: `select p.id, p.birth_date, p.managing_organization_id, p.created_at, p.care_status, p.care_status_on from patient p
          join organization ho on ho.id = p.managing_organization_id
          where ho.path like ? and exists (select 1 from coverage cv where cv.patient_id = p.id and cv.insurer_id = ?
            and cv.status = ${sqlText(CoverageStatus.ACTIVE)} and cv.period_start <= ? and (cv.period_end is null or cv.period_end >= ?))`,
    params: [`${contract.medicalCommunity.path}%`, contract.insurer.id, contract.periodEnd, contract.periodStart],
  };
}

/** A date column's value as a SQL literal (the rules' SQL repeats the day it is given). */
function dateLiteral(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`capitation: ${JSON.stringify(day)} is not a date`);
  return `date '${day}'`;
}

/** The condition kinds any of the contract's adjustments name (checked enum values: safe as literals). */
function adjustedKinds(contract: CapitationContract): ConditionKind[] {
  return [...new Set(contract.riskAdjustments.flatMap((a) => (a.kind === RiskAdjustmentKind.CONDITION ? a.conditionKinds : [])))].sort();
}

/**
 * The heads grouped by their age in whole years on the period's first day (none without a birth date: no age
 * adjustment applies to them) and their standing diagnoses (care-rules/management.ts: active, not refuted) of the
 * kinds the adjustments name, dated (onset, else the day recorded) on or before that day. Risk is judged as the
 * period begins, as a budget is set: a diagnosis made during the period raises next period's rate, not this one's.
 */
export async function headGroups(em: EntityManager, contract: CapitationContract): Promise<HeadGroup[]> {
  const heads = headsSql(contract);
  const kinds = adjustedKinds(contract);
  const tz = checkTimeZone(countyTimeZone());
  // The diagnoses as one grouped pass joined to the heads, not a subquery per head: at county scale (47,000 heads of
  // 50,000 residents) the correlated form probed the condition index once per head, 1.0–1.5 s against 0.2–0.45 s.
  const kindsSql = kinds.length
    ? `select hc.patient_id, string_agg(distinct hc.kind, ',' order by hc.kind) as kinds from condition hc
       where hc.kind in (${kinds.map(sqlText).join(', ')}) and ${standingConditionSql('hc')}
         and coalesce(hc.onset_date, ${countyDayOfSql('hc.created_at', tz)}) <= ?::date
       group by hc.patient_id`
    : 'select null::uuid as patient_id, null::text as kinds where false';
  const rows = (await em.execute(
    `with h as (${heads.sql}), k as (${kindsSql})
     select extract(year from age(?::date, h.birth_date))::int as age, k.kinds, count(*)::int as n
     from h left join k on k.patient_id = h.id group by 1, 2 order by 1, 2`,
    [...heads.params, ...(kinds.length ? [contract.periodStart] : []), contract.periodStart],
  )) as Array<{ age: number | null; kinds: string | null; n: number }>;
  return rows.map((r) => ({ age: r.age == null ? null : Number(r.age), conditionKinds: r.kinds ? (r.kinds.split(',') as ConditionKind[]) : [], count: Number(r.n) }));
}

/**
 * Every organisation of the medical community (the root's subtree, at a member level), in the tree's order, with its
 * workload in the period:
 *  - MANAGED_PATIENTS: heads managed at the period's end (care-rules/managed.ts, as the indicators count them), by
 *    their managing organisation;
 *  - DONE_FOLLOW_UPS: follow-ups of heads done in the period (care-rules/visits.ts), by the organisation that did
 *    them (their managing organisation when the visit names none); a visit by an organisation outside the
 *    community is no member's workload.
 */
export async function memberOrganizations(em: EntityManager, contract: CapitationContract): Promise<MemberOrganization[]> {
  const heads = headsSql(contract);
  const tz = checkTimeZone(countyTimeZone());
  const work: Predicate =
    contract.splitFormula.workloadMeasure === WorkloadMeasure.MANAGED_PATIENTS
      ? { sql: `select m.managing_organization_id as organization_id, count(*)::int as n from (${managedOnSql('h', dateLiteral(contract.periodEnd), tz, ['managing_organization_id'])}) m group by 1`, params: [] }
      : {
          sql: `select coalesce(f.organization_id, h.managing_organization_id) as organization_id, count(*)::int as n
                from follow_up f join h on h.id = f.patient_id
                where ${doneVisitSql('f')} and f.done_date between ?::date and ?::date group by 1`,
          params: [contract.periodStart, contract.periodEnd],
        };
  const rows = (await em.execute(
    `with h as (${heads.sql}), work as (${work.sql})
     select o.id, o.name, o.level, coalesce(w.n, 0)::int as workload from organization o left join work w on w.organization_id = o.id
     where o.path like ? and o.level in (${MEMBER_LEVELS.map(sqlText).join(', ')}) order by o.path collate "C"`,
    [...heads.params, ...work.params, `${contract.medicalCommunity.path}%`],
  )) as Array<{ id: string; name: string; level: OrganizationLevel; workload: number }>;
  return rows.map((r) => ({ organizationId: r.id, organizationName: r.name, level: r.level, workload: Number(r.workload) }));
}
