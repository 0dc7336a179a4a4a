import type { CodeableConcept, PractitionerRole } from '@medplum/fhirtypes';
import { PractitionerRoleCode } from '../vocabulary/index.js';
import { classifyPractitionerRole, NCD_SYSTEMS, PRACTITIONER_ROLE_DISPLAY, ROLE_SNOMED, SYSTEMS } from './codes.js';
import { coding, defineMapping, enumFrom, ncdConcept, refOf, toReference } from './common.js';
import type { PractitionerRoleShape } from './domain-shapes.js';

/** Our role from any coding we understand, ours first. */
export function roleOf(concepts: CodeableConcept[] | undefined): PractitionerRoleCode | undefined {
  const codings = (concepts ?? []).flatMap((c) => c.coding ?? []);
  const ordered = [...codings.filter((c) => c.system === NCD_SYSTEMS.practitionerRole), ...codings];
  for (const c of ordered) {
    const role = c.system && c.code ? enumFrom(PractitionerRoleCode, classifyPractitionerRole(c.system, c.code)) : undefined;
    if (role) return role;
  }
  return undefined;
}

export function roleConcept(role: PractitionerRoleCode): CodeableConcept {
  const snomed = ROLE_SNOMED[role];
  return ncdConcept(NCD_SYSTEMS.practitionerRole, role, PRACTITIONER_ROLE_DISPLAY[role]!, snomed ? [coding(SYSTEMS.snomed, snomed.code, snomed.display)] : []);
}

export const practitionerRoleMapping = defineMapping<PractitionerRole, PractitionerRoleShape>({
  resourceType: 'PractitionerRole',
  read(r) {
    const specialty = r.specialty?.[0];
    return {
      practitionerRef: refOf(r.practitioner, 'Practitioner'),
      organizationRef: refOf(r.organization, 'Organization'),
      role: roleOf(r.code),
      specialty: specialty?.text ?? specialty?.coding?.find((c) => c.display)?.display,
    };
  },
  build(s) {
    return {
      resourceType: 'PractitionerRole',
      practitioner: toReference(s.practitionerRef),
      organization: toReference(s.organizationRef),
      code: s.role ? [roleConcept(s.role)] : undefined,
      specialty: s.specialty ? [{ text: s.specialty }] : undefined,
    };
  },
  merge: { atomic: ['code', 'specialty'] },
});
