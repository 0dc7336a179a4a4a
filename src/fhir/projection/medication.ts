import type { Medication } from '@medplum/fhirtypes';
import { type MedicationShape, type MedicineShape, medicationStatusOf, medicineOfMedication } from '../../../fhir-mappings/index.js';
import type { MedicationSource } from '../../domain/medication/medication.entity.js';
import { MedicationService } from '../../domain/medication/medication.service.js';
import { isUnresolved } from '../../domain/unresolved.js';
import { FhirResource } from '../fhir-resource.entity.js';
import { flushUnlessDeferred, fullDate, idOf, markFromFhir, type ProjectionContext, type ProjectionLinks, type ProjectionWarnings, viaService, warning } from './context.js';

/**
 * The Medications this unit of work has seen (one interaction, one Bundle: keyed by its links), by id: a Synthea
 * transaction sends each Medication just before the MedicationRequest naming it, and the store writes new rows
 * only at the end of the Bundle.
 */
const medicinesSeen = new WeakMap<ProjectionLinks, Map<string, MedicineShape>>();

const seenIn = (ctx: ProjectionContext): Map<string, MedicineShape> => {
  let seen = medicinesSeen.get(ctx.links);
  if (!seen) medicinesSeen.set(ctx.links, (seen = new Map()));
  return seen;
};

/** A Medication is the FHIR store's; the domain only reads its code for the prescriptions naming it. */
export async function projectMedication(ctx: ProjectionContext, id: string, shape: MedicineShape): Promise<void> {
  seenIn(ctx).set(id, shape);
}

/** The medicine a `Medication/<id>` reference names: seen in this unit of work, else as stored. */
async function medicineNamed(ctx: ProjectionContext, ref: string | undefined): Promise<MedicineShape | undefined> {
  const id = idOf(ref, 'Medication');
  if (!id) return undefined;
  const seen = seenIn(ctx).get(id);
  if (seen) return seen;
  const row = await ctx.em.findOne(FhirResource, { id, resourceType: 'Medication', deleted: false }, { fields: ['content'] });
  if (!row) return undefined;
  const medicine = medicineOfMedication(row.content as unknown as Medication);
  seenIn(ctx).set(id, medicine);
  return medicine;
}

function projectMedicationUse(sourceType: MedicationSource) {
  return async (ctx: ProjectionContext, id: string, shape: MedicationShape): Promise<ProjectionWarnings> => {
    const service = new MedicationService(ctx.em, ctx.policy);
    const status = medicationStatusOf(shape.status);
    if (!status) {
      // Entered in error: it says nothing, and the domain forgets what it said before.
      await service.removeUnderId(id);
      await flushUnlessDeferred(ctx);
      return [];
    }
    const patientId = idOf(shape.patientRef, 'Patient');
    if (!patientId) return [warning('incomplete', `${sourceType}.subject names no patient of this server: kept in the FHIR store only`, [`${sourceType}.subject`])];
    const warnings: ProjectionWarnings = [];
    let medicine: MedicineShape = shape;
    if (shape.medicationRef) {
      const named = await medicineNamed(ctx, shape.medicationRef);
      if (named) medicine = { ...named, text: named.text ?? shape.text };
      else warnings.push(warning('informational', `${shape.medicationRef} is not a Medication of this server: the medicine is known by its name only`, [`${sourceType}.medicationReference`]));
    }
    const saved = await viaService(sourceType, () =>
      service.saveUnderId(
        id,
        {
          patientId,
          code: medicine.code,
          system: medicine.system,
          name: medicine.text ?? medicine.display ?? shape.text,
          drugClass: medicine.drugClass,
          status,
          dosage: shape.dosage,
          since: fullDate(shape.periodStart) ?? fullDate(shape.authoredOn),
          until: fullDate(shape.periodEnd),
          sourceType,
          organizationId: ctx.policy.caller.organizationId ?? undefined,
        },
        ctx.created,
      ),
    );
    if (isUnresolved(saved)) return [...warnings, warning('incomplete', `${saved.message}: kept in the FHIR store only`, [`${sourceType}.${saved.element ?? 'subject'}`])];
    markFromFhir(saved);
    await flushUnlessDeferred(ctx);
    return warnings;
  };
}

export const projectMedicationRequest = projectMedicationUse('MedicationRequest');
export const projectMedicationStatement = projectMedicationUse('MedicationStatement');
