/**
 * What hospitals send reaches GraphQL as what it is, written by the same domain services as GraphQL's own
 * mutations: Encounters as follow-up visits and admissions, ServiceRequests and their Tasks as referrals (the
 * Task's status moving the referral through its lifecycle, and GraphQL's moves showing in the Task), CarePlans
 * and Goals as care plans — from the public test data (test/fixtures/fhir), compared field by field.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Bundle, BundleEntry, CarePlan, Encounter, Goal, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { parse } from 'graphql';
import { randomUUID } from 'node:crypto';
import { EncounterKind, mappings } from '../../fhir-mappings/index.js';
import { countyToday } from '../../src/care-rules/calendar.js';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { residentId, SYSTEMS, type County } from '../helpers/fixtures.js';
import { get, newLog, postBundle, readJson, send, SYNTHEA_NY, SYNTHEA_SMART, type ImportLog } from './support.js';

let t: TestApp;
let county: County;
const log: ImportLog = newLog();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const gql = (source: string) => parse(source) as unknown as TypedDocumentNode<any, any>;

const RECORD = gql(`query Record($id: ID!) {
  patient(id: $id) {
    id
    followUps { id type plannedDate doneDate findings controlStatus adverseReaction newComplication nextDueDate practitioner { id } organization { id } }
    admissions { id kind status classCode periodStart periodEnd reasonCode reasonSystem reasonDisplay organization { id } }
    carePlans { id title status periodStart periodEnd addresses note author { id } organization { id }
      activities { category status description frequency medicationName }
      goals { id description measure targetBelow diastolicBelow dueDate } }
    referrals { id status direction reason urgency requestedAt acceptedAt completedAt statusReason outcomeSummary }
  }
}`);
const ACCEPT = gql(`mutation Accept($id: ID!) { acceptReferral(id: $id) { id status acceptedAt } }`);
const REGISTER = gql(`mutation Register($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }`);

beforeAll(async () => {
  ({ t, county } = await startCountyApp('PJ'));
  const files = [`${SYNTHEA_NY}/hospitalInformation1753719349370.json`, `${SYNTHEA_NY}/practitionerInformation1753719349370.json`, `${SYNTHEA_NY}/00310092-5c0e-34b2-4607-f7f730ec2866.json`, `${SYNTHEA_NY}/40031f36-741a-3c67-151a-d4f9303e528e.json`, `${SYNTHEA_SMART}/Louis_Maggio_2e275d4b-855a-4eb2-9021-5410aa8acd4f.json`];
  for (const file of files) {
    const res = await postBundle(t, file, readJson<Bundle>(file), log);
    expect([res.status, file]).toEqual([200, file]);
  }
}, 600_000);
afterAll(() => t?.close());

/** The resource as the server stored it (references resolved to server ids), read back. */
const stored = async <T extends Resource>(type: string, id: string): Promise<T> => (await get(t, `/fhir/${type}/${id}`)).body as T;
const idIn = (ref: string | undefined, type: string) => (ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : undefined);
const sentOf = (type: string) => log.sent.filter((s) => s.resource.resourceType === type);
const records = new Map<string, Awaited<ReturnType<typeof recordOf>>>();
const recordOf = async (patientId: string) => (await t.ok(RECORD, { id: patientId })).patient;
const record = async (patientId: string) => {
  if (!records.has(patientId)) records.set(patientId, await recordOf(patientId));
  return records.get(patientId)!;
};

test('every follow-up and hospital Encounter sent is a follow-up visit or an admission in GraphQL, field by field', async () => {
  const seen = { followUps: 0, admissions: 0, emergencies: 0, other: 0 };
  for (const sent of sentOf('Encounter')) {
    const resource = await stored<Encounter>('Encounter', sent.serverId);
    const shape = mappings.Encounter.fromFhir(resource).domain;
    const patient = await record(idIn(shape.patientRef, 'Patient')!);
    const followUp = patient.followUps.find((f: { id: string }) => f.id === sent.serverId);
    const admission = patient.admissions.find((a: { id: string }) => a.id === sent.serverId);
    if (shape.kind === EncounterKind.FOLLOW_UP) {
      seen.followUps++;
      const v = shape.followUp!;
      expect(admission).toBeUndefined();
      // The control status and next due date are the care rules' (src/care/state/: from the visit's readings, by the
      // care-rules consumer), never what the Encounter says (test/care-state.test.ts); here the consumer has not run.
      expect(followUp).toEqual({
        id: sent.serverId,
        type: v.type,
        plannedDate: v.plannedDate ?? (v.doneDate ? null : countyToday(shape.periodStart!)),
        doneDate: v.doneDate ?? null,
        findings: v.findings ?? null,
        controlStatus: null,
        adverseReaction: v.adverseReaction,
        newComplication: v.newComplication,
        nextDueDate: null,
        practitioner: idIn(shape.practitionerRef, 'Practitioner') ? { id: idIn(shape.practitionerRef, 'Practitioner') } : null,
        organization: idIn(shape.organizationRef, 'Organization') ? { id: idIn(shape.organizationRef, 'Organization') } : null,
      });
    } else if (shape.kind === EncounterKind.ADMISSION || shape.kind === EncounterKind.EMERGENCY) {
      seen[shape.kind === EncounterKind.ADMISSION ? 'admissions' : 'emergencies']++;
      expect(followUp).toBeUndefined();
      expect(admission).toEqual({
        id: sent.serverId,
        kind: shape.kind === EncounterKind.ADMISSION ? 'INPATIENT' : 'EMERGENCY',
        status: resource.status.toUpperCase().replace(/-/g, '_'),
        classCode: resource.class.code,
        periodStart: shape.periodStart!.toISOString(),
        periodEnd: shape.periodEnd?.toISOString() ?? null,
        reasonCode: shape.reason?.code ?? null,
        reasonSystem: shape.reason?.system ?? null,
        reasonDisplay: shape.reason?.display ?? null,
        organization: idIn(shape.organizationRef, 'Organization') ? { id: idIn(shape.organizationRef, 'Organization') } : null,
      });
    } else {
      seen.other++;
      expect([followUp, admission]).toEqual([undefined, undefined]);
    }
  }
  // The files hold follow-up visits (390906007), inpatient stays (IMP) and emergency visits (EMER).
  expect(seen.followUps).toBeGreaterThanOrEqual(4);
  expect(seen.admissions).toBeGreaterThanOrEqual(3);
  expect(seen.emergencies).toBeGreaterThanOrEqual(2);
});

test('every CarePlan sent is a care plan in GraphQL, with its activities and its Goals, field by field', async () => {
  const plans = sentOf('CarePlan');
  expect(plans.length).toBeGreaterThanOrEqual(9);
  const goalsSeen = new Set<string>();
  for (const sent of plans) {
    const resource = await stored<CarePlan>('CarePlan', sent.serverId);
    const shape = mappings.CarePlan.fromFhir(resource).domain;
    const patient = await record(idIn(shape.patientRef, 'Patient')!);
    const plan = patient.carePlans.find((c: { id: string }) => c.id === sent.serverId);
    expect(plan).toMatchObject({
      title: shape.title ?? '(未命名计划)',
      status: shape.status,
      periodStart: shape.periodStart,
      periodEnd: shape.periodEnd ?? null,
      note: shape.note ?? null,
      author: idIn(shape.authorRef, 'Practitioner') ? { id: idIn(shape.authorRef, 'Practitioner') } : null,
    });
    expect(plan.addresses).toEqual(expect.arrayContaining(shape.addresses));
    expect(plan.activities).toEqual(
      shape.activities.filter((a) => a.description.trim()).map((a) => ({ category: a.category, status: a.status, description: a.description, frequency: a.frequency ?? null, medicationName: a.category === 'MEDICATION' ? (a.medicationName ?? a.description) : null })),
    );
    const goalIds = shape.goalRefs.map((r) => idIn(r, 'Goal')!);
    expect(plan.goals.map((g: { id: string }) => g.id).sort()).toEqual([...goalIds].sort());
    for (const goal of plan.goals) {
      const g = mappings.Goal.fromFhir(await stored<Goal>('Goal', goal.id)).domain;
      expect(goal).toEqual({ id: goal.id, description: g.description, measure: g.measure ?? null, targetBelow: g.targetBelow ?? null, diastolicBelow: g.diastolicBelow ?? null, dueDate: g.dueDate ?? null });
      goalsSeen.add(goal.id);
    }
  }
  // Every Goal sent belongs to the plan that names it (Louis Maggio's five).
  const goals = sentOf('Goal');
  expect(goals.length).toBeGreaterThanOrEqual(5);
  for (const g of goals) expect(goalsSeen).toContain(g.serverId);
});

test('the HL7 example ServiceRequest (physiotherapy) is an order, not a referral: it stays in the FHIR store', async () => {
  const patient = (await t.ok(REGISTER, { input: { name: '钱秀英', gender: 'FEMALE', birthDate: '1958-02-02', managingOrganizationId: county.village.id } })).registerPatient;
  const sr = { ...readJson<ServiceRequest>('hl7-r4-examples/servicerequest-example2.json'), id: undefined, subject: { reference: `Patient/${patient.id}` } };
  const res = await send(t, 'post', '/fhir/ServiceRequest', sr);
  expect(res.status).toBe(201);
  expect((await recordOf(patient.id)).referrals).toEqual([]);
});

/** A village's referral up to its township as a hospital system sends it, with its Task, in either order. */
function referralBundle(patientId: string, taskFirst: boolean, taskStatus: Task['status']): Bundle {
  // Fresh fullUrls: the same fullUrl from the same sender names the same resource (a re-send).
  const sr: BundleEntry = {
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] },
      subject: { reference: `Patient/${patientId}` },
      authoredOn: '2026-11-20T01:00:00Z',
      requester: { reference: `Organization/${county.village.id}` },
      performer: [{ reference: `Organization/${county.township.id}` }],
      reasonCode: [{ text: '血压控制不佳' }],
      priority: 'urgent',
      note: [{ text: '连续三次收缩压>160' }],
    } as ServiceRequest,
    request: { method: 'POST', url: 'ServiceRequest' },
  };
  const task: BundleEntry = {
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: { resourceType: 'Task', status: taskStatus, intent: 'order', focus: { reference: sr.fullUrl }, for: { reference: `Patient/${patientId}` }, authoredOn: '2026-11-20T01:00:00Z', note: [{ text: 'sent by the village system' }] } as Task,
    request: { method: 'POST', url: 'Task' },
  };
  return { resourceType: 'Bundle', type: 'transaction', entry: taskFirst ? [task, sr] : [sr, task] };
}

test('a referral sent as ServiceRequest + Task (either order) is a referral; a Task status sent later moves it through its lifecycle', async () => {
  for (const taskFirst of [false, true]) {
    const patient = (await t.ok(REGISTER, { input: { name: taskFirst ? '孙建国' : '周国强', gender: 'MALE', birthDate: '1950-01-01', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: residentId('1950-01-01') }] } })).registerPatient;
    const res = await send(t, 'post', '/fhir', referralBundle(patient.id, taskFirst, 'requested'));
    expect([res.status, res.body.resourceType, res.status === 200 ? '' : JSON.stringify(res.body)]).toEqual([200, 'Bundle', '']);
    const entries = (res.body as Bundle).entry!;
    const idOf = (i: number) => /\/([0-9a-f-]{36})\/_history/.exec(entries[i]!.response!.location!)![1]!;
    const [srId, taskId] = taskFirst ? [idOf(1), idOf(0)] : [idOf(0), idOf(1)];
    let [referral] = (await recordOf(patient.id)).referrals;
    expect(referral).toMatchObject({ id: srId, status: 'REQUESTED', direction: 'UP', reason: 'OTHER', urgency: 'URGENT', requestedAt: '2026-11-20T01:00:00.000Z' });

    const task = await stored<Task>('Task', taskId);
    const accepted = await send(t, 'put', `/fhir/Task/${taskId}`, { ...task, status: 'accepted', executionPeriod: { start: '2026-11-21T02:00:00Z' } });
    expect(accepted.status).toBe(200);
    [referral] = (await recordOf(patient.id)).referrals;
    expect(referral).toMatchObject({ status: 'ACCEPTED', acceptedAt: '2026-11-21T02:00:00.000Z' });

    const done = await send(t, 'put', `/fhir/Task/${taskId}`, { ...task, status: 'completed', executionPeriod: { start: '2026-11-21T02:00:00Z', end: '2026-11-25T02:00:00Z' }, output: [{ type: { text: 'outcome' }, valueString: '调整为氨氯地平' }] });
    expect(done.status).toBe(200);
    [referral] = (await recordOf(patient.id)).referrals;
    expect(referral).toMatchObject({ status: 'COMPLETED', completedAt: '2026-11-25T02:00:00.000Z', outcomeSummary: '调整为氨氯地平' });

    // A completed referral does not reopen: the lifecycle refuses it as conflicting with where it is, as GraphQL would.
    const reopened = await send(t, 'put', `/fhir/Task/${taskId}`, { ...task, status: 'requested' });
    expect(reopened.status).toBe(409);
  }
});

test('a referral accepted through GraphQL shows in its FHIR Task, the hospital’s own Task kept', async () => {
  const patient = (await t.ok(REGISTER, { input: { name: '吴丽华', gender: 'FEMALE', birthDate: '1952-03-03', managingOrganizationId: county.village.id } })).registerPatient;
  const res = await send(t, 'post', '/fhir', referralBundle(patient.id, false, 'requested'));
  expect([res.status, res.body.resourceType, res.status === 200 ? '' : JSON.stringify(res.body)]).toEqual([200, 'Bundle', '']);
  const taskId = /\/([0-9a-f-]{36})\/_history/.exec((res.body as Bundle).entry![1]!.response!.location!)![1]!;
  const [referral] = (await recordOf(patient.id)).referrals;
  const acceptedAt = (await t.ok(ACCEPT, { id: referral.id })).acceptReferral.acceptedAt;
  const task = await stored<Task>('Task', taskId);
  expect(task.status).toBe('accepted');
  expect(task.meta?.versionId).toBe('2');
  expect(task.note).toEqual([{ text: 'sent by the village system' }]);
  expect(task.executionPeriod?.start).toBe(new Date(acceptedAt).toISOString());
  expect(task.focus?.reference).toBe(`ServiceRequest/${referral.id}`);

  // A referral made through GraphQL gets a Task of its own, moved as the referral moves.
  const CREATE = gql(`mutation Create($input: CreateReferralInput!) { createReferral(input: $input) { id } }`);
  const made = (await t.ok(CREATE, { input: { patientId: patient.id, direction: 'UP', fromOrganizationId: county.village.id, toOrganizationId: county.county.id, reason: 'COMPLICATION' } })).createReferral;
  await t.ok(ACCEPT, { id: made.id });
  const everything = ((await get(t, `/fhir/Patient/${patient.id}/$everything`)).body as Bundle).entry!.map((e) => e.resource as Resource);
  const itsTask = everything.find((r) => r.resourceType === 'Task' && (r as Task).focus?.reference === `ServiceRequest/${made.id}`) as Task;
  expect(itsTask).toMatchObject({ status: 'accepted', for: { reference: `Patient/${patient.id}` }, owner: { reference: `Organization/${county.county.id}` } });
});
