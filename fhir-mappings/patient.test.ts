import type { Patient } from '@medplum/fhirtypes';
import { Gender, ManagementColour, ManagementTier } from '../vocabulary/index.js';
import { NCD_EXTENSIONS } from './codes.js';
import type { PatientShape } from './domain-shapes.js';
import { patientMapping as m } from './patient.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const patients = loadSharedResources()
  .map((r) => r.resource)
  .filter((r): r is Patient => r.resourceType === 'Patient');
const valid = (r: Patient) => expect(errorsOf(validateFhir(r))).toEqual([]);
const synthea = patients.find((p) => p.meta?.profile?.some((x) => x.includes('us-core-patient')))!;

test('Synthea patients read with names, identifiers, phone and address', () => {
  const { domain } = m.fromFhir(synthea);
  expect(domain.name).toMatch(/^\S+ \S+ \S+$/); // given given family, prefix left out
  expect(domain.identifiers.length).toBe(synthea.identifier!.length);
  expect(domain.phone).toBe(synthea.telecom![0]!.value);
  expect(domain.address).toContain(synthea.address![0]!.city!);
  expect(domain.gender).toBe(Gender.MALE);
});

test('a patient updated in the domain keeps us-core race/ethnicity, other systems’ identifiers and the profile', () => {
  const { domain, original } = m.fromFhir(synthea);
  const changed: PatientShape = {
    ...domain,
    phone: '13800138000',
    managementTier: ManagementTier.INTENSIVE,
    managementColour: ManagementColour.RED,
    managementOverrideReason: '新发脑卒中',
    managementOverriddenByRef: 'Practitioner/gp-1',
    identifiers: [...domain.identifiers, { system: 'urn:oid:2.16.156.10011.1.2', value: '13010210100100001' }],
  };
  const out = m.toFhir(changed, { id: 'p1', versionId: '2', lastUpdated: '2026-11-23T00:00:00Z', original });
  valid(out);
  const urls = out.extension!.map((e) => e.url);
  expect(urls).toEqual(expect.arrayContaining(['http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity', NCD_EXTENSIONS.management]));
  expect(out.extension!.find((e) => e.url.endsWith('us-core-race'))).toEqual(synthea.extension!.find((e) => e.url.endsWith('us-core-race')));
  expect(out.identifier!.slice(0, synthea.identifier!.length)).toEqual(synthea.identifier); // SSN, passport … with their types
  expect(out.identifier!.at(-1)).toEqual({ system: 'urn:oid:2.16.156.10011.1.2', value: '13010210100100001' });
  expect(out.telecom).toEqual([{ system: 'phone', value: '13800138000' }]);
  expect(out.name).toEqual(synthea.name);
  expect(out.meta).toEqual({ ...synthea.meta, versionId: '2', lastUpdated: '2026-11-23T00:00:00Z' });
  expect(out.text).toBeUndefined(); // the generated narrative described the old record
  expect(m.fromFhir(out).domain).toMatchObject({ managementTier: 'INTENSIVE', managementColour: 'RED', managementOverrideReason: '新发脑卒中', managementOverriddenByRef: 'Practitioner/gp-1' });
});

test('an identifier without a value (HL7 example) survives a change of the others', () => {
  const pieter = patients.find((p) => p.id === 'f001')!;
  const { domain, original } = m.fromFhir(pieter);
  expect(domain.identifiers).toEqual([{ system: 'urn:oid:2.16.840.1.113883.2.4.6.3', value: '738472983' }]);
  const out = m.toFhir({ ...domain, identifiers: [] }, { id: 'x', original });
  expect(out.identifier).toEqual([{ use: 'usual', system: 'urn:oid:2.16.840.1.113883.2.4.6.3' }]);
  expect(out.contact).toEqual(pieter.contact);
});

test('a changed name replaces the structured one as a whole', () => {
  const { domain, original } = m.fromFhir(synthea);
  const out = m.toFhir({ ...domain, name: '王小明' }, { id: 'x', original });
  expect(out.name).toEqual([{ use: 'official', text: '王小明' }]);
});

test('Chinese names read family first without spaces', () => {
  const { domain } = m.fromFhir({ resourceType: 'Patient', name: [{ family: '欧阳', given: ['娜娜'] }], address: [{ state: '河北省', city: '石家庄市', district: '赞皇县', line: ['黄北坪乡', '东庄村'] }] });
  expect(domain.name).toBe('欧阳娜娜');
  expect(domain.address).toBe('河北省石家庄市赞皇县黄北坪乡东庄村');
});

test('a domain-only patient is valid and reads back', () => {
  const shape: PatientShape = {
    name: '张三',
    gender: Gender.FEMALE,
    birthDate: '1958-04-12',
    phone: '13900000000',
    address: '赞皇县黄北坪乡东庄村12号',
    identifiers: [{ system: 'urn:oid:2.16.156.10011.1.3', value: '130129195804120025' }],
    managingOrganizationRef: 'Organization/township-1',
    gridRef: 'Location/grid-7',
    managementTier: ManagementTier.ROUTINE,
    managementColour: ManagementColour.YELLOW,
    familyDoctorTeamRef: 'CareTeam/team-3',
    contractSignedOn: '2026-03-01',
    contractExpiresOn: '2027-02-28',
  };
  const out = m.toFhir(shape, { id: 'p2' });
  valid(out);
  expect(out.extension?.find((e) => e.url === NCD_EXTENSIONS.familyDoctorContract)).toEqual({
    url: NCD_EXTENSIONS.familyDoctorContract,
    extension: [
      { url: 'team', valueReference: { reference: 'CareTeam/team-3' } },
      { url: 'signedOn', valueDate: '2026-03-01' },
      { url: 'expiresOn', valueDate: '2027-02-28' },
    ],
  });
  expect(m.fromFhir(out).domain).toEqual(shape);
});

test('a patient with no name at all (HL7 bundle-references) maps and comes back unchanged', () => {
  const nameless = patients.find((p) => !p.name && !p.identifier)!;
  const { domain, original } = m.fromFhir(nameless);
  expect(domain).toEqual({ gender: Gender.UNKNOWN, identifiers: [] });
  expect(m.toFhir(domain, { id: 'x', original })).toEqual({ ...nameless, id: 'x' });
});
