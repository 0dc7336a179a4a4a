import type { ConsentShape } from '../../../fhir-mappings/index.js';
import { countyToday } from '../../care-rules/calendar.js';
import { ConsentService } from '../../domain/consent/consent.service.js';
import { isUnresolved } from '../../domain/unresolved.js';
import { flushUnlessDeferred, fullDate, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';

/**
 * An active Consent for one of our purposes is a decision the access policy honours; a Consent in any other state
 * (draft, proposed, rejected, inactive, entered in error) decides nothing, and one that did before is withdrawn
 * from the domain. A decision with no period is in force from the day it was recorded.
 */
export async function projectConsent(ctx: ProjectionContext, id: string, shape: ConsentShape): Promise<ProjectionWarnings> {
  const service = new ConsentService(ctx.em, ctx.policy);
  if (shape.status !== 'active') {
    await service.removeUnderId(id);
    await flushUnlessDeferred(ctx);
    return [];
  }
  if (!shape.purpose) {
    await service.removeUnderId(id);
    await flushUnlessDeferred(ctx);
    return [warning('informational', 'the Consent names none of the purposes the county decides on (treatment, insurer sharing, research): kept in the FHIR store only', ['Consent.category'])];
  }
  const patientId = idOf(shape.patientRef, 'Patient');
  if (!patientId) return [warning('incomplete', 'Consent.patient names no patient of this server: kept in the FHIR store only', ['Consent.patient'])];
  const recordedOn = shape.recordedAt ? countyToday(shape.recordedAt) : undefined;
  const saved = await viaService('Consent', () =>
    service.saveUnderId(
      id,
      {
        patientId,
        purpose: shape.purpose!,
        decision: shape.decision,
        periodStart: fullDate(shape.periodStart) ?? recordedOn ?? countyToday(),
        periodEnd: fullDate(shape.periodEnd),
        note: shape.note,
        recordedById: idOf(shape.recordedByRef, 'Practitioner'),
      },
      ctx.created,
    ),
  );
  if (isUnresolved(saved)) return [warning('incomplete', `${saved.message}: kept in the FHIR store only`, [`Consent.${saved.element}`])];
  markFromFhir(saved);
  await flushUnlessDeferred(ctx);
  return [];
}
