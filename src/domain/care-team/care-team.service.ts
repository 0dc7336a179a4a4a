import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { DomainError, isUuid } from '../errors.js';
import { Grid, Organization } from '../organization/organization.entity.js';
import { Practitioner, PractitionerRole, PractitionerRoleCode } from '../practitioner/practitioner.entity.js';
import { Unresolved } from '../unresolved.js';
import { CareTeam, CareTeamMember } from './care-team.entity.js';

export interface CareTeamMemberInput {
  practitionerId: string;
  /** Else the role the practitioner holds at the team's organisation, else the one they hold anywhere. */
  role?: PractitionerRoleCode;
}

export interface CareTeamInput {
  /** Else the organisation's name. */
  name?: string;
  organizationId?: string;
  gridId?: string;
  /** False for a team no longer (or not yet) at work: it keeps its name, its members are removed. */
  active: boolean;
  members: CareTeamMemberInput[];
}

export interface SavedCareTeam {
  team: CareTeam;
  /** What the domain left out of the team: members it does not know, a grid not the organisation's. */
  leftOut: Unresolved[];
}

/**
 * Family-doctor teams. Membership is access (AccessPolicy.patientVisible: a member sees the patients of the team's
 * grid and those who signed with the team), so a team is held only for an organisation in the caller's own
 * subtree, its grid only when it is that organisation's (or one below it), and only while the team is active.
 */
export class CareTeamService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /**
   * Creates or updates the team under the sender's id (a FHIR CareTeam) and replaces its members, in the caller's
   * unit of work (not flushed). An organisation the domain does not hold, or one outside the caller's, leaves the
   * team out: Unresolved.
   */
  async saveUnderId(id: string, input: CareTeamInput, created: boolean): Promise<SavedCareTeam | Unresolved> {
    const em = this.em;
    const organization = input.organizationId && isUuid(input.organizationId) ? await em.findOne(Organization, { id: input.organizationId }) : null;
    if (!organization) return new Unresolved('the managing organisation is not in the domain', 'managingOrganization');
    const existing = created ? null : await em.findOne(CareTeam, { id }, { populate: ['organization'] });
    try {
      this.policy.assertManages(organization.path);
      if (existing && existing.organization.id !== organization.id) this.policy.assertManages(existing.organization.path);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'FORBIDDEN') return new Unresolved('the team is for an organisation outside your own', 'managingOrganization');
      throw err;
    }
    const leftOut: Unresolved[] = [];
    let grid: Grid | undefined;
    if (input.gridId) {
      const found = isUuid(input.gridId) ? await em.findOne(Grid, { id: input.gridId }, { populate: ['organization'] }) : null;
      if (found && found.organization.path.startsWith(organization.path)) grid = found;
      else leftOut.push(new Unresolved(found ? "the grid is not the team's organisation's" : 'the grid is not in the domain', 'extension'));
    }
    const data = { name: input.name?.trim() || existing?.name || organization.name, organization, grid };
    const team = existing ? em.assign(existing, data as never) : (em.create(CareTeam, { id, version: 1, ...data } as never) as CareTeam);

    const wanted = input.active ? await this.membersOf(input.members, organization, leftOut) : [];
    const current = existing ? await em.find(CareTeamMember, { careTeam: id }) : [];
    const key = (practitionerId: string, role: string) => `${practitionerId}|${role}`;
    const keep = new Set(wanted.map((m) => key(m.practitioner.id, m.role)));
    for (const m of current) if (!keep.has(key(m.practitioner.id, m.role))) em.remove(m);
    const have = new Set(current.map((m) => key(m.practitioner.id, m.role)));
    for (const m of wanted) {
      if (have.has(key(m.practitioner.id, m.role))) continue;
      have.add(key(m.practitioner.id, m.role));
      em.create(CareTeamMember, { careTeam: team, practitioner: m.practitioner, role: m.role, version: 1 } as never);
    }
    return { team, leftOut };
  }

  /** The members the domain can hold, with their roles; two queries for the whole team. */
  private async membersOf(members: CareTeamMemberInput[], organization: Organization, leftOut: Unresolved[]): Promise<Array<{ practitioner: Practitioner; role: PractitionerRoleCode }>> {
    const ids = [...new Set(members.map((m) => m.practitionerId).filter(isUuid))];
    const practitioners = new Map((ids.length ? await this.em.find(Practitioner, { id: { $in: ids } }) : []).map((p) => [p.id, p]));
    const needRoles = members.filter((m) => !m.role && practitioners.has(m.practitionerId)).map((m) => m.practitionerId);
    const roles = needRoles.length ? await this.em.find(PractitionerRole, { practitioner: { $in: needRoles } }, { orderBy: { id: 'asc' } }) : [];
    const out: Array<{ practitioner: Practitioner; role: PractitionerRoleCode }> = [];
    for (const m of members) {
      const practitioner = practitioners.get(m.practitionerId);
      if (!practitioner) {
        leftOut.push(new Unresolved(`practitioner ${m.practitionerId} is not in the domain`, 'participant'));
        continue;
      }
      const held = roles.filter((r) => r.practitioner.id === practitioner.id);
      const role = m.role ?? (held.find((r) => r.organization.id === organization.id) ?? held[0])?.role;
      if (!role) {
        leftOut.push(new Unresolved(`no role for practitioner ${m.practitionerId}: the team does not say it and they hold none`, 'participant.role'));
        continue;
      }
      out.push({ practitioner, role });
    }
    return out;
  }
}
