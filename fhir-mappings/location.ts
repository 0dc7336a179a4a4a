import type { Location } from '@medplum/fhirtypes';
import { GridKind } from '../vocabulary/index.js';
import { GRID_KIND_DISPLAY, HL7, NCD_SYSTEMS } from './codes.js';
import { addressText, coding, defineMapping, enumFrom, findCodingIn, identifiersOf, ncdConcept, phoneOf, refOf, toIdentifiers, toReference } from './common.js';
import type { LocationShape } from './domain-shapes.js';
import { codeOf, withCode } from './practitioner.js';

export const locationMapping = defineMapping<Location, LocationShape>({
  resourceType: 'Location',
  read(l) {
    const identifiers = identifiersOf(l.identifier);
    return {
      name: l.name,
      code: codeOf(identifiers, NCD_SYSTEMS.gridCode),
      gridKind: enumFrom(GridKind, findCodingIn(l.type, NCD_SYSTEMS.gridKind)?.code),
      organizationRef: refOf(l.managingOrganization, 'Organization'),
      address: addressText(l.address),
      phone: phoneOf(l.telecom),
      identifiers,
    };
  },
  build(s) {
    return {
      resourceType: 'Location',
      identifier: toIdentifiers(withCode(s.identifiers, s.code, NCD_SYSTEMS.gridCode)),
      status: 'active',
      name: s.name,
      // A grid is an area people live in, not a building: the kind says which sort of area.
      mode: s.gridKind ? 'kind' : undefined,
      type: s.gridKind ? [ncdConcept(NCD_SYSTEMS.gridKind, s.gridKind, GRID_KIND_DISPLAY[s.gridKind]!)] : undefined,
      physicalType: s.gridKind ? { coding: [coding(HL7.locationPhysicalType, 'area', 'Area')], text: '区域 Area' } : undefined,
      telecom: s.phone ? [{ system: 'phone', value: s.phone }] : undefined,
      address: s.address ? { text: s.address } : undefined,
      managingOrganization: toReference(s.organizationRef),
    };
  },
  merge: { atomic: ['address', 'type', 'physicalType'] },
});
