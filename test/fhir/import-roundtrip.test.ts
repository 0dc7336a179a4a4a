/**
 * Every file of the shared FHIR data imported through /fhir (SOURCES.md load order), then read back:
 * $everything returns every resource sent for each patient with every element sent; the imported
 * hypertension and diabetes patients are in GraphQL; the HL7 examples that are not transactions are refused
 * at /fhir and stored with POST /fhir/Bundle; every response body is valid R4.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { deepEqual } from '../../fhir-mappings/index.js';
import { firstDifference, withoutServerFields } from '../../fhir-mappings/test-support/shared-data.js';
import { visitReferences } from '../../src/fhir/indexing.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  countRows,
  emitted,
  filesIn,
  get,
  importNdjson,
  importNewYork,
  importSmart,
  invalidIn,
  issuesOf,
  newLog,
  NDJSON,
  readJson,
  readNdjson,
  send,
  type ImportLog,
  type Sent,
} from './support.js';

let t: TestApp;
const log: ImportLog = newLog();
const HL7 = 'hl7-r4-examples';
/** HL7 single-resource examples: what each answered. */
const hl7Singles = new Map<string, { status: number; body: Resource }>();

beforeAll(async () => {
  t = await startTestApp();
  await importNewYork(t, log);
  await importSmart(t, log);
  await importNdjson(t, log);
  // Directory resources first, so that nothing else the examples name is missing for a reason of order.
  const order = ['Organization', 'Practitioner', 'Patient'];
  const singles = filesIn(HL7)
    .map((file) => ({ file, resource: readJson(file) }))
    .filter((s) => s.resource.resourceType !== 'Bundle')
    .sort((a, b) => ((order.indexOf(a.resource.resourceType) + 4) % 4) - ((order.indexOf(b.resource.resourceType) + 4) % 4));
  for (const { file, resource } of singles) {
    const res = await send(t, 'post', `/fhir/${resource.resourceType}`, resource);
    hl7Singles.set(file, { status: res.status, body: res.body as Resource });
    if (res.status === 201) {
      const sent: Sent = { file, index: 0, key: `${resource.resourceType}/${resource.id}`, resource, serverId: (res.body as Resource).id! };
      log.sent.push(sent);
    }
  }
}, 900_000);
afterAll(() => t?.close());

const patientFiles = () => log.files.filter((f) => !/Information|\.ndjson$/.test(f.file) && f.file.endsWith('.json') && !f.file.startsWith(HL7));

test('every Bundle and NDJSON file imports, every entry created', () => {
  const expected = [...filesIn('synthea-qicore-2025-ny'), ...filesIn('synthea-2019-smart-r4'), `${NDJSON}/Patient.ndjson`, `${NDJSON}/Condition.ndjson`, `${NDJSON}/Observation.ndjson`];
  expect(log.files.map((f) => f.file).sort()).toEqual(expected.sort());
  for (const f of log.files) {
    expect({ file: f.file, status: f.status, body: f.body }).toEqual({ file: f.file, status: 200, body: undefined });
    // Each entry is new (201) — except a resource sent twice in one file set, which is the same resource (200).
    const bad = f.entryStatuses.filter((s) => s !== '201' && s !== '200');
    expect({ file: f.file, bad }).toEqual({ file: f.file, bad: [] });
  }
  const sentFromFiles = log.sent.filter((s) => !s.file.startsWith(HL7)).length;
  expect(sentFromFiles).toBe(log.files.reduce((n, f) => n + f.entryStatuses.length, 0));
});

test('the store holds one current row per distinct resource sent', async () => {
  const distinct = new Set(log.sent.map((s) => s.serverId));
  expect(await countRows(t, 'fhir_resource')).toBe(distinct.size);
});

/** Resolves a conditional reference the way the sender meant it: the one sent resource with that identifier. */
function resolveConditional(ref: string): string | undefined {
  const m = /^([A-Z][A-Za-z]+)\?identifier=([^|]+)\|(.+)$/.exec(ref);
  if (!m) return undefined;
  const [, type, system, value] = m;
  const hits = new Set(
    log.sent
      .filter((s) => s.resource.resourceType === type)
      .filter((s) => ((s.resource as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? []).some((i) => i.system === system && i.value === decodeURIComponent(value!)))
      .map((s) => s.serverId),
  );
  return hits.size === 1 ? `${type}/${[...hits][0]}` : undefined;
}

/** The sent resource as the server should return it: its references to other sent resources are the server ids. */
function expectedOf(sent: Sent): { resource: unknown; resolved: string[]; unresolved: string[] } {
  const copy = structuredClone(sent.resource);
  const resolved: string[] = [];
  const unresolved: string[] = [];
  visitReferences(copy, (ref, set) => {
    if (ref.startsWith('#')) return;
    const target = log.byKey.get(ref) ?? resolveConditional(ref);
    if (target) {
      set(target);
      resolved.push(target);
    } else {
      unresolved.push(ref);
    }
  });
  return { resource: withoutServerFields(copy), resolved, unresolved };
}

/** Every page of $everything, following `next` links. */
async function everything(patientId: string): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  let url: string | undefined = `/fhir/Patient/${patientId}/$everything?_count=200`;
  while (url) {
    const res = await get(t, url);
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('searchset');
    entries.push(...(bundle.entry ?? []));
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    url = next ? next.replace(/^https?:\/\/[^/]+/, '') : undefined;
  }
  return entries;
}

/** Sent resources by the patient they were sent for: a patient file's entries, or NDJSON lines naming the patient. */
function sentByPatient(): Map<Sent, Sent[]> {
  const out = new Map<Sent, Sent[]>();
  const patients = log.sent.filter((s) => s.resource.resourceType === 'Patient');
  for (const p of patients) {
    const isBundleFile = patientFiles().some((f) => f.file === p.file);
    const mine = isBundleFile
      ? log.sent.filter((s) => s.file === p.file)
      : p.file.startsWith(NDJSON)
        ? log.sent.filter((s) => s === p || (s.file.startsWith(NDJSON) && JSON.stringify(s.resource).includes(`"Patient/${p.resource.id}"`)))
        : [p];
    out.set(p, mine);
  }
  return out;
}

test('$everything returns, for each patient, every resource sent for them with every element sent', async () => {
  const byPatient = sentByPatient();
  expect(byPatient.size).toBe(6 + 2 + 9 + 1);
  const failures: string[] = [];
  let compared = 0;
  for (const [patient, mine] of byPatient) {
    const entries = await everything(patient.serverId);
    const returned = new Map(entries.map((e) => [`${e.resource!.resourceType}/${e.resource!.id}`, e.resource!]));
    expect(entries.length).toBe(returned.size); // no resource twice
    expect(entries[0]!.resource!.resourceType).toBe('Patient');
    for (const sent of mine) {
      const got = returned.get(`${sent.resource.resourceType}/${sent.serverId}`);
      if (!got) {
        failures.push(`${sent.file} ${sent.key}: not in $everything of Patient/${patient.serverId}`);
        continue;
      }
      const want = expectedOf(sent);
      const have = withoutServerFields(got);
      compared++;
      // Only literal references to what was never sent (NDJSON's Encounter/<id>) may stay as sent.
      for (const ref of want.unresolved) if (/^urn:|\?/.test(ref)) failures.push(`${sent.file} ${sent.key}: ${ref} resolves to no sent resource`);
      if (!deepEqual(want.resource, have)) failures.push(`${sent.file} ${sent.key}: ${firstDifference(want.resource, have)}`);
      for (const target of want.resolved) if (!returned.has(target)) failures.push(`${sent.file} ${sent.key}: ${target} it refers to is not in $everything`);
      if (got.meta?.versionId !== '1' || !got.meta?.lastUpdated) failures.push(`${sent.file} ${sent.key}: meta ${JSON.stringify(got.meta)}`);
    }
    // Every reference the server rewrote names a resource of that type in the same output.
    const keptAsSent = new Set(mine.flatMap((s) => expectedOf(s).unresolved));
    for (const e of entries) {
      visitReferences(e.resource, (ref) => {
        if (/^[A-Z][A-Za-z]+\/[0-9a-f-]{36}$/.test(ref) && !returned.has(ref) && !keptAsSent.has(ref)) failures.push(`${e.fullUrl}: dangling ${ref}`);
      });
    }
  }
  expect(failures.slice(0, 20)).toEqual([]);
  expect(compared).toBe([...byPatient.values()].reduce((n, m) => n + m.length, 0));
});

test('$everything pages: _count and next links cover the record exactly once', async () => {
  const [patient, mine] = [...sentByPatient()].find(([p]) => p.file.includes('e716e846'))!;
  const all = await everything(patient.serverId);
  const res = await get(t, `/fhir/Patient/${patient.serverId}/$everything?_count=1000`);
  expect((res.body as Bundle).total).toBe(all.length);
  expect(all.length).toBeGreaterThanOrEqual(mine.length);
  const typed = await get(t, `/fhir/Patient/${patient.serverId}/$everything?_type=Condition,Medication`);
  const types = new Set(((typed.body as Bundle).entry ?? []).map((e) => e.resource!.resourceType));
  expect([...types].sort()).toEqual(['Condition', 'Medication']);
});

test('read and vread return each sent resource as stored', async () => {
  const sample = log.sent.filter((_, i) => i % 97 === 0);
  for (const s of sample) {
    const read = await get(t, `/fhir/${s.resource.resourceType}/${s.serverId}`);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('W/"1"');
    const vread = await get(t, `/fhir/${s.resource.resourceType}/${s.serverId}/_history/1`);
    expect(vread.body).toEqual(read.body);
    expect(deepEqual(withoutServerFields(read.body as Resource), expectedOf(s).resource)).toBe(true);
  }
});

describe('HL7 examples', () => {
  test('directory examples and a patient import as single resources', () => {
    for (const file of [`${HL7}/organization-example-f001-burgers.json`, `${HL7}/practitioner-example-f001-evdb.json`, `${HL7}/patient-example-f001-pieter.json`]) {
      expect({ file, status: hl7Singles.get(file)!.status }).toEqual({ file, status: 201 });
    }
  });

  test('examples about a patient that was never sent (Patient/example, /100, /pat1) are refused, naming the element', async () => {
    const refused = [...hl7Singles].filter(([, r]) => r.status !== 201);
    expect(refused.map(([f]) => f).sort()).toEqual(
      [
        'careplan-example-GPVisit.json',
        'condition-example2.json',
        'medicationrequestexample2.json',
        'observation-example-bloodpressure-dar.json',
        'observation-example-vitals-panel.json',
        'observation-example.json',
        'servicerequest-example2.json',
      ].map((f) => `${HL7}/${f}`),
    );
    for (const [file, r] of refused) {
      expect({ file, status: r.status }).toEqual({ file, status: 422 });
      expect(r.body.resourceType).toBe('OperationOutcome');
      const issue = (r.body as { issue: Array<{ code: string; expression?: string[] }> }).issue[0]!;
      expect(issue.code).toBe('not-found');
      expect(issue.expression?.[0]).toMatch(/^(Observation|Condition|CarePlan|MedicationRequest|ServiceRequest)\.subject$/);
    }
    // Nothing of them stored: each of their types has exactly the rows the imported files gave it.
    for (const type of ['CarePlan', 'Condition', 'MedicationRequest', 'Observation', 'ServiceRequest']) {
      const rows = (await t.em().getConnection().execute(`select count(*) as n from fhir_resource where resource_type = ?`, [type])) as Array<{ n: string }>;
      const sent = new Set(log.sent.filter((s) => s.resource.resourceType === type).map((s) => s.serverId));
      expect({ type, rows: Number(rows[0]!.n) }).toEqual({ type, rows: sent.size });
    }
  });

  test.each(['bundle-example.json', 'bundle-references.json'])('%s (not a transaction or batch) is refused at /fhir, stored with POST /fhir/Bundle', async (name) => {
    const bundle = readJson<Bundle>(`${HL7}/${name}`);
    const before = await countRows(t);
    const refused = await send(t, 'post', '/fhir', bundle);
    expect(refused.status).toBe(400);
    expect(issuesOf(refused)[0]).toMatchObject({ severity: 'error', code: 'not-supported', expression: ['Bundle.type'] });
    expect(await countRows(t)).toBe(before);

    const stored = await send(t, 'post', '/fhir/Bundle', bundle);
    expect(stored.status).toBe(201);
    expect(await countRows(t)).toBe(before + 1);
    const read = await get(t, `/fhir/Bundle/${stored.body.id}`);
    // Stored as sent: the entries' references are the sender's, not rewritten.
    expect(withoutServerFields(read.body as Resource)).toEqual(withoutServerFields(bundle));
  });
});

describe('GraphQL sees the imported hypertension and diabetes patients', () => {
  const QUERY = `query ($id: ID!) { patient(id: $id) {
    id name
    conditions { kind code system clinicalStatus }
    latestBloodPressure { systolic diastolic unit effectiveAt }
    latestGlucose { kind value unit receivedValue receivedUnit effectiveAt }
  } }`;
  const HYPERTENSION = ['59621000', '38341003'];
  const DIABETES = ['44054006'];
  const BP = ['85354-9', '55284-4'];
  const GLUCOSE = ['2339-0'];

  const codeOf = (r: Resource, system: string) => (r as { code?: { coding?: Array<{ system?: string; code?: string }> } }).code?.coding?.find((c) => c.system === system)?.code;
  const when = (r: Resource) => new Date((r as { effectiveDateTime?: string }).effectiveDateTime ?? 0).getTime();
  const latest = (list: Sent[]) => list.sort((a, b) => when(b.resource) - when(a.resource))[0]?.resource;

  test('with their conditions, latest blood pressure and latest glucose in mmol/L (mg/dL kept)', async () => {
    let hypertensive = 0;
    let diabetic = 0;
    let withGlucose = 0;
    for (const [patient, mine] of sentByPatient()) {
      const conditions = mine.filter((s) => s.resource.resourceType === 'Condition').map((s) => codeOf(s.resource, 'http://snomed.info/sct'));
      const hasHt = conditions.some((c) => HYPERTENSION.includes(c!));
      const hasDm = conditions.some((c) => DIABETES.includes(c!));
      if (!hasHt && !hasDm) continue;
      const observations = mine.filter((s) => s.resource.resourceType === 'Observation');
      const res = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).send({ query: QUERY, variables: { id: patient.serverId } });
      expect(res.body.errors).toBeUndefined();
      const p = res.body.data.patient;
      const kinds = p.conditions.map((c: { kind: string }) => c.kind);
      if (hasHt) {
        hypertensive++;
        expect(kinds).toContain('HYPERTENSION');
      }
      if (hasDm) {
        diabetic++;
        expect(kinds).toContain('TYPE_2_DIABETES');
      }
      const bp = latest(observations.filter((s) => BP.includes(codeOf(s.resource, 'http://loinc.org')!)));
      if (bp) {
        const component = (code: string) =>
          (bp as { component: Array<{ code: { coding: Array<{ code: string }> }; valueQuantity: { value: number } }> }).component.find((c) => c.code.coding.some((x) => x.code === code))!.valueQuantity.value;
        expect(p.latestBloodPressure.unit).toBe('mm[Hg]');
        expect(p.latestBloodPressure.systolic).toBeCloseTo(component('8480-6'), 1);
        expect(p.latestBloodPressure.diastolic).toBeCloseTo(component('8462-4'), 1);
        expect(new Date(p.latestBloodPressure.effectiveAt).getTime()).toBe(when(bp));
      } else expect(p.latestBloodPressure).toBeNull();
      const glucose = latest(observations.filter((s) => GLUCOSE.includes(codeOf(s.resource, 'http://loinc.org')!)));
      if (glucose) {
        withGlucose++;
        const q = (glucose as { valueQuantity: { value: number; unit: string } }).valueQuantity;
        expect(q.unit).toBe('mg/dL');
        expect(p.latestGlucose).toMatchObject({ kind: 'GLUCOSE', unit: 'mmol/L', receivedValue: q.value, receivedUnit: 'mg/dL' });
        expect(p.latestGlucose.value).toBeCloseTo(q.value / 18.016, 1);
        expect(new Date(p.latestGlucose.effectiveAt).getTime()).toBe(when(glucose));
      }
    }
    expect(hypertensive).toBeGreaterThanOrEqual(7);
    expect(diabetic).toBeGreaterThanOrEqual(4);
    expect(withGlucose).toBeGreaterThanOrEqual(4);
  });

  test('the bulk NDJSON patients are in GraphQL too, under the server ids', async () => {
    const ids = readNdjson(`${NDJSON}/Patient.ndjson`).map((p) => log.byKey.get(`Patient/${p.id}`)!.split('/')[1]);
    for (const id of ids) {
      const res = await t.http.post('/graphql').set('authorization', `Bearer ${t.adminToken}`).send({ query: `query ($id: ID!) { patient(id: $id) { id } }`, variables: { id } });
      expect(res.body.data?.patient?.id).toBe(id);
    }
  });
});

test('every response body the server sent in this file is valid R4 (transaction responses, $everything, reads, outcomes)', () => {
  expect(emitted.length).toBeGreaterThan(30);
  const kinds = new Set(emitted.map((e) => `${(e.body as Resource).resourceType}${(e.body as Bundle).type ? `:${(e.body as Bundle).type}` : ''}`));
  expect([...kinds]).toEqual(expect.arrayContaining(['Bundle:transaction-response', 'Bundle:batch-response', 'Bundle:searchset', 'OperationOutcome', 'Patient', 'Bundle:collection']));
  const invalid = emitted.flatMap((e) => invalidIn(e.what, e.body));
  expect(invalid.slice(0, 10)).toEqual([]);
});
