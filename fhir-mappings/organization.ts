import type { CodeableConcept, Organization } from '@medplum/fhirtypes';
import { OrganizationLevel, OrganizationType } from '../vocabulary/index.js';
import { HL7, NCD_SYSTEMS, ORGANIZATION_LEVEL_DISPLAY, ORGANIZATION_TYPE_DISPLAY } from './codes.js';
import { addressText, coding, defineMapping, enumFrom, findCodingIn, identifiersOf, ncdConcept, phoneOf, refOf, toIdentifiers, toReference } from './common.js';
import type { OrganizationShape } from './domain-shapes.js';
import { preferredAddress } from './patient.js';
import { codeOf, withCode } from './practitioner.js';

/** HL7 organization-type codes that tell us an organisation is a payer; providers say nothing about our tiers. */
const PAYER_CODES = new Set(['pay', 'ins']);

function typeOf(concepts: CodeableConcept[] | undefined): OrganizationType | undefined {
  const ours = enumFrom(OrganizationType, findCodingIn(concepts, NCD_SYSTEMS.organizationType)?.code);
  if (ours) return ours;
  const hl7 = findCodingIn(concepts, HL7.organizationType)?.code;
  return hl7 && PAYER_CODES.has(hl7) ? OrganizationType.INSURER : undefined;
}

export const organizationMapping = defineMapping<Organization, OrganizationShape>({
  resourceType: 'Organization',
  read(o) {
    const identifiers = identifiersOf(o.identifier);
    const type = typeOf(o.type);
    return {
      name: o.name,
      code: codeOf(identifiers, NCD_SYSTEMS.organizationCode),
      level: enumFrom(OrganizationLevel, findCodingIn(o.type, NCD_SYSTEMS.organizationLevel)?.code) ?? (type === OrganizationType.INSURER ? OrganizationLevel.EXTERNAL : undefined),
      type,
      parentRef: refOf(o.partOf, 'Organization'),
      address: addressText(preferredAddress(o.address)),
      phone: phoneOf(o.telecom),
      identifiers,
    };
  },
  build(s) {
    const type: CodeableConcept[] = [];
    if (s.type) {
      const hl7 = s.type === OrganizationType.INSURER ? coding(HL7.organizationType, 'ins', 'Insurance Company') : coding(HL7.organizationType, 'prov', 'Healthcare Provider');
      type.push(ncdConcept(NCD_SYSTEMS.organizationType, s.type, ORGANIZATION_TYPE_DISPLAY[s.type]!, [hl7]));
    }
    if (s.level) type.push(ncdConcept(NCD_SYSTEMS.organizationLevel, s.level, ORGANIZATION_LEVEL_DISPLAY[s.level]!));
    return {
      resourceType: 'Organization',
      identifier: toIdentifiers(withCode(s.identifiers, s.code, NCD_SYSTEMS.organizationCode)),
      active: true,
      type,
      name: s.name,
      telecom: s.phone ? [{ system: 'phone', value: s.phone, use: 'work' }] : undefined,
      address: s.address ? [{ text: s.address }] : undefined,
      partOf: toReference(s.parentRef),
    };
  },
  merge: { atomic: ['address'] },
});
