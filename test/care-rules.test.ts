/**
 * The care rules as data: read from configuration (CARE_RULES_FILE), and each rule's TypeScript and SQL forms built
 * from the same CareRules agree — run against the real database (embedded PGlite, or PostgreSQL with
 * TEST_DATABASE_URL) over many generated readings, and over a seeded county.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Observation as FhirObservation, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../src/config.js';
import { controlStatusOf, controlStatusSql } from '../src/care-rules/control.js';
import { latestReading, latestReadingSql } from '../src/care-rules/latest.js';
import { MANAGEMENT_FACT_COLUMNS, type ManagementFacts, managementColourSql, managementOf } from '../src/care-rules/management.js';
import { NEXT_FOLLOW_UP_FACT_COLUMNS, type NextFollowUpFacts, nextFollowUpOf, nextFollowUpSql } from '../src/care-rules/follow-up-interval.js';
import { managementFactsSql } from '../src/care/state/management.js';
import { scheduleFactsSql } from '../src/care/state/schedule.js';
import { frameOf } from '../src/care/state/sql.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { implausibilityOf, Plausibility, plausibilitySql } from '../src/care-rules/plausibility.js';
import { careRulesFrom, type CareRules, DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { IdentifierProtector } from '../src/access/identifier-protection.js';
import { openDatabase, type EntityManager, type Orm } from '../src/db/orm.js';
import { seedCounty, seedNowFor } from '../src/seed/generate.js';
import { mappingFor, type ObservationShape } from '../fhir-mappings/index.js';
import { FollowUpType, ManagementTier, ObservationKind } from '../vocabulary/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { FHIR_DIR, filesIn, readJson, readNdjson } from './fhir/support.js';

let db: TestDatabase;
let orm: Orm;
const em = () => orm.em.fork() as unknown as EntityManager;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

describe('CARE_RULES_FILE', () => {
  const file = (content: string) => {
    const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'care-rules-')), 'rules.json');
    fs.writeFileSync(p, content);
    return p;
  };

  test('unset: the defaults; set: its settings over the defaults', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).careRules).toEqual(DEFAULT_CARE_RULES);
    const rules = loadConfig({ NODE_ENV: 'test', CARE_RULES_FILE: file('{"control": {"hba1cBelow": 7.5}, "plausible": {"hba1cPercent": [2.5, 20]}}') }).careRules;
    expect(rules.control).toEqual({ ...DEFAULT_CARE_RULES.control, hba1cBelow: 7.5 });
    expect(rules.plausible.hba1cPercent).toEqual([2.5, 20]);
    expect(rules.urgent).toEqual(DEFAULT_CARE_RULES.urgent);
  });

  test.each([
    ['{"control": {"hba1cBelow": "7"}}', /control\.hba1cBelow must be a number, got "7"/],
    ['{"contrl": {}}', /unknown setting contrl/],
    ['{"plausible": {"systolic": [300, 40]}}', /plausible\.systolic must be a range \[low, high\]/],
    ['{"followUpDays": {"controlled": 0.5}}', /followUpDays\.controlled must be a whole number/],
    ['{"tierMaximumDays": {"intensive": 0}}', /tierMaximumDays\.intensive must be a whole number of days, at least 1/],
    ['{"control": {"recentDays": 1.5}}', /control\.recentDays must be a whole number/],
    ['{"control": ', /is not JSON/],
  ])('%s is refused at start-up, naming the setting', (content, message) => {
    expect(() => loadConfig({ NODE_ENV: 'test', CARE_RULES_FILE: file(content) })).toThrow(message);
  });

  test('a file that is not there is refused', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', CARE_RULES_FILE: '/nonexistent/rules.json' })).toThrow(/CARE_RULES_FILE \/nonexistent\/rules.json cannot be read \(ENOENT\)/);
  });
});

/** A small deterministic PRNG: the same readings every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Row {
  kind: ObservationKind;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
  effectiveAt: Date;
  birthDate: string | null;
  plausibility: Plausibility;
}

/** Readings around every threshold of `rules` (and exactly on them), with the odd missing value and implausible flag. */
function readings(n: number, rules: CareRules, seed = 7): Row[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const near = (points: number[], spread: number) => {
    const p = pick(points);
    const x = r() < 0.25 ? p : p + (r() - 0.5) * spread;
    return Math.round(x * 10) / 10;
  };
  const { control: c, urgent: u, plausible: pl } = rules;
  const kinds = [ObservationKind.BLOOD_PRESSURE, ObservationKind.FASTING_GLUCOSE, ObservationKind.GLUCOSE, ObservationKind.HBA1C, ObservationKind.WEIGHT, ObservationKind.BMI];
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const kind = pick(kinds);
    const row: Row = {
      kind,
      value: null,
      systolic: null,
      diastolic: null,
      // Days, not minutes, from the clock-skew bound and birth: the SQL's now() is a moment later than Date.now().
      effectiveAt: new Date(now + (r() < 0.05 ? 2 : -r() * 3000) * 86_400_000),
      birthDate: r() < 0.8 ? '1960-01-01' : r() < 0.5 ? null : new Date(now - r() * 1000 * 86_400_000).toISOString().slice(0, 10),
      plausibility: r() < 0.1 ? Plausibility.IMPLAUSIBLE : Plausibility.PLAUSIBLE,
    };
    if (kind === ObservationKind.BLOOD_PRESSURE) {
      row.systolic = r() < 0.03 ? null : near([c.systolicBelow, u.systolicAtLeast, pl.systolic[0], pl.systolic[1], 120], 30);
      row.diastolic = r() < 0.03 ? null : near([c.diastolicBelow, u.diastolicAtLeast, pl.diastolic[0], pl.diastolic[1], row.systolic ?? 80], 20);
    } else {
      const points: Record<string, number[]> = {
        FASTING_GLUCOSE: [c.fastingGlucoseBelow, u.glucoseAtLeast, u.glucoseAtMost, ...pl.glucoseMmolL],
        GLUCOSE: [c.fastingGlucoseBelow, u.glucoseAtLeast, u.glucoseAtMost, ...pl.glucoseMmolL],
        HBA1C: [c.hba1cBelow, ...pl.hba1cPercent],
        WEIGHT: [...pl.weightKg],
        BMI: [...pl.bmi],
      };
      row.value = r() < 0.03 ? null : near(points[kind]!, 4);
    }
    return row;
  });
}

const lit = (v: number | null) => (v === null ? 'null::float8' : `${v}::float8`);

/** Runs `expression` (over alias `o`, with the patient's birth date as `o.birth_date`) for each row, in order. */
async function sqlOver(rows: Row[], expression: string): Promise<Array<string | null>> {
  const values = rows
    .map(
      (r, i) =>
        `(${i}, '${r.kind}'::text, ${lit(r.value)}, ${lit(r.systolic)}, ${lit(r.diastolic)}, '${r.effectiveAt.toISOString()}'::timestamptz, ${r.birthDate ? `'${r.birthDate}'::date` : 'null::date'}, '${r.plausibility}'::text)`,
    )
    .join(', ');
  const out = (await em().getConnection().execute(
    `select o.i, ${expression} as result from (values ${values}) as o(i, kind, value, systolic, diastolic, effective_at, birth_date, plausibility) order by o.i`,
  )) as Array<{ i: number; result: string | null }>;
  return out.map((o) => o.result);
}

const CUSTOM = careRulesFrom({
  control: { systolicBelow: 130, diastolicBelow: 80, fastingGlucoseBelow: 6.5, hba1cBelow: 7.5 },
  urgent: { systolicAtLeast: 170, glucoseAtMost: 3.5 },
  plausible: { hba1cPercent: [2.5, 18], systolic: [50, 280] },
});

describe.each([
  ['the default rules', DEFAULT_CARE_RULES],
  ['a deployment’s own rules', CUSTOM],
])('TypeScript and SQL agree, with %s', (_name, rules) => {
  const rows = readings(3000, rules);

  test('controlStatusOf and controlStatusSql, over 3,000 readings', async () => {
    const sql = await sqlOver(rows, controlStatusSql(rules, 'o'));
    const ts = rows.map((r) => controlStatusOf(r, rules) ?? null);
    expect(sql).toEqual(ts);
    // The readings reach every outcome.
    expect(new Set(ts)).toEqual(new Set(['CONTROLLED', 'UNCONTROLLED', 'URGENT', null]));
  });

  test('implausibilityOf and plausibilitySql, over the same readings', async () => {
    const valued = rows.filter((r) => (r.kind === ObservationKind.BLOOD_PRESSURE ? r.systolic !== null && r.diastolic !== null : r.value !== null));
    const sql = await sqlOver(valued, plausibilitySql(rules, 'o', { birthDate: 'o.birth_date' }));
    const ts = valued.map((r) => (implausibilityOf(r, rules, { birthDate: r.birthDate }) ? 'IMPLAUSIBLE' : 'PLAUSIBLE'));
    expect(sql).toEqual(ts);
    expect(ts.filter((p) => p === 'IMPLAUSIBLE').length).toBeGreaterThan(100);
  });
});

describe('the next follow-up (nextFollowUpOf), on fixed dates', () => {
  const base = { adverseReaction: false, allControlled: false, faceToFaceInYear: 4, tier: ManagementTier.GENERAL };
  test.each([
    ['controlled, general tier: 3 months', { ...base, baseDate: '2026-03-01', allControlled: true }, '2026-05-30', 'CONTROLLED'],
    ['controlled but routine tier: its 2-month maximum', { ...base, baseDate: '2026-03-01', allControlled: true, tier: ManagementTier.ROUTINE }, '2026-04-30', 'TIER_MAXIMUM'],
    ['intensive: 1 month at most', { ...base, baseDate: '2026-03-01', tier: ManagementTier.INTENSIVE }, '2026-03-31', 'TIER_MAXIMUM'],
    ['uncontrolled at the visit: 2 weeks', { ...base, baseDate: '2026-03-01', uncontrolledDay: '2026-03-01' }, '2026-03-15', 'UNCONTROLLED'],
    ['an uncontrolled reading after the visit: 2 weeks after the reading', { ...base, baseDate: '2026-03-01', uncontrolledDay: '2026-03-20' }, '2026-04-03', 'UNCONTROLLED'],
    ['an adverse reaction: 2 weeks', { ...base, baseDate: '2026-03-01', allControlled: true, adverseReaction: true }, '2026-03-15', 'ADVERSE_REACTION'],
    ['a referral completed after the visit: 2 weeks after it', { ...base, baseDate: '2026-03-01', allControlled: true, referralDay: '2026-03-10' }, '2026-03-24', 'AFTER_REFERRAL'],
    ['the yearly health check falls before the next visit', { ...base, baseDate: '2026-03-01', allControlled: true, annualCheckDay: '2026-04-10' }, '2026-04-10', 'ANNUAL_CHECK'],
    ['a clinician asked for an earlier date', { ...base, baseDate: '2026-03-01', allControlled: true, clinicianDate: '2026-03-20' }, '2026-03-20', 'CLINICIAN'],
    ['a clinician’s later date is not taken', { ...base, baseDate: '2026-03-01', allControlled: true, clinicianDate: '2026-09-20' }, '2026-05-30', 'CONTROLLED'],
    ['two face-to-face visits short in late October: sooner, to fit them in', { ...base, baseDate: '2026-10-20', allControlled: true, faceToFaceInYear: 2 }, '2026-11-25', 'FACE_TO_FACE_MINIMUM'],
    ['short by more than the year can hold: not pulled under 2 weeks', { ...base, baseDate: '2026-12-20', allControlled: true, faceToFaceInYear: 1 }, '2027-03-20', 'CONTROLLED'],
  ] as const)('%s', (_name, facts, date, reason) => {
    expect(nextFollowUpOf(facts, DEFAULT_CARE_RULES)).toMatchObject({ date, reason });
  });

  test('the visit is face to face when the year’s count would fall short, else the last visit’s type', () => {
    const facts = { ...base, baseDate: '2026-10-20', allControlled: true, lastType: FollowUpType.PHONE };
    expect(nextFollowUpOf({ ...facts, faceToFaceInYear: 2 }).type).toBe('CLINIC');
    expect(nextFollowUpOf({ ...facts, faceToFaceInYear: 3 })).toMatchObject({ date: '2026-12-31', reason: 'FACE_TO_FACE_MINIMUM', type: 'CLINIC' });
    expect(nextFollowUpOf({ ...facts, faceToFaceInYear: 4 })).toMatchObject({ date: '2027-01-18', type: 'PHONE' });
    // Three visits still fit this year at 3 months from May: three still needed are all in person; two needed, not yet.
    expect(nextFollowUpOf({ ...facts, baseDate: '2026-02-01', faceToFaceInYear: 1 })).toMatchObject({ reason: 'CONTROLLED', type: 'CLINIC' });
    expect(nextFollowUpOf({ ...facts, baseDate: '2026-02-01', faceToFaceInYear: 2 })).toMatchObject({ reason: 'CONTROLLED', type: 'PHONE' });
  });
});

describe('over a seeded county', () => {
  beforeAll(async () => {
    await seedCounty(em(), { patients: 250, seed: 11, now: seedNowFor('2026-11-01'), protector: new IdentifierProtector({ encKey: Buffer.alloc(32, 7), hmacKey: Buffer.alloc(32, 9) }) });
  }, 120_000);

  test('the stored control status is controlStatusSql’s, for every reading', async () => {
    const [{ n }] = (await em().getConnection().execute(
      `select count(*) as n from observation o where o.control_status is distinct from ${controlStatusSql(DEFAULT_CARE_RULES, 'o')}`,
    )) as Array<{ n: string | number }>;
    expect(Number(n)).toBe(0);
    const [{ judged }] = (await em().getConnection().execute(`select count(*) as judged from observation where control_status is not null`)) as Array<{ judged: string | number }>;
    expect(Number(judged)).toBeGreaterThan(500);
  });

  // The seed reassesses its county as of its own date (src/seed/generate.ts): the facts below are gathered as of it.
  const seededOn = countyToday(seedNowFor('2026-11-01'));

  test('managementOf and managementColourSql, over the facts of every seeded patient with a diagnosis', async () => {
    const frame = frameOf({ all: true }, seededOn);
    const rows = (await em().getConnection().execute(
      `select f.*, ${managementColourSql('f')} as sql_colour, p.management_colour as stored, p.management_override_reason is not null as overridden
         from (select p.id, ${managementFactsSql(frame, DEFAULT_CARE_RULES)} from patient p) f join patient p on p.id = f.id where p.management_tier is not null`,
    )) as Array<Record<string, unknown> & { sql_colour: string; stored: string; overridden: boolean }>;
    expect(rows.length).toBeGreaterThan(30);
    const facts = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(MANAGEMENT_FACT_COLUMNS).map(([k, c]) => [k, !!r[c]])) as unknown as ManagementFacts;
    expect(rows.filter((r) => managementOf(facts(r)).colour !== r.sql_colour)).toEqual([]);
    // What the seed stored is the rule's, but where a person overrode it.
    expect(rows.filter((r) => !r.overridden && r.stored !== r.sql_colour)).toEqual([]);
    expect(new Set(rows.map((r) => r.sql_colour))).toEqual(new Set(['RED', 'YELLOW', 'GREEN']));
  });

  test('nextFollowUpOf and nextFollowUpSql, over the facts of every seeded managed patient; the planned visits are theirs', async () => {
    const frame = frameOf({ all: true }, seededOn);
    const facts = scheduleFactsSql(frame, DEFAULT_CARE_RULES);
    const rows = (await em().getConnection().execute(
      `select fa.*, fa.base_date::text as base_text, fa.uncontrolled_day::text as uncontrolled_text, fa.referral_day::text as referral_text,
              fa.annual_check_day::text as annual_text, fa.clinician_date::text as clinician_text,
              nf.planned_date::text as sql_date, nf.due_reason as sql_reason, nf.type as sql_type,
              (select k.planned_date::text from follow_up k where k.patient_id = fa.patient_id and k.planned_date is not null and k.done_date is null and k.cancelled_at is null) as stored_date
         from (${facts.sql}) fa cross join lateral (${nextFollowUpSql(DEFAULT_CARE_RULES, 'fa')}) nf`,
      facts.params,
    )) as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThan(30);
    const c = NEXT_FOLLOW_UP_FACT_COLUMNS;
    const factsOf = (r: Record<string, unknown>): NextFollowUpFacts => ({
      baseDate: r.base_text as string,
      uncontrolledDay: r.uncontrolled_text as string | null,
      adverseReaction: !!r[c.adverseReaction],
      referralDay: r.referral_text as string | null,
      allControlled: !!r[c.allControlled],
      tier: r[c.tier] as NextFollowUpFacts['tier'],
      faceToFaceInYear: Number(r[c.faceToFaceInYear]),
      annualCheckDay: r.annual_text as string | null,
      clinicianDate: r.clinician_text as string | null,
      lastType: r[c.lastType] as NextFollowUpFacts['lastType'],
    });
    const differing = rows.filter((r) => {
      const ts = nextFollowUpOf(factsOf(r), DEFAULT_CARE_RULES);
      return ts.date !== r.sql_date || ts.reason !== r.sql_reason || ts.type !== r.sql_type || r.stored_date !== r.sql_date;
    });
    expect(differing).toEqual([]);
    expect(new Set(rows.map((r) => r.sql_reason)).size).toBeGreaterThanOrEqual(3);
  });

  test('latestReading and latestReadingSql pick the same reading, over periods', async () => {
    const patients = (await em().getConnection().execute(`select id from patient order by id limit 40`)) as Array<{ id: string }>;
    const periods = [{}, { from: new Date('2026-01-01T00:00:00Z') }, { from: new Date('2025-06-01T00:00:00Z'), to: new Date('2026-03-01T00:00:00Z') }];
    const kinds = [ObservationKind.BLOOD_PRESSURE];
    let found = 0;
    for (const { id } of patients) {
      const all = (
        (await em().getConnection().execute(`select id, kind, effective_at, plausibility from observation where patient_id = ?`, [id])) as Array<{ id: string; kind: ObservationKind; effective_at: string | Date; plausibility: Plausibility }>
      ).map((o) => ({ id: o.id, kind: o.kind, plausibility: o.plausibility, effectiveAt: new Date(o.effective_at) }));
      for (const period of periods) {
        const { sql, params } = latestReadingSql(kinds, '?', period);
        const [row] = (await em().getConnection().execute(`select latest.id from (select 1) one left join lateral ${sql} latest on true`, [id, ...params])) as Array<{ id: string | null }>;
        const ts = latestReading(all, kinds, period);
        expect(row?.id ?? null).toBe(ts?.id ?? null);
        if (ts) found++;
      }
    }
    expect(found).toBeGreaterThan(20);
  });
});

test('the real fixture data holds no implausible reading of its own', () => {
  const observations: Resource[] = [];
  for (const dir of fs.readdirSync(FHIR_DIR).filter((d) => fs.statSync(path.join(FHIR_DIR, d)).isDirectory() && d !== 'LICENSES')) {
    for (const file of filesIn(dir)) {
      if (file.endsWith('.ndjson')) observations.push(...readNdjson(file).filter((r) => r.resourceType === 'Observation'));
      else if (file.endsWith('.json')) {
        const r = readJson<Resource>(file);
        if (r.resourceType === 'Bundle') observations.push(...((r as Bundle).entry ?? []).map((e) => e.resource!).filter((x) => x?.resourceType === 'Observation'));
        else if (r.resourceType === 'Observation') observations.push(r);
      }
    }
  }
  expect(observations.length).toBeGreaterThan(1500);
  const found: string[] = [];
  let judged = 0;
  for (const o of observations) {
    let shape: ObservationShape;
    try {
      shape = mappingFor('Observation')!.fromFhir(o as FhirObservation).domain as ObservationShape;
    } catch {
      continue; // what the mapping cannot read is left out of the domain (a warning), not a plausibility question
    }
    if (shape.kind === ObservationKind.OTHER || !shape.effectiveAt) continue;
    if (shape.kind === ObservationKind.BLOOD_PRESSURE ? shape.systolic == null || shape.diastolic == null : shape.value == null) continue;
    judged++;
    const finding = implausibilityOf({ ...shape, effectiveAt: shape.effectiveAt }, DEFAULT_CARE_RULES);
    if (finding) found.push(`${o.id}: ${finding.reason}`);
  }
  expect(judged).toBeGreaterThan(500);
  expect(found).toEqual([]);
});
