import type { CoverageShape } from '../../../fhir-mappings/index.js';
import { CoverageService } from '../../domain/coverage/coverage.service.js';
import { isUnresolved } from '../../domain/unresolved.js';
import { flushUnlessDeferred, fullDate, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';

/** A membership whose insurer (or patient) the domain does not hold stays in the FHIR store, with a warning. */
export async function projectCoverage(ctx: ProjectionContext, id: string, shape: CoverageShape): Promise<ProjectionWarnings> {
  const patientId = idOf(shape.patientRef, 'Patient');
  if (!patientId) return [warning('incomplete', 'Coverage.beneficiary names no patient of this server: kept in the FHIR store only', ['Coverage.beneficiary'])];
  const saved = await viaService('Coverage', () =>
    new CoverageService(ctx.em, ctx.policy).saveUnderId(
      id,
      {
        patientId,
        insurerId: idOf(shape.insurerRef, 'Organization'),
        memberNumber: shape.memberNumber,
        plan: shape.plan,
        status: shape.status,
        periodStart: fullDate(shape.periodStart),
        periodEnd: fullDate(shape.periodEnd),
      },
      ctx.created,
    ),
  );
  if (isUnresolved(saved)) return [warning('incomplete', `${saved.message}: kept in the FHIR store only`, [`Coverage.${saved.element}`])];
  markFromFhir(saved);
  await flushUnlessDeferred(ctx);
  return [];
}
