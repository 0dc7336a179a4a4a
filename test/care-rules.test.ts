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
import { managementColourSql, managementTierSql } from '../src/care-rules/management.js';
import { implausibilityOf, Plausibility, plausibilitySql } from '../src/care-rules/plausibility.js';
import { careRulesFrom, type CareRules, DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { IdentifierProtector } from '../src/access/identifier-protection.js';
import { openDatabase, type EntityManager, type Orm } from '../src/db/orm.js';
import { seedCounty, seedNowFor } from '../src/seed/generate.js';
import { mappingFor, type ObservationShape } from '../fhir-mappings/index.js';
import { ObservationKind } from '../vocabulary/index.js';
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

  test('the seed’s derived colours and tiers are managementColourSql’s and managementTierSql’s', async () => {
    const rows = (await em().getConnection().execute(
      `select p.management_colour as colour, p.management_tier as tier, ${managementColourSql(DEFAULT_CARE_RULES, 'p.id')} as sql_colour, ${managementTierSql(DEFAULT_CARE_RULES, 'p.id')} as sql_tier
         from patient p where p.management_colour is not null and p.management_override_reason is null`,
    )) as Array<{ colour: string; tier: string; sql_colour: string; sql_tier: string }>;
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.filter((r) => r.colour !== r.sql_colour || r.tier !== r.sql_tier)).toEqual([]);
    expect(new Set(rows.map((r) => r.colour))).toEqual(new Set(['RED', 'YELLOW', 'GREEN']));
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
