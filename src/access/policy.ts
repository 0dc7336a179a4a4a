import type { Resource } from '@medplum/fhirtypes';
import { raw } from '@mikro-orm/core';
import { mappings } from '../../fhir-mappings/index.js';
import { DomainError } from '../domain/errors.js';
import { type Caller, ClientKind, hasRole, Role } from './caller.js';
import { callerAllows, type Interaction } from './scopes.js';
import { countyToday } from '../care-rules/calendar.js';
import { insurerMembersSql } from './membership.js';
import { OPEN_REFERRAL_STATUSES } from '../domain/referral/referral-lifecycle.js';
import { ReferralStatus } from '../domain/referral/referral.entity.js';

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
  Admission: 'Encounter',
  Coverage: 'Coverage',
  Consent: 'Consent',
  // One scope for a patient's medicines, whichever resource said them (a prescription or the patient's statement).
  MedicationUse: 'MedicationRequest',
  // A self-management group and its members, sessions and attendance: FHIR's Group (rowsVisible: the organisation subtree).
  SelfManagementGroup: 'Group',
  SelfManagementGroupMember: 'Group',
  SelfManagementGroupSession: 'Group',
  SelfManagementGroupAttendance: 'Group',
  // Alerts (src/care/alerts): FHIR's Flag, a warning about a patient; seen with their patient.
  Alert: 'Flag',
  // A condition's control status (src/care/state): derived from the patient's readings, seen with its patient as its condition is.
  ConditionControl: 'Condition',
  // A health assessment is FHIR's ClinicalImpression; a call to an overdue patient, a Communication; the pathway a
  // patient is on for a condition, an EpisodeOfCare. Each is seen with its patient.
  Assessment: 'ClinicalImpression',
  ContactAttempt: 'Communication',
  PathwayStepRecord: 'EpisodeOfCare',
};

/** The self-management group records, seen by organisation (groupsVisible), their patients' rows also by patient. */
const GROUP_RECORDS = new Set(['SelfManagementGroup', 'SelfManagementGroupMember', 'SelfManagementGroupSession', 'SelfManagementGroupAttendance']);

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

/** What the policy takes from configuration (Config, via createSecurity and entityManagerFor in ./index.ts). */
export interface PolicySettings {
  /** Days a completed referral still shows its patient to the referral's other end (REFERRAL_ACCESS_DAYS_AFTER_COMPLETION). */
  referralAccessDaysAfterCompletion: number;
}

export const DEFAULT_POLICY_SETTINGS: PolicySettings = Object.freeze({ referralAccessDaysAfterCompletion: 30 });

const DAY_MS = 86_400_000;

/**
 * Who may see which patients, decided once, here, from the caller. The result is a SQL predicate over a
 * patient-id column; the data layer adds it to every query (ORM filter for entity queries, explicitly for the
 * few hand-written SQL statements), so GraphQL, nested fields, counts and — later — FHIR all see the same set.
 */
export class AccessPolicy {
  constructor(
    readonly caller: Caller,
    private readonly settings: PolicySettings = DEFAULT_POLICY_SETTINGS,
    private readonly today: () => string = () => countyToday(),
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * The referrals (table alias `r`) that grant access to their patient: open ones (requested, accepted), and
   * completed ones for `referralAccessDaysAfterCompletion` days after completion. A rejected or cancelled referral
   * grants nothing: access follows what the referral is now, not that it was ever made.
   */
  private referralGrants(): Predicate {
    const cutoff = new Date(this.now() - this.settings.referralAccessDaysAfterCompletion * DAY_MS).toISOString();
    return {
      sql: `(r.status in (${OPEN_REFERRAL_STATUSES.map(() => '?').join(', ')}) or (r.status = ? and r.completed_at > ?))`,
      params: [...OPEN_REFERRAL_STATUSES, ReferralStatus.COMPLETED, cutoff],
    };
  }

  /** Resident IDs in full: those who verify identity face to face, and hospitals matching records. */
  get revealsResidentIds(): boolean {
    const c = this.caller;
    return c.kind === 'internal' || c.clientKind === ClientKind.HOSPITAL || (c.kind === 'user' && hasRole(c, Role.VILLAGE_DOCTOR, Role.GENERAL_PRACTITIONER, Role.PUBLIC_HEALTH));
  }

  get seesEverything(): boolean {
    return this.caller.kind === 'internal' || (this.caller.kind === 'user' && hasRole(this.caller, Role.PLATFORM_ADMIN));
  }

  /**
   * Whether the caller sees every patient managed in the organisation subtree at `path` — by patientVisible's
   * managed-patient rule, which holds for every caller with an organisation but an insurer. A query already held to
   * that subtree (a worklist's scope, src/worklists/base.ts) need not repeat the predicate: repeated, its estimate
   * multiplies the subtree's and PostgreSQL plans a sort of the whole subtree instead of walking an index in order.
   */
  seesAllManagedUnder(path: string): boolean {
    if (this.seesEverything) return true;
    const c = this.caller;
    return c.clientKind !== ClientKind.INSURER && !!c.organizationPath && path.startsWith(c.organizationPath);
  }

  /** Predicate true for patients the caller may see; undefined when the caller sees every patient. */
  patientVisible(column: string): Predicate | undefined {
    if (this.seesEverything) return undefined;
    const c = this.caller;
    const today = this.today();
    if (c.clientKind === ClientKind.INSURER) return insurerMembersSql(column, c.organizationId ?? null, { start: today, end: today }, today);
    if (!c.organizationPath) return NOTHING;
    // Correlated (exists … vp.id = column), not `column in (select …)`: under an OR (FHIR's rows, a clinician's
    // grants) PostgreSQL cannot make an IN a semi-join and hashed the subtree's every patient for each query (8 ms of
    // a 9 ms FHIR read for a township); as the only condition it plans the same semi-join either way.
    const managed: Predicate = {
      sql: `exists (select 1 from patient vp join organization vo on vo.id = vp.managing_organization_id where vp.id = ${column} and vo.path like ?)`,
      params: [`${c.organizationPath}%`],
    };
    const others: Predicate[] = [];
    const referrals = this.referralGrants();
    if (c.clientKind === ClientKind.HOSPITAL) {
      others.push(
        { sql: `${column} in (select vp.id from patient vp where vp.registered_by_id = ?)`, params: [c.organizationId] },
        {
          sql: `${column} in (select r.patient_id from referral r where (r.from_organization_id = ? or r.to_organization_id = ?) and ${referrals.sql})`,
          params: [c.organizationId, c.organizationId, ...referrals.params],
        },
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
        sql: `${column} in (select r.patient_id from referral r where (r.to_organization_id = ? or r.to_practitioner_id = ?) and ${referrals.sql})`,
        params: [c.organizationId, c.practitionerId ?? null, ...referrals.params],
      });
    }
    if (others.length === 0) return managed;
    return or([managed, and([or(others), treatmentAllowed(column, today)])]);
  }

  /**
   * patientVisible over a period rather than today: the same for everyone but an insurer, who is judged by whom it
   * covered during the period (src/access/membership.ts) — a payment period's indicators and a Bulk export of it.
   */
  patientVisibleDuring(column: string, period: { start: string; end: string }): Predicate | undefined {
    const c = this.caller;
    if (!this.seesEverything && c.clientKind === ClientKind.INSURER) return insurerMembersSql(column, c.organizationId ?? null, period, this.today());
    return this.patientVisible(column);
  }

  /**
   * Referrals: those of visible patients, plus — for people and hospitals — those sent by or to their organisation,
   * whatever their state: an organisation keeps its record of the referrals it sent, received, rejected or completed.
   * The patient behind one is another matter (patientVisible: only while the referral grants access).
   */
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
    // A request asks for the same few predicates on every query it runs: made once per policy (per request).
    const key = `${entityName} ${alias}`;
    if (!this.visible.has(key)) this.visible.set(key, this.makeRowsVisible(entityName, alias));
    return this.visible.get(key);
  }
  private readonly visible = new Map<string, Predicate | undefined>();

  private makeRowsVisible(entityName: string, alias: string): Predicate | undefined {
    const resourceType = RESOURCE_TYPE_OF[entityName];
    if (!resourceType) return undefined;
    if (!callerAllows(this.caller, resourceType, 'r')) return NOTHING;
    switch (entityName) {
      case 'Patient':
        return this.patientVisible(`${alias}.id`);
      case 'Referral':
        return this.referralVisible(alias);
      case 'SelfManagementGroup':
      case 'SelfManagementGroupMember':
      case 'SelfManagementGroupSession':
      case 'SelfManagementGroupAttendance':
        return this.groupRowsVisible(entityName, alias);
      case 'CarePlanGoal':
      case 'CarePlanActivity': {
        const plans = this.patientVisible('cp.patient_id');
        return plans && { sql: `${alias}.care_plan_id in (select cp.id from care_plan cp where ${plans.sql})`, params: plans.params };
      }
      default:
        return this.patientVisible(`${alias}.patient_id`);
    }
  }

  /**
   * The predicate for rows keyed by a record the caller has already been shown: a patient's rows by its id, a care
   * plan's goals and activities by the plan's (loaders keyed by the ids of records read through rowsVisible: GraphQL's
   * patients and plans come from nowhere else). Who may see such a row is decided by its patient alone — every rule
   * of patientVisible is a patient's, and every referral of a visible patient is visible — so only the read-scope
   * check is left. The repeated `in (select … organization … like …)` cost PostgreSQL more to plan than to run.
   */
  rowsOfShown(entityName: string, alias: string): Predicate | undefined {
    const resourceType = RESOURCE_TYPE_OF[entityName];
    if (!resourceType) return undefined;
    if (!callerAllows(this.caller, resourceType, 'r')) return NOTHING;
    // A group's rows are not decided by the patient alone: the group's organisation must be the caller's too.
    return entityName === 'Patient' || GROUP_RECORDS.has(entityName) ? this.rowsVisible(entityName, alias) : undefined;
  }

  /**
   * Self-management groups are the business of the organisation that runs them: a group (and its sessions) is seen
   * by whoever works at its organisation or one above it — the reach of `manages` — and a member's or attendee's row
   * also needs its patient visible (patientVisible), so a group shows only the members the caller may see.
   */
  private groupRowsVisible(entityName: string, alias: string): Predicate | undefined {
    if (this.seesEverything) return undefined;
    const path = this.caller.organizationPath;
    if (!path) return NOTHING;
    const groups = (column: string): Predicate => ({
      sql: `${column} in (select g.id from self_management_group g join organization go on go.id = g.organization_id where go.path like ?)`,
      params: [`${path}%`],
    });
    const patients = (column: string) => this.patientVisible(column) ?? { sql: '1 = 1', params: [] };
    switch (entityName) {
      case 'SelfManagementGroup':
        return groups(`${alias}.id`);
      case 'SelfManagementGroupSession':
        return groups(`${alias}.group_id`);
      case 'SelfManagementGroupMember':
        return and([groups(`${alias}.group_id`), patients(`${alias}.patient_id`)]);
      default: {
        const sessions = groups('gs.group_id');
        return and([
          { sql: `${alias}.session_id in (select gs.id from self_management_group_session gs where ${sessions.sql})`, params: sessions.params },
          patients(`${alias}.patient_id`),
        ]);
      }
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
    if (!this.manages(organizationPath)) throw new DomainError('FORBIDDEN', 'that organisation is outside your own');
  }

  /** Whether the caller manages an organisation: it is in the caller's own subtree (administrators manage every one). */
  manages(organizationPath: string | null | undefined): boolean {
    if (this.seesEverything) return true;
    return !!organizationPath && !!this.caller.organizationPath && organizationPath.startsWith(this.caller.organizationPath);
  }

  get writer(): Writer {
    const c = this.caller;
    if (this.seesEverything) return 'administrator';
    if (c.clientKind === ClientKind.HOSPITAL) return 'hospital';
    if (c.clientKind === ClientKind.INSURER) return 'insurer';
    return 'staff';
  }

  /** How far the caller's writes of this kind reach (FHIR_WRITE_RULES). */
  writeReach(kind: WriteKind): WriteReach {
    return FHIR_WRITE_RULES[kind][this.writer];
  }

  /**
   * Refuses (FORBIDDEN) a write the rule table does not allow: a directory write by clinical staff, or a write
   * to a resource owned, or for an organisation, outside the caller's subtree. Patient records are the store's
   * to check (the patient must be visible); this refuses them only to writers that reach none.
   */
  assertMayWrite(w: FhirWrite): void {
    const reach = this.writeReach(w.kind);
    const what = `${w.action} ${w.resourceType} resources`;
    if (reach === 'any' || reach === 'visible-patients') return;
    if (reach === 'none') {
      throw new DomainError('FORBIDDEN', w.kind === 'directory' ? `the directory is written by platform administrators and hospital systems: not allowed to ${what}` : `not allowed to ${what}`);
    }
    const mine = (path: string | null | undefined) => !!path && !!this.caller.organizationPath && path.startsWith(this.caller.organizationPath);
    if (w.action !== 'create' && !mine(w.ownerPath)) {
      throw new DomainError('FORBIDDEN', `${w.resourceType} belongs to another organisation: only its own organisation (or one above it) may ${w.action} it`);
    }
    if ((w.namedPaths ?? []).some((p) => !mine(p))) {
      const element = DIRECTORY_ORGANIZATION_ELEMENT[w.resourceType];
      throw new DomainError('FORBIDDEN', `${w.resourceType}${element ? `.${element}` : ''} must name your own organisation or one below it`, element ? `${w.resourceType}.${element}` : undefined);
    }
  }

  /** Who reads: the same four kinds of caller as write (FHIR_READ_RULES). */
  get reader(): Reader {
    return this.writer;
  }

  /** How far the caller's reads of this kind of stored resource reach (FHIR_READ_RULES). */
  readReach(kind: ReadKind): ReadReach {
    return FHIR_READ_RULES[kind][this.reader];
  }

  /**
   * The predicate for rows of the FHIR store (alias: the fhir_resource row) the caller may read — FHIR_READ_RULES
   * as SQL: a row in a patient's record (patient_id) with the patient; one in none by its type (the directory,
   * the shared definitions) or by the organisation that owns it (owner_organization_id). Undefined when the
   * caller reads every row. `during`: patients judged over a period instead of today (patientVisibleDuring: a Bulk
   * export of a period, whose insurer gets the members it covered then).
   */
  fhirRowsVisible(alias: string, during?: { start: string; end: string }): Predicate | undefined {
    const kinds = Object.keys(FHIR_READ_RULES) as ReadKind[];
    if (kinds.every((k) => this.readReach(k) === 'any')) return undefined;
    const parts: Predicate[] = [];
    const record = this.readReach('patient-record');
    if (record !== 'none') {
      const patients = record === 'any' ? undefined : during ? this.patientVisibleDuring(`${alias}.patient_id`, during) : this.patientVisible(`${alias}.patient_id`);
      parts.push(patients ? and([{ sql: `${alias}.patient_id is not null`, params: [] }, patients]) : { sql: `${alias}.patient_id is not null`, params: [] });
    }
    const everyone = [...SHARED_READ_TYPES].filter(([, kind]) => this.readReach(kind) === 'any').map(([type]) => type);
    if (everyone.length) parts.push({ sql: `${alias}.patient_id is null and ${alias}.resource_type = any(?::text[])`, params: [`{${everyone.join(',')}}`] });
    const owned = this.readReach('owned');
    if (owned === 'any') parts.push({ sql: `${alias}.patient_id is null`, params: [] });
    else if (owned === 'own-subtree' && this.caller.organizationPath) {
      parts.push({
        sql: `${alias}.patient_id is null and ${alias}.owner_organization_id in (select o.id from organization o where o.path like ?)`,
        params: [`${this.caller.organizationPath}%`],
      });
    }
    return or(parts);
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

/**
 * The county's shared directory: organisations, places and staff. Tokens resolve callers by it (authenticate.ts:
 * organisation and practitioner codes) and every visibility rule above goes by its tree, so it is written only by
 * those who run it — platform administrators, and each registered hospital system for its own organisation and
 * below — never by clinical users, whatever their scopes.
 */
export const DIRECTORY_TYPES: ReadonlySet<string> = new Set(['Organization', 'Location', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Endpoint']);

/**
 * The element naming the organisation a directory resource is for, which must be in a hospital system's subtree.
 * A new Organization is placed by its partOf; an existing one is for itself. A Practitioner names none: it
 * belongs to whoever registered it.
 */
export const DIRECTORY_ORGANIZATION_ELEMENT: Readonly<Record<string, string | undefined>> = {
  Organization: 'partOf',
  Location: 'managingOrganization',
  Practitioner: undefined,
  PractitionerRole: 'organization',
  HealthcareService: 'providedBy',
  Endpoint: 'managingOrganization',
};

/**
 * Definitions the county shares: what forms, measures, code systems and value sets, profiles and the server's
 * own capabilities are, and the medicines and substances records name. They hold no patient's data and are
 * meant to be used by every organisation (a questionnaire the county publishes is filled in by every village),
 * so every caller reads them — its SMART scopes permitting. They are written like any resource outside a
 * record: by their owner's subtree (FHIR_WRITE_RULES, `owned`).
 */
export const SHARED_DEFINITION_TYPES: ReadonlySet<string> = new Set([
  // Conformance: what the server and the county's profiles are.
  'CapabilityStatement', 'StructureDefinition', 'StructureMap', 'ImplementationGuide', 'SearchParameter', 'OperationDefinition',
  'CompartmentDefinition', 'MessageDefinition', 'GraphDefinition', 'ExampleScenario', 'TerminologyCapabilities',
  // Terminology.
  'CodeSystem', 'ValueSet', 'ConceptMap', 'NamingSystem',
  // Knowledge: forms, measures, protocols, their logic.
  'Questionnaire', 'Measure', 'Library', 'PlanDefinition', 'ActivityDefinition', 'ObservationDefinition', 'SpecimenDefinition',
  'EventDefinition', 'ResearchDefinition', 'ResearchElementDefinition', 'ChargeItemDefinition', 'DeviceDefinition',
  'Evidence', 'EvidenceVariable',
  // Products: what a prescription names (Medication has no patient element).
  'Medication', 'MedicationKnowledge', 'Substance',
]);

/** What a stored resource is, for reading: in a patient's record, the directory, a shared definition, or owned by its sender. */
export type ReadKind = 'patient-record' | 'directory' | 'shared-definition' | 'owned';
/** Who reads: as for writes (administrators and the internal caller, hospital systems, insurers, staff). */
export type Reader = Writer;
/**
 * How far a reader reaches: `any` resource of the kind; those of the patients it may see (patientVisible);
 * those owned by its own organisation's subtree (its organisation and those below; so a township reads what its
 * villages sent, a village not what its township did — as with patients); or `none`.
 */
export type ReadReach = 'any' | 'visible-patients' | 'own-subtree' | 'none';

/**
 * Who may read which stored FHIR resources: the one table, applied as SQL to every read of the store
 * (fhirRowsVisible) and, on top, the caller's SMART scopes per type. Every stored resource is in a patient's
 * record (the Patient CompartmentDefinition: src/fhir/indexing.ts) or has an owner, the organisation that sent
 * it; nothing is readable by everyone by default:
 *  - a patient's record is read by whoever may see the patient, an insurer included (its members, by consent);
 *  - the directory (DIRECTORY_TYPES) by every caller: tokens, referrals, claims and records name its
 *    organisations and practitioners, and it holds no patient's data;
 *  - shared definitions (SHARED_DEFINITION_TYPES) by every caller: they are published to be used;
 *  - anything else (an Appointment slot list, a Basic, a Bundle naming no patient of ours, …) by its owner's
 *    subtree: it is that organisation's business. One without an owner (sent by an administrator or the
 *    internal caller, or stored before owners were recorded) by administrators only. Insurers own nothing.
 */
export const FHIR_READ_RULES: Readonly<Record<ReadKind, Readonly<Record<Reader, ReadReach>>>> = {
  'patient-record': { administrator: 'any', hospital: 'visible-patients', staff: 'visible-patients', insurer: 'visible-patients' },
  directory: { administrator: 'any', hospital: 'any', staff: 'any', insurer: 'any' },
  'shared-definition': { administrator: 'any', hospital: 'any', staff: 'any', insurer: 'any' },
  owned: { administrator: 'any', hospital: 'own-subtree', staff: 'own-subtree', insurer: 'none' },
};

/** The types read by their type alone (outside any record), and as which kind. */
const SHARED_READ_TYPES: ReadonlyMap<string, ReadKind> = new Map([
  ...[...DIRECTORY_TYPES].map((t) => [t, 'directory'] as const),
  ...[...SHARED_DEFINITION_TYPES].map((t) => [t, 'shared-definition'] as const),
]);

/** The kind of a stored resource for reading: in a record when it names a patient, whatever its type. */
export function readKindOf(resourceType: string, inPatientRecord: boolean): ReadKind {
  if (inPatientRecord) return 'patient-record';
  return SHARED_READ_TYPES.get(resourceType) ?? 'owned';
}

/** What a FHIR write is to: a patient's record (its compartment), the directory, or anything else (owned by its sender). */
export type WriteKind = 'patient-record' | 'directory' | 'owned';
/** Who writes: platform administrators and the internal caller; hospital systems; insurers; everyone else (staff). */
export type Writer = 'administrator' | 'hospital' | 'insurer' | 'staff';
/**
 * How far a writer reaches: `any` resource; those of patients it may see (checked by the store against
 * `patientVisible`); those of its own organisation's subtree — the organisation that owns the stored resource
 * and every organisation the new content is for; or `none`.
 */
export type WriteReach = 'any' | 'visible-patients' | 'own-subtree' | 'none';

/**
 * Who may create, update and delete FHIR resources: the one table. SMART scopes (callerAllows) apply on top,
 * and nobody's write changes what tokens resolve by (tokenIdentityOf). "Owned" resources belong to the
 * organisation that created them (fhir_resource.owner_organization_id); an Organization belongs to itself. A
 * stored resource with no owner (written by an administrator or the internal caller, or stored before owners
 * were recorded) is changed by administrators only. A resource the caller may read but not write is refused
 * as FORBIDDEN (403), like registering a patient outside one's organisation; one it may not read stays NOT_FOUND.
 */
export const FHIR_WRITE_RULES: Readonly<Record<WriteKind, Readonly<Record<Writer, WriteReach>>>> = {
  'patient-record': { administrator: 'any', hospital: 'visible-patients', staff: 'visible-patients', insurer: 'none' },
  directory: { administrator: 'any', hospital: 'own-subtree', staff: 'none', insurer: 'none' },
  owned: { administrator: 'any', hospital: 'own-subtree', staff: 'own-subtree', insurer: 'none' },
};

export function writeKindOf(resourceType: string, inPatientRecord: boolean): WriteKind {
  if (DIRECTORY_TYPES.has(resourceType)) return 'directory';
  return inPatientRecord ? 'patient-record' : 'owned';
}

/** One FHIR write as the rule table judges it (paths: organisations' materialised paths). */
export interface FhirWrite {
  resourceType: string;
  action: 'create' | 'update' | 'delete';
  kind: WriteKind;
  /** Update, delete: the path of the organisation that owns the stored resource; null when it has none (or it is unknown). */
  ownerPath?: string | null;
  /** Create, update: the paths of the organisations the new content is for; null for one this server does not know. */
  namedPaths?: Array<string | null>;
}

/**
 * What tokens resolve callers by and what places an organisation in the tree: an Organization's code (our code
 * identifier, else its first identifier) and partOf, a Practitioner's code. They are set when the record is
 * created; no FHIR write changes them, a platform administrator's included — the domain projection never
 * rewrites them and the store refuses a write that would (422). Moving an organisation or renaming a code is an
 * operator's change to the domain tables, never a side effect of an exchanged resource.
 */
export function tokenIdentityOf(resource: Resource): Record<string, string | undefined> | undefined {
  switch (resource.resourceType) {
    case 'Organization': {
      const s = mappings.Organization.fromFhir(resource).domain;
      return { 'Organization.identifier': s.code, 'Organization.partOf': s.parentRef };
    }
    case 'Practitioner':
      return { 'Practitioner.identifier': mappings.Practitioner.fromFhir(resource).domain.code };
    default:
      return undefined;
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
