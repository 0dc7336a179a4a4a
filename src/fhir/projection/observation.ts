import type { ObservationShape } from '../../../fhir-mappings/index.js';
import { ObservationKind } from '../../../fhir-mappings/codes.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { normaliseReading } from '../../domain/observation/observation.service.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { DomainError } from '../../domain/errors.js';
import { fhirError } from '../outcome.js';
import { flushUnlessDeferred, idOf, type ProjectionContext, upsert } from './context.js';

export async function projectObservation(ctx: ProjectionContext, id: string, shape: ObservationShape): Promise<void> {
  const patientId = idOf(shape.patientRef, 'Patient');
  if (!patientId || !shape.effectiveAt || shape.kind === ObservationKind.OTHER) return;
  if (shape.status === 'entered-in-error' || shape.status === 'cancelled') return;
  if (shape.kind === ObservationKind.BLOOD_PRESSURE ? shape.systolic == null || shape.diastolic == null : shape.value == null) return;
  try {
    // The same plausibility rules as readings recorded through GraphQL.
    normaliseReading({ patientId, kind: shape.kind, value: shape.value, unit: shape.unit, systolic: shape.systolic, diastolic: shape.diastolic, effectiveAt: shape.effectiveAt }, ctx.rules);
  } catch (err) {
    if (err instanceof DomainError) throw fhirError(422, 'business-rule', err.message, ['Observation.value']);
    throw err;
  }
  const performerId = idOf(shape.performerRef, 'Practitioner');
  await upsert(ctx, Observation, id, {
    patient: ctx.em.getReference(Patient, patientId),
    code: shape.code,
    system: shape.system,
    kind: shape.kind,
    value: shape.value,
    unit: shape.unit,
    systolic: shape.systolic,
    diastolic: shape.diastolic,
    receivedValue: shape.receivedValue,
    receivedUnit: shape.receivedUnit,
    effectiveAt: shape.effectiveAt,
    source: shape.source,
    deviceId: shape.deviceId,
    performer: performerId && (await ctx.em.findOne(Practitioner, { id: performerId })) ? ctx.em.getReference(Practitioner, performerId) : undefined,
  });
  await flushUnlessDeferred(ctx);
}
