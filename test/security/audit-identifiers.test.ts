/**
 * Finding 1 of the outside security test: the audit trail kept FHIR URLs verbatim, resident IDs and all
 * (`identifier=…|330326…`). What the audit stores of a request is masked: every value of an identifier search
 * parameter (`identifier`, `patient.identifier`, `subject:Patient.identifier`, …), however it is encoded, and any
 * resident-ID-shaped run of digits anywhere — with the identifiers' own mask (maskIdentifier).
 */
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { SYSTEMS } from '../helpers/fixtures.js';
import { type AuditRow, auditRows, fhir, graphql, requestId } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
let rid: string;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'AIM');
  rid = c.residentIds.a1;
});
afterAll(() => t?.close());

/** The request's audit rows, checked to hold the resident ID nowhere, and their `what`s. */
async function whats(id: string): Promise<string[]> {
  const rows: AuditRow[] = await auditRows(t, id);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row.what).not.toContain(rid);
    expect(row.what).not.toContain(rid.slice(6, 14)); // nor the birth date inside it
  }
  return rows.map((r) => r.what);
}

test.each([
  ['system|value', () => `/fhir/Patient?identifier=${SYSTEMS.residentId}|${rid}`],
  ['percent-encoded', () => `/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEMS.residentId}|${rid}`)}`],
  ['a bare value', () => `/fhir/Patient?identifier=${rid}`],
  ['one of several values', () => `/fhir/Patient?identifier=${SYSTEMS.healthRecord}|HR-1,${SYSTEMS.residentId}|${rid}&_count=5`],
])('a search by resident ID (%s) is found, and audited with the ID masked', async (_label, url) => {
  const id = requestId('identifier');
  const res = await fhir(t, t.adminToken, 'get', url(), { id });
  expect(res.status).toBe(200);
  expect(res.body.entry?.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([c.patients.a1.id]);
  const [what] = await whats(id);
  expect(what).toContain(maskIdentifier(rid));
  if (url().includes('|')) expect(what).toContain(SYSTEMS.residentId); // which kind of identifier was asked for is not secret
});

test.each(['patient.identifier', 'subject:Patient.identifier', 'identifier:of-type'])('an identifier in a %s parameter is masked too (refused or not)', async (name) => {
  const id = requestId('chained');
  await fhir(t, t.adminToken, 'get', `/fhir/Observation?${name}=${SYSTEMS.residentId}|${rid}`, { id });
  expect((await whats(id))[0]).toContain(maskIdentifier(rid));
});

test('a resident-ID-shaped run anywhere else in a URL is masked: a path, another parameter, an old 15-digit number', async () => {
  const old = rid.slice(0, 6) + rid.slice(8, 17); // the 15-digit cards: two-digit year, no check digit
  for (const url of [`/fhir/Patient/${rid}`, `/fhir/Patient?name=${rid}`, `/fhir/Patient?family=${old}`]) {
    const id = requestId('shaped');
    await fhir(t, t.adminToken, 'get', url, { id });
    const [what] = await whats(id);
    expect(what).not.toContain(old);
    expect(what).toMatch(/\*{6}/);
  }
});

test('a long URL is cut to length after masking: no part of an ID escapes the mask at the cut', async () => {
  const id = requestId('long');
  // `FHIR GET ` + the URL, with the ID starting 14 characters before where the router once cut `what` (at 500).
  const head = `/fhir/Patient?name=${'x'.repeat(450)}&family=`;
  expect(`FHIR GET ${head}`.length).toBe(500 - 14);
  const url = `${head}${rid}`;
  await fhir(t, t.adminToken, 'get', url, { id });
  const [what] = await whats(id);
  expect(what).not.toContain(rid.slice(0, 14));
});

test('an identifier value holding %00 is refused as input (400), and audited — masked, the NUL shown as U+FFFD', async () => {
  const id = requestId('nul');
  const res = await fhir(t, t.adminToken, 'get', `/fhir/Patient?identifier=${SYSTEMS.residentId}%7C${rid}%00`, { id });
  expect(res.status).toBe(400);
  const [what] = await whats(id);
  expect(what).toContain(`${SYSTEMS.residentId}|${maskIdentifier(`${rid}\ufffd`)}`);
});

test('a GraphQL operation named with a resident ID is audited with it masked', async () => {
  const id = requestId('gql');
  const res = await graphql(t, t.adminToken, `query Q${rid} { patient(id: "${c.patients.a1.id}") { id } }`, { id });
  expect(res.body.errors).toBeUndefined();
  expect((await whats(id))[0]).toContain(`Q${maskIdentifier(rid)}`);
});
