import type { EntityManager } from '../../src/db/orm.js';
import { DEFAULT_IDENTIFIER_SYSTEMS } from '../../src/config.js';
import { CareTeam, CareTeamMember } from '../../src/domain/care-team/care-team.entity.js';
import { Grid, GridKind, Organization, OrganizationLevel, OrganizationType } from '../../src/domain/organization/organization.entity.js';
import { Practitioner, PractitionerRoleCode } from '../../src/domain/practitioner/practitioner.entity.js';
import { makeResidentId } from '../../src/domain/patient/resident-id.js';

/** A minimal county for tests: county hospital → township centre → two village clinics, with a grid and a care team. */
export async function buildCounty(em: EntityManager, tag = 'T') {
  const org = (name: string, level: OrganizationLevel, type: OrganizationType, parent?: Organization) => {
    const o = em.create(Organization, { name, code: `${tag}-${name}`, level, type, parent, path: '', version: 1 } as never) as Organization;
    o.path = `${parent ? parent.path : '/'}${o.id}/`;
    return o;
  };
  const county = org('县人民医院', OrganizationLevel.COUNTY, OrganizationType.MEDICAL_COMMUNITY_LEAD);
  const township = org('城关镇卫生院', OrganizationLevel.TOWNSHIP, OrganizationType.TOWNSHIP_HEALTH_CENTRE, county);
  const village = org('东村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, township);
  const otherVillage = org('西村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, township);
  const insurer = org('县医疗保障局', OrganizationLevel.EXTERNAL, OrganizationType.INSURER);
  const grid = em.create(Grid, { name: '东村网格', code: `${tag}-G1`, kind: GridKind.VILLAGE, organization: village, version: 1 } as never) as Grid;
  const gp = em.create(Practitioner, { name: '李医生', code: `${tag}-P1`, version: 1 } as never) as Practitioner;
  const villageDoctor = em.create(Practitioner, { name: '王村医', code: `${tag}-P2`, version: 1 } as never) as Practitioner;
  const team = em.create(CareTeam, { name: '东村家庭医生团队', organization: township, grid, version: 1 } as never) as CareTeam;
  em.create(CareTeamMember, { careTeam: team, practitioner: gp, role: PractitionerRoleCode.GENERAL_PRACTITIONER, version: 1 } as never);
  em.create(CareTeamMember, { careTeam: team, practitioner: villageDoctor, role: PractitionerRoleCode.VILLAGE_DOCTOR, version: 1 } as never);
  await em.flush();
  return { county, township, village, otherVillage, insurer, grid, gp, villageDoctor, team };
}

export type County = Awaited<ReturnType<typeof buildCounty>>;

export const SYSTEMS = DEFAULT_IDENTIFIER_SYSTEMS;

/** A well-formed id (UUID v7) that no row has. */
export const MISSING_ID = '01900000-0000-7000-8000-000000000000';

/** A UTC calendar date `days` from `from` (default today). */
export function isoDay(days: number, from = new Date().toISOString().slice(0, 10)): string {
  const d = new Date(`${from}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

let sequence = 100;
/** A fresh valid resident ID for the given birth date and sex. */
export function residentId(birthDate: string, male = true): string {
  sequence += 2;
  return makeResidentId('330326', birthDate, (sequence % 998) + (male ? 1 : 0));
}
