/**
 * Seeing a patient lets one add to the record, not erase what the managing organisation recorded: a FHIR delete
 * of a resource whose record the caller does not manage, and did not send, is refused and leaves both the FHIR
 * resource and the domain record. (Found in review: the delete took the village's reading out of the domain for a
 * family-doctor team member of another township.)
 */
import { Observation } from '../../src/domain/observation/observation.entity.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { RecordObservationDocument } from '../generated/graphql.js';

let t: TestApp;
let c: AccessCounty;
const tokens = {} as Record<'vd' | 'gpB', string>;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'FDD');
  tokens.vd = await t.tokenFor({ sub: 'fdd-vd', roles: ['VILLAGE_DOCTOR'], org: c.orgs.A1.code, practitioner: c.people.vd.code });
  tokens.gpB = await t.tokenFor({ sub: 'fdd-gpb', roles: ['GENERAL_PRACTITIONER'], org: c.orgs.B.code, practitioner: c.people.gpB.code });
});
afterAll(() => t?.close());

const reading = async () =>
  (
    await t.ok(
      RecordObservationDocument,
      { input: { patientId: c.patients.a1Team.id, kind: 'BLOOD_PRESSURE', systolic: 150, diastolic: 95, effectiveAt: new Date(Date.now() - 3600_000).toISOString() } },
      tokens.vd,
    )
  ).recordObservation.id;
const del = (id: string, token: string) => t.http.delete(`/fhir/Observation/${id}`).set('authorization', `Bearer ${token}`);
const stored = async (id: string) => ({
  domain: await t.em().count(Observation, { id }, { filters: false }),
  fhir: ((await t.em().getConnection().execute(`select deleted from fhir_resource where id = ?`, [id])) as Array<{ deleted: boolean }>)[0]?.deleted,
});

test('a team member of another township sees the patient but may not delete the village\'s reading', async () => {
  const id = await reading();
  // gpB's team holds the patient's family-doctor contract: the reading is readable to them.
  const read = await t.http.get(`/fhir/Observation/${id}`).set('authorization', `Bearer ${tokens.gpB}`);
  expect(read.status).toBe(200);
  const res = await del(id, tokens.gpB);
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
  expect(await stored(id)).toEqual({ domain: 1, fhir: false });
});

test('the managing village may delete its reading: gone from FHIR and from the care record', async () => {
  const id = await reading();
  expect((await del(id, tokens.vd)).status).toBe(204);
  expect(await stored(id)).toEqual({ domain: 0, fhir: true });
});
