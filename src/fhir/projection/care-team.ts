import type { CareTeamShape } from '../../../fhir-mappings/index.js';
import { CareTeamService } from '../../domain/care-team/care-team.service.js';
import { isUnresolved } from '../../domain/unresolved.js';
import { directoryId } from './references.js';
import { flushUnlessDeferred, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';

/**
 * A CareTeam of an organisation the domain holds becomes its team; its practitioner participants become members
 * (other participants — the patient, an organisation — are not members). Only an active (or proposed) team has
 * members: membership gives access to patients.
 */
export async function projectCareTeam(ctx: ProjectionContext, id: string, shape: CareTeamShape): Promise<ProjectionWarnings> {
  const members = shape.members.flatMap((m) => {
    const practitionerId = idOf(m.memberRef, 'Practitioner');
    return practitionerId ? [{ practitionerId, role: m.role }] : [];
  });
  const organizationId = await directoryId(ctx, shape.organizationRef, 'Organization');
  const saved = await viaService('CareTeam', () =>
    new CareTeamService(ctx.em, ctx.policy).saveUnderId(
      id,
      {
        name: shape.name,
        organizationId,
        gridId: idOf(shape.gridRef, 'Location'),
        active: !shape.status || shape.status === 'active' || shape.status === 'proposed',
        members,
      },
      ctx.created,
    ),
  );
  if (isUnresolved(saved)) return [warning('incomplete', `${saved.message}: kept in the FHIR store only`, [`CareTeam.${saved.element}`])];
  markFromFhir(saved.team);
  await flushUnlessDeferred(ctx);
  return saved.leftOut.map((u) => warning('incomplete', `${u.message}: not in the domain's team`, [`CareTeam.${u.element}`]));
}
