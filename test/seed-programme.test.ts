/**
 * The demo county's care programme (src/seed/programme/): health assessments, patients who left, calls to overdue
 * patients, self-management groups — in realistic shares, consistent with the rest of the county, and a county the
 * care rules have already settled: reassessing it again changes nothing.
 */
import { IdentifierProtector } from '../src/access/identifier-protection.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { reassess } from '../src/care/index.js';
import { openDatabase, type EntityManager, type Orm } from '../src/db/orm.js';
import { seedCounty, seedNowFor } from '../src/seed/generate.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const AS_OF = seedNowFor('2026-11-01');
const TODAY = countyToday(AS_OF);
const protector = new IdentifierProtector({ encKey: Buffer.alloc(32, 7), hmacKey: Buffer.alloc(32, 9) });

interface County {
  db: TestDatabase;
  orm: Orm;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  one<T = Record<string, unknown>>(sql: string): Promise<T>;
}
const opened: County[] = [];

async function county(patients: number, seed: number): Promise<County> {
  const db = await createTestDatabase();
  const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  await seedCounty(orm.em.fork() as unknown as EntityManager, { patients, seed, protector, now: AS_OF });
  const rows = <T>(sql: string) => (orm.em.fork() as unknown as EntityManager).execute<T[]>(sql);
  const c: County = { db, orm, rows, one: async <T>(sql: string) => (await rows<T>(sql))[0]! };
  opened.push(c);
  return c;
}

let a: County;
beforeAll(async () => {
  a = await county(800, 42);
});
afterAll(async () => {
  for (const c of opened) {
    await c.orm.close();
    await c.db.drop();
  }
});

const n = (v: unknown) => Number(v);
/** A patient with a standing hypertension or diabetes diagnosis. */
const CORE = `exists (select 1 from condition c where c.patient_id = p.id and c.kind in ('HYPERTENSION', 'TYPE_2_DIABETES'))`;
const VISITED = `exists (select 1 from follow_up v where v.patient_id = p.id and v.done_date is not null)`;
const countyDay = (col: string) => `((${col}) at time zone 'Asia/Shanghai')::date`;

test('most managed patients were assessed after their diagnosis, and most of them again each year before their yearly plan', async () => {
  const s = await a.one<Record<string, string>>(
    `select count(*) as managed,
            count(*) filter (where exists (select 1 from assessment x where x.patient_id = p.id and x.kind = 'INITIAL')) as initial,
            count(*) filter (where (select count(*) from care_plan cp where cp.patient_id = p.id) >= 2) as two_plans,
            count(*) filter (where (select count(*) from care_plan cp where cp.patient_id = p.id) >= 2
              and exists (select 1 from assessment x where x.patient_id = p.id and x.kind = 'ANNUAL')) as reassessed
       from patient p where ${CORE} and ${VISITED}`,
  );
  expect(n(s.managed)).toBeGreaterThan(150);
  expect(n(s.initial) / n(s.managed)).toBeGreaterThan(0.85);
  expect(n(s.initial) / n(s.managed)).toBeLessThan(1);
  expect(n(s.reassessed) / n(s.two_plans)).toBeGreaterThan(0.6);

  // Never before the diagnosis of its kind nor the health record, never on or after today; a later one is ANNUAL.
  const bad = await a.rows(
    `select x.id from assessment x join patient p on p.id = x.patient_id
      where x.assessed_on >= date '${TODAY}' or x.assessed_on < ${countyDay('p.created_at')}
         or not exists (select 1 from condition c where c.patient_id = x.patient_id and c.kind = x.condition_kind and c.verification_status = 'CONFIRMED'
                         and ${countyDay(`coalesce(c.confirmed_at, c.onset_date::timestamp at time zone 'Asia/Shanghai', c.created_at)`)} <= x.assessed_on)
         or (x.kind = 'ANNUAL') <> exists (select 1 from assessment e where e.patient_id = x.patient_id and e.condition_kind = x.condition_kind and e.assessed_on < x.assessed_on)`,
  );
  expect(bad).toEqual([]);
});

test("what an assessment finds agrees with the patient: the plan's smoking cessation, the diagnoses that are complications, age by the guides' thresholds", async () => {
  const [s] = await a.rows<Record<string, string>>(
    `select count(*) filter (where exists (select 1 from care_plan cp join care_plan_activity act on act.care_plan_id = cp.id
                               where cp.patient_id = x.patient_id and act.category = 'SMOKING_CESSATION') and x.kind = 'INITIAL') as quit_prescribed,
            count(*) filter (where exists (select 1 from care_plan cp join care_plan_activity act on act.care_plan_id = cp.id
                               where cp.patient_id = x.patient_id and act.category = 'SMOKING_CESSATION') and x.kind = 'INITIAL' and x.risk_factors ? 'SMOKING') as quit_prescribed_smoker,
            count(*) filter (where x.condition_kind = 'HYPERTENSION' and exists (select 1 from condition c where c.patient_id = x.patient_id and c.kind = 'CHD'
                               and ${countyDay('c.confirmed_at')} <= x.assessed_on)) as with_chd,
            count(*) filter (where x.condition_kind = 'HYPERTENSION' and exists (select 1 from condition c where c.patient_id = x.patient_id and c.kind = 'CHD'
                               and ${countyDay('c.confirmed_at')} <= x.assessed_on) and x.complications ? 'CORONARY_HEART_DISEASE') as with_chd_found,
            count(*) filter (where (x.risk_factors ? 'AGE') <> (extract(year from age(x.assessed_on, p.birth_date)) > case p.gender when 'MALE' then 55 else 65 end)) as age_wrong,
            count(*) filter (where x.condition_kind not in ('HYPERTENSION', 'TYPE_2_DIABETES') and (jsonb_array_length(x.complications) > 0 or jsonb_array_length(x.target_organ_damage) > 0)) as other_kind_findings,
            count(*) filter (where jsonb_array_length(x.target_organ_damage) > 0) as with_damage,
            count(*) as total
       from assessment x join patient p on p.id = x.patient_id`,
  );
  expect(n(s!.quit_prescribed)).toBeGreaterThan(10);
  expect(s!.quit_prescribed_smoker).toEqual(s!.quit_prescribed);
  expect(n(s!.with_chd)).toBeGreaterThan(3);
  expect(s!.with_chd_found).toEqual(s!.with_chd);
  expect(n(s!.age_wrong)).toBe(0);
  expect(n(s!.other_kind_findings)).toBe(0);
  expect(n(s!.with_damage) / n(s!.total)).toBeGreaterThan(0.05);
  expect(n(s!.with_damage) / n(s!.total)).toBeLessThan(0.6);
});

test('the pathways of managed patients move past CONFIRMED, and some go round again', async () => {
  const steps = await a.rows<{ step: string; cycle: number; n: string }>(
    `select cur.step, cur.cycle, count(*) as n from patient p join lateral (
        select distinct on (ps.condition_kind) ps.step, ps.cycle from pathway_step ps where ps.patient_id = p.id and ps.condition_kind in ('HYPERTENSION', 'TYPE_2_DIABETES')
         order by ps.condition_kind, ps.cycle desc, array_position(array['SUSPECTED','CONFIRMED','ASSESSED','PLAN_MADE','INTERVENTION','FOLLOWED_UP','REASSESSED'], ps.step) desc) cur on true
      where ${CORE} and ${VISITED} and p.care_status = 'ACTIVE' group by 1, 2`,
  );
  const total = steps.reduce((t, r) => t + n(r.n), 0);
  const at = (step: string) => steps.filter((r) => r.step === step).reduce((t, r) => t + n(r.n), 0);
  expect(total).toBeGreaterThan(150);
  expect(at('CONFIRMED') / total).toBeLessThan(0.15);
  expect(at('FOLLOWED_UP') / total).toBeGreaterThan(0.5);
  expect(steps.some((r) => r.cycle >= 2)).toBe(true);
});

test('a few patients left the programme, each after the last thing recorded of them, with a date and a reason; their planned visits are cancelled', async () => {
  const statuses = await a.rows<{ care_status: string; n: string }>(`select p.care_status, count(*) as n from patient p where ${CORE} group by 1`);
  const managed = statuses.reduce((t, r) => t + n(r.n), 0);
  const left = statuses.filter((r) => r.care_status !== 'ACTIVE');
  const leftCount = left.reduce((t, r) => t + n(r.n), 0);
  expect(leftCount / managed).toBeGreaterThan(0.02);
  expect(leftCount / managed).toBeLessThan(0.15);
  expect(left.length).toBeGreaterThanOrEqual(3);

  const wrong = await a.rows(
    `select p.id from patient p where p.care_status <> 'ACTIVE' and (
        p.care_status_on is null or p.care_status_reason is null or p.care_status_on >= date '${TODAY}' or p.care_status_on < p.birth_date
        or exists (select 1 from observation o where o.patient_id = p.id and ${countyDay('o.effective_at')} > p.care_status_on)
        or exists (select 1 from follow_up v where v.patient_id = p.id and v.done_date > p.care_status_on)
        or exists (select 1 from assessment x where x.patient_id = p.id and x.assessed_on > p.care_status_on)
        or exists (select 1 from self_management_group_attendance sa join self_management_group_session s on s.id = sa.session_id where sa.patient_id = p.id and s.held_on > p.care_status_on)
        or exists (select 1 from self_management_group_member m where m.patient_id = p.id and (m.left_on is null or m.left_on > p.care_status_on))
        or exists (select 1 from follow_up f where f.patient_id = p.id and f.planned_date is not null and f.done_date is null and f.cancelled_at is null)
        or exists (select 1 from alert al where al.patient_id = p.id and al.state <> 'RESOLVED'))`,
  );
  expect(wrong).toEqual([]);
  const active = await a.rows(`select 1 from patient where care_status = 'ACTIVE' and (care_status_on is not null or care_status_reason is not null)`);
  expect(active).toEqual([]);
});

test("about half the overdue patients were called, after the missed day, with Simple.org's outcomes in realistic shares", async () => {
  const s = await a.one<Record<string, string>>(
    `select count(*) as overdue, count(*) filter (where exists (select 1 from contact_attempt ca where ca.patient_id = p.id and ca.follow_up_id = f.id)) as called
       from follow_up f join patient p on p.id = f.patient_id
      where f.planned_date < date '${TODAY}' - 3 and f.done_date is null and f.cancelled_at is null and p.care_status = 'ACTIVE'`,
  );
  expect(n(s.overdue)).toBeGreaterThan(50);
  expect(n(s.called) / n(s.overdue)).toBeGreaterThan(0.3);
  expect(n(s.called) / n(s.overdue)).toBeLessThan(0.8);

  const outcomes = Object.fromEntries((await a.rows<{ outcome: string; n: string }>(`select outcome, count(*) as n from contact_attempt group by 1`)).map((r) => [r.outcome, n(r.n)]));
  const total = Object.values(outcomes).reduce((t, x) => t + x, 0);
  expect(Object.keys(outcomes).length).toBeGreaterThanOrEqual(5);
  expect(outcomes.REACHED! / total).toBeGreaterThan(0.3);
  expect(outcomes.REACHED! / total).toBeLessThan(0.7);
  expect(outcomes.NOT_REACHABLE! / total).toBeGreaterThan(0.1);
  expect(((outcomes.MOVED ?? 0) + (outcomes.DIED ?? 0)) / total).toBeLessThan(0.25);

  const wrong = await a.rows(
    `select ca.id from contact_attempt ca join follow_up f on f.id = ca.follow_up_id join patient p on p.id = ca.patient_id
      where f.patient_id <> ca.patient_id or ${countyDay('ca.attempted_at')} < f.planned_date or ${countyDay('ca.attempted_at')} >= date '${TODAY}'
         or (ca.will_come_on is not null and (ca.outcome <> 'REACHED' or ca.will_come_on < ${countyDay('ca.attempted_at')}))
         or (ca.outcome = 'WRONG_NUMBER' and ca.method not in ('PHONE', 'SMS'))
         or (ca.outcome = 'MOVED' and (p.care_status <> 'MOVED_AWAY' or p.care_status_on <> ${countyDay('ca.attempted_at')}))
         or (ca.outcome = 'DIED' and (p.care_status <> 'DIED' or p.care_status_on <> ${countyDay('ca.attempted_at')}))
         or ca.phone is distinct from p.phone or ca.organization_id is null`,
  );
  expect(wrong).toEqual([]);
  expect(n((await a.one(`select count(*) as n from contact_attempt where follow_up_id is null`)).n)).toBe(0);
});

test('every township runs a self-management group, some villages too; members are those their plan sends, and come to sessions while members', async () => {
  const townships = await a.rows(`select o.id from organization o where o.level = 'TOWNSHIP' and not exists (select 1 from self_management_group g where g.organization_id = o.id)`);
  expect(townships).toEqual([]);
  const villages = await a.one<{ n: string }>(`select count(*) as n from self_management_group g join organization o on o.id = g.organization_id where o.level = 'VILLAGE'`);
  expect(n(villages.n)).toBeGreaterThan(0);
  const leaders = await a.one<Record<string, string>>(
    `select count(*) filter (where leader_patient_id is not null) as experts, count(*) filter (where leader_practitioner_id is not null) as staff,
            count(*) filter (where (leader_patient_id is null) = (leader_practitioner_id is null)) as neither_or_both,
            count(*) filter (where leader_patient_id is not null and not exists (select 1 from self_management_group_member m where m.group_id = g.id and m.patient_id = g.leader_patient_id)) as stranger
       from self_management_group g`,
  );
  expect(n(leaders.experts)).toBeGreaterThan(0);
  expect(n(leaders.staff)).toBeGreaterThan(0);
  expect(n(leaders.neither_or_both) + n(leaders.stranger)).toBe(0);

  // Attendance only by members that day, sessions before the group closed and before today; a member joined before today.
  const wrong = await a.rows(
    `select sa.id from self_management_group_attendance sa join self_management_group_session s on s.id = sa.session_id join self_management_group g on g.id = s.group_id
      where s.held_on >= date '${TODAY}' or (g.closed_on is not null and s.held_on >= g.closed_on)
         or not exists (select 1 from self_management_group_member m where m.group_id = s.group_id and m.patient_id = sa.patient_id and m.joined_on <= s.held_on and (m.left_on is null or m.left_on >= s.held_on))
     union all
     select m.id from self_management_group_member m where m.joined_on >= date '${TODAY}' or m.left_on < m.joined_on`,
  );
  expect(wrong).toEqual([]);
  const attended = await a.one<{ sessions: string; attendances: string }>(
    `select (select count(*) from self_management_group_session) as sessions, (select count(*) from self_management_group_attendance) as attendances`,
  );
  expect(n(attended.attendances)).toBeGreaterThan(n(attended.sessions));

  // A plan's group activity names a group its patient joined; most such activities do.
  const activities = await a.one<Record<string, string>>(
    `select count(*) as total, count(*) filter (where act.self_management_group_id is not null) as named,
            count(*) filter (where act.self_management_group_id is not null and not exists (select 1 from self_management_group_member m
              where m.group_id = act.self_management_group_id and m.patient_id = cp.patient_id)) as stranger
       from care_plan_activity act join care_plan cp on cp.id = act.care_plan_id where act.category = 'SELF_MANAGEMENT_GROUP'`,
  );
  expect(n(activities.named) / n(activities.total)).toBeGreaterThan(0.7);
  expect(n(activities.stranger)).toBe(0);
});

test('most managed patients have a non-medical prescription in force: those without are a minority', async () => {
  const s = await a.one<Record<string, string>>(
    `select count(*) as managed, count(*) filter (where not exists (select 1 from care_plan cp join care_plan_activity act on act.care_plan_id = cp.id
        where cp.patient_id = p.id and cp.status = 'ACTIVE' and act.category <> 'MEDICATION' and act.status in ('NOT_STARTED', 'SCHEDULED', 'IN_PROGRESS'))) as without
       from patient p where ${CORE} and p.care_status = 'ACTIVE'`,
  );
  expect(n(s.without) / n(s.managed)).toBeGreaterThan(0.05);
  expect(n(s.without) / n(s.managed)).toBeLessThan(0.4);
});

test('the care rules have settled the seeded county: reassessing it again changes nothing', async () => {
  const snapshot = async () => ({
    control: await a.rows(`select patient_id, condition_kind, control_status, observation_id, decided_at from condition_control order by 1, 2`),
    visits: await a.rows(`select id, planned_date, due_reason, type, control_status, next_due_date, cancelled_at, cancel_reason, updated_at, version from follow_up order by id`),
    patients: await a.rows(`select id, management_tier, management_colour, management_override_reason, care_status, updated_at, version from patient order by id`),
    alerts: await a.rows(`select patient_id, kind, cause_id, state, severity, resolved_at, version from alert order by 1, 2, 3`),
    pathway: await a.rows(`select patient_id, condition_kind, cycle, step, reached_at, evidence_id, skipped from pathway_step order by 1, 2, 3, 4`),
    events: await a.one(`select count(*) as n, max(id) as last from domain_event`),
  });
  const before = await snapshot();
  expect(before.pathway.length).toBeGreaterThan(500);
  await a.orm.em.fork().transactional((tx) => reassess(tx as unknown as EntityManager, { all: true }, DEFAULT_CARE_RULES, TODAY));
  expect(await snapshot()).toEqual(before);
});

test('the same seed and size give the same programme, ids included', async () => {
  const [x, y] = [await county(150, 7), await county(150, 7)];
  for (const sql of [
    `select id, patient_id, condition_kind, kind, assessed_on, risk_factors, complications, target_organ_damage, assessed_by_id from assessment order by id`,
    // (the visits the care rules planned have ids of their own making: the attempt's visit is compared by its patient and day)
    `select ca.id, ca.patient_id, f.planned_date, ca.attempted_at, ca.method, ca.outcome, ca.will_come_on from contact_attempt ca join follow_up f on f.id = ca.follow_up_id order by ca.id`,
    `select id, name, organization_id, leader_patient_id, leader_practitioner_id, closed_on from self_management_group order by id`,
    `select id, group_id, patient_id, joined_on, left_on from self_management_group_member order by id`,
    `select s.id, s.held_on, s.topic, a.patient_id from self_management_group_session s left join self_management_group_attendance a on a.session_id = s.id order by s.id, a.id`,
    `select id, care_status, care_status_on, care_status_reason from patient where care_status <> 'ACTIVE' order by id`,
  ]) {
    const first = await x.rows(sql);
    expect([sql, await y.rows(sql)]).toEqual([sql, first]);
  }
  expect((await x.rows(`select id from assessment`)).length).toBeGreaterThan(20);
});
