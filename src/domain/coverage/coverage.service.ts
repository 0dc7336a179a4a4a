import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { badInput, isUuid } from '../errors.js';
import { Organization, OrganizationType } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Unresolved } from '../unresolved.js';
import { Coverage, CoverageStatus } from './coverage.entity.js';

export interface CoverageInput {
  patientId: string;
  /** The insurer: an organisation of the domain (a county medical-insurance bureau, a commercial insurer). */
  insurerId?: string;
  memberNumber?: string;
  plan?: string;
  status: CoverageStatus;
  periodStart?: string;
  periodEnd?: string;
}

/**
 * Medical-insurance memberships. A membership is what lets an insurer see its member (AccessPolicy.patientVisible:
 * an active membership in force today, unless the patient withdrew consent to share), so the rules are here, once.
 */
export class CoverageService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /** The rules every membership is held to, whoever records it. */
  static check(input: CoverageInput): void {
    if (input.periodStart && input.periodEnd && input.periodEnd < input.periodStart) throw badInput('periodEnd is before periodStart', 'periodEnd');
  }

  /**
   * Creates or updates a membership under the sender's id (a FHIR Coverage), in the caller's unit of work (not
   * flushed: the caller flushes). Left out of the domain (Unresolved) when a link cannot be followed or a fact the
   * domain needs is missing: an unknown patient, an insurer not in the domain (Synthea's payors are names only), no
   * member number, no start date, or a member number the insurer already gave another membership; and whenever
   * the caller does not manage the patient (AccessPolicy.manages) or the payor is not an insurer.
   */
  async saveUnderId(id: string, input: CoverageInput, created: boolean): Promise<Coverage | Unresolved> {
    const em = this.em;
    const existing = created ? null : await em.findOne(Coverage, { id }, { filters: false });
    this.policy.assertCan('Coverage', existing ? 'u' : 'c');
    CoverageService.check(input);
    const patient = isUuid(input.patientId) ? await em.findOne(Patient, { id: input.patientId }, { populate: ['managingOrganization'] }) : null;
    if (!patient) return new Unresolved(`patient ${input.patientId} is not in the domain`, 'beneficiary');
    // A membership shows the patient's whole record to its insurer: it is decided where the patient is managed
    // (or by an administrator), not by whoever may write to the record (a hospital on a referral, a care team).
    if (!this.policy.manages(patient.managingOrganization.path)) {
      return new Unresolved('a membership is taken into the care record only from the organisation that manages the patient', 'beneficiary');
    }
    const insurer = input.insurerId && isUuid(input.insurerId) ? await em.findOne(Organization, { id: input.insurerId }) : null;
    if (!insurer) return new Unresolved('the insurer is not an organisation of the domain', 'payor');
    if (insurer.type !== OrganizationType.INSURER) return new Unresolved('the payor is not an insurer', 'payor');
    const memberNumber = input.memberNumber?.trim();
    if (!memberNumber) return new Unresolved('no member number (subscriberId or identifier)', 'subscriberId');
    if (!input.periodStart) return new Unresolved('no start of the membership (period.start)', 'period');
    // Read past the access filter (member numbers are unique per insurer, county-wide); the answer says no more
    // than that the membership was not taken in, so that it does not tell which member numbers exist.
    const holder = await em.findOne(Coverage, { insurer, memberNumber, id: { $ne: id } }, { filters: false });
    if (holder) return new Unresolved('not taken into the care record', 'subscriberId');
    const data = { patient, insurer, memberNumber, plan: input.plan, status: input.status, periodStart: input.periodStart, periodEnd: input.periodEnd };
    if (existing) return em.assign(existing, data as never);
    return em.create(Coverage, { id, version: 1, ...data } as never) as Coverage;
  }
}
