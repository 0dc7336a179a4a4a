import { countsForControlSql } from '../care-rules/plausibility.js';
import { latestReading } from '../care-rules/latest.js';
import DataLoader from 'dataloader';
import { readOnly } from '../db/read-only.js';
import type { EntityManager } from '../db/orm.js';
import { type AccessPolicy, sqlAnd } from '../access/policy.js';
import { CarePlan, CarePlanActivity, CarePlanGoal } from '../domain/care-plan/care-plan.entity.js';
import { CareTeam, CareTeamMember } from '../domain/care-team/care-team.entity.js';
import { Condition } from '../domain/condition/condition.entity.js';
import { Coverage } from '../domain/coverage/coverage.entity.js';
import { Consent } from '../domain/consent/consent.entity.js';
import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { MedicationUse } from '../domain/medication/medication.entity.js';
import { Admission } from '../domain/admission/admission.entity.js';
import { Alert } from '../care/alerts/alert.entity.js';
import { ConditionControl } from '../care/state/condition-control.entity.js';
import { Observation, ObservationKind } from '../domain/observation/observation.entity.js';
import { Grid, Organization } from '../domain/organization/organization.entity.js';
import { Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { Practitioner, PractitionerRole } from '../domain/practitioner/practitioner.entity.js';
import { Referral } from '../domain/referral/referral.entity.js';
import { ReferralResult } from '../domain/referral/referral-result.entity.js';
import { SelfManagementGroup, SelfManagementGroupAttendance, SelfManagementGroupMember, SelfManagementGroupSession } from '../domain/self-management-group/self-management-group.entity.js';
import { Assessment } from '../domain/assessment/assessment.entity.js';
import { ContactAttempt } from '../domain/contact-attempt/contact-attempt.entity.js';
import { PathwayStepRecord } from '../care/pathway/pathway-step.entity.js';

type Ctor<T> = new () => T;

/** `select * from <entity's table> t where <column> = any(ids) and <caller may see>`: what the ORM filter adds to a find, here by hand. */
/** Parents every GraphQL object of which was read through the policy: loaders keyed by them need not repeat it. */
const SHOWN_PARENTS = new Set(['patient', 'carePlan']);

export async function rowsWhereAny<T extends object>(em: EntityManager, policy: AccessPolicy, entity: Ctor<T>, column: string, ids: readonly string[], orderBy: string) {
  const read = readOnly(em, entity);
  // Keyed by a patient or a care plan the caller was shown: only the read scopes are left to check (rowsOfShown).
  const visible = SHOWN_PARENTS.has(column) ? policy.rowsOfShown(read.meta.className, 't') : policy.rowsVisible(read.meta.className, 't');
  const { sql, params } = sqlAnd({ sql: `t.${read.column(column)} = any(?::uuid[])`, params: [`{${ids.join(',')}}`] }, visible);
  const rows = (await em.execute(`select t.* from "${read.meta.tableName}" t where ${sql} order by ${orderBy}`, params)) as Array<Record<string, unknown>>;
  return rows.map((row) => read.record(row));
}

const orderSql = (em: EntityManager, entity: Ctor<object>, orderBy: Record<string, string>) => {
  const read = readOnly(em, entity);
  return Object.entries(orderBy)
    .map(([property, direction]) => `t.${read.column(property)} ${direction}`)
    .join(', ');
};

/** One entity per id, fetched in one `id = any(…)` query per tick. */
function byId<T extends { id: string }>(em: EntityManager, policy: AccessPolicy, entity: Ctor<T>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await rowsWhereAny(em, policy, entity, 'id', ids, 't.id');
    const map = new Map(rows.map((r) => [r.id, r]));
    // PostgreSQL reads a uuid in either case and answers in lower case.
    return ids.map((id) => map.get(id.toLowerCase()) ?? null);
  });
}

/** All children of each parent id, in one `fk = any(…)` query per tick. */
function byParent<T extends object>(em: EntityManager, policy: AccessPolicy, entity: Ctor<T>, fk: keyof T & string, orderBy: Record<string, string> = { id: 'asc' }) {
  const order = orderSql(em, entity, orderBy);
  return new DataLoader<string, T[]>(async (ids) => {
    const rows = await rowsWhereAny(em, policy, entity, fk, ids, order);
    const groups = new Map<string, T[]>(ids.map((id) => [id, []]));
    for (const row of rows) groups.get((row[fk] as { id: string }).id)?.push(row);
    return ids.map((id) => groups.get(id)!);
  });
}

/** The kinds a patient's card shows the latest reading of (latestBloodPressure, latestGlucose, latestHbA1c). */
const LATEST_KINDS = [ObservationKind.BLOOD_PRESSURE, ObservationKind.FASTING_GLUCOSE, ObservationKind.GLUCOSE, ObservationKind.HBA1C];

/**
 * The latest counting reading of each of LATEST_KINDS per patient, in one `distinct on (patient, kind)` query for the
 * whole page (served by the (patient, kind, effective_at) index): every latest-reading field of a page in one
 * statement. Each field then picks with the rule itself (latestReading, src/care-rules/latest.ts): of its kinds,
 * plausible, newest, ties to the larger id.
 */
function latestReadings(em: EntityManager, policy: AccessPolicy, kinds: readonly ObservationKind[] = LATEST_KINDS) {
  return new DataLoader<string, Observation[]>(async (patientIds) => {
    // Hand-written SQL: the ORM filter does not reach it, so the policy's predicate (for shown patients) is added here.
    const { sql, params } = sqlAnd(
      { sql: `o.patient_id = any(?::uuid[]) and o.kind = any(?::text[]) and ${countsForControlSql('o')}`, params: [`{${patientIds.join(',')}}`, `{${kinds.join(',')}}`] },
      policy.rowsOfShown('Observation', 'o'),
    );
    const rows = await em.execute(`select distinct on (o.patient_id, o.kind) o.* from observation o where ${sql} order by o.patient_id, o.kind, o.effective_at desc, o.id desc`, params);
    const read = readOnly(em, Observation);
    const byPatient = new Map<string, Observation[]>(patientIds.map((id) => [id, []]));
    for (const row of rows as Array<Record<string, unknown>>) byPatient.get(row.patient_id as string)?.push(read.record(row));
    return patientIds.map((id) => byPatient.get(id)!);
  });
}

/**
 * The sessions of its group each membership attended while it lasted (joined on or before, left on or after), in
 * one grouped query: keyed by memberships GraphQL has shown.
 */
function sessionsAttended(em: EntityManager, policy: AccessPolicy) {
  return new DataLoader<string, number>(async (memberIds) => {
    const { sql, params } = sqlAnd(
      {
        sql: `m.id = any(?::uuid[]) and s.held_on >= m.joined_on and (m.left_on is null or s.held_on <= m.left_on)`,
        params: [`{${memberIds.join(',')}}`],
      },
      policy.rowsVisible('SelfManagementGroupAttendance', 'a'),
    );
    const rows = (await em.execute(
      `select m.id, count(*)::int as attended from self_management_group_member m
       join self_management_group_session s on s.group_id = m.group_id
       join self_management_group_attendance a on a.session_id = s.id and a.patient_id = m.patient_id
       where ${sql} group by m.id`,
      params,
    )) as Array<{ id: string; attended: number }>;
    const byMember = new Map(rows.map((r) => [r.id, Number(r.attended)]));
    return memberIds.map((id) => byMember.get(id.toLowerCase()) ?? 0);
  });
}

/** The latest reading of `kinds` (a subset of LATEST_KINDS) for a patient. */
export async function latestOf(loaders: Loaders, patientId: string, kinds: readonly ObservationKind[]): Promise<Observation | null> {
  return latestReading(await loaders.latestReadings.load(patientId), kinds) ?? null;
}

export function createLoaders(em: EntityManager, policy: AccessPolicy) {
  return {
    organization: byId(em, policy, Organization),
    grid: byId(em, policy, Grid),
    practitioner: byId(em, policy, Practitioner),
    careTeam: byId(em, policy, CareTeam),
    patient: byId(em, policy, Patient),
    identifiersByPatient: byParent(em, policy, PatientIdentifier, 'patient'),
    conditionsByPatient: byParent(em, policy, Condition, 'patient'),
    carePlansByPatient: byParent(em, policy, CarePlan, 'patient', { periodStart: 'desc', id: 'desc' }),
    referralsByPatient: byParent(em, policy, Referral, 'patient', { requestedAt: 'desc', id: 'desc' }),
    referral: byId(em, policy, Referral),
    referralsClosing: byParent(em, policy, Referral, 'closes', { requestedAt: 'asc', id: 'asc' }),
    resultsByReferral: byParent(em, policy, ReferralResult, 'referral', { createdAt: 'asc', id: 'asc' }),
    observation: byId(em, policy, Observation),
    condition: byId(em, policy, Condition),
    followUpsByPatient: byParent(em, policy, FollowUp, 'patient', { doneDate: 'desc nulls last', plannedDate: 'desc nulls last', id: 'desc' }),
    admissionsByPatient: byParent(em, policy, Admission, 'patient', { periodStart: 'desc', id: 'desc' }),
    alertsByPatient: byParent(em, policy, Alert, 'patient', { id: 'desc' }),
    coveragesByPatient: byParent(em, policy, Coverage, 'patient'),
    consentsByPatient: byParent(em, policy, Consent, 'patient', { periodStart: 'desc', id: 'desc' }),
    medicationsByPatient: byParent(em, policy, MedicationUse, 'patient', { since: 'desc nulls last', id: 'desc' }),
    assessmentsByPatient: byParent(em, policy, Assessment, 'patient', { assessedOn: 'desc', id: 'desc' }),
    contactAttemptsByPatient: byParent(em, policy, ContactAttempt, 'patient', { attemptedAt: 'desc', id: 'desc' }),
    pathwayByPatient: byParent(em, policy, PathwayStepRecord, 'patient', { conditionKind: 'asc', cycle: 'asc', reachedAt: 'asc', id: 'asc' }),
    followUp: byId(em, policy, FollowUp),
    readingsByFollowUp: byParent(em, policy, Observation, 'followUp', { effectiveAt: 'asc', id: 'asc' }),
    conditionControlsByPatient: byParent(em, policy, ConditionControl, 'patient', { conditionKind: 'asc' }),
    goalsByCarePlan: byParent(em, policy, CarePlanGoal, 'carePlan'),
    activitiesByCarePlan: byParent(em, policy, CarePlanActivity, 'carePlan'),
    membersByCareTeam: byParent(em, policy, CareTeamMember, 'careTeam'),
    rolesByPractitioner: byParent(em, policy, PractitionerRole, 'practitioner'),
    latestReadings: latestReadings(em, policy),
    // The latest counting reading of every kind: what care-plan goals' progress is judged by (any measure may be a goal's).
    goalReadings: latestReadings(em, policy, Object.values(ObservationKind)),
    carePlan: byId(em, policy, CarePlan),
    selfManagementGroup: byId(em, policy, SelfManagementGroup),
    groupMembershipsByPatient: byParent(em, policy, SelfManagementGroupMember, 'patient', { joinedOn: 'desc', id: 'desc' }),
    membersByGroup: byParent(em, policy, SelfManagementGroupMember, 'group', { joinedOn: 'asc', id: 'asc' }),
    sessionsByGroup: byParent(em, policy, SelfManagementGroupSession, 'group', { heldOn: 'desc', id: 'desc' }),
    attendanceBySession: byParent(em, policy, SelfManagementGroupAttendance, 'session'),
    sessionsAttended: sessionsAttended(em, policy),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/**
 * Loaders hold records as they were read, not managed entities a write updates in place: a mutation field starts
 * with them emptied, so that what it and the fields after it show is read after the writes before it.
 */
export function forgetLoaded(loaders: Loaders): void {
  for (const loader of Object.values(loaders)) loader.clearAll();
}
