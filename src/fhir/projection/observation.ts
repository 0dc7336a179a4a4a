import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ObservationShape } from '../../../fhir-mappings/index.js';
import { ObservationKind } from '../../../fhir-mappings/codes.js';
import { ObservationService } from '../../domain/observation/observation.service.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { existingRecord, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings } from './context.js';

/** Where in the resource a reading's field is: what a warning's expression names. */
const EXPRESSION: Record<string, string> = {
  value: 'Observation.valueQuantity.value',
  unit: 'Observation.valueQuantity',
  systolic: 'Observation.component',
  diastolic: 'Observation.component',
  effectiveAt: 'Observation.effective',
  subject: 'Observation.subject',
};

const expressionOf = (field: string | undefined, kind: ObservationKind) => {
  const last = field?.split('.').pop() ?? 'value';
  if (kind === ObservationKind.BLOOD_PRESSURE && (last === 'unit' || last === 'value')) return EXPRESSION.systolic!;
  return EXPRESSION[last] ?? 'Observation.value';
};

/**
 * An Observation is written into the domain through ObservationService, by the same rules as readings recorded
 * through GraphQL (`assessReading`). The resource is already stored as sent; what the rules find is a warning on
 * its entry, never a refusal: an implausible reading is stored flagged IMPLAUSIBLE (no control status, left out of
 * the latest readings), a malformed one is left out of the domain. Readings with no value (a dataAbsentReason),
 * kinds the domain does not model, entered-in-error and cancelled ones stay in the store without a word.
 */
export async function projectObservation(ctx: ProjectionContext, id: string, shape: ObservationShape): Promise<ProjectionWarnings> {
  const patientId = idOf(shape.patientRef, 'Patient');
  if (!patientId || !shape.effectiveAt || shape.kind === ObservationKind.OTHER) return [];
  if (shape.status === 'entered-in-error' || shape.status === 'cancelled') {
    // Retracted by its sender: a reading recorded from it before no longer counts (control status, colour, indicators).
    const earlier = await existingRecord(ctx, Observation, id);
    if (earlier) ctx.em.remove(markFromFhir(earlier));
    if (earlier && !ctx.deferFlush) await ctx.em.flush();
    return [];
  }
  if (shape.kind === ObservationKind.BLOOD_PRESSURE ? shape.systolic == null || shape.diastolic == null : shape.value == null) return [];
  const service = new ObservationService(ctx.em, ctx.policy, ctx.rules);
  const { implausible, leftOut } = await service.writeFromFhir(
    {
      kind: shape.kind,
      code: shape.code,
      system: shape.system,
      value: shape.value,
      unit: shape.unit,
      systolic: shape.systolic,
      diastolic: shape.diastolic,
      receivedValue: shape.receivedValue,
      receivedUnit: shape.receivedUnit,
      effectiveAt: shape.effectiveAt,
      source: shape.source,
      deviceId: shape.deviceId,
    },
    {
      id,
      patientId,
      performerId: idOf(shape.performerRef, 'Practitioner'),
      followUpId: idOf(shape.encounterRef, 'Encounter'),
      created: ctx.created,
      deferFlush: ctx.deferFlush,
      mark: markFromFhir,
    },
  );
  const warnings: OperationOutcomeIssue[] = [];
  if (implausible) {
    warnings.push({
      severity: 'warning',
      code: 'business-rule',
      diagnostics: `stored, flagged IMPLAUSIBLE: ${implausible.reason}; left out of control status and the latest readings`,
      expression: [expressionOf(implausible.field, shape.kind)],
    });
  }
  if (leftOut) {
    warnings.push({
      severity: 'warning',
      code: 'value',
      diagnostics: `stored, but not taken into the care record: ${leftOut.message}`,
      expression: [expressionOf(leftOut.field, shape.kind)],
    });
  }
  return warnings;
}
