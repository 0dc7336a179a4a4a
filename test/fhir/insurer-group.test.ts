/**
 * Issue 13: an insurer's covered members as a FHIR Group (src/fhir/member-groups.ts), computed from the coverage
 * table on every read — a coverage added, ended or a consent withdrawn shows at once. The insurer reads its own
 * Group (its members who did not withhold consent), platform administrators every one; anyone else is refused.
 */
import type { Bundle, CapabilityStatement, Coverage, Group, OperationOutcome } from '@medplum/fhirtypes';
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ClientKind } from '../../src/access/caller.js';
import { countyToday } from '../../src/care-rules/calendar.js';
import { insurerOfGroup } from '../../src/domain/coverage/member-group.js';
import { Organization, OrganizationLevel, OrganizationType } from '../../src/domain/organization/organization.entity.js';
import { smartToken } from '../helpers/access-fixtures.js';
import { startCountyApp, type TestApp } from '../helpers/app.js';
import { isoDay, MISSING_ID, residentId, SYSTEMS, type County } from '../helpers/fixtures.js';
import { RegisterPatientDocument } from '../generated/graphql.js';
import { get, invalidIn, send } from './support.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const doc = (text: string) => parse(text) as TypedDocumentNode<any, any>;
const RECORD_CONSENT = doc(`mutation GroupConsent($input: RecordConsentInput!) { recordConsent(input: $input) { id } }`);

let t: TestApp;
let county: County;
let other: Organization;
const tokens: Record<'insurer' | 'otherInsurer' | 'hospital' | 'doctor', string> = { insurer: '', otherInsurer: '', hospital: '', doctor: '' };
const patients: string[] = [];
const today = countyToday();
const day = (n: number) => isoDay(n, today);

beforeAll(async () => {
  ({ t, county } = await startCountyApp('GRP'));
  const em = t.em();
  other = em.create(Organization, { name: '商业健康保险公司', code: 'GRP-INS2', level: OrganizationLevel.EXTERNAL, type: OrganizationType.INSURER, path: '', version: 1 } as never) as Organization;
  other.path = `/${other.id}/`;
  await em.flush();
  const scopes = ['system/Group.rs', 'system/Patient.rs', 'system/Coverage.rs'];
  tokens.insurer = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: county.insurer.code, scopes })).token;
  tokens.otherInsurer = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: other.code, scopes })).token;
  tokens.hospital = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: county.county.code, scopes: ['system/*.rs'] })).token;
  tokens.doctor = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
  for (const [i, birthDate] of ['1951-02-03', '1962-07-08', '1970-11-12'].entries()) {
    const input = { name: `参保人${i}`, gender: 'FEMALE', birthDate, managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: residentId(birthDate, false) }] };
    patients.push((await t.ok(RegisterPatientDocument, { input: input as never })).registerPatient.id);
  }
});
afterAll(() => t?.close());

/** A coverage as a village clinic's system sends it (here: the administrator), answered with its id. */
async function cover(patient: string, insurer: string, member: string, start: string, end?: string, id?: string): Promise<string> {
  const body: Coverage = {
    resourceType: 'Coverage',
    ...(id ? { id } : {}),
    status: 'active',
    subscriberId: member,
    beneficiary: { reference: `Patient/${patient}` },
    payor: [{ reference: `Organization/${insurer}` }],
    period: end ? { start, end } : { start },
  };
  const res = id ? await send(t, 'put', `/fhir/Coverage/${id}`, body) : await send(t, 'post', '/fhir/Coverage', body);
  expect([200, 201]).toContain(res.status);
  return (res.body as Coverage).id!;
}

const group = async (id: string, token?: string) => {
  const res = await get(t, `/fhir/Group/${id}`, token);
  expect(res.status).toBe(200);
  expect(invalidIn(`Group/${id}`, res.body)).toEqual([]);
  return res.body as Group;
};
const membersOf = (g: Group) => (g.member ?? []).map((m) => [m.entity.reference, m.period?.start, m.period?.end, m.inactive]);
const refusal = async (url: string, token: string | undefined, status: number) => {
  const res = await get(t, url, token);
  expect([res.status, (res.body as OperationOutcome).resourceType]).toEqual([status, 'OperationOutcome']);
};

describe('an insurer’s Group follows its coverages', () => {
  let first: string;

  test('the Group has the insurer’s id, is named for it, and lists nobody before any coverage', async () => {
    expect((await insurerOfGroup(t.em(), county.insurer.id))?.id).toBe(county.insurer.id);
    expect(await insurerOfGroup(t.em(), county.village.id)).toBeUndefined();
    expect(await insurerOfGroup(t.em(), 'not-a-uuid')).toBeUndefined();
    expect(await group(county.insurer.id)).toEqual({
      resourceType: 'Group',
      id: county.insurer.id,
      type: 'person',
      actual: true,
      name: 'Members of 县医疗保障局',
      managingEntity: { reference: `Organization/${county.insurer.id}`, display: '县医疗保障局' },
      quantity: 0,
    });
  });

  test('a coverage added: its patient is a member, with the coverage’s period', async () => {
    first = await cover(patients[0]!, county.insurer.id, 'M-0', day(-30));
    await cover(patients[1]!, county.insurer.id, 'M-1', day(-10));
    await cover(patients[2]!, other.id, 'X-2', day(-5));
    const g = await group(county.insurer.id, tokens.insurer);
    expect(g.quantity).toBe(2);
    expect(membersOf(g)).toEqual(
      [
        [`Patient/${patients[0]}`, day(-30), undefined, undefined],
        [`Patient/${patients[1]}`, day(-10), undefined, undefined],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    // The other insurer's Group has its own member only.
    expect(membersOf(await group(other.id, tokens.otherInsurer))).toEqual([[`Patient/${patients[2]}`, day(-5), undefined, undefined]]);
  });

  test('a coverage ended: still a member, inactive, with the period’s end; one starting later is inactive too', async () => {
    await cover(patients[0]!, county.insurer.id, 'M-0', day(-30), day(-1), first);
    await cover(patients[2]!, county.insurer.id, 'M-2', day(7));
    const g = await group(county.insurer.id);
    expect(g.quantity).toBe(3);
    const byPatient = new Map(membersOf(g).map((m) => [m[0], m]));
    expect(byPatient.get(`Patient/${patients[0]}`)).toEqual([`Patient/${patients[0]}`, day(-30), day(-1), true]);
    expect(byPatient.get(`Patient/${patients[1]}`)).toEqual([`Patient/${patients[1]}`, day(-10), undefined, undefined]);
    expect(byPatient.get(`Patient/${patients[2]}`)).toEqual([`Patient/${patients[2]}`, day(7), undefined, true]);
  });

  test('a member who withdraws consent to share with insurers is no longer listed for the insurer (the administrator still sees them)', async () => {
    await t.ok(RECORD_CONSENT, { input: { patientId: patients[1], purpose: 'INSURER_SHARING', decision: 'DENY', periodStart: today } });
    expect((await group(county.insurer.id)).quantity).toBe(3);
    const insurers = await group(county.insurer.id, tokens.insurer);
    expect(insurers.member?.map((m) => m.entity.reference).sort()).toEqual([`Patient/${patients[0]}`, `Patient/${patients[2]}`].sort());
    expect(insurers.quantity).toBe(2);
    // The audit names every member the insurer was shown, and only them.
    const [audit] = (await t.em().execute(`select patient_ids from audit_event where what = ? and outcome = 'SUCCESS' order by recorded_at desc limit 1`, [`FHIR GET /fhir/Group/${county.insurer.id}`])) as Array<{ patient_ids: string[] | string }>;
    const named = typeof audit!.patient_ids === 'string' ? audit!.patient_ids.replace(/[{}]/g, '').split(',') : audit!.patient_ids;
    expect([...named].sort()).toEqual([patients[0], patients[2]].sort());
  });

  test('search: by managing entity or id — an insurer finds its own Group only, an administrator every insurer’s', async () => {
    const ids = async (query: string, token?: string) => {
      const res = await get(t, `/fhir/Group${query}`, token);
      expect(res.status).toBe(200);
      const bundle = res.body as Bundle<Group>;
      expect(invalidIn(`Group${query}`, bundle)).toEqual([]);
      expect(bundle.total).toBe(bundle.entry?.length ?? 0);
      return (bundle.entry ?? []).map((e) => e.resource!.id);
    };
    expect(await ids(`?managing-entity=Organization/${county.insurer.id}`, tokens.insurer)).toEqual([county.insurer.id]);
    expect(await ids(`?_id=${county.insurer.id}`, tokens.insurer)).toEqual([county.insurer.id]);
    expect(await ids('', tokens.insurer)).toEqual([county.insurer.id]);
    expect(await ids(`?managing-entity=${other.id}`, tokens.insurer)).toEqual([]);
    expect(await ids(`?managing-entity=${encodeURIComponent(`http://localhost/fhir/Organization/${county.insurer.id}`)}`, tokens.insurer)).toEqual([county.insurer.id]);
    expect(await ids('?type=person&actual=true', tokens.insurer)).toEqual([county.insurer.id]);
    expect(await ids('?type=animal', tokens.insurer)).toEqual([]);
    expect((await ids('')).sort()).toEqual([county.insurer.id, other.id].sort());
    expect(await ids(`?_id=${county.insurer.id},${other.id}&managing-entity=Organization/${other.id}`)).toEqual([other.id]);
    expect(await ids(`?_id=${patients[0]}`)).toEqual([]);
    const bad = await get(t, '/fhir/Group?name=Members', tokens.insurer);
    expect([bad.status, (bad.body as OperationOutcome).issue?.[0]?.code]).toEqual([400, 'not-supported']);
    const notAnOrganization = await get(t, `/fhir/Group?managing-entity=Patient/${patients[0]}`, tokens.insurer);
    expect([notAnOrganization.status, (notAnOrganization.body as OperationOutcome).issue?.[0]?.code]).toEqual([400, 'invalid']);
  });
});

describe('who may read it', () => {
  test('another insurer’s Group is refused; so is every Group for a hospital and for a clinician', async () => {
    await refusal(`/fhir/Group/${other.id}`, tokens.insurer, 403);
    await refusal(`/fhir/Group/${county.insurer.id}`, tokens.otherInsurer, 403);
    await refusal(`/fhir/Group/${county.insurer.id}`, tokens.hospital, 403);
    await refusal(`/fhir/Group/${county.insurer.id}`, tokens.doctor, 403);
    await refusal(`/fhir/Group?managing-entity=Organization/${county.insurer.id}`, tokens.hospital, 403);
    // Scopes still count: an insurer client without Group in its scopes reads none.
    const noGroup = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: county.insurer.code, scopes: ['system/Patient.rs'] })).token;
    await refusal(`/fhir/Group/${county.insurer.id}`, noGroup, 403);
  });

  test('an id that is not an insurer’s is no Group (404); Group is not written over FHIR (405)', async () => {
    await refusal(`/fhir/Group/${county.village.id}`, undefined, 404);
    await refusal(`/fhir/Group/${patients[0]}`, undefined, 404);
    await refusal(`/fhir/Group/${MISSING_ID}`, tokens.insurer, 404);
    const write = await send(t, 'put', `/fhir/Group/${county.insurer.id}`, { resourceType: 'Group', id: county.insurer.id, type: 'person', actual: true });
    expect([write.status, (write.body as OperationOutcome).issue?.[0]?.code]).toEqual([405, 'not-supported']);
    expect((await send(t, 'post', '/fhir/Group', { resourceType: 'Group', type: 'person', actual: true })).status).toBe(405);
    expect((await t.http.delete(`/fhir/Group/${county.insurer.id}`).set('authorization', `Bearer ${t.adminToken}`)).status).toBe(405);
    // Nor in a Bundle: the entry is refused, nothing stored.
    const batch = await send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Group', type: 'person', actual: true }, request: { method: 'POST', url: 'Group' } }] });
    expect((batch.body as Bundle).entry?.[0]?.response?.status).toMatch(/^405/);
    expect(await t.em().execute(`select count(*)::int as n from fhir_resource where resource_type = 'Group'`)).toEqual([{ n: 0 }]);
  });

  test('the CapabilityStatement lists Group read and search', async () => {
    const cs = (await get(t, '/fhir/metadata')).body as CapabilityStatement;
    const g = cs.rest![0]!.resource!.find((r) => r.type === 'Group')!;
    expect(g.interaction?.map((i) => i.code)).toEqual(['read', 'search-type']);
    expect(g.searchParam?.map((p) => p.name)).toEqual(['_id', 'managing-entity', 'type', 'actual']);
    expect(invalidIn('metadata', cs)).toEqual([]);
  });
});
