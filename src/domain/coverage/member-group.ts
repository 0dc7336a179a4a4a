import type { EntityManager } from '../../db/orm.js';
import { isUuid } from '../errors.js';
import { Organization, OrganizationType } from '../organization/organization.entity.js';

/**
 * The FHIR Group of an insurer's covered members has the insurer Organization's own id (`Group/{insurer id}`), so
 * it needs no table of its own and cannot drift from Coverage: the id is the insurer, the members are read from the
 * coverage table when asked. Self-management groups have ids of their own records, so the two kinds never share an
 * id. This answers which insurer a Group id names, or undefined when the id is not an insurer's (a self-management
 * group, an unknown id, not a uuid). It says nothing about who may read the Group: the caller asks the policy.
 * Organisations are the directory (everyone may read them), so the lookup is not held to the access filter.
 */
export async function insurerOfGroup(em: EntityManager, groupId: string): Promise<Organization | undefined> {
  if (!isUuid(groupId)) return undefined;
  const org = await em.findOne(Organization, { id: groupId, type: OrganizationType.INSURER }, { filters: false });
  return org ?? undefined;
}
