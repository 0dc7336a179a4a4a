import type { PatientShape } from '../../../fhir-mappings/index.js';
import { identifierKind, normaliseName } from '../../domain/patient/patient.service.js';
import { Patient, PatientIdentifier } from '../../domain/patient/patient.entity.js';
import { parseResidentId } from '../../domain/patient/resident-id.js';
import { fhirError } from '../outcome.js';
import { HeldOutOfReach } from '../store.js';
import { fullDate, markFromFhir, type ProjectionContext, upsert } from './context.js';
import { managingOrganization } from './organization.js';

export async function projectPatient(ctx: ProjectionContext, id: string, shape: PatientShape): Promise<void> {
  const { em, policy } = ctx;
  const existing = await em.findOne(Patient, { id }, { filters: false });
  const managing = existing?.managingOrganization ?? (await managingOrganization(ctx, shape.managingOrganizationRef));
  // As registerPatient: staff register patients for their own organisation and below. Hospital systems send the
  // records of patients managed anywhere in the county (a referral, an admission), so they are not held to it.
  if (!existing && policy.caller.kind === 'user') policy.assertManages(managing.path);
  const patient = await upsert({ ...ctx, created: !existing }, Patient, id, {
    name: normaliseName(shape.name ?? '') || '(未登记姓名)',
    gender: shape.gender,
    birthDate: fullDate(shape.birthDate),
    phone: shape.phone,
    address: shape.address,
    managingOrganization: managing,
    ...(existing ? {} : { registeredBy: policy.caller.organizationId ?? managing.id }),
  });
  const current = existing ? await em.find(PatientIdentifier, { patient: id }, { filters: false }) : [];
  const seen = new Set<string>();
  for (const [i, ident] of shape.identifiers.entries()) {
    if (seen.has(ident.system)) continue; // the domain keeps one identifier per system; the store keeps them all
    seen.add(ident.system);
    const kind = identifierKind(ident.system, ctx.systems);
    const value = kind === 'RESIDENT_ID' ? ident.value.trim().toUpperCase() : ident.value.trim();
    if (kind === 'RESIDENT_ID' && !parseResidentId(value)) {
      throw fhirError(422, 'business-rule', 'resident ID fails the GB 11643 check', [`Patient.identifier[${i}].value`]);
    }
    const protectedId = ctx.protector.protect(ident.system, kind, value);
    const holder = await em.findOne(PatientIdentifier, { system: ident.system, lookup: protectedId.lookup }, { filters: false });
    // Answered as the store answers it: naming neither the record nor the identifier; the audit names the patient.
    if (holder && holder.patient.id !== id) throw new HeldOutOfReach('Patient', holder.patient.id);
    if (holder) continue;
    for (const old of current.filter((c) => c.system === ident.system)) em.remove(old);
    markFromFhir(em.create(PatientIdentifier, { patient, system: ident.system, kind, ...protectedId, version: 1 } as never));
  }
  // Written at once, even in a transaction: the access checks of the resources that follow look it up in SQL.
  await em.flush();
}
