import type { ConditionShape } from '../../../fhir-mappings/index.js';
import { Condition } from '../../domain/condition/condition.entity.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { flushUnlessDeferred, fullDate, idOf, type ProjectionContext, upsert } from './context.js';

export async function projectCondition(ctx: ProjectionContext, id: string, shape: ConditionShape): Promise<void> {
  const patientId = idOf(shape.patientRef, 'Patient');
  if (!patientId || !shape.code || !shape.system) return; // text-only or patient-less conditions stay in the store
  const confirmedById = idOf(shape.confirmedByRef, 'Organization');
  await upsert(ctx, Condition, id, {
    patient: ctx.em.getReference(Patient, patientId),
    code: shape.code,
    system: shape.system,
    display: shape.display,
    kind: shape.kind,
    onsetDate: fullDate(shape.onsetDate),
    clinicalStatus: shape.clinicalStatus,
    verificationStatus: shape.verificationStatus,
    confirmedBy: confirmedById && (await ctx.em.findOne(Organization, { id: confirmedById })) ? ctx.em.getReference(Organization, confirmedById) : undefined,
    confirmedAt: shape.confirmedAt,
  });
  await flushUnlessDeferred(ctx);
}
