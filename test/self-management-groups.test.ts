import { countyToday } from '../src/care-rules/calendar.js';
import { DomainEvent } from '../src/events/domain-event.entity.js';
import { SelfManagementGroup, SelfManagementGroupAttendance, SelfManagementGroupMember, SelfManagementGroupSession } from '../src/domain/self-management-group/self-management-group.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { isoDay, MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  AccessAuditEventsDocument,
  AddSelfManagementGroupMemberDocument,
  CreateSelfManagementGroupDocument,
  type CreateSelfManagementGroupInput,
  PatientSelfManagementGroupsDocument,
  RecordSelfManagementGroupSessionDocument,
  type RecordSelfManagementGroupSessionInput,
  RegisterPatientDocument,
  RemoveSelfManagementGroupMemberDocument,
  SelfManagementGroupDetailDocument,
  SelfManagementGroupsDocument,
  UpdateSelfManagementGroupDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
let gp: string; // township GP: the township and both villages
let vd: string; // 东村's village doctor
let otherVd: string; // 西村's village doctor
const today = countyToday();

beforeAll(async () => {
  ({ t, county } = await startCountyApp('SG'));
  gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
  vd = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  otherVd = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.otherVillage.code });
});
afterAll(() => t?.close());

async function registerPatient(name: string, village = county.village) {
  return (await t.ok(RegisterPatientDocument, { input: { name, gender: 'FEMALE', birthDate: '1955-05-05', managingOrganizationId: village.id } })).registerPatient.id;
}

async function createGroup(input: CreateSelfManagementGroupInput, as = vd) {
  return (await t.ok(CreateSelfManagementGroupDocument, { input }, as)).createSelfManagementGroup;
}

async function rowCounts() {
  const em = t.em();
  return {
    groups: await em.count(SelfManagementGroup, {}),
    members: await em.count(SelfManagementGroupMember, {}),
    sessions: await em.count(SelfManagementGroupSession, {}),
    attendance: await em.count(SelfManagementGroupAttendance, {}),
  };
}

const detail = async (id: string, as = vd, current = true) => (await t.ok(SelfManagementGroupDetailDocument, { id, current }, as)).selfManagementGroup;

describe('creating groups', () => {
  test("a village doctor's group is her clinic's, led by her; a GP's may be any organisation of the township's", async () => {
    const own = await createGroup({ name: ' 东村高血压俱乐部 ', conditionKinds: ['HYPERTENSION'] });
    expect(own).toMatchObject({ version: 1, name: '东村高血压俱乐部', conditionKinds: ['HYPERTENSION'], organization: { id: county.village.id }, leaderPractitioner: { id: county.villageDoctor.id }, leaderPatient: null });
    const township = await createGroup({ name: '城关镇糖尿病自我管理小组', conditionKinds: ['TYPE_2_DIABETES'] }, gp);
    expect(township.organization.id).toBe(county.township.id);
    const forVillage = await createGroup({ name: '西村小组', organizationId: county.otherVillage.id }, gp);
    expect(forVillage.organization.id).toBe(county.otherVillage.id);
  });

  test('an expert patient (内行病人) may lead a group instead', async () => {
    const expert = await registerPatient('内行病人甲');
    const group = await createGroup({ name: '东村糖友会', conditionKinds: ['TYPE_2_DIABETES'], leaderPatientId: expert });
    expect(group).toMatchObject({ leaderPatient: { id: expert }, leaderPractitioner: null });
    const changed = (await t.ok(UpdateSelfManagementGroupDocument, { id: group.id, version: 1, input: { leaderPractitionerId: county.villageDoctor.id, name: '东村糖友会（新）' } }, vd)).updateSelfManagementGroup;
    expect(changed).toMatchObject({ version: 2, name: '东村糖友会（新）', leaderPatient: null, leaderPractitioner: { id: county.villageDoctor.id } });
    expectRefusal(await t.gql(UpdateSelfManagementGroupDocument, { id: group.id, version: 1, input: { name: '过期' } }, vd), 'CONFLICT');
  });

  test('refused, storing nothing: no name, both leaders, no leader, a county organisation, one outside yours, a patient you do not see', async () => {
    const refused = (input: Partial<CreateSelfManagementGroupInput>, code: string, field: string | undefined, as = vd) =>
      expectRefusedUnchanged(rowCounts, () => t.gql(CreateSelfManagementGroupDocument, { input: { name: '小组', ...input } }, as), code, field);
    const expert = await registerPatient('内行病人乙');
    await refused({ name: ' ' }, 'BAD_USER_INPUT', 'name');
    await refused({ leaderPatientId: expert, leaderPractitionerId: county.villageDoctor.id }, 'BAD_USER_INPUT', 'leaderPractitionerId');
    await refused({}, 'BAD_USER_INPUT', 'leaderPatientId', otherVd); // no practitioner in the token, none named
    await refused({ organizationId: county.county.id }, 'BAD_USER_INPUT', 'organizationId', t.adminToken);
    await refused({ organizationId: county.township.id }, 'FORBIDDEN', 'organizationId');
    await refused({ organizationId: county.otherVillage.id }, 'FORBIDDEN', 'organizationId');
    await refused({ leaderPatientId: expert }, 'BAD_USER_INPUT', 'leaderPatientId', otherVd);
    await refused({ leaderPractitionerId: county.gp.id }, 'FORBIDDEN', 'leaderPractitionerId');
  });
});

describe('members, sessions and attendance', () => {
  test('members join and leave; a session records who came; each member counts the sessions attended', async () => {
    const group = await createGroup({ name: '东村慢病小组', conditionKinds: ['HYPERTENSION', 'TYPE_2_DIABETES'] });
    const [a, b, c] = [await registerPatient('组员甲'), await registerPatient('组员乙'), await registerPatient('组员丙')];
    const joined = (await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: a, joinedOn: isoDay(-30, today) }, vd)).addSelfManagementGroupMember;
    expect(joined).toMatchObject({ joinedOn: isoDay(-30, today), leftOn: null, patient: { id: a }, group: { id: group.id } });
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: b, joinedOn: isoDay(-30, today) }, vd);
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: c }, vd);
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: a }, vd), 'CONFLICT');

    const first = (
      await t.ok(RecordSelfManagementGroupSessionDocument, { input: { groupId: group.id, heldOn: isoDay(-14, today), topic: ' 限盐勺的使用 ', attendeePatientIds: [a, b, a] } }, vd)
    ).recordSelfManagementGroupSession;
    expect(first).toMatchObject({ heldOn: isoDay(-14, today), topic: '限盐勺的使用' });
    expect(first.attendees.map((p) => p.id).sort()).toEqual([a, b].sort());
    await t.ok(RecordSelfManagementGroupSessionDocument, { input: { groupId: group.id, heldOn: today, topic: '足部护理', attendeePatientIds: [a, c] } }, vd);

    const left = (await t.ok(RemoveSelfManagementGroupMemberDocument, { groupId: group.id, patientId: b }, vd)).removeSelfManagementGroupMember;
    expect(left).toMatchObject({ joinedOn: isoDay(-30, today), leftOn: today });
    expectRefusal(await t.gql(RemoveSelfManagementGroupMemberDocument, { groupId: group.id, patientId: b }, vd), 'NOT_FOUND');

    const read = await detail(group.id);
    expect(read.members.map((m) => [m.patient.id, m.sessionsAttended])).toEqual([
      [a, 2],
      [c, 1],
    ]);
    expect((await detail(group.id, vd, false)).members.map((m) => [m.patient.id, m.leftOn])).toEqual([
      [a, null],
      [b, today],
      [c, null],
    ]);
    expect(read.sessions.map((s) => [s.heldOn, s.topic, s.attendees.length])).toEqual([
      [today, '足部护理', 2],
      [isoDay(-14, today), '限盐勺的使用', 2],
    ]);

    const mine = (await t.ok(PatientSelfManagementGroupsDocument, { id: b, current: false }, vd)).patient.selfManagementGroups;
    expect(mine).toEqual([{ joinedOn: isoDay(-30, today), leftOn: today, sessionsAttended: 1, group: { id: group.id, name: '东村慢病小组' } }]);
    expect((await t.ok(PatientSelfManagementGroupsDocument, { id: b }, vd)).patient.selfManagementGroups).toEqual([]);

    // A rejoin is a new membership.
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: b }, vd);
    expect((await t.ok(PatientSelfManagementGroupsDocument, { id: b, current: false }, vd)).patient.selfManagementGroups).toHaveLength(2);
  });

  test('attendance is of members on the day; sessions and joins are not in the future; a closed group takes neither', async () => {
    const group = await createGroup({ name: '东村第二小组' });
    const [member, newcomer, outsider] = [await registerPatient('日期甲'), await registerPatient('日期乙'), await registerPatient('日期丙')];
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: member, joinedOn: isoDay(-10, today) }, vd);
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: newcomer }, vd);
    const session = (input: Partial<RecordSelfManagementGroupSessionInput>) =>
      t.gql(RecordSelfManagementGroupSessionDocument, { input: { groupId: group.id, heldOn: isoDay(-5, today), topic: '合理膳食', ...input } }, vd);
    const refused = (input: Partial<RecordSelfManagementGroupSessionInput>, field: string) => expectRefusedUnchanged(rowCounts, () => session(input), 'BAD_USER_INPUT', field);
    await refused({ attendeePatientIds: [member, newcomer] }, 'attendeePatientIds.1'); // joined today, after the session
    await refused({ attendeePatientIds: [outsider] }, 'attendeePatientIds.0');
    await refused({ attendeePatientIds: ['not-an-id'] }, 'attendeePatientIds.0');
    await refused({ heldOn: isoDay(2, today) }, 'heldOn');
    await refused({ topic: '' }, 'topic');
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: outsider, joinedOn: isoDay(3, today) }, vd), 'BAD_USER_INPUT', 'joinedOn');
    expectRefusal(await t.gql(RemoveSelfManagementGroupMemberDocument, { groupId: group.id, patientId: member, leftOn: isoDay(-11, today) }, vd), 'BAD_USER_INPUT', 'leftOn');
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: MISSING_ID }, vd), 'BAD_USER_INPUT', 'patientId');

    await t.ok(UpdateSelfManagementGroupDocument, { id: group.id, version: 1, input: { closedOn: isoDay(-1, today) } }, vd);
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: outsider }, vd), 'BAD_USER_INPUT', 'joinedOn');
    expectRefusal(await session({ heldOn: today }), 'BAD_USER_INPUT', 'heldOn');
    expect((await session({ heldOn: isoDay(-2, today), attendeePatientIds: [member] })).errors).toBeUndefined(); // before it closed
  });

  test('the events name the patient; the audit names every patient a session names', async () => {
    const group = await createGroup({ name: '东村审计小组' });
    const [a, b] = [await registerPatient('审计甲'), await registerPatient('审计乙')];
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: a }, vd);
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: b }, vd);
    await t.ok(RecordSelfManagementGroupSessionDocument, { input: { groupId: group.id, heldOn: today, topic: '运动', attendeePatientIds: [a, b] } }, vd);
    const events = await t.em().find(DomainEvent, { patientId: { $in: [a, b] }, type: { $like: 'SelfManagement%' } }, { orderBy: { id: 'asc' } });
    expect(events.map((e) => [e.type, e.patientId])).toEqual([
      ['SelfManagementGroupMembershipChanged', a],
      ['SelfManagementGroupMembershipChanged', b],
      ['SelfManagementSessionAttended', a],
      ['SelfManagementSessionAttended', b],
    ]);
    for (const patientId of [a, b]) {
      const audit = (await t.ok(AccessAuditEventsDocument, { filter: { patientId }, first: 20 })).auditEvents.edges.map((e) => e.node);
      expect(audit.some((e) => e.what.includes('recordSelfManagementGroupSession') && e.patientIds.includes(patientId))).toBe(true);
      expect(audit.some((e) => e.what.includes('addSelfManagementGroupMember'))).toBe(true);
    }
  });
});

describe('access across organisations', () => {
  test("another village's doctor neither sees nor runs the group; the township's GP does; a village doctor does not see the township's", async () => {
    const group = await createGroup({ name: '东村私有小组', conditionKinds: ['HYPERTENSION'] });
    const patient = await registerPatient('访问甲');
    const theirs = await registerPatient('访问乙', county.otherVillage);
    await t.ok(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: patient }, vd);
    const before = await rowCounts();

    expectRefusal(await t.gql(SelfManagementGroupDetailDocument, { id: group.id, current: true }, otherVd), 'NOT_FOUND');
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: theirs }, otherVd), 'NOT_FOUND');
    expectRefusal(await t.gql(RecordSelfManagementGroupSessionDocument, { input: { groupId: group.id, heldOn: today, topic: 'x' } }, otherVd), 'NOT_FOUND');
    expectRefusal(await t.gql(RemoveSelfManagementGroupMemberDocument, { groupId: group.id, patientId: patient }, otherVd), 'NOT_FOUND');
    expectRefusal(await t.gql(UpdateSelfManagementGroupDocument, { id: group.id, version: 1, input: { name: 'x' } }, otherVd), 'NOT_FOUND');
    // A patient of another village cannot be added by 东村's doctor either: she does not see them.
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: theirs }, vd), 'BAD_USER_INPUT', 'patientId');
    expect(await rowCounts()).toEqual(before);
    const listed = async (as: string, filter = {}) => (await t.ok(SelfManagementGroupsDocument, { filter, first: 100 }, as)).selfManagementGroups.edges.map((e) => e.node.id);
    expect(await listed(otherVd)).not.toContain(group.id);
    expect(await listed(gp)).toContain(group.id);
    expect(await listed(gp, { organizationId: county.village.id, conditionKind: 'HYPERTENSION' })).toContain(group.id);
    expect(await listed(gp, { organizationId: county.otherVillage.id })).not.toContain(group.id);
    expect(await listed(gp, { conditionKind: 'COPD' })).not.toContain(group.id);
    expect((await detail(group.id, gp)).members.map((m) => m.patient.id)).toEqual([patient]);

    const township = await createGroup({ name: '城关镇小组' }, gp);
    expectRefusal(await t.gql(SelfManagementGroupDetailDocument, { id: township.id, current: true }, vd), 'NOT_FOUND');
    expect(await listed(vd)).not.toContain(township.id);
    // A community administrator reads, but may not write.
    const admin = await t.tokenFor({ roles: ['COMMUNITY_ADMIN'], org: county.township.code });
    expect(await listed(admin)).toContain(group.id);
    expectRefusal(await t.gql(AddSelfManagementGroupMemberDocument, { groupId: group.id, patientId: patient }, admin), 'FORBIDDEN');
  });

  test('pages by cursor', async () => {
    const page = (await t.ok(SelfManagementGroupsDocument, { first: 2 }, gp)).selfManagementGroups;
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = (await t.ok(SelfManagementGroupsDocument, { first: 2, after: page.pageInfo.endCursor }, gp)).selfManagementGroups;
    expect(next.edges.map((e) => e.node.id)).not.toContain(page.edges[0]!.node.id);
    expect(page.totalCount).toBeGreaterThan(2);
    expectRefusal(await t.gql(SelfManagementGroupsDocument, { after: 'nope' }, gp), 'BAD_USER_INPUT', 'after');
  });
});
