/**
 * Offline tablets (ADR 17, docs/api.md "Offline sync"): a village doctor's tablet syncs, goes offline and records
 * visits, readings and a care plan change under its own ids, while the server changes; back online it sends its
 * queue (twice: a lost answer), syncs, and holds what the server holds for her patients. A conflicting edit is
 * CONFLICT; the cursor never passes a transaction still running.
 */
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { ExecutionResult } from 'graphql';
import { loadConfig } from '../src/config.js';
import { consumersFor } from '../src/events/consumers.js';
import { EventWorker } from '../src/events/consumer.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import type { County } from './helpers/fixtures.js';
import { expectRefusal } from './helpers/refusals.js';
import {
  OfflineAddCarePlanActivityDocument,
  OfflineChangesDocument,
  type OfflineChangesQuery,
  OfflineCreateCarePlanDocument,
  OfflineRecordContactAttemptDocument,
  OfflineRecordFollowUpDocument,
  OfflineRecordObservationDocument,
  OfflineRegisterPatientDocument,
  OfflineUpdateCarePlanDocument,
  OfflineUpdatePatientDocument,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
let doctor: string; // the village doctor's token
let gp: string; // the township GP's token
const patients: Record<'a' | 'b' | 'elsewhere', string> = { a: '', b: '', elsewhere: '' };
let planId: string;
let deletedReading: string;

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
const today = () => new Date().toISOString().slice(0, 10);

type Changes = OfflineChangesQuery['changes'];
const FIELDS = ['patients', 'conditions', 'observations', 'followUps', 'carePlans', 'referrals', 'alerts', 'contactAttempts'] as const;
type Field = (typeof FIELDS)[number];
const FIELD_OF: Record<string, Field> = { Patient: 'patients', Condition: 'conditions', Observation: 'observations', FollowUp: 'followUps', CarePlan: 'carePlans', Referral: 'referrals', Alert: 'alerts', ContactAttempt: 'contactAttempts' };
type Held = { id: string; patient?: { id: string } | null };

/** A tablet: its own store of records by id, a cursor, and a queue of writes made offline. */
class Tablet {
  readonly store = Object.fromEntries(FIELDS.map((f) => [f, new Map<string, Held>()])) as Record<Field, Map<string, Held>>;
  cursor: string | null = null;
  readonly queue: Array<{ doc: TypedDocumentNode<unknown, unknown>; variables: unknown }> = [];
  answers = 0;
  viewChanges = 0;

  constructor(private readonly token: string) {}

  async sync(first = 3): Promise<void> {
    let held: string[] | undefined;
    for (let i = 0; i < 500; i++) {
      const { changes } = await t.ok(OfflineChangesDocument, { since: this.cursor, first, heldPatientIds: held }, this.token);
      this.answers++;
      if (changes.viewChanged) {
        this.viewChanges++;
        expect(changes.cursor).toBe(this.cursor); // nothing else in the answer: the same cursor again, with what it holds
        held = [...this.store.patients.keys()];
        continue;
      }
      held = undefined;
      this.apply(changes);
      this.cursor = changes.cursor;
      if (!changes.hasMore) return;
    }
    throw new Error('the sync did not end');
  }

  private apply(changes: Changes): void {
    for (const f of FIELDS) for (const r of changes[f] as Held[]) this.store[f].set(r.id, r);
    for (const r of changes.removed) this.store[FIELD_OF[r.type]!].delete(r.id);
    for (const gone of changes.removedPatientIds) {
      this.store.patients.delete(gone);
      for (const f of FIELDS) for (const [id, r] of this.store[f]) if (r.patient?.id === gone) this.store[f].delete(id);
    }
  }

  /** Queues a write for later (offline). */
  later<R, V>(doc: TypedDocumentNode<R, V>, variables: V): void {
    this.queue.push({ doc: doc as TypedDocumentNode<unknown, unknown>, variables });
  }

  /** Sends the queue in order; the answers, as they came. */
  async send(): Promise<Array<ExecutionResult<unknown>>> {
    const out = [];
    for (const w of this.queue) out.push(await t.gql(w.doc, w.variables, this.token));
    return out;
  }

  /** The store, comparable: each list by id. */
  state() {
    return Object.fromEntries(FIELDS.map((f) => [f, [...this.store[f].values()].sort((x, y) => (x.id < y.id ? -1 : 1))]));
  }
}

/** The id of the record a create mutation answered (its own, or its visit's). */
const recordIdOf = (r: ExecutionResult<unknown>) => {
  const answer = Object.values(r.data as Record<string, { id?: string; followUp?: { id: string } }>)[0]!;
  return answer.followUp?.id ?? answer.id;
};

const sql = async <T = Record<string, unknown>>(query: string, params: unknown[] = []) => (await t.em().getConnection().execute(query, params)) as T[];
/** The rules and alerts the server's worker would run (the test app runs none by itself). */
const runConsumers = () => new EventWorker(t.em(), consumersFor(loadConfig({ NODE_ENV: 'test' }))).drain();

beforeAll(async () => {
  ({ t, county } = await startCountyApp('OFF'));
  doctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
  const register = async (name: string, organizationId: string) =>
    (await t.ok(OfflineRegisterPatientDocument, { input: { name, gender: 'FEMALE', birthDate: '1956-04-04', managingOrganizationId: organizationId } })).registerPatient.id;
  patients.a = await register('离线甲', county.village.id);
  patients.b = await register('离线乙', county.village.id);
  patients.elsewhere = await register('西村丙', county.otherVillage.id);
  // Some history before the tablet first syncs.
  for (const [h, systolic] of [[72, 150], [48, 146]] as const) {
    await t.ok(OfflineRecordObservationDocument, { input: { patientId: patients.a, kind: 'BLOOD_PRESSURE', systolic, diastolic: 92, effectiveAt: hoursAgo(h), organizationId: county.village.id } }, doctor);
  }
  deletedReading = (
    await t.ok(OfflineRecordObservationDocument, { input: { patientId: patients.a, kind: 'FASTING_GLUCOSE', value: 6.1, unit: 'mmol/L', effectiveAt: hoursAgo(40), organizationId: county.village.id } }, doctor)
  ).recordObservation.id;
  await t.ok(OfflineRecordObservationDocument, { input: { patientId: patients.elsewhere, kind: 'BLOOD_PRESSURE', systolic: 128, diastolic: 80, effectiveAt: hoursAgo(30) } });
  planId = (
    await t.ok(OfflineCreateCarePlanDocument, { input: { patientId: patients.a, title: '高血压管理', periodStart: '2026-01-01', activities: [{ category: 'DIET', description: '低盐饮食' }] } }, doctor)
  ).createCarePlan.id;
  await runConsumers();
});
afterAll(() => t?.close());

describe('a tablet that goes offline', () => {
  test('syncs, works offline, comes back, sends its queue twice, and holds what the server holds; a conflicting edit is CONFLICT', async () => {
    const tablet = new Tablet(doctor);
    await tablet.sync();
    expect([...tablet.store.patients.keys()].sort()).toEqual([patients.a, patients.b].sort()); // not the other village's
    expect(tablet.store.observations.has(deletedReading)).toBe(true);
    expect(tablet.store.carePlans.get(planId)).toBeDefined();
    const planVersion = (tablet.store.carePlans.get(planId) as unknown as { version: number }).version;

    // Offline: a visit and two readings under the tablet's ids, a new plan for b and an activity on it, and an edit of a's plan.
    const visitId = uuidv7();
    const readings = [uuidv7(), uuidv7()];
    const newPlan = uuidv7();
    const newActivity = uuidv7();
    tablet.later(OfflineRecordFollowUpDocument, { input: { id: visitId, patientId: patients.a, type: 'HOME', doneDate: today(), findings: '头晕减轻' } });
    tablet.later(OfflineRecordObservationDocument, { input: { id: readings[0], patientId: patients.a, kind: 'BLOOD_PRESSURE', systolic: 138, diastolic: 86, effectiveAt: hoursAgo(2) } });
    tablet.later(OfflineRecordObservationDocument, { input: { id: readings[1], patientId: patients.b, kind: 'FASTING_GLUCOSE', value: 7.4, unit: 'mmol/L', effectiveAt: hoursAgo(2) } });
    tablet.later(OfflineCreateCarePlanDocument, { input: { id: newPlan, patientId: patients.b, title: '糖尿病管理', periodStart: today() } });
    tablet.later(OfflineAddCarePlanActivityDocument, { id: newActivity, carePlanId: newPlan, version: 1, input: { category: 'EXERCISE', description: '每天步行三十分钟' } });
    const call = uuidv7();
    tablet.later(OfflineRecordContactAttemptDocument, { input: { id: call, patientId: patients.b, method: 'PHONE', outcome: 'REACHED', willComeOn: today() } });
    tablet.later(OfflineUpdateCarePlanDocument, { id: planId, version: planVersion, input: { note: '村医：改为每周随访' } });

    // Meanwhile at the server: the GP edits the same plan and records a reading; the hospital deletes one over FHIR.
    await t.ok(OfflineUpdateCarePlanDocument, { id: planId, version: planVersion, input: { note: '全科医生：加用药物' } }, gp);
    const gpReading = (await t.ok(OfflineRecordObservationDocument, { input: { patientId: patients.a, kind: 'BLOOD_PRESSURE', systolic: 142, diastolic: 90, effectiveAt: hoursAgo(5) } }, gp)).recordObservation.id;
    const deleted = await t.http.delete(`/fhir/Observation/${deletedReading}`).set('authorization', `Bearer ${t.adminToken}`);
    expect(deleted.status).toBeLessThan(300);

    // Back online: the queue is sent; then again, as after an answer lost on the way.
    const first = await tablet.send();
    expect(first.slice(0, 6).map((r) => r.errors)).toEqual(Array(6).fill(undefined));
    expectRefusal(first[6]!, 'CONFLICT'); // the GP changed the plan since the tablet read it
    const again = await tablet.send();
    expect(again.slice(0, 6).map(recordIdOf)).toEqual(first.slice(0, 6).map(recordIdOf)); // the same records answered, as they are now
    expectRefusal(again[6]!, 'CONFLICT');
    const [{ n }] = await sql<{ n: number }>(`select count(*)::int as n from observation where id = any(?::uuid[])`, [`{${readings.join(',')}}`]);
    expect(n).toBe(2);
    expect(await sql(`select id from follow_up where id = ?`, [visitId])).toHaveLength(1);
    expect(await sql(`select id from care_plan_activity where id = ?`, [newActivity])).toHaveLength(1);
    expect(await sql(`select id from contact_attempt where patient_id = ?`, [patients.b])).toHaveLength(1);

    await runConsumers();
    await tablet.sync();
    // What the server holds for her patients, as a tablet that never went offline would see it.
    const fresh = new Tablet(doctor);
    await fresh.sync(50);
    expect(tablet.state()).toEqual(fresh.state());
    expect(tablet.store.observations.has(deletedReading)).toBe(false);
    expect(tablet.store.observations.has(gpReading)).toBe(true);
    for (const id of readings) expect(tablet.store.observations.has(id)).toBe(true);
    expect(tablet.store.contactAttempts.has(call)).toBe(true);
    expect(tablet.store.carePlans.get(newPlan)).toMatchObject({ activities: [{ id: newActivity }] });
    expect(tablet.store.carePlans.get(planId)).toMatchObject({ note: '全科医生：加用药物' });
    const [{ rows }] = await sql<{ rows: number }>(`select count(*)::int as rows from observation where patient_id = any(?::uuid[])`, [`{${patients.a},${patients.b}}`]);
    expect(tablet.store.observations.size).toBe(rows);

    // The tablet resolves the conflict: it read the plan again, and its edit at the new version goes through.
    const current = tablet.store.carePlans.get(planId) as unknown as { version: number };
    await t.ok(OfflineUpdateCarePlanDocument, { id: planId, version: current.version, input: { note: '村医：改为每周随访' } }, doctor);
    await tablet.sync();
    expect(tablet.store.carePlans.get(planId)).toMatchObject({ note: '村医：改为每周随访' });

    // Patients that leave her view and join it without an event on their records: dropped, and sent whole.
    const b = tablet.store.patients.get(patients.b) as unknown as { version: number };
    await t.ok(OfflineUpdatePatientDocument, { id: patients.b, version: b.version, input: { managingOrganizationId: county.otherVillage.id } });
    const [moved] = await sql<{ version: number }>(`select version from patient where id = ?`, [patients.elsewhere]);
    await t.ok(OfflineUpdatePatientDocument, { id: patients.elsewhere, version: moved!.version, input: { managingOrganizationId: county.village.id } });
    expect(tablet.viewChanges).toBe(0); // nothing so far changed whom she sees
    await tablet.sync();
    expect(tablet.viewChanges).toBeGreaterThan(0); // told, it said what it holds
    expect(tablet.store.patients.has(patients.b)).toBe(false);
    expect([...tablet.store.observations.values()].some((o) => o.patient?.id === patients.b)).toBe(false);
    expect(tablet.store.patients.has(patients.elsewhere)).toBe(true);
    expect([...tablet.store.observations.values()].filter((o) => o.patient?.id === patients.elsewhere)).toHaveLength(1); // its history, from before
    const again2 = new Tablet(doctor);
    await again2.sync(50);
    expect(tablet.state()).toEqual(again2.state());
  });

  test('every patient an answer shows or drops is in its audit record', async () => {
    const [{ since }] = await sql<{ since: string }>(`select now()::text as since`);
    const tablet = new Tablet(doctor);
    await tablet.sync(2);
    const rows = await sql<{ id: string; action: string }>(
      `select distinct unnest(patient_ids)::text as id, action from audit_event where what like '%changes%' and recorded_at >= ?::timestamptz`,
      [since],
    );
    expect(rows.map((r) => r.action)).toEqual(rows.map(() => 'SEARCH'));
    expect(rows.map((r) => r.id).sort()).toEqual([...tablet.store.patients.keys()].sort());
  });

  test('a cursor this API did not issue is refused', async () => {
    expectRefusal(await t.gql(OfflineChangesDocument, { since: 'bm90IGEgY3Vyc29y' }, doctor), 'BAD_USER_INPUT', 'since');
    expectRefusal(await t.gql(OfflineChangesDocument, { since: null, heldPatientIds: ['nope'] }, doctor), 'BAD_USER_INPUT', 'heldPatientIds.0');
  });
});

describe('creates under a client id', () => {
  // One instant for every send: a repeat is the same request only if it says the same time, and two calls of
  // hoursAgo a millisecond apart would make the repeat another request.
  const anHourAgo = hoursAgo(1);
  const reading = (id: string, patientId: string, systolic = 132) => ({ input: { id, patientId, kind: 'BLOOD_PRESSURE' as const, systolic, diastolic: 84, effectiveAt: anHourAgo } });
  const count = async () => (await sql<{ n: number }>(`select count(*)::int as n from observation`))[0]!.n;

  test('the same id with other content, for another patient, or for another kind of record is CONFLICT, naming neither record nor patient', async () => {
    const id = uuidv7();
    await t.ok(OfflineRecordObservationDocument, reading(id, patients.a), doctor);
    const before = await count();
    const refusals = [
      await t.gql(OfflineRecordObservationDocument, reading(id, patients.a, 133), doctor),
      await t.gql(OfflineRecordObservationDocument, reading(id.toUpperCase(), patients.elsewhere), t.adminToken),
      await t.gql(OfflineRecordFollowUpDocument, { input: { id, patientId: patients.a, type: 'CLINIC', doneDate: today() } }, doctor),
    ];
    for (const r of refusals) {
      expectRefusal(r, 'CONFLICT');
      expect(r.errors![0]!.message).not.toContain(patients.a);
    }
    expect(refusals.map((r) => r.errors![0]!.message)).toEqual(Array(3).fill(refusals[0]!.errors![0]!.message));
    expect(await count()).toBe(before);
  });

  test('an id some record already has (written without a client id) is CONFLICT, and nothing is written', async () => {
    const before = await count();
    const [existing] = await sql<{ id: string }>(`select id::text as id from observation where patient_id = ? limit 1`, [patients.a]);
    const res = await t.gql(OfflineRecordObservationDocument, reading(existing!.id, patients.a), doctor);
    expectRefusal(res, 'CONFLICT');
    expect(await count()).toBe(before);
  });

  test('the same request twice at once is recorded once, and both are answered with it', async () => {
    const id = uuidv7();
    const before = await count();
    const answers = await Promise.all([0, 1].map(() => t.gql(OfflineRecordObservationDocument, reading(id, patients.a, 134), doctor)));
    expect(answers.map((r) => r.errors)).toEqual([undefined, undefined]);
    expect(answers.map((r) => (r.data as { recordObservation: { id: string } }).recordObservation.id)).toEqual([id, id]);
    expect(await count()).toBe(before + 1);
  });

  test('an id is a UUID', async () => {
    expectRefusal(await t.gql(OfflineRecordObservationDocument, reading('offline-1', patients.a), doctor), 'BAD_USER_INPUT', 'id');
  });

  test('a repeat is answered after its record was removed only as CONFLICT', async () => {
    const id = uuidv7();
    await t.ok(OfflineRecordObservationDocument, reading(id, patients.a, 131), doctor);
    expect((await t.http.delete(`/fhir/Observation/${id}`).set('authorization', `Bearer ${t.adminToken}`)).status).toBeLessThan(300);
    expectRefusal(await t.gql(OfflineRecordObservationDocument, reading(id, patients.a, 131), doctor), 'CONFLICT');
  });
});

// PGlite is one session: no transaction can be open beside another. On PostgreSQL, the case the horizon exists for.
(process.env.TEST_DATABASE_URL ? test : test.skip)('the cursor does not pass over a transaction still running (PostgreSQL: concurrent sessions)', async () => {
  const tablet = new Tablet(doctor);
  await tablet.sync(50);
  const [slowReading] = await sql<{ id: string }>(`select id::text as id from observation where patient_id = ? order by id limit 1`, [patients.a]);
  const slow = new pg.Client({ connectionString: t.db.databaseUrl });
  await slow.connect();
  let later: string;
  try {
    await slow.query('begin');
    // A change and its event, as a flush writes them, in a transaction that commits after a later one.
    await slow.query(`update observation set systolic = 171, version = version + 1 where id = $1`, [slowReading!.id]);
    await slow.query(`insert into domain_event (type, aggregate_type, aggregate_id, patient_id, payload) values ('ObservationChanged', 'Observation', $1, $2, '{}')`, [slowReading!.id, patients.a]);
    later = (await t.ok(OfflineRecordObservationDocument, { input: { patientId: patients.a, kind: 'BLOOD_PRESSURE', systolic: 129, diastolic: 79, effectiveAt: hoursAgo(1) } }, doctor)).recordObservation.id;
    await tablet.sync(50);
    // Held back until the older transaction ends: neither change yet, and the cursor has not passed either.
    expect(tablet.store.observations.has(later)).toBe(false);
    await slow.query('commit');
  } finally {
    await slow.end();
  }
  await tablet.sync(50);
  expect(tablet.store.observations.has(later!)).toBe(true);
  expect(tablet.store.observations.get(slowReading!.id)).toMatchObject({ systolic: 171 });
});
