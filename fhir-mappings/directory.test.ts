/** Organizations, practitioners, their roles, locations (grids) and care teams. */
import type { Resource } from '@medplum/fhirtypes';
import { Gender, GridKind, OrganizationLevel, OrganizationType, PractitionerRoleCode } from '../vocabulary/index.js';
import { careTeamMapping } from './care-team.js';
import { NCD_SYSTEMS } from './codes.js';
import type { CareTeamShape, LocationShape, OrganizationShape, PractitionerRoleShape, PractitionerShape } from './domain-shapes.js';
import { locationMapping } from './location.js';
import { organizationMapping } from './organization.js';
import { practitionerRoleMapping } from './practitioner-role.js';
import { practitionerMapping } from './practitioner.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const shared = loadSharedResources().map((r) => r.resource);
const valid = (r: Resource) => expect(errorsOf(validateFhir(r))).toEqual([]);

test('an organisation of the county medical community, and an insurer', () => {
  const township: OrganizationShape = {
    name: '黄北坪乡卫生院',
    code: '12130129MB0000001X',
    level: OrganizationLevel.TOWNSHIP,
    type: OrganizationType.TOWNSHIP_HEALTH_CENTRE,
    parentRef: 'Organization/county-lead',
    address: '赞皇县黄北坪乡',
    phone: '0311-0000000',
    identifiers: [{ system: NCD_SYSTEMS.organizationCode, value: '12130129MB0000001X' }],
  };
  const out = organizationMapping.toFhir(township, { id: 'o1' });
  valid(out);
  expect(out.type?.map((t) => t.text)).toEqual(['乡镇卫生院 Township health centre', '乡镇级 Township level']);
  expect(organizationMapping.fromFhir(out).domain).toEqual(township);
  const insurer = organizationMapping.fromFhir({ resourceType: 'Organization', name: 'Insurer', type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'ins' }] }] });
  expect(insurer.domain).toMatchObject({ type: OrganizationType.INSURER, level: OrganizationLevel.EXTERNAL });
});

test('Synthea organisations keep their identifier as code and say nothing about our tiers', () => {
  const org = shared.find((r) => r.resourceType === 'Organization')!;
  expect(organizationMapping.fromFhir(org as never).domain).toMatchObject({ level: undefined, type: undefined, code: (org as { identifier: Array<{ value: string }> }).identifier[0]!.value });
});

test('a practitioner: code from our system, else the first identifier (NPI)', () => {
  const p: PractitionerShape = { name: '李医生', gender: Gender.MALE, code: 'VD-0042', phone: '13700000000', identifiers: [] };
  const out = practitionerMapping.toFhir(p, { id: 'pr1' });
  valid(out);
  expect(out.identifier).toEqual([{ system: NCD_SYSTEMS.practitionerCode, value: 'VD-0042' }]);
  expect(practitionerMapping.fromFhir(out).domain).toEqual({ ...p, identifiers: [{ system: NCD_SYSTEMS.practitionerCode, value: 'VD-0042' }] });
  const npi = shared.find((r) => r.resourceType === 'Practitioner' && r.meta?.profile)!;
  expect(practitionerMapping.fromFhir(npi as never).domain.code).toMatch(/^\d{10}$/);
});

test('practitioner roles: NUCC general practice is our GP; a village doctor goes out in our system with a bilingual text', () => {
  const roles = shared.filter((r) => r.resourceType === 'PractitionerRole');
  const gp = roles.find((r) => JSON.stringify(r).includes('208D00000X'))!;
  expect(practitionerRoleMapping.fromFhir(gp as never).domain.role).toBe(PractitionerRoleCode.GENERAL_PRACTITIONER);
  const vd: PractitionerRoleShape = { practitionerRef: 'Practitioner/vd', organizationRef: 'Organization/village', role: PractitionerRoleCode.VILLAGE_DOCTOR, specialty: '全科' };
  const out = practitionerRoleMapping.toFhir(vd, { id: 'r1' });
  valid(out);
  expect(out.code?.[0]?.text).toBe('乡村医生 Village doctor');
  expect(practitionerRoleMapping.fromFhir(out).domain).toEqual(vd);
});

test('a management grid is a Location of kind area; Synthea locations keep their logical organisation reference', () => {
  const grid: LocationShape = { name: '东庄村网格', code: 'G-130129-101', gridKind: GridKind.VILLAGE, organizationRef: 'Organization/village-1', identifiers: [{ system: NCD_SYSTEMS.gridCode, value: 'G-130129-101' }] };
  const out = locationMapping.toFhir(grid, { id: 'l1' });
  valid(out);
  expect(locationMapping.fromFhir(out).domain).toEqual(grid);
  const synthea = shared.find((r) => r.resourceType === 'Location')!;
  expect(locationMapping.fromFhir(synthea as never).domain.organizationRef).toMatch(/^Organization\?identifier=https:\/\/github.com\/synthetichealth\/synthea\|/);
});

test('a family-doctor team with its grid and members', () => {
  const team: CareTeamShape = {
    name: '东庄村家庭医生团队',
    status: 'active',
    organizationRef: 'Organization/township-1',
    gridRef: 'Location/grid-1',
    members: [
      { memberRef: 'Practitioner/gp', role: PractitionerRoleCode.GENERAL_PRACTITIONER },
      { memberRef: 'Practitioner/nurse', role: PractitionerRoleCode.NURSE },
      { memberRef: 'Practitioner/vd', role: PractitionerRoleCode.VILLAGE_DOCTOR },
      { memberRef: 'Practitioner/cardio', role: PractitionerRoleCode.SPECIALIST },
    ],
  };
  const out = careTeamMapping.toFhir(team, { id: 't1' });
  valid(out);
  expect(careTeamMapping.fromFhir(out).domain).toEqual(team);
});

test('adding a member to a received team keeps the other participants as they were', () => {
  const received = shared.find((r) => r.resourceType === 'CareTeam' && r.meta?.profile)!;
  const { domain, original } = careTeamMapping.fromFhir(received as never);
  const out = careTeamMapping.toFhir({ ...domain, members: [...domain.members, { memberRef: 'Practitioner/new', role: PractitionerRoleCode.NURSE }] }, { id: 'x', original });
  valid(out);
  const before = (received as { participant: unknown[] }).participant;
  expect(out.participant?.slice(0, before.length)).toEqual(before);
  expect(out.participant?.at(-1)?.member).toEqual({ reference: 'Practitioner/new' });
});
