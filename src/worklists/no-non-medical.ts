import { sqlText } from '../care-rules/sql.js';
import { ActivityCategory, ActivityStatus, CarePlanStatus, ConditionKind } from '../../vocabulary/index.js';
import { byName, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import type { ListQuery } from './page.js';
import { hasActiveConditionSql } from './scope.js';

/** A patient with no non-medical prescription in force, and whether they have an active care plan at all. */
export interface NoNonMedical extends Entry {
  hasActiveCarePlan: boolean;
}

/** The conditions whose patients the programme manages (docs/care-model.md): the list's default when no kinds are asked for. */
export const MANAGED_CONDITION_KINDS: readonly ConditionKind[] = [ConditionKind.HYPERTENSION, ConditionKind.TYPE_2_DIABETES];

/** An activity still to be carried out or under way: not on hold, completed, cancelled or stopped. */
const IN_FORCE = [ActivityStatus.NOT_STARTED, ActivityStatus.SCHEDULED, ActivityStatus.IN_PROGRESS].map(sqlText).join(', ');

/**
 * `isNonMedical` (src/domain/care-plan/care-plan.entity.ts) in force, as SQL: the patient `patientColumn` has an
 * ACTIVE care plan with an activity of a non-medical category (every one but MEDICATION) not on hold, completed,
 * cancelled or stopped. What the non-medical prescription rate's numerator counts (docs/care-model.md).
 */
export function hasNonMedicalPrescriptionSql(patientColumn: string): string {
  return `exists (select 1 from care_plan nc join care_plan_activity na on na.care_plan_id = nc.id
    where nc.patient_id = ${patientColumn} and nc.status = ${sqlText(CarePlanStatus.ACTIVE)}
      and na.category <> ${sqlText(ActivityCategory.MEDICATION)} and na.status in (${IN_FORCE}))`;
}

export const NO_NON_MEDICAL_SORTS = {
  NAME: byName({ sql: 'p.id', type: 'uuid' }),
  /** Registration order (ids are time-ordered). */
  REGISTERED: [{ sql: 'p.id', type: 'uuid' }],
} as const;

/**
 * Patients with no non-medical prescription (docs/care-model.md, "Worklists"): with a confirmed, active diagnosis of
 * hypertension or type 2 diabetes (or, with `conditionKinds`, of one of those kinds) and no non-medical activity in force.
 */
export function noNonMedicalPrescription(ctx: ListContext): ListQuery<NoNonMedical> {
  const kinds = ctx.filter.conditionKinds?.length ? ctx.filter.conditionKinds : MANAGED_CONDITION_KINDS;
  const side = patientSide({ ...ctx, filter: { ...ctx.filter, conditionKinds: null } }, { extra: [ctx.policy.rowsOfShown('CarePlan', 'p'), ctx.policy.rowsOfShown('Condition', 'p')] });
  return {
    list: 'noNonMedicalPrescription',
    from: 'patient p',
    where: [hasActiveConditionSql('p.id', kinds, { confirmedOnly: true }), { sql: `not ${hasNonMedicalPrescriptionSql('p.id')}`, params: [] }, ...side.where],
    select: [side.select, `exists (select 1 from care_plan hp where hp.patient_id = p.id and hp.status = ${sqlText(CarePlanStatus.ACTIVE)}) as "w__has_plan"`],
    sorts: NO_NON_MEDICAL_SORTS,
    entry: (row) => ({ patient: patientOf(ctx, row), hasActiveCarePlan: row.w__has_plan === true }),
  };
}
