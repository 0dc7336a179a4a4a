import type { PatientShape } from '../../../fhir-mappings/index.js';
import { IdentifiersHeld, normaliseName, PatientService } from '../../domain/patient/patient.service.js';
import { CareStatus, Patient } from '../../domain/patient/patient.entity.js';
import { applyCareStatus } from '../../domain/patient/care-status.js';
import { countyToday } from '../../care-rules/calendar.js';
import { DomainError } from '../../domain/errors.js';
import { fhirError } from '../outcome.js';
import { HeldOutOfReach } from '../store.js';
import { existingRecord, fullDate, markFromFhir, type ProjectionContext } from './context.js';
import { managingOrganization } from './organization.js';

/**
 * A Patient → a patient, through PatientService (the rules GraphQL's registerPatient and updatePatient apply:
 * resident IDs checked against GB 11643 and the birth date, an identifier another patient holds refused). Such an
 * identifier is answered as the store answers it: 409 naming neither the record nor the identifier, audited
 * against its holder.
 */
export async function projectPatient(ctx: ProjectionContext, id: string, shape: PatientShape): Promise<void> {
  const existing = await existingRecord({ ...ctx, created: false }, Patient, id);
  const managing = existing?.managingOrganization ?? (await managingOrganization(ctx, shape.managingOrganizationRef));
  // The domain keeps one identifier per system (the first the resource gives); the store keeps them all. Systems
  // the resource does not carry keep the patient's identifier (PatientService.put merges per system).
  const bySystem = new Map<string, { system: string; value: string; index: number }>();
  shape.identifiers.forEach((ident, index) => {
    if (!bySystem.has(ident.system)) bySystem.set(ident.system, { ...ident, index });
  });
  const identifiers = [...bySystem.values()];
  const service = new PatientService(ctx.em, ctx.systems, ctx.protector, ctx.policy);
  try {
    const patient = await service.put(
      id,
      {
        // What the resource does not carry is left as it is (absent is not cleared); a new record gets what it says.
        name: normaliseName(shape.name ?? '') || existing?.name || '(未登记姓名)',
        gender: shape.gender,
        birthDate: shape.birthDate === undefined ? undefined : (fullDate(shape.birthDate) ?? null),
        phone: shape.phone,
        address: shape.address,
        managingOrganizationId: managing.id,
        identifiers: identifiers.map(({ system, value }) => ({ system, value })),
      },
      existing,
      markFromFhir,
    );
    markFromFhir(patient);
    // A hospital's record that the patient died ends their care here (as setPatientCareStatus DIED would). One that
    // says nothing of it, or deceasedBoolean false, leaves the status alone: only a person brings a patient back.
    if (shape.deceased && patient.careStatus !== CareStatus.DIED) {
      const on = fullDate(shape.deceasedOn);
      applyCareStatus(patient, { status: CareStatus.DIED, on: on && on <= countyToday() ? on : undefined, reason: 'deceased (FHIR Patient from the sending system)' });
      await ctx.em.flush();
    }
  } catch (err) {
    if (err instanceof IdentifiersHeld) throw new HeldOutOfReach('Patient', err.holderIds[0]);
    if (err instanceof DomainError && err.code === 'BAD_USER_INPUT') {
      // `identifiers.2.value` is the resource's identifier at its own index.
      const m = /^identifiers\.(\d+)(\..*)?$/.exec(err.field ?? '');
      const at = m ? `Patient.identifier[${identifiers[Number(m[1])]!.index}]${m[2] ?? ''}` : err.field ? `Patient.${err.field}` : 'Patient';
      throw fhirError(422, 'business-rule', err.message, [at]);
    }
    throw err;
  }
}
