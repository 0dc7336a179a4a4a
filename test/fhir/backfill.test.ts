/**
 * The set-based backfill (src/fhir/backfill.ts) writes what the single-record path writes: for every record of a
 * seeded county, the resource and the search columns that materialising the loaded entity gives (the flush's
 * path), version 1 with its history row — and it leaves the domain's events as they were.
 */
import type { Resource } from '@medplum/fhirtypes';
import { IdentifierProtector } from '../../src/access/identifier-protection.js';
import { asInternal } from '../../src/access/index.js';
import { openDatabase, type EntityManager, type Orm } from '../../src/db/orm.js';
import { CarePlan, CarePlanGoal } from '../../src/domain/care-plan/care-plan.entity.js';
import { Condition } from '../../src/domain/condition/condition.entity.js';
import { Consent } from '../../src/domain/consent/consent.entity.js';
import { Coverage } from '../../src/domain/coverage/coverage.entity.js';
import { FollowUp } from '../../src/domain/follow-up/follow-up.entity.js';
import { Observation } from '../../src/domain/observation/observation.entity.js';
import { Organization } from '../../src/domain/organization/organization.entity.js';
import { Patient } from '../../src/domain/patient/patient.entity.js';
import { Practitioner } from '../../src/domain/practitioner/practitioner.entity.js';
import { Referral } from '../../src/domain/referral/referral.entity.js';
import { backfillFhir } from '../../src/fhir/backfill.js';
import { materialise, parseJson, type RecordType } from '../../src/fhir/domain-resources.js';
import { insertResources, parseArray, storeRow } from '../../src/fhir/store.js';
import { seedCounty, seedNowFor } from '../../src/seed/generate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let orm: Orm;
const em = () => asInternal(orm.em.fork() as EntityManager);
const TYPES: RecordType[] = [Organization, Practitioner, Patient, Condition, Observation, Referral, FollowUp, CarePlanGoal, CarePlan, Coverage, Consent];

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  await seedCounty(em(), { patients: 60, seed: 7, protector: new IdentifierProtector({ encKey: Buffer.alloc(32, 7), hmacKey: Buffer.alloc(32, 9) }), now: seedNowFor('2026-11-01') });
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

type Row = Record<string, unknown>;

/** A row as compared: the time it was written left out (content's meta included), a Task by its referral (its id is new). */
function comparable(row: Row): [string, Row] {
  const content = parseJson(row.content) as Resource & { focus?: { reference?: string } };
  const { lastUpdated: _l, ...meta } = content.meta ?? {};
  const at = (d: unknown) => (d == null ? null : new Date(d as string).toISOString());
  const key = content.resourceType === 'Task' ? `Task for ${content.focus?.reference}` : (row.id as string);
  const { id: _id, ...body } = content;
  return [
    key,
    {
      resource_type: row.resource_type,
      version_id: Number(row.version_id),
      patient_id: row.patient_id ?? null,
      owner_organization_id: row.owner_organization_id ?? null,
      content: { ...body, meta },
      idMatches: content.id === row.id,
      source_keys: parseArray(row.source_keys),
      codes: parseArray(row.codes),
      date_at: at(row.date_at),
      status: row.status ?? null,
      names: row.names ?? null,
      gender: row.gender ?? null,
    },
  ];
}

test('every record gets the resource and search columns the single-record path gives it, once; the events stay as they were', async () => {
  // The single-record path: each record loaded as an entity and materialised as a flush does (nothing is stored yet).
  const expected = new Map<string, Row>();
  for (const type of TYPES) {
    const fork = em();
    const entities = (await fork.find(type, {}, { filters: false, populate: (type === CarePlanGoal ? ['carePlan'] : []) as never })) as Array<{ id: string }>;
    for (const m of await materialise(fork, new Map(entities.map((e) => [e.id, e])), [])) {
      expect(m.stored).toBeUndefined();
      const [key, row] = comparable(storeRow(m.id, m.columns) as unknown as Row);
      expected.set(key, row);
    }
  }
  expect(expected.size).toBeGreaterThan(500);
  const events = `select id, type, aggregate_type, aggregate_id, patient_id, payload::text as payload from domain_event order by id`;
  const eventsBefore = await em().execute(events);

  // Small pages, several in flight: pages end inside a patient's and a plan's parts.
  const written = await backfillFhir(em(), { pageSize: 7, concurrency: 3 });
  expect(written).toBe(expected.size);

  const current = (await em().execute(`select * from fhir_resource`)) as Row[];
  const actual = new Map(current.map(comparable));
  expect(actual.size).toBe(current.length);
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, row] of expected) expect([key, actual.get(key)]).toEqual([key, row]);
  for (const row of current) expect((parseJson(row.content) as Resource).meta?.lastUpdated).toBe(new Date(row.last_updated as string).toISOString());

  // Each resource's one version: the current row as it was written.
  const history = (await em().execute(`select h.*, h.content = r.content as same_content, h.last_updated = r.last_updated as same_time from fhir_resource_history h join fhir_resource r on r.id = h.id`)) as Row[];
  expect(history.length).toBe(current.length);
  for (const h of history) expect([h.version_id, h.deleted, h.same_content, h.same_time]).toEqual([1, false, true, true]);

  expect(await em().execute(events)).toEqual(eventsBefore);
  expect(await backfillFhir(em(), { pageSize: 7, concurrency: 3 })).toBe(0); // nothing twice
});

test("the seed's readings say what the control rule made of them: interpretation as stored beside their control status", async () => {
  // Runs after the backfill above: every seeded reading has its resource.
  const rows = (await em().execute(
    `select o.kind, o.control_status, o.control_interpretation, o.value, r.content from observation o join fhir_resource r on r.id = o.id`,
  )) as Array<{ kind: string; control_status: string | null; control_interpretation: string | null; value: number | null; content: unknown }>;
  expect(rows.length).toBeGreaterThan(100);
  const seen = new Set<string>();
  for (const row of rows) {
    const codes = ((parseJson(row.content) as { interpretation?: Array<{ coding: Array<{ system: string; code: string }> }> }).interpretation ?? []).flatMap((c) => c.coding.map((x) => x.code));
    // By hand: controlled N, uncontrolled H, urgent HH, or LL for a glucose at or below 3.9 mmol/L.
    const expected = { CONTROLLED: ['N'], UNCONTROLLED: ['H'], URGENT: [row.kind.includes('GLUCOSE') && row.value! <= 3.9 ? 'LL' : 'HH'] }[row.control_status ?? ''] ?? [];
    expect([row.kind, row.control_status, row.control_interpretation, codes]).toEqual([row.kind, row.control_status, expected[0] ?? null, expected.length ? [...expected, row.control_status] : []]);
    if (codes[0]) seen.add(codes[0]);
  }
  expect([...seen]).toEqual(expect.arrayContaining(['N', 'H']));
});

test('the bulk insert carries any text: quotes, backslashes, placeholders and its own quoting tag', async () => {
  const text = `it's \\ a ? $rows$ or $rows_0$ \u4e2d`;
  const row = storeRow('0190a000-0000-7000-8000-000000000001', { resourceType: 'Basic', versionId: 1, lastUpdated: new Date(), content: { resourceType: 'Basic', id: '0190a000-0000-7000-8000-000000000001', code: { text } }, sourceKeys: [text], codes: [] });
  await insertResources(em(), [row]);
  const [stored] = (await em().execute(`select content, source_keys from fhir_resource where id = ?`, [row.id])) as Row[];
  expect([(parseJson(stored!.content) as { code: { text: string } }).code.text, parseArray(stored!.source_keys)]).toEqual([text, [text]]);
});
