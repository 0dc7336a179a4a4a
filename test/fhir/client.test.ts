/**
 * A real FHIR client library (fhir-kit-client) against the server listening on an ephemeral port: create,
 * read, search with paging (following `next` links), conditional create (If-None-Exist), a transaction,
 * refusals as OperationOutcomes. The bearer token travels as a custom header.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import FhirKit from 'fhir-kit-client';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { countRows, invalidIn } from './support.js';

let t: TestApp;
let app: App;
let server: http.Server;
let baseUrl: string;
let client: InstanceType<typeof Client>;
const seen: unknown[] = [];

// fhir-kit-client is CommonJS (`module.exports = Client`) while its typings say `export default class Client`:
// under Node ESM the default import is the class itself.
const Client = FhirKit as unknown as typeof FhirKit.default;
const CapabilityTool = (FhirKit as unknown as { CapabilityTool: new (cs: object) => { serverCan(i: string): boolean; resourceCan(r: string, i: string): boolean; resourceSearch(r: string, p: string): boolean } })
  .CapabilityTool;

const MRN = 'http://hospital.example.org/mrn';
const patient = (mrn: string, family = 'Wang'): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: MRN, value: mrn }],
  name: [{ family, given: ['Wu'] }],
  gender: 'female',
  birthDate: '1962-05-01',
});
const glucose = (subject: string, day: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose [Mass/volume] in Blood' }] },
  subject: { reference: subject },
  effectiveDateTime: `2026-10-${String(day).padStart(2, '0')}T07:30:00+08:00`,
  valueQuantity: { value: 100 + day, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
});

/** The client's failure as { status, body }. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; data: OperationOutcome }> {
  try {
    await promise;
  } catch (err) {
    const response = (err as { response?: { status: number; data: OperationOutcome } }).response;
    if (response) return response;
    throw err;
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  t = await startTestApp();
  // A server of its own on an ephemeral port, whose public URL (and so its paging links) is that port.
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({ NODE_ENV: 'test' });
  app = await createApp({ config: { ...config, auth: { ...config.auth, publicUrl: baseUrl } }, orm: t.orm, security: t.app.security });
  server.on('request', app.express);
  client = new Client({ baseUrl: `${baseUrl}/fhir`, customHeaders: { Authorization: `Bearer ${t.adminToken}` } });
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await app?.stop();
  await t?.close();
});

test('the client reads the CapabilityStatement', async () => {
  const cs = await client.capabilityStatement();
  seen.push(cs);
  expect(cs.resourceType).toBe('CapabilityStatement');
  expect(cs.fhirVersion).toBe('4.0.1');
  const tool = new CapabilityTool(cs);
  expect(tool.serverCan('transaction')).toBe(true);
  expect(tool.resourceCan('Patient', 'read')).toBe(true);
  expect(tool.resourceSearch('Observation', 'date')).toBe(true);
});

test('without the bearer token the server answers 401', async () => {
  const anonymous = new Client({ baseUrl: `${baseUrl}/fhir` });
  expect((await failure(anonymous.read({ resourceType: 'Patient', id: '0190b5a2-0000-7000-8000-000000000000' }))).status).toBe(401);
});

test('create and read', async () => {
  const created = (await client.create({ resourceType: 'Patient', body: patient('C-1') })) as Patient;
  seen.push(created);
  expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(created.meta?.versionId).toBe('1');
  const { response } = Client.httpFor(created);
  expect(response.status).toBe(201);
  expect(response.headers.get('location')).toBe(`${baseUrl}/fhir/Patient/${created.id}/_history/1`);
  const read = (await client.read({ resourceType: 'Patient', id: created.id! })) as Patient;
  seen.push(read);
  expect(read).toEqual(created);
  expect(Client.httpFor(read).response.headers.get('etag')).toBe('W/"1"');
  const vread = await client.vread({ resourceType: 'Patient', id: created.id!, version: '1' });
  expect(vread).toEqual(created);
  const missing = await failure(client.read({ resourceType: 'Patient', id: '0190b5a2-0000-7000-8000-000000000000' }));
  expect(missing.status).toBe(404);
  expect(missing.data.resourceType).toBe('OperationOutcome');
  seen.push(missing.data);
});

test('search with paging: following next links returns every match once', async () => {
  const p = (await client.create({ resourceType: 'Patient', body: patient('C-2', 'Li') })) as Patient;
  const ids: string[] = [];
  for (let day = 1; day <= 12; day++) ids.push(((await client.create({ resourceType: 'Observation', body: glucose(`Patient/${p.id}`, day) })) as Observation).id!);
  let page = (await client.search({ resourceType: 'Observation', searchParams: { patient: p.id!, code: 'http://loinc.org|2339-0', _count: 5, _sort: 'date' } })) as Bundle;
  const got: string[] = [];
  let pages = 0;
  while (page) {
    seen.push(page);
    pages++;
    expect(page.total).toBe(12);
    got.push(...(page.entry ?? []).map((e) => e.resource!.id!));
    if (!page.link?.some((l) => l.relation === 'next')) break;
    expect(page.link.find((l) => l.relation === 'next')!.url).toMatch(new RegExp(`^${baseUrl}/fhir/Observation\\?`));
    page = (await client.nextPage({ bundle: page })) as Bundle;
  }
  expect(pages).toBe(3);
  expect(got).toEqual(ids); // sorted by date, as created
  const previous = (await client.prevPage({ bundle: page })) as Bundle;
  expect((previous.entry ?? []).map((e) => e.resource!.id)).toEqual(ids.slice(5, 10));
  const byName = (await client.search({ resourceType: 'Patient', searchParams: { family: 'Li', birthdate: 'ge1960-01-01' } })) as Bundle;
  expect((byName.entry ?? []).map((e) => e.resource!.id)).toEqual([p.id]);
});

test('conditional create (If-None-Exist): the second create finds the first', async () => {
  const before = await countRows(t);
  const first = (await client.create({ resourceType: 'Patient', body: patient('C-3'), options: { headers: { 'If-None-Exist': `identifier=${MRN}|C-3` } } })) as Patient;
  expect(Client.httpFor(first).response.status).toBe(201);
  const again = (await client.create({ resourceType: 'Patient', body: { ...patient('C-3'), name: [{ family: 'Other' }] }, options: { headers: { 'If-None-Exist': `identifier=${MRN}|C-3` } } })) as Patient;
  expect(Client.httpFor(again).response.status).toBe(200);
  expect(again.id).toBe(first.id);
  expect(again.name).toEqual(first.name); // the existing resource, untouched
  expect(await countRows(t)).toBe(before + 1);
});

test('a transaction with urn:uuid references, and one that is refused whole', async () => {
  const before = await countRows(t);
  const body = {
    resourceType: 'Bundle',
    type: 'transaction' as const,
    entry: [
      { fullUrl: 'urn:uuid:0190b5a2-7777-7000-8000-000000000002', resource: glucose('urn:uuid:0190b5a2-7777-7000-8000-000000000001', 20), request: { method: 'POST', url: 'Observation' } },
      { fullUrl: 'urn:uuid:0190b5a2-7777-7000-8000-000000000001', resource: patient('C-4', 'Zhao'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|C-4` } },
    ],
  };
  const response = (await client.transaction({ body })) as Bundle;
  seen.push(response);
  expect(response.type).toBe('transaction-response');
  expect(response.entry!.map((e) => e.response!.status)).toEqual(['201', '201']);
  const [obs, pat] = response.entry!.map((e) => e.resource!) as [Observation, Patient];
  expect(obs.subject!.reference).toBe(`Patient/${pat.id}`);
  expect(await countRows(t)).toBe(before + 2);
  const everything = (await client.operation({ resourceType: 'Patient', id: pat.id, name: '$everything', method: 'GET' })) as Bundle;
  seen.push(everything);
  expect(everything.entry!.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)).toEqual([`Patient/${pat.id}`, `Observation/${obs.id}`]);

  const refused = await failure(
    client.transaction({
      body: { ...body, entry: [{ ...body.entry[0]!, resource: glucose('urn:uuid:0190b5a2-7777-7000-8000-00000000beef', 21) }] },
    }),
  );
  expect(refused.status).toBe(400);
  expect(refused.data.issue[0]!.expression).toEqual(['Bundle.entry[0].resource']);
  seen.push(refused.data);
  expect(await countRows(t)).toBe(before + 2);
});

test('update with If-Match through the client, and delete', async () => {
  const p = (await client.create({ resourceType: 'Patient', body: patient('C-5') })) as Patient;
  const updated = (await client.update({ resourceType: 'Patient', id: p.id!, body: { ...p, gender: 'male' }, options: { headers: { 'If-Match': 'W/"1"' } } })) as Patient;
  expect(updated.meta!.versionId).toBe('2');
  const stale = await failure(client.update({ resourceType: 'Patient', id: p.id!, body: { ...p, gender: 'other' }, options: { headers: { 'If-Match': 'W/"1"' } } }));
  expect(stale.status).toBe(412);
  await client.delete({ resourceType: 'Patient', id: p.id! });
  expect((await failure(client.read({ resourceType: 'Patient', id: p.id! }))).status).toBe(410);
  const history = (await client.history({ resourceType: 'Patient', id: p.id! })) as Bundle;
  seen.push(history);
  expect(history.total).toBe(3);
});

test('every body the client received is valid R4', () => {
  expect(seen.length).toBeGreaterThan(10);
  expect(seen.flatMap((body, i) => invalidIn(`#${i}`, body)).slice(0, 10)).toEqual([]);
});
