/**
 * Writes are authorised by what is written, not only by whose record it is in: the FHIR directory
 * (organisations, locations, staff) is written by platform administrators and, for their own organisation and
 * below, by registered hospital systems — never by clinical users; no FHIR write changes an organisation's
 * place in the tree or a code that tokens resolve by; resources outside patients' records belong to the
 * organisation that sent them. Each refusal is an OperationOutcome and leaves the store and the domain as they were.
 */
import type { Bundle, BundleEntry, Location, Medication, Organization, Practitioner, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { ClientKind } from '../../src/access/caller.js';
import { NCD_SYSTEMS } from '../../fhir-mappings/codes.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty, type PatientKey, smartToken } from '../helpers/access-fixtures.js';
import { AccessPatientIdsDocument, AccessViewerDocument } from '../generated/graphql.js';
import { print } from 'graphql';

const FHIR_JSON = 'application/fhir+json';
const DIRECTORY_SCOPES = ['system/Organization.cruds', 'system/Location.cruds', 'system/Practitioner.cruds', 'system/PractitionerRole.cruds'];

let t: TestApp;
let c: AccessCounty;
const tokens = {} as Record<'vd' | 'gp' | 'gpB' | 'sp' | 'admin' | 'hospitalA' | 'hospitalB', string>;
type Who = keyof typeof tokens;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'DW');
  const person = (sub: string, role: string, org: keyof AccessCounty['orgs'], practitioner: keyof AccessCounty['people']) =>
    t.tokenFor({ sub, roles: [role], org: c.orgs[org].code, practitioner: c.people[practitioner].code });
  tokens.vd = await person('dw-vd', 'VILLAGE_DOCTOR', 'A1', 'vd');
  tokens.gp = await person('dw-gp', 'GENERAL_PRACTITIONER', 'A', 'gp');
  tokens.gpB = await person('dw-gpb', 'GENERAL_PRACTITIONER', 'B', 'gpB');
  tokens.sp = await person('dw-sp', 'SPECIALIST', 'C', 'sp');
  tokens.admin = await t.tokenFor({ sub: 'dw-admin', roles: ['PLATFORM_ADMIN'] });
  // Hospital systems registered through the real client registry, for township A and township B.
  tokens.hospitalA = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: c.orgs.A.code, scopes: DIRECTORY_SCOPES })).token;
  tokens.hospitalB = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: c.orgs.B.code, scopes: DIRECTORY_SCOPES })).token;
});
afterAll(() => t?.close());

function fhir(who: Who, method: 'get' | 'post' | 'put' | 'delete', url: string, body?: unknown): Promise<Response> {
  const req = t.http[method](url).set('authorization', `Bearer ${tokens[who]}`).set('accept', FHIR_JSON);
  return body === undefined ? req : req.set('content-type', FHIR_JSON).send(JSON.stringify(body));
}

async function read<T extends Resource>(type: T['resourceType'], id: string): Promise<T> {
  const res = await fhir('admin', 'get', `/fhir/${type}/${id}`);
  expect(res.status).toBe(200);
  return res.body as T;
}

async function created<T extends Resource>(who: Who, resource: T): Promise<T> {
  const res = await fhir(who, 'post', `/fhir/${resource.resourceType}`, resource);
  expect({ status: res.status, body: res.status === 201 ? undefined : res.body }).toEqual({ status: 201, body: undefined });
  return res.body as T;
}

function expectOutcome(res: Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.issue?.[0]?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
}

/** The directory as the FHIR store and the domain tables hold it, and every version the store ever made. */
async function snapshot() {
  const sql = (q: string) => t.em().getConnection().execute(q);
  return {
    store: await sql(`select id, resource_type, version_id, deleted, content from fhir_resource where patient_id is null order by id`),
    history: await sql(`select count(*)::int as n from fhir_resource_history`),
    organizations: await sql(`select id, code, name, level, type, parent_id, path from organization order by id`),
    practitioners: await sql(`select id, code, name from practitioner order by id`),
  };
}

/** Runs a request that must be refused with this status and issue code, and checks that nothing changed. */
async function refusedUnchanged(request: () => Promise<Response>, status: number, code: string): Promise<Response> {
  const before = await snapshot();
  const res = await request();
  expectOutcome(res, status, code);
  expect(await snapshot()).toEqual(before);
  return res;
}

/** Whom a token resolves to: the organisation and practitioner ids (or the HTTP status when it is refused). */
async function resolvesTo(who: Who): Promise<{ status: number; organization?: string; practitioner?: string }> {
  const res = await t.http.post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${tokens[who]}`).send({ query: print(AccessViewerDocument) });
  const viewer = res.body?.data?.viewer;
  return { status: res.status, organization: viewer?.organization?.id, practitioner: viewer?.practitioner?.id };
}

async function visiblePatients(who: Who): Promise<PatientKey[]> {
  const res = await t.http.post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${tokens[who]}`).send({ query: print(AccessPatientIdsDocument) });
  expect(res.body.errors).toBeUndefined();
  return c.keysOf(res.body.data.patients.edges.map((e: { node: { id: string } }) => e.node.id)) as PatientKey[];
}

const withCode = <T extends Organization | Practitioner>(resource: T, system: string, code: string): T => ({ ...resource, identifier: [{ system, value: code }] });
const putEntry = (resource: Resource): BundleEntry => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });
const transaction = (entries: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
const location = (name: string, organizationId: string): Location => ({ resourceType: 'Location', name, status: 'active', managingOrganization: { reference: `Organization/${organizationId}` } });
const practitioner = (name: string, staffNumber: string): Practitioner => ({
  resourceType: 'Practitioner',
  identifier: [{ system: 'https://his.example.org/staff', value: staffNumber }],
  name: [{ text: name }],
});

describe('a village doctor cannot rewrite the directory', () => {
  test("PUT of another clinic's Organization with partOf set to her own clinic: 403, and she sees no more patients than before", async () => {
    const seen = await visiblePatients('vd');
    expect(seen).toEqual(['a1', 'a1Exp', 'a1Ref', 'a1Team', 'a2Grid']);
    const b1 = await read<Organization>('Organization', c.orgs.B1.id);
    await refusedUnchanged(() => fhir('vd', 'put', `/fhir/Organization/${b1.id}`, { ...b1, partOf: { reference: `Organization/${c.orgs.A1.id}` } }), 403, 'forbidden');
    expect(await visiblePatients('vd')).toEqual(seen);
  });

  test('a transaction that swaps the codes of her clinic and the county hospital: refused, every token resolves as before', async () => {
    const [a1, county] = [await read<Organization>('Organization', c.orgs.A1.id), await read<Organization>('Organization', c.orgs.C.id)];
    const swap = transaction([putEntry(withCode(a1, NCD_SYSTEMS.organizationCode, c.orgs.C.code)), putEntry(withCode(county, NCD_SYSTEMS.organizationCode, c.orgs.A1.code))]);
    await refusedUnchanged(() => fhir('vd', 'post', '/fhir', swap), 403, 'forbidden');
    // Not even a platform administrator changes codes through FHIR: tokens resolve by them.
    await refusedUnchanged(() => fhir('admin', 'post', '/fhir', swap), 422, 'business-rule');
    expect(await resolvesTo('vd')).toEqual({ status: 200, organization: c.orgs.A1.id, practitioner: c.people.vd.id });
    expect(await resolvesTo('sp')).toEqual({ status: 200, organization: c.orgs.C.id, practitioner: c.people.sp.id });
  });

  test("two PUTs swapping her and the township GP's Practitioner codes: refused, both tokens resolve as before", async () => {
    const [vd, gp] = [await read<Practitioner>('Practitioner', c.people.vd.id), await read<Practitioner>('Practitioner', c.people.gp.id)];
    for (const who of ['vd', 'admin'] as const) {
      await refusedUnchanged(() => fhir(who, 'put', `/fhir/Practitioner/${vd.id}`, withCode(vd, NCD_SYSTEMS.practitionerCode, c.people.gp.code)), who === 'vd' ? 403 : 422, who === 'vd' ? 'forbidden' : 'business-rule');
      await refusedUnchanged(() => fhir(who, 'put', `/fhir/Practitioner/${gp.id}`, withCode(gp, NCD_SYSTEMS.practitionerCode, c.people.vd.code)), who === 'vd' ? 403 : 422, who === 'vd' ? 'forbidden' : 'business-rule');
    }
    expect(await resolvesTo('vd')).toEqual({ status: 200, organization: c.orgs.A1.id, practitioner: c.people.vd.id });
    expect(await resolvesTo('gp')).toEqual({ status: 200, organization: c.orgs.A.id, practitioner: c.people.gp.id });
  });

  test('nor create, rename or delete directory resources: 403', async () => {
    await refusedUnchanged(() => fhir('vd', 'post', '/fhir/Location', location('甲一村卫生室诊室', c.orgs.A1.id)), 403, 'forbidden');
    await refusedUnchanged(() => fhir('vd', 'post', '/fhir/Practitioner', practitioner('新村医', 'VD-NEW')), 403, 'forbidden');
    const a1 = await read<Organization>('Organization', c.orgs.A1.id);
    await refusedUnchanged(() => fhir('vd', 'put', `/fhir/Organization/${a1.id}`, { ...a1, name: '甲一村卫生室（新）' }), 403, 'forbidden');
    await refusedUnchanged(() => fhir('vd', 'delete', `/fhir/Organization/${c.orgs.B1.id}`), 403, 'forbidden');
    await refusedUnchanged(() => fhir('gp', 'delete', `/fhir/Practitioner/${c.people.vd.id}`), 403, 'forbidden');
  });
});

describe("resources outside patients' records belong to the organisation that sent them", () => {
  test("a village doctor cannot update or delete another organisation's resource; its sender can", async () => {
    const medication = await created<Medication>('gpB', { resourceType: 'Medication', code: { text: '氨氯地平片 5mg' } });
    const stored = await t.em().getConnection().execute(`select owner_organization_id from fhir_resource where id = ?`, [medication.id]);
    expect(stored).toEqual([{ owner_organization_id: c.orgs.B.id }]);
    await refusedUnchanged(() => fhir('vd', 'delete', `/fhir/Medication/${medication.id}`), 403, 'forbidden');
    await refusedUnchanged(() => fhir('vd', 'put', `/fhir/Medication/${medication.id}`, { ...medication, code: { text: '硝苯地平片' } }), 403, 'forbidden');
    expect((await fhir('vd', 'get', `/fhir/Medication/${medication.id}`)).body.meta.versionId).toBe('1');
    // Her own organisation's resources are hers to change; the sender's are its own.
    const hers = await created<Medication>('vd', { resourceType: 'Medication', code: { text: '二甲双胍片' } });
    expect((await fhir('vd', 'put', `/fhir/Medication/${hers.id}`, { ...hers, code: { text: '二甲双胍缓释片' } })).status).toBe(200);
    expect((await fhir('vd', 'delete', `/fhir/Medication/${hers.id}`)).status).toBe(204);
    expect((await fhir('gpB', 'delete', `/fhir/Medication/${medication.id}`)).status).toBe(204);
  });

  test('an unchanged re-send of a resource someone else owns changes nothing and is answered as it stands', async () => {
    const b1 = await read<Organization>('Organization', c.orgs.B1.id);
    const before = await snapshot();
    const res = await fhir('vd', 'put', `/fhir/Organization/${b1.id}`, b1);
    expect(res.status).toBe(200);
    expect(res.body.meta.versionId).toBe(b1.meta!.versionId);
    expect(await snapshot()).toEqual(before);
  });
});

describe('a hospital system writes the directory of its own organisation and below', () => {
  test('Locations: for its own subtree, not for another organisation', async () => {
    const own = await created('hospitalA', location('甲一村卫生室诊室', c.orgs.A1.id));
    const [owner] = (await t.em().getConnection().execute(`select owner_organization_id from fhir_resource where id = ?`, [own.id])) as Array<{ owner_organization_id: string }>;
    expect(owner!.owner_organization_id).toBe(c.orgs.A.id);
    expect((await fhir('hospitalA', 'put', `/fhir/Location/${own.id}`, { ...own, name: '甲一村卫生室一诊室' })).status).toBe(200);
    // Not for township B, not moved out of its subtree, and not B's own Location.
    await refusedUnchanged(() => fhir('hospitalA', 'post', '/fhir/Location', location('乙镇卫生院诊室', c.orgs.B.id)), 403, 'forbidden');
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Location/${own.id}`, { ...own, managingOrganization: { reference: `Organization/${c.orgs.B1.id}` } }), 403, 'forbidden');
    const theirs = await created('hospitalB', location('乙一村卫生室诊室', c.orgs.B1.id));
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Location/${theirs.id}`, { ...theirs, name: '改名' }), 403, 'forbidden');
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Location/${theirs.id}`, { ...theirs, managingOrganization: { reference: `Organization/${c.orgs.A1.id}` } }), 403, 'forbidden');
    await refusedUnchanged(() => fhir('hospitalA', 'delete', `/fhir/Location/${theirs.id}`), 403, 'forbidden');
    // A role at an organisation outside its subtree, likewise.
    await refusedUnchanged(
      () => fhir('hospitalA', 'post', '/fhir/PractitionerRole', { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${c.people.gp.id}` }, organization: { reference: `Organization/${c.orgs.C.id}` } }),
      403,
      'forbidden',
    );
  });

  test('Practitioners: those it registered, not those of another organisation or the county directory', async () => {
    const own = await created('hospitalA', practitioner('钱医生', 'A-0001'));
    expect((await fhir('hospitalA', 'put', `/fhir/Practitioner/${own.id}`, { ...own, name: [{ text: '钱大夫' }] })).status).toBe(200);
    await refusedUnchanged(() => fhir('hospitalB', 'put', `/fhir/Practitioner/${own.id}`, { ...own, name: [{ text: '改名' }] }), 403, 'forbidden');
    await refusedUnchanged(() => fhir('hospitalB', 'delete', `/fhir/Practitioner/${own.id}`), 403, 'forbidden');
    const vd = await read<Practitioner>('Practitioner', c.people.vd.id);
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Practitioner/${vd.id}`, { ...vd, telecom: [{ system: 'phone', value: '13800000000' }] }), 403, 'forbidden');
    // Not even its own practitioner's code changes: tokens resolve by it.
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Practitioner/${own.id}`, withCode(own, NCD_SYSTEMS.practitionerCode, c.people.gpB.code)), 422, 'business-rule');
  });

  test('Organizations: new ones in its subtree and its own renamed, never moved, nothing above or beside it', async () => {
    const a1 = await read<Organization>('Organization', c.orgs.A1.id);
    const renamed = await fhir('hospitalA', 'put', `/fhir/Organization/${a1.id}`, { ...a1, name: '甲一村卫生室（标准化）' });
    expect(renamed.status).toBe(200);
    const [domain] = (await t.em().getConnection().execute(`select name, code, parent_id, path from organization where id = ?`, [a1.id])) as Array<Record<string, string>>;
    expect(domain).toEqual({ name: '甲一村卫生室（标准化）', code: c.orgs.A1.code, parent_id: c.orgs.A.id, path: c.orgs.A1.path });
    const current = renamed.body as Organization;
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Organization/${a1.id}`, { ...current, partOf: { reference: `Organization/${c.orgs.A2.id}` } }), 422, 'business-rule');
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Organization/${a1.id}`, { ...current, partOf: undefined }), 422, 'business-rule');
    const b1 = await read<Organization>('Organization', c.orgs.B1.id);
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Organization/${b1.id}`, { ...b1, name: '改名' }), 403, 'forbidden');
    const county = await read<Organization>('Organization', c.orgs.C.id);
    await refusedUnchanged(() => fhir('hospitalA', 'put', `/fhir/Organization/${county.id}`, { ...county, name: '改名' }), 403, 'forbidden');
    const child = await created('hospitalA', { resourceType: 'Organization', name: '甲一村卫生室分点', partOf: { reference: `Organization/${c.orgs.A1.id}` } } as Organization);
    const [placed] = (await t.em().getConnection().execute(`select path from organization where id = ?`, [child.id])) as Array<{ path: string }>;
    expect(placed!.path).toBe(`${c.orgs.A1.path}${child.id}/`);
    await refusedUnchanged(() => fhir('hospitalA', 'post', '/fhir/Organization', { resourceType: 'Organization', name: '乙镇分院', partOf: { reference: `Organization/${c.orgs.B.id}` } }), 403, 'forbidden');
    await refusedUnchanged(() => fhir('hospitalA', 'post', '/fhir/Organization', { resourceType: 'Organization', name: '独立医院' }), 403, 'forbidden');
  });
});

describe('a platform administrator writes the whole directory', () => {
  test("creates and updates Locations and Practitioners of any organisation, a hospital's included", async () => {
    const hospitals = await created('hospitalA', location('甲镇卫生院药房', c.orgs.A.id));
    expect((await fhir('admin', 'put', `/fhir/Location/${hospitals.id}`, { ...hospitals, name: '甲镇卫生院中心药房' })).status).toBe(200);
    const forB = await created('admin', location('乙镇卫生院检验科', c.orgs.B.id));
    expect((await fhir('admin', 'put', `/fhir/Location/${forB.id}`, { ...forB, managingOrganization: { reference: `Organization/${c.orgs.B1.id}` } })).status).toBe(200);
    const staff = await created('hospitalB', practitioner('孙医生', 'B-0001'));
    expect((await fhir('admin', 'put', `/fhir/Practitioner/${staff.id}`, { ...staff, name: [{ text: '孙大夫' }] })).status).toBe(200);
    const own = await created('admin', practitioner('周医生', 'C-0001'));
    expect((await fhir('admin', 'put', `/fhir/Practitioner/${own.id}`, { ...own, gender: 'female' })).status).toBe(200);
    expect((await fhir('admin', 'delete', `/fhir/Location/${forB.id}`)).status).toBe(204);
  });
});
