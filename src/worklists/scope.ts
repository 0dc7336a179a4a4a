import type { AccessPolicy, Predicate } from '../access/policy.js';
import { sqlText } from '../care-rules/sql.js';
import type { EntityManager } from '../db/orm.js';
import { badInput, isUuid } from '../domain/errors.js';
import { rowsWhereAny } from '../graphql/loaders.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { CareStatus, ClinicalStatus, type ConditionKind, type ManagementColour, type ManagementTier, VerificationStatus } from '../../vocabulary/index.js';

/**
 * Whose patients a worklist holds: a township's or a clinic's (the organisation and everything below it), a family
 * doctor team's (its grid's residents and the patients who signed a contract with it), a practitioner's (those of
 * every team they are on), a grid's. Several together narrow each other; none, every patient the caller may see.
 */
export interface WorklistScope {
  organizationId?: string | null;
  careTeamId?: string | null;
  practitionerId?: string | null;
  gridId?: string | null;
}

/** What every list can be narrowed by, each taking several values at once (any of them). */
export interface WorklistFilter {
  /** Patients with an active diagnosis of any of these kinds; on a list whose entries are per condition, entries of these kinds. */
  conditionKinds?: ConditionKind[] | null;
  tiers?: ManagementTier[] | null;
  colours?: ManagementColour[] | null;
  gridIds?: string[] | null;
}

/** A scope with its organisation's path looked up: the subtree is then one literal prefix, which PostgreSQL can estimate. */
export interface ResolvedScope extends WorklistScope {
  organizationPath?: string;
}

/**
 * Checks the scope's ids and looks up its organisation (BAD_USER_INPUT when there is none the caller may see): once
 * per request, and not for the caller's own. One select through the policy (as the ORM's filter has it), not an ORM
 * find: a village's list asks for it on every request, and the find (query building, hydration, identity map) was ~0.6 ms of its ~10 ms of CPU.
 */
export async function resolveScope(em: EntityManager, scope: WorklistScope, policy: AccessPolicy, field = 'scope'): Promise<ResolvedScope> {
  const caller = policy.caller;
  for (const key of ['organizationId', 'careTeamId', 'practitionerId', 'gridId'] as const) {
    const id = scope[key];
    if (id != null && !isUuid(id)) throw badInput(`${field}.${key} is not an id`, `${field}.${key}`);
  }
  if (!scope.organizationId) return scope;
  // A township's or a clinic's own list (the usual case): the caller's organisation, whose path the token resolved.
  if (caller.organizationId === scope.organizationId && caller.organizationPath) return { ...scope, organizationPath: caller.organizationPath };
  const [org] = await rowsWhereAny(em, policy, Organization, 'id', [scope.organizationId], 't.id');
  if (!org) throw badInput(`${field}.organizationId: no Organization with id ${scope.organizationId}`, `${field}.organizationId`);
  return { ...scope, organizationPath: org.path };
}

export function checkFilter(filter: WorklistFilter): void {
  (filter.gridIds ?? []).forEach((id, i) => {
    if (!isUuid(id)) throw badInput(`filter.gridIds[${i}] is not an id`, `filter.gridIds`);
  });
}

const ACTIVE_CLINICAL = [ClinicalStatus.ACTIVE, ClinicalStatus.RECURRENCE, ClinicalStatus.RELAPSE].map(sqlText).join(', ');
const NOT_A_DIAGNOSIS = [VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR].map(sqlText).join(', ');

/**
 * The patient `patientColumn` has an active condition (active, recurrence or relapse) of one of `kinds`: not refuted
 * or entered in error (as the patients filter has it, so a suspected diagnosis counts), or — `confirmedOnly` — a
 * confirmed diagnosis (pathway step 2: what management starts from).
 */
export function hasActiveConditionSql(patientColumn: string, kinds: readonly ConditionKind[], { confirmedOnly = false } = {}): Predicate {
  const verified = confirmedOnly ? `hc.verification_status = ${sqlText(VerificationStatus.CONFIRMED)}` : `hc.verification_status not in (${NOT_A_DIAGNOSIS})`;
  return {
    sql: `exists (select 1 from condition hc where hc.patient_id = ${patientColumn} and hc.kind = any(?::text[])
            and hc.clinical_status in (${ACTIVE_CLINICAL}) and ${verified})`,
    params: [textArray(kinds)],
  };
}

/** A PostgreSQL array literal of codes or ids (values checked: enum members and UUIDs only). */
export const textArray = (values: readonly string[]) => `{${values.join(',')}}`;

/** Only the patients the programme still looks after are on a list (ADR 16): not those who died, moved or withdrew. */
export const activePatientSql = (p = 'p'): Predicate => ({ sql: `${p}.care_status = ${sqlText(CareStatus.ACTIVE)}`, params: [] });

/** The scope as predicates over the patient alias `p`. */
export function scopeSql(scope: ResolvedScope, p = 'p'): Predicate[] {
  const out: Predicate[] = [];
  if (scope.organizationPath) {
    // Organisations are few (a prefix scan of their paths); patients are found by (managing_organization_id, id).
    out.push({ sql: `${p}.managing_organization_id in (select so.id from organization so where so.path like ?)`, params: [`${scope.organizationPath}%`] });
  }
  if (scope.careTeamId) {
    out.push({
      sql: `(${p}.family_doctor_team_id = ? or ${p}.grid_id in (select st.grid_id from care_team st where st.id = ? and st.grid_id is not null))`,
      params: [scope.careTeamId, scope.careTeamId],
    });
  }
  if (scope.practitionerId) {
    out.push({
      sql: `(${p}.family_doctor_team_id in (select sm.care_team_id from care_team_member sm where sm.practitioner_id = ?)
             or ${p}.grid_id in (select st.grid_id from care_team st join care_team_member sm on sm.care_team_id = st.id where sm.practitioner_id = ? and st.grid_id is not null))`,
      params: [scope.practitionerId, scope.practitionerId],
    });
  }
  if (scope.gridId) out.push({ sql: `${p}.grid_id = ?`, params: [scope.gridId] });
  return out;
}

/**
 * The filter as predicates. `conditionKindColumn`: on a list of entries per condition (uncontrolled, suspected,
 * stuck), the kinds narrow the entries by that column; elsewhere they ask for an active diagnosis of the patient.
 */
export function filterSql(filter: WorklistFilter, { p = 'p', conditionKindColumn }: { p?: string; conditionKindColumn?: string } = {}): Predicate[] {
  const out: Predicate[] = [];
  const kinds = filter.conditionKinds ?? [];
  if (kinds.length) {
    out.push(conditionKindColumn ? { sql: `${conditionKindColumn} = any(?::text[])`, params: [textArray(kinds)] } : hasActiveConditionSql(`${p}.id`, kinds));
  }
  if (filter.tiers?.length) out.push({ sql: `${p}.management_tier = any(?::text[])`, params: [textArray(filter.tiers)] });
  if (filter.colours?.length) out.push({ sql: `${p}.management_colour = any(?::text[])`, params: [textArray(filter.colours)] });
  if (filter.gridIds?.length) out.push({ sql: `${p}.grid_id = any(?::uuid[])`, params: [textArray(filter.gridIds)] });
  return out;
}
