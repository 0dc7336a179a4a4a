import type { ConditionShape } from '../../../fhir-mappings/index.js';
import { isKnownConditionSystem } from '../../../fhir-mappings/codes.js';
import { Condition } from '../../domain/condition/condition.entity.js';
import { ConditionService } from '../../domain/condition/condition.service.js';
import { existingRecord, flushUnlessDeferred, fullDate, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService } from './context.js';
import { knownOrganization, knownPatient } from './links.js';

/** A Condition → a diagnosis, through ConditionService (GraphQL's addCondition rules). */
export async function projectCondition(ctx: ProjectionContext, id: string, shape: ConditionShape): Promise<ProjectionWarnings> {
  const patient = idOf(shape.patientRef, 'Patient') ? await knownPatient(ctx, shape.patientRef) : null;
  // Text-only, patient-less conditions, and codes of systems the domain does not classify, stay in the store.
  if (!patient || !shape.code || !shape.system || !isKnownConditionSystem(shape.system.trim())) return [];
  const warnings: ProjectionWarnings = [];
  const confirmedById = await knownOrganization(ctx, shape.confirmedByRef, 'Condition.extension', warnings);
  const existing = await existingRecord(ctx, Condition, id);
  const condition = await viaService('Condition', () =>
    new ConditionService(ctx.em, ctx.policy).put(
      id,
      {
        patientId: patient.id,
        code: shape.code!,
        system: shape.system!,
        display: shape.display,
        onsetDate: fullDate(shape.onsetDate),
        clinicalStatus: shape.clinicalStatus,
        verificationStatus: shape.verificationStatus,
        confirmedByOrganizationId: confirmedById,
        confirmedAt: shape.confirmedAt,
      },
      existing,
    ),
  );
  markFromFhir(condition);
  await flushUnlessDeferred(ctx);
  return warnings;
}
