import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { randomUUID } from 'node:crypto';
import { ClientKind } from '../src/access/caller.js';
import { Gender } from '../src/domain/patient/gender.js';
import { Patient } from '../src/domain/patient/patient.entity.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { type AccessCounty, buildAccessCounty, smartToken } from './helpers/access-fixtures.js';
import {
  AccessAuditEventsDocument,
  AccessObservationsDocument,
  AccessPatientDocument,
  AccessPatientIdsDocument,
  AccessViewerDocument,
  RecordObservationDocument,
  UpdatePatientDocument,
} from './generated/graphql.js';

interface AuditRow {
  id: string;
  recorded_at: Date | string;
  actor_type: string;
  actor: string;
  practitioner_id: string | null;
  organization_id: string | null;
  on_behalf_of: string | null;
  action: string;
  what: string;
  patient_ids: string[];
  outcome: string;
  request_id: string;
  source_ip: string | null;
}

let t: TestApp;
let c: AccessCounty;
let vd: string;
let gp: string;
let ca: string;
let caB: string;
let insurer: string;
let insurerClientId: string;
/** Patients beyond the fixture's, so that one search returns a page of more than 50. */
const BULK = 55;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'AUD');
  const em = t.em();
  for (let i = 0; i < BULK; i++) {
    em.create(Patient, { name: `批量${i}`, gender: Gender.MALE, birthDate: '1960-01-01', managingOrganization: c.orgs.A2, version: 1 } as never);
  }
  await em.flush();
  vd = await t.tokenFor({ sub: 'audit-vd', roles: ['VILLAGE_DOCTOR'], org: c.orgs.A1.code, practitioner: c.people.vd.code });
  gp = await t.tokenFor({ sub: 'audit-gp', roles: ['GENERAL_PRACTITIONER'], org: c.orgs.A.code, practitioner: c.people.gp.code });
  ca = await t.tokenFor({ sub: 'audit-ca', roles: ['COMMUNITY_ADMIN'], org: c.orgs.C.code, practitioner: c.people.ca.code });
  caB = await t.tokenFor({ sub: 'audit-ca-b', roles: ['COMMUNITY_ADMIN'], org: c.orgs.B.code });
  const client = await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: c.orgs.I1.code, scopes: ['system/Patient.rs', 'system/Observation.rs'] });
  insurer = client.token;
  insurerClientId = client.clientId;
});
afterAll(() => t?.close());

/** Posts an operation with the request id and the client address a proxy in front would set. */
async function send<R, V>(doc: TypedDocumentNode<R, V>, variables: V, token: string, headers: Record<string, string> = {}) {
  const req = t.http.post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${token}`);
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  const res = await req.send({ query: print(doc), variables });
  return { status: res.status, body: res.body as { data?: R; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

const sql = () => t.em().getConnection();

/** uuid[] arrives as an array from node-postgres, as its text form from some drivers: either way, a sorted array. */
function uuidArray(value: unknown): string[] {
  const list = Array.isArray(value) ? value : String(value).replace(/^\{|\}$/g, '').split(',').filter(Boolean);
  return (list as string[]).map(String).sort();
}

async function auditRows(requestId: string): Promise<AuditRow[]> {
  const rows = (await sql().execute('select * from audit_event where request_id = ? order by recorded_at, id', [requestId])) as AuditRow[];
  return rows.map((r) => ({ ...r, patient_ids: uuidArray(r.patient_ids) }));
}

async function allRows(): Promise<AuditRow[]> {
  const rows = (await sql().execute('select * from audit_event order by id')) as AuditRow[];
  return rows.map((r) => ({ ...r, patient_ids: uuidArray(r.patient_ids), recorded_at: new Date(r.recorded_at).toISOString() }));
}

/** The audit rows written while `action` ran. */
async function newRows(action: () => Promise<unknown>): Promise<AuditRow[]> {
  const before = new Set((await allRows()).map((r) => r.id));
  await action();
  return (await allRows()).filter((r) => !before.has(r.id));
}

const requestId = (label: string) => `${label}-${randomUUID()}`;

describe('what is written', () => {
  test('patient(id): one READ row with actor, organisation, practitioner, the patient, SUCCESS, the request id and the client address', async () => {
    const id = requestId('read');
    // No proxy is trusted by default (TRUSTED_PROXIES): the client's own X-Forwarded-For is not its address (test/security/source-address.test.ts).
    const res = await send(AccessPatientDocument, { id: c.patients.a1.id }, vd, { 'x-request-id': id, 'x-forwarded-for': '203.0.113.7' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const rows = await auditRows(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_type: 'user',
      actor: 'audit-vd',
      practitioner_id: c.people.vd.id,
      organization_id: c.orgs.A1.id,
      action: 'READ',
      patient_ids: [c.patients.a1.id],
      outcome: 'SUCCESS',
      request_id: id,
    });
    expect(rows[0]!.source_ip).toMatch(/127\.0\.0\.1|::1/);
    expect(rows[0]!.what).toMatch(/^query AccessPatient \{ patient \}/);
    expect(Date.now() - new Date(rows[0]!.recorded_at).getTime()).toBeLessThan(60_000);
  });

  test('patients(…): one SEARCH row naming every patient of the page', async () => {
    const id = requestId('search');
    const res = await send(AccessPatientIdsDocument, {}, vd, { 'x-request-id': id });
    expect(res.body.errors).toBeUndefined();
    const page = res.body.data!.patients.edges.map((e) => e.node.id).sort();
    expect(page).toHaveLength(5);
    const rows = await auditRows(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'audit-vd', action: 'SEARCH', patient_ids: page, outcome: 'SUCCESS' });
    // Without a proxy in front, the address is the peer's own.
    expect(rows[0]!.source_ip).toMatch(/127\.0\.0\.1|::1/);
  });

  test('a system client is recorded by its client id', async () => {
    const id = requestId('system');
    await send(AccessPatientDocument, { id: c.patients.a1.id }, insurer, { 'x-request-id': id });
    expect(await auditRows(id)).toEqual([
      expect.objectContaining({ actor_type: 'system', actor: insurerClientId, organization_id: c.orgs.I1.id, action: 'READ', patient_ids: [c.patients.a1.id], outcome: 'SUCCESS' }),
    ]);
  });

  test('without an x-request-id the service makes one', async () => {
    const [row] = await newRows(() => send(AccessPatientDocument, { id: c.patients.a2.id }, gp));
    expect(row).toMatchObject({ actor: 'audit-gp', patient_ids: [c.patients.a2.id] });
    expect(row!.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('a request that reads no patient data writes nothing', async () => {
    const id = requestId('viewer');
    expect((await send(AccessViewerDocument, {}, vd, { 'x-request-id': id })).status).toBe(200);
    expect(await auditRows(id)).toEqual([]);
  });

  test('a mutation refused for lack of permission is DENIED; one refused for a patient you cannot see is FAILURE — both name the patient', async () => {
    const denied = requestId('denied');
    const res = await send(
      RecordObservationDocument,
      { input: { patientId: c.patients.a1.id, kind: 'BLOOD_PRESSURE', systolic: 120, diastolic: 80, effectiveAt: new Date().toISOString() } },
      insurer,
      { 'x-request-id': denied },
    );
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await auditRows(denied)).toEqual([
      expect.objectContaining({ actor: insurerClientId, action: 'CREATE', outcome: 'DENIED', patient_ids: [c.patients.a1.id] }),
    ]);

    const failed = requestId('failed');
    const update = await send(UpdatePatientDocument, { id: c.patients.b1.id, version: 1, input: { phone: '13900000000' } }, vd, { 'x-request-id': failed });
    expect(update.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await auditRows(failed)).toEqual([
      expect.objectContaining({ actor: 'audit-vd', action: 'UPDATE', outcome: 'FAILURE', patient_ids: [c.patients.b1.id] }),
    ]);
  });

  test('looking up a patient you may not see is recorded against that patient (FAILURE)', async () => {
    const id = requestId('probe');
    const res = await send(AccessPatientDocument, { id: c.patients.b1.id }, vd, { 'x-request-id': id });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await auditRows(id)).toEqual([expect.objectContaining({ actor: 'audit-vd', action: 'READ', outcome: 'FAILURE', patient_ids: [c.patients.b1.id] })]);

    // Asking for the patient's readings finds none, and is recorded against the patient all the same.
    const search = requestId('probe-observations');
    const observations = await send(AccessObservationsDocument, { patientId: c.patients.b1.id }, vd, { 'x-request-id': search });
    expect(observations.body.data?.observations.totalCount).toBe(0);
    expect(await auditRows(search)).toEqual([expect.objectContaining({ action: 'SEARCH', outcome: 'SUCCESS', patient_ids: [c.patients.b1.id] })]);
  });

  test('a request id the client sends that the audit cannot hold is replaced, and the request still served', async () => {
    const tooLong = 'x'.repeat(600);
    let status = 0;
    let patientId: string | undefined;
    const rows = await newRows(async () => {
      const res = await send(AccessPatientDocument, { id: c.patients.a1Exp.id }, vd, { 'x-request-id': tooLong });
      status = res.status;
      patientId = res.body.data?.patient.id;
    });
    expect({ status, patientId }).toEqual({ status: 200, patientId: c.patients.a1Exp.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'audit-vd', patient_ids: [c.patients.a1Exp.id], outcome: 'SUCCESS' });
    expect(rows[0]!.request_id).not.toBe(tooLong);
    expect(rows[0]!.request_id.length).toBeLessThanOrEqual(255);
  });
});

describe('who reads the trail', () => {
  test('auditEvents(filter: { patientId }) lists the events that touched the patient for a platform administrator', async () => {
    const read = requestId('trail-read');
    const search = requestId('trail-search');
    await send(AccessPatientDocument, { id: c.patients.a1Ref.id }, gp, { 'x-request-id': read });
    await send(AccessPatientIdsDocument, {}, gp, { 'x-request-id': search });

    const res = await t.gql(AccessAuditEventsDocument, { filter: { patientId: c.patients.a1Ref.id }, first: 50 }, t.adminToken);
    expect(res.errors).toBeUndefined();
    const events = res.data!.auditEvents.edges.map((e) => e.node);
    expect(res.data!.auditEvents.totalCount).toBe(events.length);
    const byRequest = new Map(events.map((e) => [e.requestId, e]));
    expect(byRequest.get(read)).toMatchObject({ actor: 'audit-gp', actorType: 'user', action: 'READ', outcome: 'SUCCESS', practitionerId: c.people.gp.id });
    expect(byRequest.get(search)).toMatchObject({ actor: 'audit-gp', action: 'SEARCH', outcome: 'SUCCESS' });
    expect(byRequest.get(search)!.patientIds.length).toBeGreaterThan(50);
    for (const e of events) expect(e.patientIds).toContain(c.patients.a1Ref.id);
    // Newest first.
    const times = events.map((e) => new Date(e.recordedAt).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test('a village doctor and an insurer see no audit events', async () => {
    const vdRes = await t.gql(AccessAuditEventsDocument, { filter: { patientId: c.patients.a1.id } }, vd);
    expect(vdRes.errors).toBeUndefined();
    expect(vdRes.data!.auditEvents).toEqual({ totalCount: 0, edges: [] });
    const insurerRes = await t.gql(AccessAuditEventsDocument, {}, insurer);
    expect(insurerRes.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(insurerRes.data ?? null).toBeNull();
  });

  test("a community administrator sees the events of their own subtree's staff only", async () => {
    const all = await t.gql(AccessAuditEventsDocument, { first: 200 }, ca);
    expect(all.errors).toBeUndefined();
    const actors = new Set(all.data!.auditEvents.edges.map((e) => e.node.actor));
    expect(actors.has('audit-vd')).toBe(true);
    expect(actors.has('audit-gp')).toBe(true);
    // The insurer is outside the county hospital's tree.
    expect(actors.has(insurerClientId)).toBe(false);
    const townshipB = await t.gql(AccessAuditEventsDocument, { first: 200 }, caB);
    expect(townshipB.data!.auditEvents.totalCount).toBe(0);
  });
});

describe('the trail is append-only', () => {
  test('UPDATE, DELETE and TRUNCATE on audit_event fail and change nothing', async () => {
    const before = await allRows();
    expect(before.length).toBeGreaterThan(3);
    await expect(sql().execute(`update audit_event set outcome = 'SUCCESS', actor = 'someone-else'`)).rejects.toThrow(/append-only/);
    await expect(sql().execute('delete from audit_event where actor = ?', ['audit-vd'])).rejects.toThrow(/append-only/);
    await expect(sql().execute('delete from audit_event')).rejects.toThrow(/append-only/);
    await expect(sql().execute('truncate audit_event')).rejects.toThrow(/append-only/);
    expect(await allRows()).toEqual(before);
  });
});

describe('one insert per request', () => {
  test('a search returning more than 50 patients writes its audit in one statement', async () => {
    const id = requestId('bulk');
    t.queries.length = 0;
    const res = await send(AccessPatientIdsDocument, {}, gp, { 'x-request-id': id });
    expect(res.body.errors).toBeUndefined();
    const page = res.body.data!.patients.edges;
    expect(page.length).toBeGreaterThan(50);
    expect(t.queries.filter((q) => /insert into audit_event/i.test(q))).toHaveLength(1);
    const rows = await auditRows(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.patient_ids).toEqual(page.map((e) => e.node.id).sort());
  });
});
