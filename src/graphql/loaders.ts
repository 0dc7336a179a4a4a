import { countsForControlSql } from '../care-rules/plausibility.js';
import DataLoader from 'dataloader';
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
import { Observation, ObservationKind } from '../domain/observation/observation.entity.js';
import { Grid, Organization } from '../domain/organization/organization.entity.js';
import { Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { Practitioner, PractitionerRole } from '../domain/practitioner/practitioner.entity.js';
import { Referral } from '../domain/referral/referral.entity.js';

type Ctor<T> = new () => T;

/** One entity per id, fetched in one `id in (…)` query per tick. */
function byId<T extends { id: string }>(em: EntityManager, entity: Ctor<T>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = (await em.find(entity, { id: { $in: [...ids] } } as never)) as T[];
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

/** All children of each parent id, in one `fk in (…)` query per tick. */
function byParent<T extends object>(em: EntityManager, entity: Ctor<T>, fk: keyof T & string, orderBy: Record<string, string> = { id: 'asc' }) {
  return new DataLoader<string, T[]>(async (ids) => {
    const rows = (await em.find(entity, { [fk]: { $in: [...ids] } } as never, { orderBy } as never)) as T[];
    const groups = new Map<string, T[]>(ids.map((id) => [id, []]));
    for (const row of rows) groups.get((row[fk] as { id: string }).id)?.push(row);
    return ids.map((id) => groups.get(id)!);
  });
}

/**
 * The latest observation of some kinds per patient: one `distinct on` query for the whole page, served by
 * the (patient, kind, effective_at) index. Only readings that count for control (plausible ones:
 * `countsForControlSql`, src/care-rules/plausibility.ts) — these fields show whether a patient is controlled.
 */
function latestOf(em: EntityManager, policy: AccessPolicy, kinds: ObservationKind[]) {
  return new DataLoader<string, Observation | null>(async (patientIds) => {
    // Hand-written SQL: the ORM filter does not reach it, so the policy's predicate is added here.
    const { sql, params } = sqlAnd(
      { sql: `o.patient_id = any(?::uuid[]) and o.kind = any(?::text[]) and ${countsForControlSql('o')}`, params: [`{${patientIds.join(',')}}`, `{${kinds.join(',')}}`] },
      policy.rowsVisible('Observation', 'o'),
    );
    const rows = await em.execute(
      `select distinct on (o.patient_id) o.* from observation o where ${sql} order by o.patient_id, o.effective_at desc, o.id desc`,
      params,
    );
    const map = new Map<string, Observation>();
    for (const row of rows as Array<Record<string, unknown>>) map.set(row.patient_id as string, em.map(Observation, row as never));
    return patientIds.map((id) => map.get(id) ?? null);
  });
}

export function createLoaders(em: EntityManager, policy: AccessPolicy) {
  return {
    organization: byId(em, Organization),
    grid: byId(em, Grid),
    practitioner: byId(em, Practitioner),
    careTeam: byId(em, CareTeam),
    patient: byId(em, Patient),
    identifiersByPatient: byParent(em, PatientIdentifier, 'patient'),
    conditionsByPatient: byParent(em, Condition, 'patient'),
    carePlansByPatient: byParent(em, CarePlan, 'patient', { periodStart: 'desc', id: 'desc' }),
    referralsByPatient: byParent(em, Referral, 'patient', { requestedAt: 'desc', id: 'desc' }),
    followUpsByPatient: byParent(em, FollowUp, 'patient', { doneDate: 'desc nulls last', plannedDate: 'desc nulls last', id: 'desc' }),
    admissionsByPatient: byParent(em, Admission, 'patient', { periodStart: 'desc', id: 'desc' }),
    coveragesByPatient: byParent(em, Coverage, 'patient'),
    consentsByPatient: byParent(em, Consent, 'patient', { periodStart: 'desc', id: 'desc' }),
    medicationsByPatient: byParent(em, MedicationUse, 'patient', { since: 'desc nulls last', id: 'desc' }),
    goalsByCarePlan: byParent(em, CarePlanGoal, 'carePlan'),
    activitiesByCarePlan: byParent(em, CarePlanActivity, 'carePlan'),
    membersByCareTeam: byParent(em, CareTeamMember, 'careTeam'),
    rolesByPractitioner: byParent(em, PractitionerRole, 'practitioner'),
    latestBloodPressure: latestOf(em, policy, [ObservationKind.BLOOD_PRESSURE]),
    latestGlucose: latestOf(em, policy, [ObservationKind.FASTING_GLUCOSE, ObservationKind.GLUCOSE]),
    latestFastingGlucose: latestOf(em, policy, [ObservationKind.FASTING_GLUCOSE]),
    latestHbA1c: latestOf(em, policy, [ObservationKind.HBA1C]),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
