/**
 * The seed writes the county in bulk SQL, past the ORM. Its events must be the ones the services would have left:
 * one creation event per record, saying what the recorder (src/events/recorder.ts) says of the same record
 * loaded through the ORM.
 */
import { IdentifierProtector } from '../src/access/identifier-protection.js';
import { asInternal } from '../src/access/index.js';
import { openDatabase, type EntityManager, type Orm } from '../src/db/orm.js';
import { EVENT_SOURCES, payloadOf } from '../src/events/recorder.js';
import { seedCounty, seedNowFor } from '../src/seed/generate.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
let orm: Orm;
const em = () => asInternal(orm.em.fork() as EntityManager);

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  await seedCounty(em(), { patients: 60, seed: 7, protector: new IdentifierProtector({ encKey: Buffer.alloc(32, 7), hmacKey: Buffer.alloc(32, 9) }), now: seedNowFor('2026-11-01') });
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const recordTypes = Object.entries(EVENT_SOURCES).filter(([, s]) => !s.partOf).map(([name]) => name);

test.each(recordTypes)('%s: every seeded record has one creation event, saying what the recorder says of it', async (className) => {
  const meta = orm.getMetadata().getByClassName(className, false);
  if (!meta) throw new Error(`${className} is named in EVENT_SOURCES but is no entity`);
  const records = (await em().find(meta.class, {}, { filters: false })) as Array<Record<string, unknown> & { id: string }>;
  const events = (await em().execute(`select aggregate_id, type, patient_id, payload from domain_event where aggregate_type = ?`, [className])) as Array<{ aggregate_id: string; type: string; patient_id: string | null; payload: unknown }>;
  expect(events.length).toBe(records.length);
  const byId = new Map(events.map((e) => [e.aggregate_id, e]));
  for (const record of records) {
    const event = byId.get(record.id)!;
    expect(event).toBeDefined();
    expect(event.type).toBe(EVENT_SOURCES[className]!.created);
    const payload = typeof event.payload === 'string' ? JSON.parse(event.payload) : event.payload;
    expect([record.id, payload]).toEqual([record.id, payloadOf(meta, record)]);
    const patient = EVENT_SOURCES[className]!.patient === 'self' ? record.id : (record.patient as { id: string } | undefined)?.id;
    expect(event.patient_id ?? undefined).toBe(patient);
  }
});

test('the seeded county has records of the kinds the care programme reacts to', async () => {
  const counts = (await em().execute(`select aggregate_type, count(*)::int as n from domain_event group by aggregate_type`)) as Array<{ aggregate_type: string; n: number }>;
  const n = Object.fromEntries(counts.map((c) => [c.aggregate_type, c.n]));
  for (const type of ['Patient', 'Condition', 'Observation', 'FollowUp', 'Referral', 'CarePlan']) expect([type, n[type] ?? 0]).toEqual([type, expect.any(Number)]);
  for (const type of ['Patient', 'Condition', 'Observation', 'FollowUp']) expect(n[type]).toBeGreaterThan(0);
  // Every named source is a real entity: a typo in the table would silently record nothing.
  for (const name of Object.keys(EVENT_SOURCES)) expect([name, !!orm.getMetadata().getByClassName(name, false)]).toEqual([name, true]);
});
