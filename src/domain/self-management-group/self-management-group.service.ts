import { raw } from '@mikro-orm/core';
import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { countyToday } from '../../care-rules/calendar.js';
import { ConditionKind, OrganizationLevel } from '../../../vocabulary/index.js';
import { badInput, conflict, isUuid, notFound } from '../errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../pagination.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { mustFind } from '../patient/patient.service.js';
import { SelfManagementGroup, SelfManagementGroupAttendance, SelfManagementGroupMember, SelfManagementGroupSession } from './self-management-group.entity.js';

export interface GroupInput {
  name: string;
  /** The village clinic or township centre running it: the caller's own when not given, else it or one below it. */
  organizationId?: string | null;
  conditionKinds?: ConditionKind[] | null;
  /** An expert patient (内行病人) leads it … */
  leaderPatientId?: string | null;
  /** … or a practitioner: the caller or a colleague (attribution.ts). Neither given, the caller. */
  leaderPractitionerId?: string | null;
}

export interface GroupUpdate {
  name?: string | null;
  conditionKinds?: ConditionKind[] | null;
  leaderPatientId?: string | null;
  leaderPractitionerId?: string | null;
  closedOn?: string | null;
}

export interface GroupFilter {
  /** Groups of this organisation and those below it. */
  organizationId?: string | null;
  conditionKind?: ConditionKind | null;
  /** Closed groups too (default: open ones only). */
  includeClosed?: boolean | null;
}

export interface SessionInput {
  groupId: string;
  heldOn: string;
  topic: string;
  note?: string | null;
  /** Members who came (each a member on `heldOn`). */
  attendeePatientIds?: string[] | null;
}

/** The levels that run groups: the notes put them per village and per township. */
const GROUP_LEVELS = new Set([OrganizationLevel.VILLAGE, OrganizationLevel.TOWNSHIP]);

const memberOn = (m: SelfManagementGroupMember, day: string) => m.joinedOn <= day && (m.leftOn == null || m.leftOn >= day);

/**
 * The group a care plan's SELF_MANAGEMENT_GROUP activity names: one the caller sees (the access filter), else bad
 * input naming `field`. `undefined` (the input's null) takes the group off the activity.
 */
export async function groupForActivity(em: EntityManager, id: string | undefined, field: string): Promise<SelfManagementGroup | undefined> {
  if (!id) return undefined;
  return mustFind(em, SelfManagementGroup, id, field);
}

/**
 * Self-management groups (患者自我管理小组): created by the organisation that runs them, members joining and leaving,
 * sessions with the members who attended. Reads and writes go through the access filter, which shows a group only to
 * its organisation's subtree (AccessPolicy.groupRowsVisible): a group outside it is NOT_FOUND, an organisation
 * outside it named in a write FORBIDDEN (attribution.ts).
 */
export class SelfManagementGroupService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async get(id: string, em: EntityManager = this.em): Promise<SelfManagementGroup> {
    const group = isUuid(id) ? await em.findOne(SelfManagementGroup, { id }) : null;
    if (!group) throw notFound('SelfManagementGroup', id);
    return group;
  }

  /** Oldest first (ids are time-ordered), keyset paginated by id. */
  async search(filter: GroupFilter, first?: number | null, after?: string | null): Promise<Page<SelfManagementGroup>> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 1) as [string] | undefined;
    if (cursor && (typeof cursor[0] !== 'string' || !isUuid(cursor[0]))) throw badInput('after is not a cursor this API issued', 'after');
    if (filter.organizationId && !isUuid(filter.organizationId)) throw badInput('organizationId is not an id', 'organizationId');
    const where: Record<PropertyKey, unknown> = {};
    if (filter.organizationId) {
      const organization = await this.em.findOne(Organization, { id: filter.organizationId });
      if (!organization) throw badInput(`organizationId: no Organization with id ${filter.organizationId}`, 'organizationId');
      where.organization = { path: { $like: `${organization.path}%` } };
    }
    if (!filter.includeClosed) where.closedOn = null;
    if (filter.conditionKind) where[raw((alias: string) => `${alias}.condition_kinds @> ?::jsonb`, [JSON.stringify([filter.conditionKind])])] = [];
    const rows = await this.em.find(SelfManagementGroup, cursor ? { ...where, id: { $gt: cursor[0] } } : where, { orderBy: { id: 'asc' }, limit: limit + 1 });
    return {
      items: rows.slice(0, limit),
      hasNextPage: rows.length > limit,
      cursorOf: (g) => encodeCursor([g.id]),
      count: () => this.em.count(SelfManagementGroup, where),
    };
  }

  async create(input: GroupInput): Promise<SelfManagementGroup> {
    this.policy.assertCan('Group', 'c');
    const name = input.name?.trim();
    if (!name) throw badInput('a group needs a name', 'name');
    return this.em.transactional(async (em) => {
      const by = await attributeOne(em, this.policy, { organizationId: input.organizationId }, { practitioner: 'leaderPractitionerId', organization: 'organizationId' });
      const organization = by.organization && (await em.findOne(Organization, { id: by.organization.id }));
      if (!organization || !GROUP_LEVELS.has(organization.level)) throw badInput('a self-management group belongs to a village clinic or a township centre', 'organizationId');
      const group = em.create(SelfManagementGroup, { organization, name, conditionKinds: input.conditionKinds ?? [], version: 1 } as never) as SelfManagementGroup;
      await this.lead(em, group, input, true);
      await em.flush();
      return group;
    });
  }

  async update(id: string, expectedVersion: number, input: GroupUpdate): Promise<SelfManagementGroup> {
    this.policy.assertCan('Group', 'u');
    return this.em.transactional(async (em) => {
      const group = await this.get(id, em);
      if (group.version !== expectedVersion) throw conflict(`SelfManagementGroup ${id} is at version ${group.version}, not ${expectedVersion}`);
      if (input.name !== undefined) {
        if (!input.name?.trim()) throw badInput('a group needs a name', 'name');
        group.name = input.name.trim();
      }
      if (input.conditionKinds != null) group.conditionKinds = input.conditionKinds;
      if (input.leaderPatientId !== undefined || input.leaderPractitionerId !== undefined) await this.lead(em, group, input, false);
      if (input.closedOn !== undefined) {
        if (input.closedOn && input.closedOn > countyToday()) throw badInput('closedOn is in the future', 'closedOn');
        group.closedOn = input.closedOn ?? undefined;
      }
      await em.flush();
      return group;
    });
  }

  /** A patient the caller sees joins (`joinedOn`, default today); one already a member is a CONFLICT. */
  async addMember(groupId: string, patientId: string, joinedOn?: string | null): Promise<SelfManagementGroupMember> {
    this.policy.assertCan('Group', 'u');
    const day = joinedOn ?? countyToday();
    if (day > countyToday()) throw badInput('joinedOn is in the future', 'joinedOn');
    return this.em.transactional(async (em) => {
      const group = await this.openGroup(em, groupId, day, 'joinedOn');
      const patient = await mustFind(em, Patient, patientId, 'patientId');
      if (await em.count(SelfManagementGroupMember, { group, patient, leftOn: null })) throw conflict('the patient is already a member of this group');
      const member = em.create(SelfManagementGroupMember, { group, patient, joinedOn: day, version: 1 } as never) as SelfManagementGroupMember;
      await em.flush();
      return member;
    });
  }

  /** A member leaves (`leftOn`, default today): the membership is kept, ended. */
  async removeMember(groupId: string, patientId: string, leftOn?: string | null): Promise<SelfManagementGroupMember> {
    this.policy.assertCan('Group', 'u');
    const day = leftOn ?? countyToday();
    if (day > countyToday()) throw badInput('leftOn is in the future', 'leftOn');
    return this.em.transactional(async (em) => {
      const group = await this.get(groupId, em);
      const member = isUuid(patientId) ? await em.findOne(SelfManagementGroupMember, { group, patient: patientId, leftOn: null }) : null;
      if (!member) throw notFound('SelfManagementGroupMember', patientId);
      if (day < member.joinedOn) throw badInput('leftOn is before the patient joined', 'leftOn');
      member.leftOn = day;
      await em.flush();
      return member;
    });
  }

  /** A session held (not in the future), with the members who came: each must be a member that day. */
  async recordSession(input: SessionInput): Promise<SelfManagementGroupSession> {
    this.policy.assertCan('Group', 'u');
    const topic = input.topic?.trim();
    if (!topic) throw badInput('a session needs a topic', 'topic');
    if (input.heldOn > countyToday()) throw badInput('heldOn is in the future', 'heldOn');
    return this.em.transactional(async (em) => {
      const group = await this.openGroup(em, input.groupId, input.heldOn, 'heldOn');
      const ids = input.attendeePatientIds ?? [];
      const members = await em.find(SelfManagementGroupMember, { group, patient: { $in: ids.filter(isUuid) } });
      ids.forEach((id, i) => {
        if (!members.some((m) => m.patient.id === id.toLowerCase() && memberOn(m, input.heldOn))) {
          throw badInput(`attendeePatientIds.${i}: not a member of the group on ${input.heldOn}`, `attendeePatientIds.${i}`);
        }
      });
      const session = em.create(SelfManagementGroupSession, { group, heldOn: input.heldOn, topic, note: input.note ?? undefined, version: 1 } as never) as SelfManagementGroupSession;
      for (const id of new Set(ids.map((i) => i.toLowerCase()))) {
        em.create(SelfManagementGroupAttendance, { session, patient: em.getReference(Patient, id), version: 1 } as never);
      }
      await em.flush();
      return session;
    });
  }

  /** Sets who leads the group: an expert patient the caller sees, or a practitioner (the caller by default on a new group). */
  private async lead(em: EntityManager, group: SelfManagementGroup, input: GroupUpdate, callerByDefault: boolean): Promise<void> {
    if (input.leaderPatientId && input.leaderPractitionerId) throw badInput('a group is led by an expert patient or a practitioner, not both', 'leaderPractitionerId');
    if (input.leaderPatientId) {
      group.leaderPatient = await mustFind(em, Patient, input.leaderPatientId, 'leaderPatientId');
      group.leaderPractitioner = undefined;
      return;
    }
    const fields = { practitioner: 'leaderPractitionerId', organization: 'organizationId' };
    const by = await attributeOne(em, this.policy, { practitionerId: input.leaderPractitionerId }, fields, callerByDefault || !!input.leaderPractitionerId);
    if (!by.practitioner) throw badInput('a group needs a leader: an expert patient (leaderPatientId) or a practitioner (leaderPractitionerId)', 'leaderPatientId');
    group.leaderPractitioner = by.practitioner;
    group.leaderPatient = undefined;
  }

  /** A group the caller sees that was still meeting on `day`. */
  private async openGroup(em: EntityManager, id: string, day: string, field: string): Promise<SelfManagementGroup> {
    const group = await this.get(id, em);
    if (group.closedOn && group.closedOn < day) throw badInput(`the group closed on ${group.closedOn}`, field);
    return group;
  }
}
