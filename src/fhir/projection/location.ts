import type { LocationShape } from '../../../fhir-mappings/index.js';
import { GridService } from '../../domain/organization/grid.service.js';
import { isUnresolved } from '../../domain/unresolved.js';
import { directoryId } from './references.js';
import { markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';

/**
 * A Location whose type says a grid kind is a management grid (网格); other Locations (buildings, wards, Synthea's
 * sites) are the FHIR store's only. Written at once, even in a transaction: patients and teams that follow name it.
 */
export async function projectLocation(ctx: ProjectionContext, id: string, shape: LocationShape): Promise<ProjectionWarnings> {
  if (!shape.gridKind) return [];
  const organizationId = await directoryId(ctx, shape.organizationRef, 'Organization');
  const saved = await viaService('Location', () =>
    new GridService(ctx.em, ctx.policy).saveUnderId(id, { name: shape.name, code: shape.code, kind: shape.gridKind!, organizationId }, ctx.created),
  );
  if (isUnresolved(saved)) return [warning('incomplete', `${saved.message}: kept in the FHIR store only`, [`Location.${saved.element}`])];
  markFromFhir(saved);
  await ctx.em.flush();
  return [];
}
