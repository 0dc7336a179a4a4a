import { raw } from '@mikro-orm/core';
import { DomainError } from '../domain/errors.js';
import { type Caller, ClientKind, hasRole, Role } from './caller.js';
import { callerAllows, type Interaction } from './scopes.js';
import { countyToday } from '../care-rules/calendar.js';

/** A SQL condition with `?` parameters, as MikroORM's raw fragments and query builder take them. */
export interface Predicate {
  sql: string;
  params: unknown[];
}

const NOTHING: Predicate = { sql: '1 = 0', params: [] };

const INTERACTION_NAMES: Record<Interaction, string> = { c: 'create', r: 'read', u: 'change', d: 'delete', s: 'search' };

/** The FHIR resource type each stored concept is, for scope checks (SMART scopes name FHIR types). */
export const RESOURCE_TYPE_OF: Record<string, string> = {
  Patient: 'Patient',
  PatientIdentifier: 'Patient',
  Condition: 'Condition',
  Observation: 'Observation',
  CarePlan: 'CarePlan',
  CarePlanGoal: 'CarePlan',
  CarePlanActivity: 'CarePlan',
  Referral: 'ServiceRequest',
  FollowUp: 'Encounter',
  Coverage: 'Coverage',
  Consent: 'Consent',
};

const CLINICAL_ROLES = [Role.VILLAGE_DOCTOR, Role.GENERAL_PRACTITIONER, Role.NURSE, Role.SPECIALIST, Role.PUBLIC_HEALTH];

/**
 * Treatment consent denied and in force: such a patient is seen only through the managing organisation's
 * hierarchy (its staff and those above it), not through grids, care teams, referrals or hospital provenance.
 */
function treatmentAllowed(column: string, today: string): Predicate {
  return {
    sql: `coalesce((select cs.decision from consent cs where cs.patient_id = ${column} and cs.purpose = 'TREATMENT'
            and cs.period_start <= ? and (cs.period_end is null or cs.period_end >= ?)
            order by cs.created_at desc, cs.id desc limit 1), 'PERMIT') = 'PERMIT'`,
    params: [today, today],
  };
}

function or(parts: Predicate[]): Predicate {
  if (parts.length === 0) return NOTHING;
  return { sql: `(${parts.map((p) => `(${p.sql})`).join(' or ')})`, params: parts.flatMap((p) => p.params) };
}

function and(parts: Predicate[]): Predicate {
  return { sql: `(${parts.map((p) => `(${p.sql})`).join(' and ')})`, params: parts.flatMap((p) => p.params) };
}

/**
 * Who may see which patients, decided once, here, from the caller. The result is a SQL predicate over a
 * patient-id column; the data layer adds it to every query (ORM filter for entity queries, explicitly for the
 * few hand-written SQL statements), so GraphQL, nested fields, counts and — later — FHIR all see the same set.
 */
export class AccessPolicy {
  constructor(
    readonly caller: Caller,
    private readonly today: () => string = () => countyToday(),
  ) {}

  /** Resident IDs in full: those who verify identity face to face, and hospitals matching records. */
  get revealsResidentIds(): boolean {
    const c = this.caller;
    return c.kind === 'internal' || c.clientKind === ClientKind.HOSPITAL || (c.kind === 'user' && hasRole(c, Role.VILLAGE_DOCTOR, Role.GENERAL_PRACTITIONER, Role.PUBLIC_HEALTH));
  }

  get seesEverything(): boolean {
    return this.caller.kind === 'internal' || (this.caller.kind === 'user' && hasRole(this.caller, Role.PLATFORM_ADMIN));
  }

  /** Predicate true for patients the caller may see; undefined when the caller sees every patient. */
  patientVisible(column: string): Predicate | undefined {
    if (this.seesEverything) return undefined;
    const c = this.caller;
    const today = this.today();
    if (c.clientKind === ClientKind.INSURER) {
      // Only members it covers today, and never those who withdrew consent to share with insurers. Of the decisions
      // in force, the one recorded last is the patient's word: a withdrawal wins even when back-dated.
      return {
        sql: `${column} in (select cv.patient_id from coverage cv where cv.insurer_id = ? and cv.status = 'ACTIVE'
                and cv.period_start <= ? and (cv.period_end is null or cv.period_end >= ?))
              and coalesce((select cs.decision from consent cs where cs.patient_id = ${column} and cs.purpose = 'INSURER_SHARING'
                and cs.period_start <= ? and (cs.period_end is null or cs.period_end >= ?)
                order by cs.created_at desc, cs.id desc limit 1), 'PERMIT') = 'PERMIT'`,
        params: [c.organizationId, today, today, today, today],
      };
    }
    if (!c.organizationPath) return NOTHING;
    const managed: Predicate = {
      sql: `${column} in (select vp.id from patient vp join organization vo on vo.id = vp.managing_organization_id where vo.path like ?)`,
      params: [`${c.organizationPath}%`],
    };
    const others: Predicate[] = [];
    if (c.clientKind === ClientKind.HOSPITAL) {
      others.push(
        { sql: `${column} in (select vp.id from patient vp where vp.registered_by_id = ?)`, params: [c.organizationId] },
        { sql: `${column} in (select r.patient_id from referral r where r.from_organization_id = ? or r.to_organization_id = ?)`, params: [c.organizationId, c.organizationId] },
      );
    } else if (c.kind === 'user' && hasRole(c, ...CLINICAL_ROLES) && c.practitionerId) {
      others.push(
        {
          sql: `${column} in (select vp.id from patient vp where vp.grid_id in (select ct.grid_id from care_team ct
                  join care_team_member m on m.care_team_id = ct.id where m.practitioner_id = ? and ct.grid_id is not null)
                or vp.family_doctor_team_id in (select m.care_team_id from care_team_member m where m.practitioner_id = ?))`,
          params: [c.practitionerId, c.practitionerId],
        },
      );
    }
    if (c.kind === 'user' && hasRole(c, Role.SPECIALIST)) {
      others.push({
        sql: `${column} in (select r.patient_id from referral r where r.to_organization_id = ? or r.to_practitioner_id = ?)`,
        params: [c.organizationId, c.practitionerId ?? null],
      });
    }
    if (others.length === 0) return managed;
    return or([managed, and([or(others), treatmentAllowed(column, today)])]);
  }

  /** Referrals: those of visible patients, plus — for people and hospitals — those sent by or to their organisation. */
  referralVisible(alias: string): Predicate | undefined {
    const patients = this.patientVisible(`${alias}.patient_id`);
    if (!patients) return undefined;
    const c = this.caller;
    if (c.clientKind === ClientKind.INSURER || !c.organizationId) return patients;
    const own: Predicate =
      c.clientKind === ClientKind.HOSPITAL
        ? { sql: `${alias}.from_organization_id = ? or ${alias}.to_organization_id = ?`, params: [c.organizationId, c.organizationId] }
        : {
            sql: `${alias}.from_organization_id in (select o.id from organization o where o.path like ?)
               or ${alias}.to_organization_id in (select o.id from organization o where o.path like ?)`,
            params: [`${c.organizationPath}%`, `${c.organizationPath}%`],
          };
    return or([patients, own]);
  }

  /** The predicate for one entity's rows (alias = its table alias), including the caller's read scopes. */
  rowsVisible(entityName: string, alias: string): Predicate | undefined {
    const resourceType = RESOURCE_TYPE_OF[entityName];
    if (!resourceType) return undefined;
    if (!callerAllows(this.caller, resourceType, 'r')) return NOTHING;
    switch (entityName) {
      case 'Patient':
        return this.patientVisible(`${alias}.id`);
      case 'Referral':
        return this.referralVisible(alias);
      case 'CarePlanGoal':
      case 'CarePlanActivity': {
        const plans = this.patientVisible('cp.patient_id');
        return plans && { sql: `${alias}.care_plan_id in (select cp.id from care_plan cp where ${plans.sql})`, params: plans.params };
      }
      default:
        return this.patientVisible(`${alias}.patient_id`);
    }
  }

  /** Refused outright (not hidden) when the caller's role or scopes do not allow an interaction at all. */
  assertCan(resourceType: string, interaction: Interaction): void {
    if (!callerAllows(this.caller, resourceType, interaction)) {
      throw new DomainError('FORBIDDEN', `not allowed to ${INTERACTION_NAMES[interaction]} ${resourceType} records`);
    }
  }

  /** Adds the visibility predicate to a query builder (the ORM filter covers entity queries; builders ask here). */
  restrict<Q extends { andWhere(cond: string, params?: unknown[]): unknown }>(qb: Q, entityName: string, alias: string): Q {
    const predicate = this.rowsVisible(entityName, alias);
    if (predicate) qb.andWhere(predicate.sql, predicate.params);
    return qb;
  }

  /** Registering or moving a patient is limited to organisations in the caller's own subtree. */
  assertManages(organizationPath: string): void {
    if (this.seesEverything) return;
    if (!this.caller.organizationPath || !organizationPath.startsWith(this.caller.organizationPath)) {
      throw new DomainError('FORBIDDEN', 'that organisation is outside your own');
    }
  }

  /** Audit records: platform administrators see all; community administrators those of their subtree's staff. */
  auditVisible(alias: string): Predicate | undefined {
    if (this.seesEverything) return undefined;
    if (this.caller.kind === 'user' && hasRole(this.caller, Role.COMMUNITY_ADMIN) && this.caller.organizationPath) {
      return { sql: `${alias}.organization_id in (select o.id from organization o where o.path like ?)`, params: [`${this.caller.organizationPath}%`] };
    }
    return NOTHING;
  }
}

export const ACCESS_FILTER = 'access';

/**
 * The ORM filter that applies the policy to every entity query. It is on by default and needs its
 * `policy` parameter: a query on an entity manager with no caller set fails instead of seeing everything.
 */
export const accessFilter = {
  name: ACCESS_FILTER,
  default: true,
  entity: Object.keys(RESOURCE_TYPE_OF),
  cond: (args: { policy?: AccessPolicy }, _type: string, _em: unknown, _options: unknown, entityName?: string) => {
    if (!args.policy) throw new Error('access filter: no caller set on this entity manager');
    const predicate = args.policy.rowsVisible(entityName!, '__ALIAS__');
    if (!predicate) return {};
    return { [raw((alias: string) => predicate.sql.replaceAll('__ALIAS__', alias), predicate.params)]: [] };
  },
};

/** Applies a predicate to raw SQL: `where ${sql}` with its params appended. */
export function sqlAnd(base: Predicate, extra: Predicate | undefined): Predicate {
  return extra ? { sql: `${base.sql} and (${extra.sql})`, params: [...base.params, ...extra.params] } : base;
}
