import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { isUuid } from '../errors.js';
import { Unresolved } from '../unresolved.js';
import { Grid, GridKind, Organization } from './organization.entity.js';

export interface GridInput {
  name?: string;
  /** Unique in the county; a code another grid holds gives way to the grid's id. */
  code?: string;
  kind: GridKind;
  organizationId?: string;
}

/**
 * Management grids (网格): the areas an organisation's teams look after. Part of the county's directory, so
 * written by those who run it for their own organisation and below (AccessPolicy.assertManages).
 */
export class GridService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /**
   * Creates or updates the grid under the sender's id (a FHIR Location with a grid kind), in the caller's unit of
   * work (not flushed). The code is set when the grid is created, as an organisation's is. An organisation the
   * domain does not hold leaves it out: Unresolved.
   */
  async saveUnderId(id: string, input: GridInput, created: boolean): Promise<Grid | Unresolved> {
    const em = this.em;
    const existing = created ? null : await em.findOne(Grid, { id }, { populate: ['organization'] });
    const organization = input.organizationId && isUuid(input.organizationId) ? await em.findOne(Organization, { id: input.organizationId }) : null;
    if (!organization) return new Unresolved('the managing organisation is not in the domain', 'managingOrganization');
    this.policy.assertManages(organization.path);
    if (existing) {
      if (existing.organization.id !== organization.id) this.policy.assertManages(existing.organization.path);
      return em.assign(existing, { name: input.name?.trim() || existing.name, kind: input.kind, organization });
    }
    const wanted = input.code?.trim() || id;
    const taken = await em.findOne(Grid, { code: wanted, id: { $ne: id } });
    const code = taken ? id : wanted;
    return em.create(Grid, { id, version: 1, name: input.name?.trim() || code, code, kind: input.kind, organization } as never) as Grid;
  }
}
