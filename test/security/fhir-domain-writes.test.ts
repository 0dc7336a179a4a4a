/**
 * Domain writes over FHIR that reach further than the sender's say:
 *  - a Coverage makes its insurer see the patient's whole record (AccessPolicy.patientVisible), so it reaches the
 *    domain only from those who manage the patient (or an administrator) and only naming an insurer; from anyone
 *    else (a hospital on a referral, a care-team member) it stays in the FHIR store with a warning;
 *  - a referral is the sender's: its receiver does not rewrite the ServiceRequest (403), nobody moves its ends
 *    (422); the receiver moves its status through the Task;
 *  - a hospital's Patient update does not wipe what the village recorded: identifiers of systems it does not
 *    carry, telephone and address it does not carry, are kept.
 */
import type { Bundle, Coverage, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { ClientKind } from '../../src/access/caller.js';
import { residentId, SYSTEMS } from '../helpers/fixtures.js';
import { expectOutcome, type FhirCounty, fhirCounty } from './fhir-security-support.js';

let f: FhirCounty;
beforeAll(async () => {
  f = await fhirCounty('FDW');
  await f.client('hospitalS', ClientKind.HOSPITAL, 'S', ['system/Patient.cruds', 'system/Coverage.cruds', 'system/ServiceRequest.cruds', 'system/Task.cruds']);
  await f.client('hospitalC', ClientKind.HOSPITAL, 'C', ['system/Patient.cruds']);
  await f.client('insurerI2', ClientKind.INSURER, 'I2', ['system/Patient.rs']);
});
afterAll(() => f?.t.close());

const coverage = (patientId: string, insurerId: string, memberNumber = `FDW-${randomUUID().slice(0, 8)}`): Coverage => ({
  resourceType: 'Coverage',
  status: 'active',
  beneficiary: { reference: `Patient/${patientId}` },
  payor: [{ reference: `Organization/${insurerId}` }],
  subscriberId: memberNumber,
  period: { start: '2024-01-01' },
});

const domainCoverage = async (id: string) => f.sql<{ status: string; insurer_id: string }>(`select status, insurer_id from coverage where id = ?`, [id]);
/** Sent with Prefer: return=OperationOutcome: the id from Location, the warnings from the body. */
async function postCoverage(who: string, resource: Coverage): Promise<{ status: number; id: string; warnings: string }> {
  const res = await f.fhir(who, 'post', '/fhir/Coverage', resource, { prefer: 'return=OperationOutcome' });
  const id = /Coverage\/([0-9a-f-]{36})/.exec(String(res.headers.location ?? ''))?.[1] ?? '';
  expect(id).not.toBe('');
  return { status: res.status, id, warnings: JSON.stringify(res.body?.issue ?? []) };
}

describe('Coverage', () => {
  test('a hospital that sees the patient through a referral or registration: stored, not in the domain, the insurer sees nothing', async () => {
    const a2Reg = f.c.patients.a2Reg.id; // registered by S: the hospital at S sees it; managed by A2
    const res = await postCoverage('hospitalS', coverage(a2Reg, f.c.orgs.I2.id));
    expect(res.status).toBe(201);
    expect(await domainCoverage(res.id)).toEqual([]);
    expect(res.warnings).toMatch(/kept in the FHIR store only/);
    expect((await f.fhir('insurerI2', 'get', `/fhir/Patient/${a2Reg}`)).status).toBe(404);
  });

  test('a care-team member who does not manage the patient: the same', async () => {
    const a2Grid = f.c.patients.a2Grid.id; // on the A1 village doctor's grid, managed by A2
    const res = await postCoverage('vd', coverage(a2Grid, f.c.orgs.I2.id));
    expect(res.status).toBe(201);
    expect(await domainCoverage(res.id)).toEqual([]);
  });

  test('a payor that is not an insurer: not in the domain, even from the managing organisation', async () => {
    const res = await postCoverage('gp', coverage(f.c.patients.a2Reg.id, f.c.orgs.S.id));
    expect(res.status).toBe(201);
    expect(await domainCoverage(res.id)).toEqual([]);
  });

  test('a member number already given: the warning does not say so', async () => {
    const [held] = await f.sql<{ member_number: string }>(`select member_number from coverage where patient_id = ?`, [f.c.patients.a2.id]);
    const res = await postCoverage('gp', coverage(f.c.patients.a2Reg.id, f.c.orgs.I2.id, held!.member_number));
    expect(res.status).toBe(201);
    expect(await domainCoverage(res.id)).toEqual([]);
    expect(res.warnings).toMatch(/kept in the FHIR store only/);
    expect(res.warnings).not.toMatch(/already|member number/i);
  });

  test('the managing organisation (or an administrator) naming an insurer: in the domain, the insurer sees its member', async () => {
    const a2Reg = f.c.patients.a2Reg.id;
    const res = await postCoverage('gp', coverage(a2Reg, f.c.orgs.I2.id));
    expect(res.status).toBe(201);
    expect(await domainCoverage(res.id)).toEqual([{ status: 'ACTIVE', insurer_id: f.c.orgs.I2.id }]);
    expect((await f.fhir('insurerI2', 'get', `/fhir/Patient/${a2Reg}`)).status).toBe(200);
    const byAdmin = await postCoverage('admin', coverage(f.c.patients.b1.id, f.c.orgs.I2.id));
    expect(byAdmin.status).toBe(201);
    expect(await domainCoverage(byAdmin.id)).toEqual([{ status: 'ACTIVE', insurer_id: f.c.orgs.I2.id }]);
  });
});

describe('Referral', () => {
  const referral = (patientId: string, from: string, to: string, extra: Partial<ServiceRequest> = {}): ServiceRequest => ({
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: '2026-11-20T01:00:00Z',
    requester: { reference: `Organization/${from}` },
    performer: [{ reference: `Organization/${to}` }],
    reasonCode: [{ text: '血压控制不佳' }],
    ...extra,
  });

  test('the receiver cannot rewrite the sender’s request (403), nobody moves its ends (422); the receiver’s Task moves it', async () => {
    const a2Reg = f.c.patients.a2Reg.id;
    const { A2, S, C } = f.c.orgs;
    const sr = referral(a2Reg, A2.id, S.id);
    const srUrl = `urn:uuid:${randomUUID()}`;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: srUrl, resource: sr, request: { method: 'POST', url: 'ServiceRequest' } },
        { fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'Task', status: 'requested', intent: 'order', focus: { reference: srUrl }, for: { reference: `Patient/${a2Reg}` } } as Task, request: { method: 'POST', url: 'Task' } },
      ],
    };
    const sent = await f.fhir('gp', 'post', '/fhir', bundle);
    expect([sent.status, sent.status === 200 ? '' : JSON.stringify(sent.body)]).toEqual([200, '']);
    const [srId, taskId] = (sent.body as Bundle).entry!.map((e) => /\/([0-9a-f-]{36})\/_history/.exec(e.response!.location!)![1]!);
    const row = async () =>
      (await f.sql<{ from_organization_id: string; to_organization_id: string; status: string; clinical_summary: string | null }>(
        `select from_organization_id, to_organization_id, status, clinical_summary from referral where id = ?`,
        [srId],
      ))[0];
    expect(await row()).toMatchObject({ from_organization_id: A2.id, to_organization_id: S.id, status: 'REQUESTED' });

    // The receiver naming itself as requester (a down-referral S → A2), or rewriting the village's request: 403.
    expectOutcome(await f.fhir('hospitalS', 'put', `/fhir/ServiceRequest/${srId}`, { ...referral(a2Reg, S.id, A2.id), id: srId }), 403);
    expectOutcome(await f.fhir('hospitalS', 'put', `/fhir/ServiceRequest/${srId}`, { ...sr, id: srId, note: [{ text: '改写' }] }), 403);
    // The sender moving the other end: 422.
    expectOutcome(await f.fhir('gp', 'put', `/fhir/ServiceRequest/${srId}`, { ...referral(a2Reg, A2.id, C.id), id: srId }), 422);
    expect(await row()).toMatchObject({ from_organization_id: A2.id, to_organization_id: S.id, status: 'REQUESTED' });
    // The sender may still say more about its own request.
    const noted = await f.fhir('gp', 'put', `/fhir/ServiceRequest/${srId}`, { ...sr, id: srId, note: [{ text: '补充: 连续三次收缩压>160' }] });
    expect([noted.status, noted.status === 200 ? '' : JSON.stringify(noted.body)]).toEqual([200, '']);

    // The receiver accepts through the Task.
    const task = (await f.fhir('hospitalS', 'get', `/fhir/Task/${taskId}`)).body as Task;
    const accepted = await f.fhir('hospitalS', 'put', `/fhir/Task/${taskId}`, { ...task, status: 'accepted', executionPeriod: { start: '2026-11-21T02:00:00Z' } });
    expect([accepted.status, accepted.status === 200 ? '' : JSON.stringify(accepted.body)]).toEqual([200, '']);
    expect(await row()).toMatchObject({ from_organization_id: A2.id, to_organization_id: S.id, status: 'ACCEPTED' });
  });
});

describe('Patient', () => {
  test('a hospital’s update keeps the identifiers of systems it does not carry, and the telephone and address', async () => {
    const birthDate = '1961-07-14';
    const resident = residentId(birthDate);
    const healthRecord = `13012900100${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}1`.slice(0, 17);
    const village: Patient = {
      resourceType: 'Patient',
      identifier: [
        { system: SYSTEMS.residentId, value: resident },
        { system: SYSTEMS.healthRecord, value: healthRecord },
        { system: 'https://village.example.org/his', value: `V-${randomUUID().slice(0, 8)}` },
      ],
      name: [{ text: '郑秀英' }],
      gender: 'female',
      birthDate,
      telecom: [{ system: 'phone', value: '13800001111' }],
      address: [{ text: '甲一村三组' }],
      managingOrganization: { reference: `Organization/${f.c.orgs.A1.id}` },
    };
    const made = await f.created('gp', village);
    const before = await f.sql<{ phone: string | null; address: unknown }>(`select phone, address from patient where id = ?`, [made.id]);
    expect(before[0]!.phone).toBe('13800001111');
    expect(before[0]!.address).toBeTruthy();

    const mrn = `MRN-${randomUUID().slice(0, 8)}`;
    const hospital: Patient = {
      resourceType: 'Patient',
      id: made.id,
      identifier: [
        { system: SYSTEMS.residentId, value: resident },
        { system: 'https://his.example.org/mrn', value: mrn },
      ],
      name: [{ text: '郑秀英' }],
      gender: 'female',
      birthDate,
    };
    const res = await f.fhir('hospitalC', 'put', `/fhir/Patient/${made.id}`, hospital);
    expect([res.status, res.status === 200 ? '' : JSON.stringify(res.body)]).toEqual([200, '']);
    const systems = (await f.sql<{ system: string }>(`select system from patient_identifier where patient_id = ? order by system`, [made.id])).map((r) => r.system);
    expect(systems.sort()).toEqual([SYSTEMS.healthRecord, SYSTEMS.residentId, 'https://his.example.org/mrn', 'https://village.example.org/his'].sort());
    expect(await f.sql(`select phone, address from patient where id = ?`, [made.id])).toEqual(before);

    // Another patient's resident ID in a hospital's update is still the store's 409.
    const held = await f.fhir('hospitalC', 'put', `/fhir/Patient/${made.id}`, { ...hospital, identifier: [{ system: SYSTEMS.residentId, value: f.c.residentIds.b1 }] });
    expectOutcome(held, 409);
  });
});
