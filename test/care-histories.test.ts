/**
 * Issue 12, "Done when" 1: realistic care histories driven through the rules — controlled; a first uncontrolled
 * reading; two uncontrolled visits in a row; urgent; stable after a county admission; died; moved — each written once
 * as data (test/care-histories.support.ts) and run by every path facts arrive by:
 *  - GraphQL: the village doctor records diagnoses, readings and visits with her own token; the county hospital's system
 *    sends the admission and discharge (no GraphQL mutation records a hospital stay: the hospital's system is where it
 *    is known);
 *  - FHIR: the county hospital's system (SMART Backend Services token) sends every event as a transaction Bundle;
 *  - `npm run import` (src/cli/import.ts's in-process path): one history as Bundle files.
 * A move is known from the village doctor's call to an overdue patient (recordContactAttempt MOVED) on every path: no
 * hospital's record says a patient moved away.
 * After each event the real event consumers run (consumersFor, as the server's worker runs them), and the test reads
 * back in GraphQL, as the village doctor: tier and colour, the control status of each condition, the open planned
 * visit's date and reason, the open alerts, the pathway step, and which of her lists the patient is on. The expected
 * values are the care model's (docs/care-model.md), written per event; every path must then end each history in the
 * same state.
 */
import { countyToday } from '../src/care-rules/calendar.js';
import { addDays } from '../src/care-rules/follow-up-interval.js';
import { importPaths } from '../src/cli/import.js';
import { loadConfig } from '../src/config.js';
import { consumersFor } from '../src/events/consumers.js';
import { EventWorker } from '../src/events/consumer.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { ClientKind } from '../src/access/caller.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { smartToken } from './helpers/access-fixtures.js';
import { buildCounty, residentId, SYSTEMS, type County } from './helpers/fixtures.js';
import { FHIR_JSON } from './fhir/support.js';
import { type CareEvent, type Expected, type History, HospitalRecord, instantOn, type Reading, withFaceToFaceMinimum } from './care-histories.support.js';
import {
  AddConditionDocument,
  CareHistoryContactDocument,
  CareHistoryCareStatusDocument,
  CareHistoryListsDocument,
  CareHistoryStateDocument,
  CareVisitRecordDocument,
  RecordObservationDocument,
  RegisterPatientDocument,
  type VisitReadingInput,
} from './generated/graphql.js';

const config = loadConfig({ NODE_ENV: 'test', EVENT_WORKER: 'off' });
const today = countyToday();
const day = (rel: number) => addDays(today, rel);

const NONE = { followUpsDue: false, uncontrolled: false, openAlerts: false };
const HTN_CONFIRMED = { HYPERTENSION: 'CONFIRMED' };
/** A confirmed diagnosis, recorded today: no reading yet, yellow (the code's choice for "no recent reading", docs: Differs 3), due by routine's two months. */
const justDiagnosed: Expected = {
  management: ['ROUTINE', 'YELLOW'],
  control: { HYPERTENSION: 'NO_RECENT_READING' },
  due: { day: 60, reason: 'TIER_MAXIMUM' },
  alerts: [],
  pathway: HTN_CONFIRMED,
};
const diagnosis = (onset = -400): CareEvent => ({ kind: 'diagnosis', code: 'I10', onset });
const bp = (systolic: number, diastolic: number): Reading => ({ bp: [systolic, diastolic] });

const HISTORIES: History[] = [
  {
    name: 'controlled: quarterly visits, controlled at each, turn a newly managed patient green',
    steps: [
      { event: diagnosis(), expect: justDiagnosed },
      // A reading older than the 90-day look-back decides nothing: still no recent reading; due two months after the visit (overdue).
      { event: { kind: 'visit', day: -268, readings: [bp(128, 80)] }, expect: { ...justDiagnosed, due: { day: -208, reason: 'TIER_MAXIMUM' } } },
      { event: { kind: 'visit', day: -178, readings: [bp(130, 82)] }, expect: { ...justDiagnosed, due: { day: -118, reason: 'TIER_MAXIMUM' } } },
      // Controlled now, at the last two visits, and nothing above target for six months (with readings before that):
      // green, general, next visit 3 months after this one.
      { event: { kind: 'visit', day: -88, readings: [bp(126, 78)] }, expect: { ...justDiagnosed, management: ['GENERAL', 'GREEN'], control: { HYPERTENSION: 'CONTROLLED' }, due: { day: 2, reason: 'CONTROLLED' } } },
      // Quarterly visits are the four a year the national minimum asks for, so it never pulls this date, whatever the
      // day the test runs (the visits in this year are always enough for the rest of it at 3 months apart).
      {
        event: { kind: 'visit', day: 0, readings: [bp(124, 76)] },
        expect: {
          management: ['GENERAL', 'GREEN'],
          control: { HYPERTENSION: 'CONTROLLED' },
          due: { day: 90, reason: 'CONTROLLED' },
          alerts: [],
          pathway: HTN_CONFIRMED,
          lists: { followUpsDue: true, uncontrolled: false, openAlerts: false },
        },
      },
    ],
  },
  {
    name: 'first uncontrolled reading: screened, confirmed, controlled at a visit, then one reading above target',
    steps: [
      // A screening reading ≥ 140/90 in a resident over 35 with no diagnosis: suspected; not yet managed.
      { event: { kind: 'reading', day: -60, reading: bp(150, 95) }, expect: { management: null, control: {}, due: null, alerts: [], pathway: { HYPERTENSION: 'SUSPECTED' }, lists: NONE } },
      // Confirmed today; the screening reading is recent and uncontrolled: two weeks from the diagnosis.
      { event: diagnosis(-60), expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: 14, reason: 'UNCONTROLLED' } } },
      // Controlled at the visit, but for less than six months: yellow, routine's two months from the visit.
      { event: { kind: 'visit', day: -45, readings: [bp(132, 82)] }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'CONTROLLED' }, due: { day: 15, reason: 'TIER_MAXIMUM' } } },
      // The first uncontrolled reading: due two weeks after it, no referral suggestion (one reading is not two uncontrolled visits).
      {
        event: { kind: 'reading', day: -1, reading: bp(152, 96) },
        expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: 13, reason: 'UNCONTROLLED' }, lists: { followUpsDue: true, uncontrolled: true, openAlerts: false } },
      },
      // Seen the next day, still above target: the first uncontrolled visit — adjust treatment, back in two weeks, no
      // referral yet (the visit before was controlled). Two weeks from the visit itself, so no minimum can pull it.
      {
        event: { kind: 'visit', day: 0, readings: [bp(148, 92)] },
        expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: 14, reason: 'UNCONTROLLED' }, lists: { followUpsDue: true, uncontrolled: true, openAlerts: false } },
      },
    ],
  },
  {
    name: 'two uncontrolled visits in a row: a routine up-referral suggestion',
    steps: [
      { event: diagnosis(), expect: justDiagnosed },
      { event: { kind: 'visit', day: -30, readings: [bp(128, 80)] }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'CONTROLLED' }, due: { day: 30, reason: 'TIER_MAXIMUM' } } },
      // The first uncontrolled visit: two weeks, no suggestion yet.
      { event: { kind: 'visit', day: -14, readings: [bp(150, 94)] }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: 0, reason: 'UNCONTROLLED' } } },
      // The second in a row: refer up (routine), and see the patient again within two weeks.
      {
        event: { kind: 'visit', day: 0, readings: [bp(156, 98)] },
        expect: {
          ...justDiagnosed,
          control: { HYPERTENSION: 'UNCONTROLLED' },
          due: { day: 14, reason: 'UNCONTROLLED' },
          alerts: ['UNCONTROLLED_REFERRAL/ROUTINE/FollowUp'],
          lists: { followUpsDue: true, uncontrolled: true, openAlerts: true },
        },
      },
    ],
  },
  {
    name: 'urgent: 185/112 at a visit of a patient with hypertension and diabetes',
    steps: [
      { event: diagnosis(), expect: justDiagnosed },
      { event: { kind: 'diagnosis', code: 'E11', onset: -400 }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'NO_RECENT_READING', TYPE_2_DIABETES: 'NO_RECENT_READING' }, pathway: { HYPERTENSION: 'CONFIRMED', TYPE_2_DIABETES: 'CONFIRMED' } } },
      {
        event: { kind: 'visit', day: -20, readings: [bp(132, 84), { fastingGlucose: 6.4 }] },
        expect: { ...justDiagnosed, control: { HYPERTENSION: 'CONTROLLED', TYPE_2_DIABETES: 'CONTROLLED' }, due: { day: 40, reason: 'TIER_MAXIMUM' }, pathway: { HYPERTENSION: 'CONFIRMED', TYPE_2_DIABETES: 'CONFIRMED' } },
      },
      // Urgent (SBP ≥ 180 or DBP ≥ 110): red, intensive; an urgent up-referral suggested now; the diabetes still controlled.
      {
        event: { kind: 'visit', day: 0, readings: [bp(185, 112), { fastingGlucose: 6.8 }] },
        expect: {
          management: ['INTENSIVE', 'RED'],
          control: { HYPERTENSION: 'URGENT', TYPE_2_DIABETES: 'CONTROLLED' },
          due: { day: 14, reason: 'UNCONTROLLED' },
          alerts: ['URGENT_REFERRAL/URGENT/Observation'],
          pathway: { HYPERTENSION: 'CONFIRMED', TYPE_2_DIABETES: 'CONFIRMED' },
          lists: { followUpsDue: true, uncontrolled: true, openAlerts: true },
        },
      },
    ],
  },
  {
    name: 'stable after admission: a county stay, then controlled four weeks after discharge — a down-referral suggestion',
    steps: [
      { event: diagnosis(), expect: justDiagnosed },
      { event: { kind: 'visit', day: -70, readings: [bp(168, 102)] }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: -56, reason: 'UNCONTROLLED' } } },
      // In hospital: an admission in the last six months is red, intensive (intensive's month from the visit is later than the two weeks).
      { event: { kind: 'admitted', day: -65 }, expect: { ...justDiagnosed, management: ['INTENSIVE', 'RED'], control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: -56, reason: 'UNCONTROLLED' } } },
      // Discharged eight weeks ago, but no controlled reading since: not yet "stable".
      { event: { kind: 'discharged', day: -58 }, expect: { ...justDiagnosed, management: ['INTENSIVE', 'RED'], control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: -56, reason: 'UNCONTROLLED' } } },
      // Controlled since discharge, nothing above target since, discharged ≥ 28 days ago: refer back down; still red (the stay is recent).
      {
        event: { kind: 'visit', day: -7, readings: [bp(130, 82)] },
        expect: {
          management: ['INTENSIVE', 'RED'],
          control: { HYPERTENSION: 'CONTROLLED' },
          due: { day: 23, reason: 'TIER_MAXIMUM' },
          alerts: ['DOWN_REFERRAL/ROUTINE/Admission'],
          pathway: HTN_CONFIRMED,
          lists: { followUpsDue: true, uncontrolled: false, openAlerts: true },
        },
      },
    ],
  },
  {
    name: 'died: after two uncontrolled visits, the patient dies — no planned visit, no open alert, off the lists',
    steps: [
      { event: diagnosis(), expect: justDiagnosed },
      { event: { kind: 'visit', day: -20, readings: [bp(150, 94)] }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: -6, reason: 'UNCONTROLLED' } } },
      {
        event: { kind: 'visit', day: -6, readings: [bp(158, 98)] },
        expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: { day: 8, reason: 'UNCONTROLLED' }, alerts: ['UNCONTROLLED_REFERRAL/ROUTINE/FollowUp'], lists: { followUpsDue: true, uncontrolled: true, openAlerts: true } },
      },
      // The record stays as it was (control, tier, pathway); the programme stops: nothing planned, nothing open, on no list.
      { event: { kind: 'died', day: -1 }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'UNCONTROLLED' }, due: null, careStatus: 'DIED', lists: NONE } },
    ],
  },
  {
    name: 'moved: an overdue patient is called and has moved away — off the lists',
    steps: [
      { event: diagnosis(), expect: justDiagnosed },
      // Controlled 80 days ago: due by routine's two months, so 20 days overdue and on the follow-ups-due list.
      {
        event: { kind: 'visit', day: -80, readings: [bp(134, 86)] },
        expect: { ...justDiagnosed, control: { HYPERTENSION: 'CONTROLLED' }, due: { day: -20, reason: 'TIER_MAXIMUM' }, lists: { followUpsDue: true, uncontrolled: false, openAlerts: false } },
      },
      { event: { kind: 'moved' }, expect: { ...justDiagnosed, control: { HYPERTENSION: 'CONTROLLED' }, due: null, careStatus: 'MOVED_AWAY', lists: NONE } },
    ],
  },
];

/** What a path does with one patient's events. */
interface Run {
  register(name: string, birthDate: string, rid: string): Promise<string>;
  apply(event: CareEvent, patientId: string): Promise<void>;
}

let t: TestApp;
let county: County;
let worker: EventWorker;
let villageDoctor: string;
let hospital: string;
let workDir: string;

beforeAll(async () => {
  t = await startTestApp({ EVENT_WORKER: 'off' });
  county = await buildCounty(t.em(), 'HIST');
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  // The county hospital's system: SMART Backend Services, writing the records of its patients.
  const scopes = ['system/Patient.cruds', 'system/Condition.cruds', 'system/Observation.cruds', 'system/Encounter.cruds'];
  hospital = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: county.county.code, scopes })).token;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-histories-'));
  // The consumers the server's worker runs, placed at the end of the outbox: they take every event below.
  worker = new EventWorker(t.em(), consumersFor(config));
  await worker.drain();
}, 60_000);
afterAll(async () => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  await t?.close();
});

async function postFhir(bundle: Bundle, token = hospital): Promise<Bundle> {
  const res = await t.http.post('/fhir').set('authorization', `Bearer ${token}`).set('content-type', FHIR_JSON).send(JSON.stringify(bundle));
  expect([res.status, res.status === 200 ? 'ok' : res.body]).toEqual([200, 'ok']);
  for (const entry of (res.body as Bundle).entry ?? []) expect(entry.response?.status).toMatch(/^20[01]/);
  return res.body as Bundle;
}

const serverId = (response: Bundle): string => /\/([0-9a-f-]{36})(\/_history\/\d+)?$/.exec(response.entry![0]!.response!.location!)![1]!;

/** What only the village doctor knows: an overdue call that finds the patient moved away (the same on every path). */
async function moved(patientId: string) {
  await t.ok(CareHistoryContactDocument, { input: { patientId, method: 'PHONE', outcome: 'MOVED', note: '家属说已搬到外县' } }, villageDoctor);
}

const visitReading = (r: Reading, on: string): VisitReadingInput =>
  'bp' in r ? { kind: 'BLOOD_PRESSURE', systolic: r.bp[0], diastolic: r.bp[1], effectiveAt: instantOn(on, today) } : { kind: 'FASTING_GLUCOSE', value: r.fastingGlucose, effectiveAt: instantOn(on, today) };

const graphqlRun = (): Run => {
  const record = new Map<string, HospitalRecord>();
  return {
    async register(name, birthDate) {
      const id = (await t.ok(RegisterPatientDocument, { input: { name, gender: 'MALE', birthDate, managingOrganizationId: county.village.id } }, villageDoctor)).registerPatient.id;
      // The county hospital's record of this patient, for the stay it alone knows of (its Encounter names our patient).
      record.set(id, new HospitalRecord(`gql-${id.slice(-12)}`, { name, birthDate, residentId: '', residentIdSystem: '', managingOrganizationId: county.village.id }, county.county.id, today, `Patient/${id}`));
      return id;
    },
    async apply(event, patientId) {
      switch (event.kind) {
        case 'diagnosis':
          await t.ok(AddConditionDocument, { input: { patientId, code: event.code, system: 'http://hl7.org/fhir/sid/icd-10', onsetDate: day(event.onset) } }, villageDoctor);
          return;
        case 'reading':
          await t.ok(RecordObservationDocument, { input: { patientId, ...visitReading(event.reading, day(event.day)) } }, villageDoctor);
          return;
        case 'visit':
          await t.ok(CareVisitRecordDocument, { input: { patientId, type: 'CLINIC', doneDate: day(event.day), readings: event.readings.map((r) => visitReading(r, day(event.day))) } }, villageDoctor);
          return;
        case 'admitted':
        case 'discharged':
          await postFhir(record.get(patientId)!.bundleFor(event, day)!);
          return;
        case 'died': {
          const version = (await t.ok(CareHistoryStateDocument, { id: patientId }, villageDoctor)).patient.version;
          await t.ok(CareHistoryCareStatusDocument, { patientId, status: 'DIED', version, on: day(event.day), reason: '家属告知：脑卒中去世' }, villageDoctor);
          return;
        }
        case 'moved':
          return moved(patientId);
      }
    },
  };
};

/** FHIR: every event a Bundle (`send` posts it: as the county hospital's system, or through `npm run import`). */
const fhirRun = (tag: string, send: (bundle: Bundle, name: string) => Promise<string | undefined>): Run => {
  let record: HospitalRecord;
  return {
    async register(name, birthDate, rid) {
      record = new HospitalRecord(`${tag}-${rid.slice(-8)}`, { name, birthDate, residentId: rid, residentIdSystem: SYSTEMS.residentId, managingOrganizationId: county.village.id }, county.county.id, today);
      const id = await send(record.register(), name);
      return id!;
    },
    async apply(event, patientId) {
      const bundle = record.bundleFor(event, day);
      if (bundle) await send(bundle, '');
      else await moved(patientId);
    },
  };
};

let files = 0;
const RUNS: Record<string, () => Run> = {
  GraphQL: graphqlRun,
  FHIR: () => fhirRun('his', async (bundle) => serverId(await postFhir(bundle))),
  'npm run import': () =>
    fhirRun('imp', async (bundle, name) => {
      const file = path.join(workDir, `${String(++files).padStart(3, '0')}.json`);
      fs.writeFileSync(file, JSON.stringify(bundle));
      const summary = await importPaths(t.orm, t.app.security, config, [file]);
      expect(summary.failures).toEqual([]);
      if (!name) return undefined;
      const [row] = (await t.em().getConnection().execute('select id from patient where name = ?', [name])) as Array<{ id: string }>;
      return row!.id;
    }),
};

/** The derived state as the village doctor reads it, in the terms of `Expected`. */
async function stateOf(patientId: string) {
  const p = (await t.ok(CareHistoryStateDocument, { id: patientId }, villageDoctor)).patient;
  const lists = (await t.ok(CareHistoryListsDocument, { scope: { organizationId: county.village.id } }, villageDoctor)).worklists;
  const on = (edges: Array<{ node: { patient: { id: string } } }>) => edges.some((e) => e.node.patient.id === patientId);
  return {
    careStatus: p.careStatus,
    management: p.managementTier ? [p.managementTier, p.managementColour] : null,
    control: Object.fromEntries(p.controlStatuses.map((c) => [c.conditionKind, c.status])),
    due: p.nextFollowUp ? { date: p.nextFollowUp.plannedDate, reason: p.nextFollowUp.dueReason } : null,
    alerts: p.alerts.filter((a) => a.state === 'OPEN').map((a) => `${a.kind}/${a.severity}/${a.causeType}`).sort(),
    pathway: Object.fromEntries(p.pathway.map((s) => [s.conditionKind, s.step])),
    lists: { followUpsDue: on(lists.followUpsDue.edges), uncontrolled: on(lists.uncontrolled.edges), openAlerts: on(lists.openAlerts.edges) },
    // Beyond the expectation, compared across paths: the done visits as judged, and the planned visits the rules cancelled.
    visits: p.followUps
      .filter((f) => f.doneDate)
      .map((f) => `${f.doneDate} ${f.controlStatus}`)
      .sort(),
    cancelled: p.followUps
      .filter((f) => f.cancelledAt)
      .map((f) => f.cancelReason)
      .sort(),
  };
}

/** The expectation of one step, in the terms of `stateOf` (the due date from today, with the face-to-face minimum). */
function expectedState(e: Expected, visitsSoFar: number[]) {
  // The planned visit is dated from the last done visit, or (none yet) the day the diagnosis was recorded: today.
  const base = day(visitsSoFar.length ? Math.max(...visitsSoFar) : 0);
  const inYear = visitsSoFar.map(day).filter((d) => d.slice(0, 4) === base.slice(0, 4) && d <= base).length;
  const { lists, careStatus, ...rest } = e;
  return {
    ...rest,
    careStatus: careStatus ?? 'ACTIVE',
    due: e.due && withFaceToFaceMinimum({ date: day(e.due.day), reason: e.due.reason }, base, inYear),
    alerts: [...e.alerts].sort(),
    ...(lists ? { lists } : {}),
  };
}

/** Per path and history, the state after each event: the paths are compared at the end. */
const seen: Record<string, Record<string, unknown[]>> = {};

let patients = 0;
describe.each([
  ['GraphQL', HISTORIES],
  ['FHIR', HISTORIES],
  ['npm run import', HISTORIES.filter((h) => h.name.startsWith('two uncontrolled'))],
] as const)('%s', (pathName, histories) => {
  test.each(histories.map((h) => [h.name, h] as const))('%s', async (_name, history) => {
    const run = RUNS[pathName]!();
    const n = ++patients;
    const patientId = await run.register(`病程${pathName === 'GraphQL' ? '甲' : pathName === 'FHIR' ? '乙' : '丙'}${n}`, '1958-05-05', residentId('1958-05-05'));
    await worker.drain();
    const states: unknown[] = [];
    const visits: number[] = [];
    for (const [i, step] of history.steps.entries()) {
      await run.apply(step.event, patientId);
      await worker.drain();
      if (step.event.kind === 'visit') visits.push(step.event.day);
      const state = await stateOf(patientId);
      const want = expectedState(step.expect, visits);
      const { visits: _v, cancelled: _c, lists, ...got } = state;
      expect({ step: i + 1, event: step.event, ...got, ...(step.expect.lists ? { lists } : {}) }).toEqual({ step: i + 1, event: step.event, ...want });
      states.push(state);
    }
    // The consumers' own writes came back as events that changed nothing.
    expect(await worker.drain()).toBe(0);
    (seen[pathName] ??= {})[history.name] = states;
  }, 30_000);
});

test('every path ends each history, event by event, in the same state', () => {
  for (const pathName of ['FHIR', 'npm run import']) {
    for (const [name, states] of Object.entries(seen[pathName] ?? {})) expect({ path: pathName, name, states }).toEqual({ path: pathName, name, states: seen.GraphQL?.[name] });
  }
  expect(Object.keys(seen['npm run import'] ?? {})).toHaveLength(1);
  expect(Object.keys(seen.FHIR ?? {})).toHaveLength(HISTORIES.length);
});
