/**
 * Finding 2: resident IDs are protected at every depth of a stored resource — Bundle entries, contained
 * resources, identifiers in references — not only in a Patient's own identifier: encrypted in the stored JSON
 * (current and every version), masked on the way out for roles that see them masked (a nurse), revealed for
 * those that may see them (a village doctor). Reproduced: a nurse read one in clear inside a stored Bundle.
 */
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { SYSTEMS } from '../helpers/fixtures.js';
import { type FhirCounty, fhirCounty } from './fhir-security-support.js';

let f: FhirCounty;
let a1: string;
let residentId: string;
beforeAll(async () => {
  f = await fhirCounty('FI');
  a1 = f.c.patients.a1.id;
  residentId = f.c.residentIds.a1;
});
afterAll(() => f?.t.close());

const rid = () => ({ system: SYSTEMS.residentId, value: residentId });

/** An Observation naming its patient by reference and identifier, with the patient contained as the sender had it. */
const observation = (): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '75325-1', display: 'Symptom' }], text: '血压' },
  contained: [{ resourceType: 'Patient', id: 'who', identifier: [rid()], name: [{ text: '甲一患者' }] } as Patient],
  subject: { reference: `Patient/${a1}`, identifier: rid() },
  performer: [{ reference: '#who' }],
  valueString: '150/90',
});

const summary = (): Bundle => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { fullUrl: `urn:uuid:1b6f3c2e-8a57-4c1e-9d6a-000000000001`, resource: { resourceType: 'Patient', id: a1, identifier: [rid()], name: [{ text: '甲一患者' }] } as Patient },
    { fullUrl: `urn:uuid:1b6f3c2e-8a57-4c1e-9d6a-000000000002`, resource: observation() },
  ],
});

async function storedText(id: string): Promise<string> {
  const rows = await f.sql<{ content: unknown }>(`select content from fhir_resource where id = ? union all select content from fhir_resource_history where id = ? and content is not null`, [id, id]);
  expect(rows.length).toBeGreaterThan(1);
  return rows.map((r) => (typeof r.content === 'string' ? r.content : JSON.stringify(r.content))).join('\n');
}

test.each([
  ['a collection Bundle (the patient entry and a reading)', 'Bundle', summary],
  ['an Observation (a contained patient, an identifier in a reference)', 'Observation', observation],
] as const)('%s: stored encrypted, masked for a nurse, revealed for a village doctor', async (_what, type, make) => {
  const sent = make();
  const created = await f.created<Bundle | Observation>('vd', sent);
  // A second version, so both tables hold it.
  const again = await f.fhir('vd', 'put', `/fhir/${type}/${created.id}`, { ...sent, id: created.id, meta: { tag: [{ code: 'v2' }] } });
  expect(again.status).toBe(200);
  expect(await storedText(created.id!)).not.toContain(residentId);

  const nurse = JSON.stringify((await f.fhir('nurse', 'get', `/fhir/${type}/${created.id}`)).body);
  expect(nurse).not.toContain(residentId);
  expect(nurse).toContain(maskIdentifier(residentId));
  const nurseV1 = JSON.stringify((await f.fhir('nurse', 'get', `/fhir/${type}/${created.id}/_history/1`)).body);
  expect(nurseV1).not.toContain(residentId);

  const doctor = (await f.fhir('vd', 'get', `/fhir/${type}/${created.id}`)).body;
  const { meta: _m, id: _i, ...body } = doctor;
  expect(body).toEqual(sent);

  // Sent again as it stands: nothing new (each encryption differs; the comparison is in clear).
  const resent = await f.fhir('vd', 'put', `/fhir/${type}/${created.id}`, doctor);
  expect(resent.status).toBe(200);
  expect(resent.body.meta.versionId).toBe('2');
});

test('one stored in clear before resident IDs were protected at every depth is masked on the way out all the same', async () => {
  const created = await f.created<Observation>('vd', observation());
  // As a row written before this change held it: the contained patient's resident ID in clear.
  await f.sql(`update fhir_resource set content = jsonb_set(content, '{contained,0,identifier,0,value}', to_jsonb(?::text)) where id = ?`, [residentId, created.id]);
  const nurse = JSON.stringify((await f.fhir('nurse', 'get', `/fhir/Observation/${created.id}`)).body);
  expect(nurse).not.toContain(residentId);
  expect(nurse).toContain(maskIdentifier(residentId));
  expect(JSON.stringify((await f.fhir('vd', 'get', `/fhir/Observation/${created.id}`)).body)).toContain(residentId);
});
