import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { isUuid } from '../errors.js';
import { Organization } from '../organization/organization.entity.js';
import { Unresolved } from '../unresolved.js';
import { Practitioner, PractitionerRole, PractitionerRoleCode } from './practitioner.entity.js';

export interface PractitionerRoleInput {
  practitionerId?: string;
  organizationId?: string;
  role?: PractitionerRoleCode;
  specialty?: string;
}

/**
 * What practitioners do where. Part of the directory (written for the caller's own organisation and below,
 * AccessPolicy.assertManages); a care team's member takes their role from here when the team does not say it.
 */
export class PractitionerRoleService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /**
   * Creates or updates the role under the sender's id (a FHIR PractitionerRole), in the caller's unit of work (not
   * flushed). Left out (Unresolved) when the practitioner or organisation is not in the domain, the role is none the
   * domain knows, or the practitioner already holds that role there under another id.
   */
  async saveUnderId(id: string, input: PractitionerRoleInput, created: boolean): Promise<PractitionerRole | Unresolved> {
    const em = this.em;
    const practitioner = input.practitionerId && isUuid(input.practitionerId) ? await em.findOne(Practitioner, { id: input.practitionerId }) : null;
    if (!practitioner) return new Unresolved('the practitioner is not in the domain', 'practitioner');
    const organization = input.organizationId && isUuid(input.organizationId) ? await em.findOne(Organization, { id: input.organizationId }) : null;
    if (!organization) return new Unresolved('the organisation is not in the domain', 'organization');
    if (!input.role) return new Unresolved('no role the domain knows (SNOMED CT occupation, NUCC taxonomy or ours)', 'code');
    this.policy.assertManages(organization.path);
    const existing = created ? null : await em.findOne(PractitionerRole, { id }, { populate: ['organization'] });
    if (existing && existing.organization.id !== organization.id) this.policy.assertManages(existing.organization.path);
    const holder = await em.findOne(PractitionerRole, { practitioner, organization, role: input.role, id: { $ne: id } });
    if (holder) return new Unresolved('the practitioner already holds this role at this organisation', 'code');
    const data = { practitioner, organization, role: input.role, specialty: input.specialty };
    if (existing) return em.assign(existing, data as never);
    return em.create(PractitionerRole, { id, version: 1, ...data } as never) as PractitionerRole;
  }
}
