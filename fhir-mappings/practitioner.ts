import type { Practitioner } from '@medplum/fhirtypes';
import { NCD_SYSTEMS } from './codes.js';
import { defineMapping, humanNameText, identifiersOf, phoneOf, preferredName, toIdentifiers } from './common.js';
import type { IdentifierShape, PractitionerShape } from './domain-shapes.js';
import { genderIn, genderOut } from './patient.js';

/** Our code identifier, else the first one: a hospital's own staff number is what it will look the person up by. */
export function codeOf(identifiers: IdentifierShape[], ourSystem: string): string | undefined {
  return (identifiers.find((i) => i.system === ourSystem) ?? identifiers[0])?.value;
}

/** Identifiers with the code added under our system when no identifier already carries it. */
export function withCode(identifiers: IdentifierShape[], code: string | undefined, ourSystem: string): IdentifierShape[] {
  if (!code || identifiers.some((i) => i.value === code)) return identifiers;
  return [{ system: ourSystem, value: code }, ...identifiers];
}

export const practitionerMapping = defineMapping<Practitioner, PractitionerShape>({
  resourceType: 'Practitioner',
  read(p) {
    const identifiers = identifiersOf(p.identifier);
    return {
      name: humanNameText(preferredName(p.name)),
      gender: p.gender ? genderIn(p.gender) : undefined,
      code: codeOf(identifiers, NCD_SYSTEMS.practitionerCode),
      phone: phoneOf(p.telecom),
      identifiers,
    };
  },
  build(s) {
    return {
      resourceType: 'Practitioner',
      identifier: toIdentifiers(withCode(s.identifiers, s.code, NCD_SYSTEMS.practitionerCode)),
      name: s.name ? [{ use: 'official', text: s.name }] : undefined,
      telecom: s.phone ? [{ system: 'phone', value: s.phone, use: 'work' }] : undefined,
      gender: genderOut(s.gender),
    };
  },
  merge: { atomic: ['name'] },
});
