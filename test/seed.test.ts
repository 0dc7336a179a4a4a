import { IdentifierProtector, maskIdentifier } from '../src/access/identifier-protection.js';
import { DEFAULT_IDENTIFIER_SYSTEMS } from '../src/config.js';
import { ControlStatus, controlStatusOf } from '../src/care-rules/control.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { openDatabase, type EntityManager, type Orm } from '../src/db/orm.js';
import { IdentifierKind } from '../src/domain/patient/patient.entity.js';
import { parseResidentId } from '../src/domain/patient/resident-id.js';
import { ObservationKind } from '../fhir-mappings/codes.js';
import { hasPatients, seedCounty, seedNowFor, type SeedSummary } from '../src/seed/generate.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

interface Seeded {
  db: TestDatabase;
  orm: Orm;
  summary: SeedSummary;
  em: () => EntityManager;
}

const opened: Seeded[] = [];
// fixed keys, so that lookups (keyed hashes) are comparable between runs
const protector = new IdentifierProtector({ encKey: Buffer.alloc(32, 7), hmacKey: Buffer.alloc(32, 9) });
// a pinned date, so that the county is the same whatever day the suite runs
const AS_OF = seedNowFor('2026-11-01');

async function seeded(patients: number, seed: number, now: Date | 'today' = AS_OF, shape: { historyYears?: number; coverageYears?: number } = {}): Promise<Seeded> {
  const db = await createTestDatabase();
  const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  const em = () => orm.em.fork() as unknown as EntityManager;
  expect(await hasPatients(em())).toBe(false);
  const summary = await seedCounty(em(), { patients, seed, protector, now: now === 'today' ? undefined : now, ...shape });
  const s = { db, orm, summary, em };
  opened.push(s);
  return s;
}

async function rows<T>(s: Seeded, sql: string): Promise<T[]> {
  return s.em().execute<T[]>(sql);
}

let a: Seeded;

beforeAll(async () => {
  a = await seeded(300, 42);
});

afterAll(async () => {
  for (const s of opened) {
    await s.orm.close();
    await s.db.drop();
  }
});

test('reports what it wrote, and the database holds exactly that', async () => {
  expect(await hasPatients(a.em())).toBe(true);
  const { counts } = a.summary;
  expect(counts.patient).toBe(300);
  expect(a.summary.townships).toBeGreaterThanOrEqual(1);
  expect(a.summary.villages).toBeGreaterThanOrEqual(2);
  for (const [table, n] of Object.entries(counts)) {
    const [{ count }] = await rows<{ count: string | number }>(a, `select count(*) as "count" from "${table}"`);
    expect([table, Number(count)]).toEqual([table, n]);
  }
  expect(counts.organization).toBeGreaterThanOrEqual(4); // county, insurer, townships, villages
  expect(counts.patient_identifier).toBeGreaterThanOrEqual(600);
  expect(counts.observation).toBeGreaterThan(300);
  expect(counts.follow_up).toBeGreaterThan(50);
  expect(counts.care_plan).toBeGreaterThan(20);
  expect(counts.referral).toBeGreaterThan(0);
  expect(counts.coverage).toBeGreaterThan(250);
  expect(a.summary.rows).toBe(Object.values(counts).reduce((x, y) => x + y, 0));
});

test('chronic disease prevalence among adults 35+ is plausible', async () => {
  const [p] = await rows<{ adults: string; htn: string; dm: string }>(
    a,
    `select count(*) as "adults",
            count(*) filter (where exists (select 1 from "condition" c where c.patient_id = p.id and c.kind = 'HYPERTENSION')) as "htn",
            count(*) filter (where exists (select 1 from "condition" c where c.patient_id = p.id and c.kind = 'TYPE_2_DIABETES')) as "dm"
       from "patient" p where p.birth_date <= date '${AS_OF.toISOString().slice(0, 10)}' - interval '35 years'`,
  );
  const adults = Number(p!.adults);
  expect(adults).toBeGreaterThan(150);
  const htn = Number(p!.htn) / adults;
  const dm = Number(p!.dm) / adults;
  expect(htn).toBeGreaterThan(0.18);
  expect(htn).toBeLessThan(0.38);
  expect(dm).toBeGreaterThan(0.04);
  expect(dm).toBeLessThan(0.18);
  // conditions carry a kind consistent with their code, and a confirming organisation
  const bad = await rows(a, `select 1 from "condition" where confirmed_by_id is null or verification_status <> 'CONFIRMED'`);
  expect(bad).toHaveLength(0);
});

test('resident IDs are valid GB 11643 numbers that match the patient, stored protected; identifiers are unique', async () => {
  const ids = await rows<{ value: string; lookup: string; cipher: string; birth_date: string; gender: string; system: string }>(
    a,
    `select i.value, i.lookup, i.cipher, i.system, p.birth_date::text as birth_date, p.gender
       from "patient_identifier" i join "patient" p on p.id = i.patient_id where i.kind = 'RESIDENT_ID'`,
  );
  expect(ids).toHaveLength(300);
  const plain = new Set<string>();
  for (const id of ids) {
    expect(id.system).toBe(DEFAULT_IDENTIFIER_SYSTEMS.residentId);
    const residentId = protector.reveal(id.system, id.cipher);
    plain.add(residentId);
    expect(id.value).toBe(maskIdentifier(residentId));
    expect(id.lookup).toBe(protector.lookup(id.system, IdentifierKind.RESIDENT_ID, residentId));
    const parsed = parseResidentId(residentId);
    expect(parsed).toBeDefined();
    expect(parsed!.areaCode).toBe('330326');
    expect(parsed!.birthDate).toBe(id.birth_date);
    expect(parsed!.male).toBe(id.gender === 'MALE');
  }
  expect(plain.size).toBe(300);

  const records = await rows<{ value: string; lookup: string; cipher: string | null }>(a, `select value, lookup, cipher from "patient_identifier" where kind = 'HEALTH_RECORD'`);
  expect(records).toHaveLength(300);
  for (const r of records) {
    expect(r.value).toMatch(/^330326\d{3}(0\d[1-9]|0[1-9]\d|1\d\d)\d{5}$/);
    expect(r.lookup).toBe(r.value);
    expect(r.cipher).toBeNull();
  }

  const [dup] = await rows<{ total: string; distinct: string }>(
    a,
    `select count(*) as "total", count(distinct (system, lookup)) as "distinct" from "patient_identifier"`,
  );
  expect(Number(dup!.distinct)).toBe(Number(dup!.total));
  const perPatient = await rows(
    a,
    `select patient_id from "patient_identifier" group by patient_id, kind having count(*) > 1`,
  );
  expect(perPatient).toHaveLength(0);
  const names = await rows<{ name: string }>(a, `select name from "patient"`);
  for (const { name } of names) expect(name).toMatch(/^[\u4e00-\u9fff]{2,4}$/);
});

test('organisation paths are materialised paths consistent with their parents', async () => {
  const orgs = await rows<{ id: string; parent_id: string | null; path: string; level: string; type: string }>(
    a,
    `select id, parent_id, path, level, type from "organization"`,
  );
  const byId = new Map(orgs.map((o) => [o.id, o]));
  for (const o of orgs) {
    const parent = o.parent_id ? byId.get(o.parent_id) : undefined;
    if (o.parent_id) expect(parent).toBeDefined();
    expect(o.path).toBe(`${parent ? parent.path : '/'}${o.id}/`);
    expect(o.path).toMatch(/^\/([0-9a-f-]{36}\/)+$/);
  }
  const levels = (level: string) => orgs.filter((o) => o.level === level);
  expect(levels('COUNTY').map((o) => o.type)).toEqual(['MEDICAL_COMMUNITY_LEAD']);
  expect(levels('EXTERNAL').map((o) => o.type)).toEqual(['INSURER']);
  for (const t of levels('TOWNSHIP')) expect(byId.get(t.parent_id!)!.level).toBe('COUNTY');
  for (const v of levels('VILLAGE')) expect(byId.get(v.parent_id!)!.level).toBe('TOWNSHIP');
  // every patient's managing organisation is a village clinic or township centre, and lies under the lead
  const stray = await rows(
    a,
    `select 1 from "patient" p join "organization" o on o.id = p.managing_organization_id where o.level not in ('VILLAGE', 'TOWNSHIP')`,
  );
  expect(stray).toHaveLength(0);
});

test('measurements are plausible and coded', async () => {
  const bps = await rows<{ systolic: number; diastolic: number; value: number | null; unit: string; code: string; system: string; effective_at: Date }>(
    a,
    `select systolic, diastolic, value, unit, code, system, effective_at from "observation" where kind = 'BLOOD_PRESSURE'`,
  );
  expect(bps.length).toBeGreaterThan(100);
  for (const o of bps) {
    expect(o.code).toBe('85354-9');
    expect(o.system).toBe('http://loinc.org');
    expect(o.unit).toBe('mm[Hg]');
    expect(o.value).toBeNull();
    expect(o.systolic).toBeGreaterThan(o.diastolic);
    expect(o.systolic).toBeGreaterThanOrEqual(80);
    expect(o.systolic).toBeLessThanOrEqual(260);
    expect(o.diastolic).toBeGreaterThanOrEqual(40);
    expect(o.diastolic).toBeLessThanOrEqual(150);
    expect(new Date(o.effective_at).getTime()).toBeLessThan(AS_OF.getTime());
  }
  const controlled = bps.filter((o) => controlStatusOf({ kind: ObservationKind.BLOOD_PRESSURE, systolic: o.systolic, diastolic: o.diastolic }) === ControlStatus.CONTROLLED);
  expect(controlled.length).toBeGreaterThan(0);
  expect(controlled.length).toBeLessThan(bps.length);

  const glucose = await rows<{ value: number; unit: string; received_value: number; received_unit: string }>(
    a,
    `select value, unit, received_value, received_unit from "observation" where kind = 'FASTING_GLUCOSE'`,
  );
  expect(glucose.length).toBeGreaterThan(20);
  for (const g of glucose) {
    expect(g.unit).toBe('mmol/L');
    expect(g.value).toBeGreaterThan(2);
    expect(g.value).toBeLessThan(30);
    expect(['mmol/L', 'mg/dL']).toContain(g.received_unit);
    if (g.received_unit === 'mg/dL') expect(Math.abs(g.received_value / 18.016 - g.value)).toBeLessThan(0.01);
    else expect(g.received_value).toBe(g.value);
  }
});

test("managed patients' tier and colour are the care rules' (src/care/state/): red when urgent or uncontrolled with a complication, never green when uncontrolled", async () => {
  const patients = await rows<{ id: string; tier: string; colour: string; uncontrolled: boolean; urgent: boolean }>(
    a,
    `select p.id, p.management_tier as tier, p.management_colour as colour,
        exists (select 1 from condition_control cc where cc.patient_id = p.id and cc.control_status in ('UNCONTROLLED', 'URGENT')) as uncontrolled,
        exists (select 1 from condition_control cc where cc.patient_id = p.id and cc.control_status = 'URGENT') as urgent
       from "patient" p where p.management_tier is not null and p.management_override_reason is null`,
  );
  expect(patients.length).toBeGreaterThan(30);
  const pairs = { RED: 'INTENSIVE', YELLOW: 'ROUTINE', GREEN: 'GENERAL' } as Record<string, string>;
  for (const p of patients) {
    expect(pairs[p.colour]).toBe(p.tier);
    if (p.urgent) expect(p.colour).toBe('RED');
    if (p.uncontrolled) expect(p.colour).not.toBe('GREEN');
  }
  expect(new Set(patients.map((p) => p.colour))).toEqual(new Set(['RED', 'YELLOW', 'GREEN']));
});

test('follow-ups and referrals keep the care rules and a consistent lifecycle', async () => {
  // Every visit was followed up within the longest interval the rules allow; every managed patient has one planned visit.
  const gaps = await rows<{ gap: number }>(a, `select (next_due_date - done_date) as gap from "follow_up" where done_date is not null and next_due_date is not null`);
  expect(gaps.length).toBeGreaterThan(100);
  for (const { gap } of gaps) expect(Number(gap)).toBeGreaterThanOrEqual(1);
  for (const { gap } of gaps) expect(Number(gap)).toBeLessThanOrEqual(Math.max(...Object.values(DEFAULT_CARE_RULES.tierMaximumDays)));
  const unplanned = await rows<{ id: string }>(
    a,
    `select p.id from "patient" p where p.care_status = 'ACTIVE' and exists (select 1 from "condition" c where c.patient_id = p.id and c.kind in ('HYPERTENSION', 'TYPE_2_DIABETES')
       and c.clinical_status in ('ACTIVE', 'RECURRENCE', 'RELAPSE') and c.verification_status not in ('REFUTED', 'ENTERED_IN_ERROR'))
       and (select count(*) from "follow_up" f where f.patient_id = p.id and f.planned_date is not null and f.done_date is null and f.cancelled_at is null) <> 1`,
  );
  expect(unplanned).toEqual([]);

  const refs = await rows<{
    status: string;
    direction: string;
    requested_at: Date;
    accepted_at: Date | null;
    rejected_at: Date | null;
    completed_at: Date | null;
    cancelled_at: Date | null;
    from_level: string;
    to_level: string;
  }>(
    a,
    `select r.status, r.direction, r.requested_at, r.accepted_at, r.rejected_at, r.completed_at, r.cancelled_at, f.level as from_level, t.level as to_level
       from "referral" r join "organization" f on f.id = r.from_organization_id join "organization" t on t.id = r.to_organization_id`,
  );
  const rank: Record<string, number> = { COUNTY: 1, TOWNSHIP: 2, VILLAGE: 3 };
  const ms = (d: Date | null) => (d ? new Date(d).getTime() : undefined);
  for (const r of refs) {
    if (r.direction === 'UP') expect(rank[r.to_level]!).toBeLessThan(rank[r.from_level]!);
    else expect(rank[r.to_level]!).toBeGreaterThan(rank[r.from_level]!);
    const req = ms(r.requested_at)!;
    const acc = ms(r.accepted_at);
    const done = ms(r.completed_at);
    const set = { acc: acc !== undefined, rej: r.rejected_at !== null, done: done !== undefined, can: r.cancelled_at !== null };
    const expected = {
      REQUESTED: { acc: false, rej: false, done: false, can: false },
      ACCEPTED: { acc: true, rej: false, done: false, can: false },
      COMPLETED: { acc: true, rej: false, done: true, can: false },
      REJECTED: { acc: false, rej: true, done: false, can: false },
      CANCELLED: { acc: false, rej: false, done: false, can: true },
    }[r.status];
    expect(set).toEqual(expected);
    for (const t of [acc, done, ms(r.rejected_at), ms(r.cancelled_at)]) {
      if (t !== undefined) {
        expect(t).toBeGreaterThanOrEqual(req);
        expect(t).toBeLessThan(AS_OF.getTime());
      }
    }
    if (acc !== undefined && done !== undefined) expect(done).toBeGreaterThanOrEqual(acc);
  }
});

test('the same seed and size give the same county; another seed a different one', async () => {
  const b = await seeded(300, 42);
  expect(b.summary.counts).toEqual(a.summary.counts);
  const q = `select p.id, p.name, i.value, i.lookup from "patient" p join "patient_identifier" i on i.patient_id = p.id and i.kind = 'RESIDENT_ID' order by p.id`;
  const first = await rows<{ id: string; name: string; value: string; lookup: string }>(a, q);
  const second = await rows<{ id: string; name: string; value: string; lookup: string }>(b, q);
  expect(second).toEqual(first);
  const obs = `select id, patient_id, systolic, diastolic, value, effective_at from "observation" order by id`;
  expect(await rows(b, obs)).toEqual(await rows(a, obs));

  const c = await seeded(60, 43);
  const third = await rows<{ name: string; lookup: string }>(c, q);
  const firstIds = new Set(first.map((r) => r.lookup));
  expect(third.filter((r) => firstIds.has(r.lookup)).length).toBeLessThan(5);
});

test('by default the county is generated as of today: its newest readings are from the last week, not a month old', async () => {
  const today = seedNowFor();
  const d = await seeded(100, 42, 'today');
  const [{ newest }] = await rows<{ newest: string }>(d, `select max(effective_at) as newest from "observation"`);
  const ageDays = (today.getTime() - new Date(newest).getTime()) / 86_400_000;
  expect(ageDays).toBeGreaterThanOrEqual(0);
  expect(ageDays).toBeLessThan(7);
  // the same county as the pinned one, shifted: a date changes when things happened, not who is in it
  const pinned = await seeded(100, 42);
  const names = `select name from "patient" order by name`;
  expect(await rows(d, names)).toEqual(await rows(pinned, names));
});

test('a longer history gives more readings per patient, and longer coverage reaches back with it; the same residents', async () => {
  const longer = await seeded(300, 42, AS_OF, { historyYears: 5, coverageYears: 4 });
  const span = `select min(effective_at) as oldest, count(*)::int as n from "observation"`;
  const [two] = await rows<{ oldest: string; n: number }>(a, span);
  const [five] = await rows<{ oldest: string; n: number }>(longer, span);
  // the default window is two years before 2026-11-01; five years reach back to late 2021
  expect(new Date(two!.oldest).getTime()).toBeGreaterThanOrEqual(Date.parse('2024-10-30'));
  expect(new Date(five!.oldest).getTime()).toBeLessThan(Date.parse('2022-06-01'));
  expect(new Date(five!.oldest).getTime()).toBeGreaterThanOrEqual(Date.parse('2021-10-30'));
  expect(five!.n).toBeGreaterThan(2 * two!.n);
  // by default everyone's coverage is this year's; with four years it starts in 2023 unless the record is younger
  const periods = `select c.period_start::text as start, c.period_end::text as end, count(*)::int as n from "coverage" c group by 1, 2 order by 1`;
  expect(await rows(a, periods)).toEqual([{ start: '2026-01-01', end: '2026-12-31', n: a.summary.counts.coverage }]);
  const starts = await rows<{ start: string; end: string; n: number }>(longer, periods);
  expect(starts.every((r) => r.end === '2026-12-31' && r.start >= '2023-01-01')).toBe(true);
  expect(starts[0]).toMatchObject({ start: '2023-01-01' });
  expect(starts[0]!.n).toBeGreaterThan(longer.summary.counts.coverage! / 2);
  const q = `select name, birth_date from "patient" order by id`;
  expect(await rows(longer, q)).toEqual(await rows(a, q));
});
