import type { Resource } from '@medplum/fhirtypes';
import type { IdentifierSystems } from '../../config.js';
import { type CareRules, DEFAULT_CARE_RULES } from '../../care-rules/rules.js';
import type { EntityManager } from '../../db/orm.js';
import type { IdentifierProtector } from '../../access/identifier-protection.js';
import type { AccessPolicy } from '../../access/policy.js';
import { FhirMappingError, mappingFor } from '../../../fhir-mappings/index.js';
import { fhirError } from '../outcome.js';
import { markFromFhir, newLinks, type ProjectionContext, type ProjectionWarnings, type Projector } from './context.js';
import { projectCarePlan, projectGoal } from './care-plan.js';
import { projectEncounter } from './encounter.js';
import { projectServiceRequest, projectTask } from './referral.js';
import { projectCondition } from './condition.js';
import { projectCareTeam } from './care-team.js';
import { projectConsent } from './consent.js';
import { projectCoverage } from './coverage.js';
import { projectLocation } from './location.js';
import { projectMedication, projectMedicationRequest, projectMedicationStatement } from './medication.js';
import { projectPractitionerRole } from './practitioner-role.js';
import { projectObservation } from './observation.js';
import { projectOrganization } from './organization.js';
import { projectPatient } from './patient.js';
import { projectPractitioner } from './practitioner.js';

/**
 * One projector per resource type the domain models: the pure mapping turns the resource into its domain shape,
 * the projector writes that shape into the domain. Types not listed here live in the FHIR store only.
 */
const PROJECTORS: Record<string, Projector<never>> = {
  Patient: projectPatient,
  Condition: projectCondition,
  Observation: projectObservation,
  Organization: projectOrganization,
  Practitioner: projectPractitioner,
  Encounter: projectEncounter,
  ServiceRequest: projectServiceRequest,
  Task: projectTask,
  CarePlan: projectCarePlan,
  Goal: projectGoal,
  PractitionerRole: projectPractitionerRole,
  Location: projectLocation,
  CareTeam: projectCareTeam,
  Coverage: projectCoverage,
  Consent: projectConsent,
  Medication: projectMedication,
  MedicationRequest: projectMedicationRequest,
  MedicationStatement: projectMedicationStatement,
};

/** The domain records a FHIR delete removes, by resource type (entity class names: what the records are kept as). */
const REMOVED_WITH: Record<string, string[]> = {
  Observation: ['Observation'],
  Condition: ['Condition'],
  Encounter: ['FollowUp', 'Admission'],
  Goal: ['CarePlanGoal'],
  Coverage: ['Coverage'],
  Consent: ['Consent'],
  MedicationRequest: ['MedicationUse'],
  MedicationStatement: ['MedicationUse'],
};

/**
 * Projects FHIR resources of the types the domain models into the domain tables, under the resource's own
 * id, so that what hospitals send is seen by GraphQL, the worklists and the indicators. The FHIR store keeps
 * the resource itself; this keeps the domain's view of it in step.
 */
export class DomainProjection {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly protector: IdentifierProtector,
    private readonly systems: IdentifierSystems,
    private readonly rules: CareRules = DEFAULT_CARE_RULES,
  ) {}

  static readonly PROJECTED = new Set(Object.keys(PROJECTORS));

  /**
   * Types whose content the mapping may fail to read (a unit it cannot convert, a panel without its components)
   * while the resource is valid FHIR: stored as sent, left out of the domain, with a warning — never refused for
   * clinical content. Other types' mapping errors are still 422.
   */
  static readonly STORED_WHEN_UNREADABLE = new Set(['Observation']);

  /**
   * Set while a transaction Bundle runs: its hundreds of readings are written in one flush at the end (batched
   * inserts) rather than one by one. Patients, organisations and practitioners are still written at once —
   * the access checks of the resources that follow look them up in SQL.
   */
  deferFlush = false;

  /** Resources of this unit of work that link to each other one way (context.ts). */
  private readonly links = newLinks();

  /**
   * A resource deleted from the store takes its record out of the domain: a reading deleted by the hospital that sent
   * it no longer counts for control status, worklists or indicators. Removed through the unit of work, so that the
   * removal is an event (`ObservationRemoved`, …) like any other change. Patients and the directory are not removed
   * by a FHIR delete (their records are referred to across the county); a referral ends through its Task.
   */
  /**
   * Whether the caller may take this resource's record out of the domain, asked before the store deletes it: seeing
   * a patient (a hospital on a referral, a care-team member) lets one add to the record, not erase what the
   * managing organisation recorded. The organisation that manages the patient may, and the one that sent the
   * resource (its owner, `ownerOrganizationId`); else 403 and nothing is deleted.
   */
  async assertMayRemove(resourceType: string, id: string, row: { patient_id?: string | null; owner_organization_id?: string | null }): Promise<void> {
    const policy = this.policy;
    if (policy.seesEverything || !REMOVED_WITH[resourceType]) return;
    if (row.owner_organization_id && row.owner_organization_id === policy.caller.organizationId) return;
    let recorded = false;
    for (const className of REMOVED_WITH[resourceType]!) {
      const meta = this.em.getMetadata().getByClassName(className, false);
      // Read past the filter: this is the access decision, on the record under the resource's own id.
      if (meta && (await this.em.count(meta.class, { id } as never, { filters: false }))) recorded = true;
    }
    if (!recorded) return; // in the FHIR store only: deleted as any other resource
    const [managing] = row.patient_id
      ? ((await this.em.execute(`select o.path from patient p join organization o on o.id = p.managing_organization_id where p.id = ?`, [row.patient_id])) as Array<{ path: string }>)
      : [];
    if (!managing || !policy.manages(managing.path)) {
      throw fhirError(403, 'forbidden', `${resourceType}/${id} is in a record your organisation does not manage and was not sent by it: only they may delete it`);
    }
  }

  async remove(resourceType: string, id: string): Promise<void> {
    const classes = REMOVED_WITH[resourceType];
    if (!classes) return;
    for (const className of classes) {
      const meta = this.em.getMetadata().getByClassName(className, false);
      // Read past the filter: the store has just authorised the delete of this very resource.
      const record = meta ? await this.em.findOne(meta.class, { id } as never, { filters: false }) : null;
      if (record) this.em.remove(markFromFhir(record as object));
    }
    if (!this.deferFlush) await this.em.flush();
  }

  /** Projects one stored resource (in clear); the warnings go on its entry of the Bundle response. */
  async project(resource: Resource, created = false): Promise<ProjectionWarnings> {
    const projector = PROJECTORS[resource.resourceType];
    if (!projector) return [];
    let shape: never;
    try {
      shape = mappingFor(resource.resourceType)!.fromFhir(resource).domain as never;
    } catch (err) {
      if (!(err instanceof FhirMappingError) || !DomainProjection.STORED_WHEN_UNREADABLE.has(resource.resourceType)) throw err;
      return [{ ...err.toIssue(), severity: 'warning', diagnostics: `stored, but not taken into the care record: ${err.message}` }];
    }
    const ctx: ProjectionContext = { em: this.em, policy: this.policy, protector: this.protector, systems: this.systems, rules: this.rules, created, deferFlush: this.deferFlush, links: this.links };
    return (await projector(ctx, resource.id!, shape)) ?? [];
  }
}
