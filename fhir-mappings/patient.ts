import type { Address, Extension, Patient } from '@medplum/fhirtypes';
import { Gender, ManagementColour, ManagementTier } from '../vocabulary/index.js';
import { MANAGEMENT_COLOUR_DISPLAY, MANAGEMENT_TIER_DISPLAY, NCD_EXTENSIONS, NCD_SYSTEMS } from './codes.js';
import {
  addressText,
  coding,
  complexExtension,
  datePart,
  defineMapping,
  enumFrom,
  findExtension,
  humanNameText,
  identifiersOf,
  phoneOf,
  preferredName,
  refOf,
  subExtension,
  toIdentifiers,
  toReference,
} from './common.js';
import type { PatientShape } from './domain-shapes.js';

const GENDER_IN: Record<string, Gender> = { male: Gender.MALE, female: Gender.FEMALE, other: Gender.OTHER, unknown: Gender.UNKNOWN };
const GENDER_OUT: Record<Gender, NonNullable<Patient['gender']>> = { MALE: 'male', FEMALE: 'female', OTHER: 'other', UNKNOWN: 'unknown' };

export const genderIn = (g: string | undefined): Gender => (g && GENDER_IN[g]) || Gender.UNKNOWN;
export const genderOut = (g: Gender | undefined): Patient['gender'] => (g ? GENDER_OUT[g] : undefined);

/** The address people live at: home first, never one marked old. */
export function preferredAddress(addresses: Address[] | undefined): Address | undefined {
  const usable = (addresses ?? []).filter((a) => a.use !== 'old' && addressText(a));
  return usable.find((a) => a.use === 'home') ?? usable[0];
}

export const patientMapping = defineMapping<Patient, PatientShape>({
  resourceType: 'Patient',
  read(p) {
    const management = findExtension(p.extension, NCD_EXTENSIONS.management);
    const contract = findExtension(p.extension, NCD_EXTENSIONS.familyDoctorContract);
    return {
      name: humanNameText(preferredName(p.name)),
      gender: genderIn(p.gender),
      birthDate: p.birthDate,
      phone: phoneOf(p.telecom),
      address: addressText(preferredAddress(p.address)),
      identifiers: identifiersOf(p.identifier),
      managingOrganizationRef: refOf(p.managingOrganization, 'Organization'),
      gridRef: refOf(findExtension(p.extension, NCD_EXTENSIONS.grid)?.valueReference, 'Location'),
      managementTier: enumFrom(ManagementTier, subExtension(management, 'tier')?.valueCoding?.code),
      managementColour: enumFrom(ManagementColour, subExtension(management, 'colour')?.valueCoding?.code),
      managementOverrideReason: subExtension(management, 'overrideReason')?.valueString,
      managementOverriddenByRef: refOf(subExtension(management, 'overriddenBy')?.valueReference, 'Practitioner'),
      familyDoctorTeamRef: refOf(subExtension(contract, 'team')?.valueReference, 'CareTeam'),
      contractSignedOn: datePart(subExtension(contract, 'signedOn')?.valueDate, `Patient.extension('${NCD_EXTENSIONS.familyDoctorContract}').extension('signedOn')`),
      contractExpiresOn: datePart(subExtension(contract, 'expiresOn')?.valueDate, `Patient.extension('${NCD_EXTENSIONS.familyDoctorContract}').extension('expiresOn')`),
      deceased: p.deceasedDateTime !== undefined ? true : p.deceasedBoolean,
      deceasedOn: datePart(p.deceasedDateTime, 'Patient.deceasedDateTime'),
    };
  },
  build(s) {
    const extension: Array<Extension | undefined> = [
      s.gridRef ? { url: NCD_EXTENSIONS.grid, valueReference: toReference(s.gridRef) } : undefined,
      complexExtension(NCD_EXTENSIONS.management, [
        s.managementTier && { url: 'tier', valueCoding: coding(NCD_SYSTEMS.managementTier, s.managementTier, MANAGEMENT_TIER_DISPLAY[s.managementTier]!.en) },
        s.managementColour && { url: 'colour', valueCoding: coding(NCD_SYSTEMS.managementColour, s.managementColour, MANAGEMENT_COLOUR_DISPLAY[s.managementColour]!.en) },
        s.managementOverrideReason ? { url: 'overrideReason', valueString: s.managementOverrideReason } : undefined,
        s.managementOverriddenByRef ? { url: 'overriddenBy', valueReference: toReference(s.managementOverriddenByRef) } : undefined,
      ]),
      complexExtension(NCD_EXTENSIONS.familyDoctorContract, [
        s.familyDoctorTeamRef ? { url: 'team', valueReference: toReference(s.familyDoctorTeamRef, 'CareTeam') } : undefined,
        s.contractSignedOn ? { url: 'signedOn', valueDate: s.contractSignedOn } : undefined,
        s.contractExpiresOn ? { url: 'expiresOn', valueDate: s.contractExpiresOn } : undefined,
      ]),
    ];
    return {
      resourceType: 'Patient',
      extension: extension.filter((e): e is Extension => e !== undefined),
      identifier: toIdentifiers(s.identifiers),
      name: s.name ? [{ use: 'official', text: s.name }] : undefined,
      telecom: s.phone ? [{ system: 'phone', value: s.phone }] : undefined,
      gender: genderOut(s.gender),
      birthDate: s.birthDate,
      address: s.address ? [{ text: s.address }] : undefined,
      managingOrganization: toReference(s.managingOrganizationRef),
      ...(s.deceasedOn ? { deceasedDateTime: s.deceasedOn } : s.deceased !== undefined ? { deceasedBoolean: s.deceased } : {}),
    };
  },
  // A changed name or address is a new statement: stale family/given or lines must not survive beside it.
  merge: { atomic: ['name', 'address'] },
});
