/**
 * Finding 4 of the outside security test: the export CLI ran as the internal caller and wrote resident IDs in
 * clear. It acts as a named caller whose policy decides what is exported and what is revealed: by default the
 * operator, a platform administrator named `cli:<OS user>` (or `--operator <name>`) — every patient, resident IDs
 * masked; with `--as <clientId>`, a registered system client, the operator recorded as acting on its behalf — that
 * client's patients, resident IDs as its tokens get them. One EXPORT audit record names the caller, the operator
 * and every patient exported; a refused export is recorded too.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import os from 'node:os';
import { ClientKind } from '../../src/access/caller.js';
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { clientCaller, exportResources, type ExportOptions, operatorCaller } from '../../src/cli/export.js';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty, PATIENT_KEYS, smartToken } from '../helpers/access-fixtures.js';
import { SYSTEMS } from '../helpers/fixtures.js';
import { type AuditRow, uuidArray } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
let hospitalClientId: string;
const config = loadConfig({ NODE_ENV: 'test' });

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'EXP');
  hospitalClientId = (await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: c.orgs.A.code, scopes: ['system/*.rs'] })).clientId;
});
afterAll(() => t?.close());

/** Runs an export; what it wrote and the audit rows it left. */
async function exported(options: ExportOptions) {
  const out: Resource[] = [];
  const [{ at }] = (await t.em().getConnection().execute(`select coalesce(max(id::text), '') as at from audit_event`)) as Array<{ at: string }>;
  let error: Error | undefined;
  await exportResources(t.orm, t.app.security, config, (r) => void out.push(r), options).catch((err: Error) => (error = err));
  const rows = ((await t.em().getConnection().execute(`select * from audit_event where id::text > ? order by id`, [at])) as AuditRow[]).map((r) => ({ ...r, patient_ids: uuidArray(r.patient_ids) }));
  return { out, rows, error };
}

const residentIdOf = (patient: Resource) => (patient as Patient).identifier?.find((i) => i.system === SYSTEMS.residentId)?.value;

test("by default: the OS user as a platform administrator — the patient's resident ID masked, the export audited under that name", async () => {
  const { out, rows, error } = await exported({ patientId: c.patients.a1.id });
  expect(error).toBeUndefined();
  expect(out[0]).toMatchObject({ resourceType: 'Patient', id: c.patients.a1.id });
  expect(residentIdOf(out[0]!)).toBe(maskIdentifier(c.residentIds.a1));
  expect(JSON.stringify(out)).not.toContain(c.residentIds.a1);
  expect(rows).toEqual([
    expect.objectContaining({ actor_type: 'user', actor: `cli:${os.userInfo().username}`, action: 'EXPORT', outcome: 'SUCCESS', patient_ids: [c.patients.a1.id] }),
  ]);
  expect(rows[0]!.what).toBe(`FHIR export Patient/${c.patients.a1.id}/$everything (CLI)`);
});

test('--all as the operator: every patient, no resident ID in clear anywhere, each patient in the audit record', async () => {
  const { out, rows } = await exported({ caller: operatorCaller('alice') });
  const text = JSON.stringify(out);
  for (const key of PATIENT_KEYS) expect({ key, leaked: text.includes(c.residentIds[key]) }).toEqual({ key, leaked: false });
  expect(out.filter((r) => r.resourceType === 'Patient').map((r) => r.id).sort()).toEqual(PATIENT_KEYS.map((k) => c.patients[k].id).sort());
  expect(rows).toEqual([expect.objectContaining({ actor: 'cli:alice', action: 'EXPORT', outcome: 'SUCCESS', patient_ids: PATIENT_KEYS.map((k) => c.patients[k].id).sort() })]);
});

test("--as <clientId>: as that hospital — its patients only, resident IDs as its tokens get them; the operator on its behalf", async () => {
  const caller = await clientCaller(t.orm, hospitalClientId, 'bob');
  const one = await exported({ caller, patientId: c.patients.a1.id });
  expect(residentIdOf(one.out[0]!)).toBe(c.residentIds.a1);
  expect(one.rows).toEqual([
    expect.objectContaining({ actor_type: 'system', actor: hospitalClientId, on_behalf_of: 'cli:bob', organization_id: c.orgs.A.id, action: 'EXPORT', outcome: 'SUCCESS', patient_ids: [c.patients.a1.id] }),
  ]);

  const all = await exported({ caller });
  const patients = all.out.filter((r) => r.resourceType === 'Patient').map((r) => r.id!);
  expect(patients).toContain(c.patients.a2.id);
  for (const key of ['b1', 'b1Sp2', 's'] as const) expect({ key, exported: patients.includes(c.patients[key].id) }).toEqual({ key, exported: false });
  expect(all.rows[0]!.patient_ids).toEqual([...patients].sort());
});

test('a patient out of the caller\'s reach: refused as "not found", audited DENIED against that patient', async () => {
  const caller = await clientCaller(t.orm, hospitalClientId, 'bob');
  const { out, rows, error } = await exported({ caller, patientId: c.patients.b1.id });
  expect(error?.message).toMatch(/not found/);
  expect(out).toEqual([]);
  expect(rows).toEqual([expect.objectContaining({ actor: hospitalClientId, on_behalf_of: 'cli:bob', action: 'EXPORT', outcome: 'DENIED', patient_ids: [c.patients.b1.id] })]);
});

test('--as names a registered, active client; --operator a plain name', async () => {
  await expect(clientCaller(t.orm, 'no-such-client', 'bob')).rejects.toThrow(/no active registered client "no-such-client"/);
  expect(operatorCaller('').subject).toBe(`cli:${os.userInfo().username}`); // none given: the OS user
  expect(() => operatorCaller('eve; drop table')).toThrow(/--operator/);
});
