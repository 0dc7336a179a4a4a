import type { PractitionerRoleShape } from '../../../fhir-mappings/index.js';
import { PractitionerRoleService } from '../../domain/practitioner/practitioner-role.service.js';
import { isUnresolved } from '../../domain/unresolved.js';
import { directoryId } from './references.js';
import { flushUnlessDeferred, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';

/** A role of a practitioner at an organisation the domain holds; a care team's members take their roles from here. */
export async function projectPractitionerRole(ctx: ProjectionContext, id: string, shape: PractitionerRoleShape): Promise<ProjectionWarnings> {
  const practitionerId = await directoryId(ctx, shape.practitionerRef, 'Practitioner');
  const organizationId = await directoryId(ctx, shape.organizationRef, 'Organization');
  const saved = await viaService('PractitionerRole', () =>
    new PractitionerRoleService(ctx.em, ctx.policy).saveUnderId(
      id,
      { practitionerId, organizationId, role: shape.role, specialty: shape.specialty },
      ctx.created,
    ),
  );
  if (isUnresolved(saved)) return [warning('incomplete', `${saved.message}: kept in the FHIR store only`, [`PractitionerRole.${saved.element}`])];
  markFromFhir(saved);
  await flushUnlessDeferred(ctx);
  return [];
}
