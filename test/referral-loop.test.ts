/**
 * Referrals across levels, end to end (issue 12): a village doctor refers up in GraphQL; the county hospital's
 * system, with its SMART Backend Services token and a real FHIR client over HTTP (fhir-kit-client), finds the
 * referral by searching Task by owner and status, accepts it, and completes it with a discharge summary and the
 * reading and diagnosis of its visit; the village doctor sees all of it in GraphQL, and the follow-up the rules
 * plan within two weeks; the county refers the stable patient back down, linked to the up-referral it closes, and
 * the village doctor accepts — once. A hospital system cannot move a referral addressed to another organisation,
 * and the audit names the patient of every FHIR request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Bundle, OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import FhirKit from 'fhir-kit-client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { NCD_SYSTEMS } from '../fhir-mappings/codes.js';
import { ClientKind } from '../src/access/caller.js';
import { registerClient } from '../src/access/smart/client-registry.js';
import { loadConfig } from '../src/config.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { buildCounty, isoDay, type County } from './helpers/fixtures.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { eventWorker } from '../src/events/consumers.js';
import { expectRefusal } from './helpers/refusals.js';
import { uuidArray } from './security/audit-support.js';
import {
  AddConditionDocument,
  ReferralLoopAcceptDocument,
  ReferralLoopCreateDocument,
  ReferralLoopFollowUpsDocument,
  ReferralOutcomeDocument,
  RegisterPatientDocument,
} from './generated/graphql.js';

// fhir-kit-client is CommonJS (`module.exports = Client`) while its typings say `export default class Client`.
const Client = FhirKit as unknown as typeof FhirKit.default;
type FhirClient = InstanceType<typeof Client>;

const config = loadConfig({ NODE_ENV: 'test' });
const HOSPITAL_SCOPES = ['system/Patient.rs', 'system/ServiceRequest.cruds', 'system/Task.cruds', 'system/Observation.cruds', 'system/Condition.cruds'];

let t: TestApp;
let county: County;
let server: http.Server;
let fhirBase: string;
let villageDoctor: string;

/** A hospital system of `organizationCode`, registered with a fresh key; its FHIR client carries a token it got at /auth/token. */
async function hospitalSystem(organizationCode: string): Promise<{ client: FhirClient; token: string; clientId: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'ES384', use: 'sig' };
  const { clientId } = await registerClient(t.em(), { name: `${organizationCode} HIS`, kind: ClientKind.HOSPITAL, organizationCode, jwks: { keys: [jwk] }, scopes: HOSPITAL_SCOPES });
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${config.auth.publicUrl}/auth/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .setJti(randomUUID())
    .sign(privateKey);
  const res = await t.http.post('/auth/token').type('form').send({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope: HOSPITAL_SCOPES.join(' '),
  });
  expect(res.status).toBe(200);
  const token = res.body.access_token as string;
  return { client: new Client({ baseUrl: fhirBase, customHeaders: { Authorization: `Bearer ${token}` } }), token, clientId };
}

/** The client's refusal as { status, outcome }. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; outcome: OperationOutcome }> {
  try {
    await promise;
  } catch (err) {
    const response = (err as { response?: { status: number; data: OperationOutcome } }).response;
    if (response) return { status: response.status, outcome: response.data };
    throw err;
  }
  throw new Error('expected the request to be refused');
}

/** Audit rows of one request (its x-request-id), once the group commit has written them. */
async function auditOf(requestId: string): Promise<Array<{ action: string; outcome: string; actor: string; patient_ids: string[] }>> {
  for (let i = 0; i < 50; i++) {
    const rows = (await t.em().getConnection().execute('select * from audit_event where request_id = ? order by id', [requestId])) as Array<Record<string, unknown>>;
    if (rows.length) return rows.map((r) => ({ action: r.action as string, outcome: r.outcome as string, actor: r.actor as string, patient_ids: uuidArray(r.patient_ids) }));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [];
}

/** The same client with an x-request-id of its own, to find the audit rows of the one request it makes. */
const traced = (token: string, requestId: string) => new Client({ baseUrl: fhirBase, customHeaders: { Authorization: `Bearer ${token}`, 'x-request-id': requestId } });

const referral = async (id: string) => (await t.ok(ReferralOutcomeDocument, { id }, villageDoctor)).referral;

beforeAll(async () => {
  t = await startTestApp();
  county = await buildCounty(t.em(), 'LOOP');
  // The real app on a real port: the FHIR client talks HTTP to it.
  server = http.createServer(t.app.express);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fhirBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  // The consumers begin at the end of the outbox: placed there now, they take every event of the tests below.
  await eventWorker(t.em(), config).drain();
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

test('up in GraphQL, answered over FHIR, back down with a link to the up-referral, accepted once in GraphQL', async () => {
  const hospital = await hospitalSystem(county.county.code);
  const patientId = (await t.ok(RegisterPatientDocument, { input: { name: '赵德明', gender: 'MALE', birthDate: '1956-04-04', managingOrganizationId: county.village.id } }, villageDoctor)).registerPatient.id;
  // A managed hypertension patient of the village clinic.
  await t.ok(AddConditionDocument, { input: { patientId, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10', display: '原发性高血压' } }, villageDoctor);
  // The hospital's steps, each after the one before (FHIR instants as its system writes them).
  const later = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

  // 1. The village doctor refers up: no direction given (the levels give it), the sender taken from the token.
  const up = (
    await t.ok(
      ReferralLoopCreateDocument,
      { input: { patientId, fromOrganizationId: county.village.id, toOrganizationId: county.county.id, reason: 'POOR_CONTROL', urgency: 'URGENT', clinicalSummary: '连续两次血压 165/100' } },
      villageDoctor,
    )
  ).createReferral;
  expect(up).toMatchObject({ direction: 'UP', status: 'REQUESTED', fromPractitioner: { id: county.villageDoctor.id }, toOrganization: { id: county.county.id }, closes: null });

  // 2. The hospital's worklist: its Tasks by owner and status, with the ServiceRequests they fulfil and the patients.
  const searchId = `loop-search-${randomUUID()}`;
  const found = (await traced(hospital.token, searchId).search({
    resourceType: 'Task',
    searchParams: { owner: `Organization/${county.county.id}`, status: 'requested', _include: ['Task:focus', 'Task:patient'] },
  })) as Bundle;
  const matches = found.entry!.filter((e) => e.search?.mode === 'match').map((e) => e.resource as Task);
  const task = matches.find((m) => m.focus?.reference === `ServiceRequest/${up.id}`)!;
  expect(task).toMatchObject({ status: 'requested', owner: { reference: `Organization/${county.county.id}` }, for: { reference: `Patient/${patientId}` } });
  const included = found.entry!.filter((e) => e.search?.mode === 'include').map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
  expect(included).toEqual(expect.arrayContaining([`ServiceRequest/${up.id}`, `Patient/${patientId}`]));
  expect(await auditOf(searchId)).toEqual([expect.objectContaining({ actor: hospital.clientId, outcome: 'SUCCESS', patient_ids: expect.arrayContaining([patientId]) })]);
  // The same referral as a ServiceRequest addressed to the hospital; not among another organisation's, nor among accepted Tasks.
  const requests = (await hospital.client.search({ resourceType: 'ServiceRequest', searchParams: { performer: `Organization/${county.county.id}` } })) as Bundle;
  expect(requests.entry!.map((e) => (e.resource as ServiceRequest).id)).toContain(up.id);
  const townships = (await hospital.client.search({ resourceType: 'Task', searchParams: { owner: county.township.id } })) as Bundle;
  expect((townships.entry ?? []).map((e) => (e.resource as Task).focus?.reference)).not.toContain(`ServiceRequest/${up.id}`);

  // 3. The hospital accepts: PUT of the Task, accepted at the time it says.
  const acceptId = `loop-accept-${randomUUID()}`;
  const acceptedAt = later(1);
  const acceptedTask = (await traced(hospital.token, acceptId).update({ resourceType: 'Task', id: task.id!, body: { ...task, status: 'accepted', executionPeriod: { start: acceptedAt } } })) as Task;
  expect(acceptedTask.status).toBe('accepted');
  expect(await referral(up.id)).toMatchObject({ status: 'ACCEPTED', acceptedAt, completedAt: null });
  expect(await auditOf(acceptId)).toEqual([expect.objectContaining({ action: 'UPDATE', outcome: 'SUCCESS', patient_ids: [patientId] })]);
  // Its worklist of accepted referrals now has it; of requested ones, not.
  const accepted = (await hospital.client.search({ resourceType: 'Task', searchParams: { owner: `Organization/${county.county.id}`, status: 'accepted' } })) as Bundle;
  expect(accepted.entry!.map((e) => e.resource!.id)).toContain(task.id);
  const stillRequested = (await hospital.client.search({ resourceType: 'Task', searchParams: { owner: `Organization/${county.county.id}`, status: 'requested' } })) as Bundle;
  expect((stillRequested.entry ?? []).map((e) => e.resource!.id)).not.toContain(task.id);

  // 4. Discharge: the reading and the diagnosis of its stay, and the Task completed naming them, in one transaction.
  const completedAt = later(2);
  const reading = `urn:uuid:${randomUUID()}`;
  const diagnosis = `urn:uuid:${randomUUID()}`;
  const discharged = (await hospital.client.transaction({
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: reading,
          request: { method: 'POST', url: 'Observation' },
          resource: {
            resourceType: 'Observation',
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
            code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
            subject: { reference: `Patient/${patientId}` },
            effectiveDateTime: new Date(Date.now() - 3600_000).toISOString(),
            component: [
              { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 132, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
              { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 84, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
            ],
          },
        },
        {
          fullUrl: diagnosis,
          request: { method: 'POST', url: 'Condition' },
          resource: {
            resourceType: 'Condition',
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
            verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
            code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I11.9', display: '高血压性心脏病' }] },
            subject: { reference: `Patient/${patientId}` },
          },
        },
        {
          request: { method: 'PUT', url: `Task/${task.id}` },
          resource: {
            ...acceptedTask,
            status: 'completed',
            executionPeriod: { start: acceptedAt, end: completedAt },
            output: [
              { type: { text: '出院小结' }, valueString: '出院小结：血压控制达标，氨氯地平 5mg qd，两周后村卫生室随访' },
              { type: { text: 'reading' }, valueReference: { reference: reading } },
              { type: { text: 'diagnosis' }, valueReference: { reference: diagnosis } },
            ],
          },
        },
      ],
    },
  })) as Bundle;
  expect(discharged.entry!.map((e) => e.response?.status)).toEqual([expect.stringMatching(/^201/), expect.stringMatching(/^201/), expect.stringMatching(/^200/)]);
  const [observationId, conditionId] = discharged.entry!.slice(0, 2).map((e) => /\/([0-9a-f-]{36})\/_history/.exec(e.response!.location!)![1]!);

  // 5. The village doctor sees the outcome: status, summary, the linked reading and diagnosis.
  const done = await referral(up.id);
  expect(done).toMatchObject({
    status: 'COMPLETED',
    acceptedAt,
    completedAt,
    outcomeSummary: '出院小结：血压控制达标，氨氯地平 5mg qd，两周后村卫生室随访',
    outcomeReadings: [{ id: observationId, kind: 'BLOOD_PRESSURE', systolic: 132, diastolic: 84 }],
    outcomeDiagnoses: [{ id: conditionId, code: 'I11.9' }],
  });
  // Its ServiceRequest follows: completed, so no longer among the hospital's active requests.
  const sr = (await hospital.client.read({ resourceType: 'ServiceRequest', id: up.id })) as ServiceRequest;
  expect(sr.status).toBe('completed');

  // …and the follow-up the rules plan after a referral: within two weeks, not yet done (the care-state engine's work,
  // run by the domain events' consumers as the server's worker runs them).
  await eventWorker(t.em(), config).drain();
  const visits = (await t.ok(ReferralLoopFollowUpsDocument, { id: patientId }, villageDoctor)).patient.followUps;
  const planned = visits.filter((f) => f.plannedDate && !f.doneDate && !f.cancelledAt);
  expect(planned).toHaveLength(1);
  expect(planned[0]).toMatchObject({ dueReason: 'AFTER_REFERRAL' });
  expect(planned[0]!.plannedDate! <= isoDay(14, countyToday())).toBe(true);

  // 6. The county refers the stable patient back down, over FHIR: a ServiceRequest based on the up-referral, with its Task.
  const downSr = `urn:uuid:${randomUUID()}`;
  const sentDown = (await hospital.client.transaction({
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: downSr,
          request: { method: 'POST', url: 'ServiceRequest' },
          resource: {
            resourceType: 'ServiceRequest',
            status: 'active',
            intent: 'order',
            code: { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] },
            basedOn: [{ reference: `ServiceRequest/${up.id}` }],
            subject: { reference: `Patient/${patientId}` },
            requester: { reference: `Organization/${county.county.id}` },
            performer: [{ reference: `Organization/${county.village.id}` }],
            reasonCode: [{ coding: [{ system: NCD_SYSTEMS.referralReason, code: 'STABLE' }], text: '病情稳定' }],
          },
        },
        {
          request: { method: 'POST', url: 'Task' },
          resource: { resourceType: 'Task', status: 'requested', intent: 'order', focus: { reference: downSr }, for: { reference: `Patient/${patientId}` }, owner: { reference: `Organization/${county.village.id}` } },
        },
      ],
    },
  })) as Bundle;
  const downId = /\/([0-9a-f-]{36})\/_history/.exec(sentDown.entry![0]!.response!.location!)![1]!;
  expect(await referral(downId)).toMatchObject({ direction: 'DOWN', status: 'REQUESTED', fromOrganization: { id: county.county.id }, toOrganization: { id: county.village.id }, closes: { id: up.id, status: 'COMPLETED' } });
  expect((await referral(up.id)).closedBy).toEqual([{ id: downId, direction: 'DOWN', status: 'REQUESTED' }]);

  // 7. The village doctor accepts it in GraphQL; accepting again is a CONFLICT, and changes nothing.
  const taken = (await t.ok(ReferralLoopAcceptDocument, { id: downId }, villageDoctor)).acceptReferral;
  expect(taken).toMatchObject({ status: 'ACCEPTED', version: 2 });
  expect(new Date(taken.acceptedAt!).getTime()).toBeGreaterThan(new Date(taken.requestedAt).getTime());
  expectRefusal(await t.gql(ReferralLoopAcceptDocument, { id: downId }, villageDoctor), 'CONFLICT');
  expect(await referral(downId)).toEqual(taken);

  // Over FHIR the same: the completed up-referral's Task sent back to accepted is a 409, the referral as it was.
  const again = await refusal(hospital.client.update({ resourceType: 'Task', id: task.id!, body: { ...acceptedTask, status: 'accepted' } }));
  expect(again.status).toBe(409);
  expect(again.outcome.resourceType).toBe('OperationOutcome');
  expect(await referral(up.id)).toEqual({ ...done, closedBy: [{ id: downId, direction: 'DOWN', status: 'ACCEPTED' }] });
});

test('a hospital system cannot move a referral addressed to another organisation: 403, the Task and the referral unchanged, audited with the patient', async () => {
  const township = await hospitalSystem(county.township.code);
  const patientId = (await t.ok(RegisterPatientDocument, { input: { name: '钱玉兰', gender: 'FEMALE', birthDate: '1961-06-06', managingOrganizationId: county.village.id } }, villageDoctor)).registerPatient.id;
  const up = (await t.ok(ReferralLoopCreateDocument, { input: { patientId, fromOrganizationId: county.village.id, toOrganizationId: county.county.id, reason: 'COMPLICATION' } }, villageDoctor)).createReferral;
  // The township sees the patient (its village manages them), so it may read the Task: it is the county's to answer.
  const tasks = (await township.client.search({ resourceType: 'Task', searchParams: { focus: `ServiceRequest/${up.id}` } })) as Bundle;
  const task = tasks.entry![0]!.resource as Task;
  expect(task.owner).toEqual({ reference: `Organization/${county.county.id}` });

  const requestId = `loop-forbidden-${randomUUID()}`;
  const refused = await refusal(traced(township.token, requestId).update({ resourceType: 'Task', id: task.id!, body: { ...task, status: 'accepted' } }));
  expect(refused.status).toBe(403);
  expect(refused.outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [expect.objectContaining({ severity: 'error', code: 'forbidden' })] });
  expect(await referral(up.id)).toMatchObject({ status: 'REQUESTED', version: 1, acceptedAt: null });
  expect(((await township.client.read({ resourceType: 'Task', id: task.id! })) as Task).meta?.versionId).toBe(task.meta?.versionId);
  expect(await auditOf(requestId)).toEqual([expect.objectContaining({ actor: township.clientId, action: 'UPDATE', outcome: 'DENIED', patient_ids: [patientId] })]);
});
