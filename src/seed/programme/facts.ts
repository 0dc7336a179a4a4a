/**
 * What the programme's seed reads back of the county the generator wrote (src/seed/generate.ts): its grids and teams,
 * and per patient the facts an assessment, a group or a leaving must agree with — diagnoses, plans, weight, the last
 * thing recorded. Read in SQL, a page of patients at a time by id, so memory stays flat however large the county.
 */
import { countyTimeZone } from '../../care-rules/calendar.js';
import { PATHWAY_CONDITION_KINDS } from '../../care-rules/pathway.js';
import { sqlText } from '../../care-rules/sql.js';
import { openPlannedVisitSql } from '../../care-rules/visits.js';
import type { EntityManager } from '../../db/orm.js';
import { ActivityCategory, type ConditionKind, ObservationKind, OrganizationLevel, PractitionerRoleCode, VerificationStatus } from '../../../vocabulary/index.js';

/** A grid with its township and village clinic, and the practitioners of its team by role. */
export interface GridFacts {
  id: string;
  /** The organisation running the grid: a village clinic, or (urban blocks) the township centre. */
  organizationId: string;
  level: OrganizationLevel;
  /** The village clinic's name, for a village grid. */
  villageName?: string;
  townshipId: string;
  team: Partial<Record<PractitionerRoleCode, string>>;
}

export interface CountyFacts {
  grids: Map<string, GridFacts>;
  /** Townships by id (their centre's name), in id order. */
  townships: Array<{ id: string; name: string }>;
  /** Each practitioner's organisation. */
  organizationOf: Map<string, string>;
}

export async function readCounty(em: EntityManager): Promise<CountyFacts> {
  const rows = (await em.execute(
    `select g.id, o.id as organization_id, o.level, o.name,
            case when o.level = ${sqlText(OrganizationLevel.VILLAGE)} then o.parent_id else o.id end as township_id,
            (select json_agg(json_build_array(m.role, m.practitioner_id) order by m.id) from care_team t join care_team_member m on m.care_team_id = t.id where t.grid_id = g.id) as team
       from grid g join organization o on o.id = g.organization_id order by g.id`,
  )) as Array<{ id: string; organization_id: string; level: OrganizationLevel; name: string; township_id: string; team: Array<[PractitionerRoleCode, string]> | string | null }>;
  const grids = new Map<string, GridFacts>();
  for (const r of rows) {
    const team: GridFacts['team'] = {};
    for (const [role, id] of json<Array<[PractitionerRoleCode, string]>>(r.team) ?? []) team[role] ??= id;
    grids.set(r.id, { id: r.id, organizationId: r.organization_id, level: r.level, villageName: r.level === OrganizationLevel.VILLAGE ? r.name : undefined, townshipId: r.township_id, team });
  }
  const townships = (await em.execute(`select id, name from organization where level = ${sqlText(OrganizationLevel.TOWNSHIP)} order by id`)) as Array<{ id: string; name: string }>;
  const roles = (await em.execute(`select practitioner_id, organization_id from practitioner_role order by id`)) as Array<{ practitioner_id: string; organization_id: string }>;
  const organizationOf = new Map<string, string>();
  for (const r of roles) if (!organizationOf.has(r.practitioner_id)) organizationOf.set(r.practitioner_id, r.organization_id);
  return { grids, townships, organizationOf };
}

/** A confirmed diagnosis of a programme condition, and the county day it was made. */
export interface DiagnosisFacts {
  kind: ConditionKind;
  on: string;
}

/** A care plan: its start, the conditions it addresses and which non-medical prescriptions it carries. */
export interface PlanFacts {
  id: string;
  start: string;
  smoking: boolean;
  alcohol: boolean;
  /** Its SELF_MANAGEMENT_GROUP activity, if any. */
  groupActivityId?: string;
}

export interface PatientFacts {
  id: string;
  birthDate: string;
  male: boolean;
  gridId?: string;
  /** The county day the health record was created. */
  createdOn: string;
  diagnoses: DiagnosisFacts[];
  /** Oldest first. */
  plans: PlanFacts[];
  /** The latest weight in kg, if one was measured. */
  weight?: number;
  /** Has had a follow-up visit: in management. */
  visited: boolean;
}

const PAGE = 5000;

/** Every patient with a confirmed diagnosis of a programme condition, a page at a time, in id order. */
export async function* patientsWithDiagnoses(em: EntityManager): AsyncGenerator<PatientFacts[]> {
  const tz = countyTimeZone().replaceAll("'", "''");
  const day = (instant: string) => `((${instant}) at time zone '${tz}')::date::text`;
  const kinds = PATHWAY_CONDITION_KINDS.map(sqlText).join(', ');
  const confirmed = `c.patient_id = p.id and c.kind in (${kinds}) and c.verification_status = ${sqlText(VerificationStatus.CONFIRMED)}`;
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const rows = (await em.execute(
      `select p.id, p.birth_date::text as birth_date, p.gender, p.grid_id, ${day('p.created_at')} as created_on,
              (select json_agg(json_build_object('kind', c.kind, 'on', ${day(`coalesce(c.confirmed_at, c.onset_date::timestamp at time zone '${tz}', c.created_at)`)}) order by c.id)
                 from condition c where ${confirmed}) as diagnoses,
              (select json_agg(json_build_object('id', cp.id, 'start', cp.period_start::text,
                        'smoking', exists (select 1 from care_plan_activity a where a.care_plan_id = cp.id and a.category = ${sqlText(ActivityCategory.SMOKING_CESSATION)}),
                        'alcohol', exists (select 1 from care_plan_activity a where a.care_plan_id = cp.id and a.category = ${sqlText(ActivityCategory.ALCOHOL_LIMITATION)}),
                        'groupActivityId', (select a.id from care_plan_activity a where a.care_plan_id = cp.id and a.category = ${sqlText(ActivityCategory.SELF_MANAGEMENT_GROUP)} order by a.id limit 1))
                      order by cp.period_start, cp.id)
                 from care_plan cp where cp.patient_id = p.id) as plans,
              (select o.value from observation o where o.patient_id = p.id and o.kind = ${sqlText(ObservationKind.WEIGHT)} order by o.effective_at desc limit 1) as weight,
              exists (select 1 from follow_up v where v.patient_id = p.id and v.done_date is not null) as visited
         from patient p
        where p.id > ?::uuid and exists (select 1 from condition c where ${confirmed})
        order by p.id limit ${PAGE}`,
      [after],
    )) as Array<Record<string, unknown> & { id: string }>;
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      id: r.id,
      birthDate: r.birth_date as string,
      male: r.gender === 'MALE',
      gridId: (r.grid_id as string | null) ?? undefined,
      createdOn: r.created_on as string,
      diagnoses: json<DiagnosisFacts[]>(r.diagnoses) ?? [],
      plans: (json<Array<PlanFacts & { groupActivityId: string | null }>>(r.plans) ?? []).map((p) => ({ ...p, groupActivityId: p.groupActivityId ?? undefined })),
      weight: r.weight == null ? undefined : Number(r.weight),
      visited: r.visited === true,
    }));
    after = rows[rows.length - 1]!.id;
    if (rows.length < PAGE) return;
  }
}

/** An open planned visit whose day has passed, of a patient still in the programme, with what was last recorded of them. */
export interface OverdueFacts {
  followUpId: string;
  patientId: string;
  plannedDate: string;
  practitionerId?: string;
  organizationId: string;
  phone?: string;
  birthDate: string;
  /** The county day of the latest fact recorded of the patient (a reading, a visit, a referral, a plan, an assessment, a group, a contract), when asked for. */
  lastFactOn?: string;
}

/**
 * The overdue planned visits on `today`, one per patient (the earliest), in patient order; with `lastFact`, the day of
 * the latest fact recorded of each patient.
 */
export async function overdueVisits(em: EntityManager, today: string, lastFact: boolean): Promise<OverdueFacts[]> {
  const tz = countyTimeZone().replaceAll("'", "''");
  const day = (instant: string) => `((${instant}) at time zone '${tz}')::date`;
  const rows = (await em.execute(
    `select distinct on (f.patient_id) f.id, f.patient_id, f.planned_date::text as planned_date, f.practitioner_id, coalesce(f.organization_id, p.managing_organization_id) as organization_id,
            p.phone, p.birth_date::text as birth_date,
            ${!lastFact ? 'null' : `greatest(
              (select max(${day('o.effective_at')}) from observation o where o.patient_id = p.id),
              (select max(v.done_date) from follow_up v where v.patient_id = p.id and v.done_date is not null),
              (select max(${day('greatest(r.requested_at, r.accepted_at, r.completed_at, r.rejected_at, r.cancelled_at)')}) from referral r where r.patient_id = p.id),
              (select max(cp.period_start) from care_plan cp where cp.patient_id = p.id),
              (select max(a.assessed_on) from assessment a where a.patient_id = p.id),
              (select max(s.held_on) from self_management_group_attendance sa join self_management_group_session s on s.id = sa.session_id where sa.patient_id = p.id),
              (select max(m.joined_on) from self_management_group_member m where m.patient_id = p.id),
              p.contract_signed_on, ${day('p.created_at')}
            )::text`} as last_fact_on
       from follow_up f join patient p on p.id = f.patient_id
      where ${openPlannedVisitSql('f')} and f.planned_date < ?::date and p.care_status = 'ACTIVE'
      order by f.patient_id, f.planned_date, f.id`,
    [today],
  )) as Array<Record<string, string | null>>;
  return rows.map((r) => ({
    followUpId: r.id!,
    patientId: r.patient_id!,
    plannedDate: r.planned_date!,
    practitionerId: r.practitioner_id ?? undefined,
    organizationId: r.organization_id!,
    phone: r.phone ?? undefined,
    birthDate: r.birth_date!,
    lastFactOn: r.last_fact_on ?? undefined,
  }));
}

/** PGlite hands json back parsed, node-postgres too; a driver that gives text gets parsed here. */
function json<T>(value: unknown): T | undefined {
  if (value == null) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
