import type { OrganizationShape } from '../../../fhir-mappings/index.js';
import { Organization, OrganizationLevel, OrganizationType } from '../../domain/organization/organization.entity.js';
import { idOf, type ProjectionContext, upsert } from './context.js';

const UNASSIGNED_ID = '00000000-0000-7000-8000-000000000001';

/** Where a patient is managed: as sent if we know the organisation, else by whoever sent it, else the county lead. */
export async function managingOrganization(ctx: ProjectionContext, ref: string | undefined): Promise<Organization> {
  const em = ctx.em;
  const sentId = idOf(ref, 'Organization');
  const sent = sentId ? await em.findOne(Organization, { id: sentId }) : null;
  if (sent && sent.level !== OrganizationLevel.EXTERNAL) return sent;
  const callerOrg = ctx.policy.caller.organizationId;
  if (callerOrg) return em.findOneOrFail(Organization, { id: callerOrg });
  const lead = await em.findOne(Organization, { parent: null, level: OrganizationLevel.COUNTY }, { orderBy: { code: 'asc' } });
  if (lead) return lead;
  // Two first imports at once both find no county: `on conflict` lets the second wait for the first's row.
  await em.execute(
    `insert into organization (id, created_at, updated_at, version, name, code, level, type, path)
     values (?, now(), now(), 1, ?, ?, ?, ?, ?) on conflict do nothing`,
    [UNASSIGNED_ID, '未分配 Unassigned', 'UNASSIGNED', OrganizationLevel.COUNTY, OrganizationType.OTHER, `/${UNASSIGNED_ID}/`],
  );
  return em.findOneOrFail(Organization, { id: UNASSIGNED_ID });
}

/**
 * An organisation's code, parent and path are set when it is created and never rewritten from FHIR: tokens
 * resolve callers by the code, and every access rule goes by the path (policy.ts, tokenIdentityOf — the store
 * refuses a write that would change them). An update changes what the organisation is called, where it is,
 * how it is reached; level and type only when it says them.
 */
export async function projectOrganization(ctx: ProjectionContext, id: string, shape: OrganizationShape): Promise<void> {
  const existing = ctx.created ? null : await ctx.em.findOne(Organization, { id }, { filters: false });
  if (existing) {
    await upsert(ctx, Organization, id, {
      name: shape.name ?? existing.name,
      level: shape.level ?? existing.level,
      type: shape.type ?? existing.type,
      address: shape.address,
      phone: shape.phone,
    });
  } else {
    const parentId = idOf(shape.parentRef, 'Organization');
    const parent = parentId ? await ctx.em.findOne(Organization, { id: parentId }) : null;
    const code = shape.code ?? id;
    const taken = await ctx.em.findOne(Organization, { code, id: { $ne: id } });
    await upsert({ ...ctx, created: true }, Organization, id, {
      name: shape.name ?? code,
      code: taken ? id : code,
      level: shape.level ?? OrganizationLevel.EXTERNAL,
      type: shape.type ?? OrganizationType.OTHER,
      parent: parent ?? undefined,
      path: `${parent?.path ?? '/'}${id}/`,
      address: shape.address,
      phone: shape.phone,
    });
  }
  // Written at once, even in a transaction: the access checks of the resources that follow look it up in SQL.
  await ctx.em.flush();
}
