/**
 * Self-management groups of the demo county (患者自我管理小组): every township centre runs one (the notes' target is a
 * group in every township), for hypertension, or one for hypertension and one for diabetes; a share of villages with
 * enough patients run their own. Members are the patients whose care plan prescribes a group (the plan's
 * SELF_MANAGEMENT_GROUP activity then names it), joining when that plan began; a group meets about monthly, each
 * member coming to most sessions or few. About half the groups are led by an expert patient (内行病人), one of their
 * members, the others by the village doctor or a township nurse.
 */
import { ConditionKind, OrganizationLevel, PractitionerRoleCode } from '../../../vocabulary/index.js';
import type { Random } from '../random.js';
import { dayOf, iso, localMs } from '../time.js';
import type { CountyFacts, GridFacts } from './facts.js';

/** A patient whose plan prescribes a group. */
export interface GroupCandidate {
  patientId: string;
  gridId: string;
  htn: boolean;
  dm: boolean;
  age: number;
  /** The day the first plan prescribing a group began. */
  from: number;
  /** The plans' SELF_MANAGEMENT_GROUP activities. */
  activityIds: string[];
}

export interface GroupRows {
  groups: Array<{ id: string; at: number; organization: string; name: string; conditionKinds: ConditionKind[]; leaderPatient?: string; leaderPractitioner?: string; closedOn?: string }>;
  members: Array<{ at: number; updatedAt: number; group: string; patient: string; joinedOn: string; leftOn?: string }>;
  sessions: Array<{ id: string; at: number; group: string; heldOn: string; topic: string; attendees: string[] }>;
  /** The plan activities that now name their group. */
  activities: Array<{ id: string; group: string; description: string }>;
}

const TOPICS = [
  '限盐勺的使用与低盐烹饪',
  '家庭自测血压的方法',
  '规律服药与药物不良反应',
  '糖尿病饮食：主食定量与食物交换',
  '自测血糖与记录',
  '低血糖的识别与处理',
  '足部护理',
  '运动与太极拳、八段锦',
  '戒烟限酒',
  '情绪管理与睡眠',
  '看懂化验单：血脂、糖化血红蛋白',
  '经验交流：我的控压控糖故事',
];

/** Villages with at least this many candidates may run a group of their own; this share of them does. */
const VILLAGE_GROUP = { minCandidates: 4, share: 0.45 };

interface Group {
  id: string;
  /** Day number, and the instant the group was recorded. */
  created: number;
  at: number;
  closed?: number;
  kinds: ConditionKind[];
  name: string;
  organization: string;
  leaderPractitioner?: string;
  members: Array<{ candidate: GroupCandidate; joined: number; left?: number; comes: number }>;
}

/**
 * The county's groups, their members and sessions. `today` is a day number; `newId(ms)` makes a row's id for its
 * creation time (ms); `rng` is the groups' own stream.
 */
export function groupsOf(county: CountyFacts, candidates: GroupCandidate[], today: number, newId: (ms: number) => string, rng: Random): GroupRows {
  const out: GroupRows = { groups: [], members: [], sessions: [], activities: [] };
  const byTownship = new Map<string, GroupCandidate[]>();
  for (const c of candidates) {
    const grid = county.grids.get(c.gridId);
    if (grid) (byTownship.get(grid.townshipId) ?? byTownship.set(grid.townshipId, []).get(grid.townshipId)!).push(c);
  }
  const gridsOf = (townshipId: string) => [...county.grids.values()].filter((g) => g.townshipId === townshipId);

  for (const township of county.townships) {
    const local = byTownship.get(township.id) ?? [];
    if (local.length === 0) continue;
    const trng = rng.derive('township', township.id);
    const grids = gridsOf(township.id);
    const make = (organization: string, name: string, kinds: ConditionKind[], leader: string | undefined, village: boolean): Group => {
      const created = today - trng.int(150, 1000);
      const at = localMs(created, 10, trng.int(0, 59));
      const closedAt = village && trng.chance(0.06) ? today - trng.int(20, 250) : undefined;
      return { id: newId(at), created, at, closed: closedAt !== undefined && closedAt > created + 120 ? closedAt : undefined, kinds, name, organization, leaderPractitioner: leader, members: [] };
    };

    // Villages' own groups, where enough patients are prescribed one.
    const village = new Map<string, Group>();
    for (const grid of grids.filter((g) => g.level === OrganizationLevel.VILLAGE)) {
      const theirs = local.filter((c) => c.gridId === grid.id);
      if (theirs.length < VILLAGE_GROUP.minCandidates || !trng.chance(VILLAGE_GROUP.share)) continue;
      const kinds = kindsOf(theirs.some((c) => c.htn), theirs.some((c) => c.dm));
      village.set(grid.id, make(grid.organizationId, `${grid.villageName!.replace(/卫生室$/, '')}慢病自我管理小组`, kinds, grid.team[PractitionerRoleCode.VILLAGE_DOCTOR], true));
    }
    // The township centre's: one for hypertension, and one for diabetes where enough diabetic patients are left.
    const rest = local.filter((c) => !village.has(c.gridId));
    const nurse = townshipStaff(grids);
    const diabetes = rest.filter((c) => c.dm).length >= 3 && trng.chance(0.6) ? make(township.id, `${township.name}糖尿病患者自我管理小组`, [ConditionKind.TYPE_2_DIABETES], nurse, false) : undefined;
    const hypertension = rest.length > 0 ? make(township.id, `${township.name}${diabetes ? '高血压' : '慢病'}患者自我管理小组`, kindsOf(true, !diabetes), nurse, false) : undefined;

    for (const c of local) {
      const group = village.get(c.gridId) ?? (diabetes && c.dm && (!c.htn || trng.chance(0.5)) ? diabetes : hypertension)!;
      const joined = Math.max(group.created, c.from + trng.int(0, 45));
      if (joined >= today || (group.closed !== undefined && joined >= group.closed)) continue;
      const left = trng.chance(0.12) ? joined + trng.int(60, 500) : undefined;
      group.members.push({ candidate: c, joined, left: left !== undefined && left < today ? left : undefined, comes: trng.uniform(0.35, 0.9) });
    }
    for (const group of [...village.values(), diabetes, hypertension]) if (group && group.members.length > 0) write(group, today, newId, trng, out);
  }
  return out;
}

function kindsOf(htn: boolean, dm: boolean): ConditionKind[] {
  return [...(htn ? [ConditionKind.HYPERTENSION] : []), ...(dm ? [ConditionKind.TYPE_2_DIABETES] : [])];
}

/** A township nurse (or public-health officer) of one of the township's teams: who runs its groups without an expert patient. */
function townshipStaff(grids: GridFacts[]): string | undefined {
  for (const g of grids) {
    const staff = g.team[PractitionerRoleCode.NURSE] ?? g.team[PractitionerRoleCode.PUBLIC_HEALTH_OFFICER];
    if (staff) return staff;
  }
  return undefined;
}

function write(group: Group, today: number, newId: (ms: number) => string, rng: Random, out: GroupRows): void {
  // An expert patient of working age or a little older leads about half the groups: a founding member.
  const experts = group.members.filter((m) => m.candidate.age >= 45 && m.candidate.age <= 75 && m.left === undefined);
  const expert = experts.length > 0 && (rng.chance(0.55) || !group.leaderPractitioner) ? rng.pick(experts) : undefined;
  if (expert) [expert.joined, expert.left, expert.comes] = [group.created, undefined, 0.95];
  out.groups.push({
    id: group.id,
    at: group.at,
    organization: group.organization,
    name: group.name,
    conditionKinds: group.kinds,
    leaderPatient: expert?.candidate.patientId,
    leaderPractitioner: expert ? undefined : group.leaderPractitioner,
    closedOn: group.closed !== undefined ? iso(group.closed) : undefined,
  });
  for (const m of group.members) {
    const at = Math.max(localMs(m.joined, 10, rng.int(0, 59)), group.at + 60_000);
    out.members.push({ at, updatedAt: m.left !== undefined ? localMs(m.left, 10, 0) : at, group: group.id, patient: m.candidate.patientId, joinedOn: iso(m.joined), leftOn: m.left !== undefined ? iso(m.left) : undefined });
    const description = `参加${group.name}，学习自测血压、血糖和用药管理`;
    for (const id of m.candidate.activityIds) out.activities.push({ id, group: group.id, description });
  }

  // About monthly, on the group's own day of the month; a month is missed now and then (harvest, Spring Festival).
  const end = Math.min(today, group.closed ?? Infinity) - 1;
  const dayOfMonth = rng.int(5, 24);
  let topic = rng.int(0, TOPICS.length - 1);
  for (let month = monthStart(Math.max(group.created + 7, today - 730)); month <= end; month = monthStart(month + 32)) {
    const day = month + dayOfMonth - 1 + rng.int(-2, 2);
    if (day <= group.created || day > end || rng.chance(0.1)) continue;
    const attendees = group.members.filter((m) => m.joined <= day && (m.left === undefined || m.left >= day) && rng.chance(m.comes)).map((m) => m.candidate.patientId);
    const at = localMs(day, rng.chance(0.5) ? 9 : 14, 0) + 2 * 3_600_000;
    out.sessions.push({ id: newId(at), at, group: group.id, heldOn: iso(day), topic: TOPICS[topic++ % TOPICS.length]!, attendees });
  }
}

/** The first day (a day number) of the month `day` is in. */
function monthStart(day: number): number {
  return dayOf(`${iso(day).slice(0, 8)}01`);
}
