/**
 * Test support for the FHIR suite: the public FHIR test data (test/fixtures/fhir) loaded as SOURCES.md says —
 * directory Bundles first, then patient transactions; NDJSON wrapped in batch Bundles, Patient first — with
 * a record of every resource sent and the server id it got.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { errorsOf, validateFhir } from '../../fhir-mappings/index.js';
import type { TestApp } from '../helpers/app.js';

export const FHIR_DIR = path.resolve('test/fixtures/fhir');
export const FHIR_JSON = 'application/fhir+json';

export const readJson = <T = Resource>(file: string): T => JSON.parse(fs.readFileSync(path.join(FHIR_DIR, file), 'utf8')) as T;
export const readNdjson = (file: string): Resource[] =>
  fs
    .readFileSync(path.join(FHIR_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Resource);
export const filesIn = (dir: string): string[] =>
  fs
    .readdirSync(path.join(FHIR_DIR, dir))
    .sort()
    .map((f) => `${dir}/${f}`);

/** Every response body the suite sees, to check that all of them are valid R4. */
export const emitted: Array<{ what: string; body: unknown }> = [];

function remember(what: string, res: Response): void {
  const type = String(res.headers['content-type'] ?? '');
  if (type.startsWith(FHIR_JSON) && res.body && typeof res.body === 'object' && (res.body as Resource).resourceType) emitted.push({ what, body: res.body });
}

/** POST/PUT a FHIR JSON body (object or raw string), as the admin unless a token is given. */
export async function send(t: TestApp, method: 'post' | 'put', url: string, body: unknown, options: { token?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  let req = t.http[method](url)
    .set('authorization', `Bearer ${options.token ?? t.adminToken}`)
    .set('content-type', FHIR_JSON);
  for (const [k, v] of Object.entries(options.headers ?? {})) req = req.set(k, v);
  const res = await req.send(typeof body === 'string' ? body : JSON.stringify(body));
  remember(`${method.toUpperCase()} ${url}`, res);
  return res;
}

export async function get(t: TestApp, url: string, token?: string): Promise<Response> {
  const res = await t.http.get(url).set('authorization', `Bearer ${token ?? t.adminToken}`).set('accept', FHIR_JSON);
  remember(`GET ${url}`, res);
  return res;
}

/** Error-severity validation issues of one emitted resource, with where it came from. */
export function invalidIn(what: string, body: unknown): string[] {
  const errors = errorsOf(validateFhir(body as Resource));
  return errors.map((e) => `${what}: ${e.expression?.join(',') ?? ''} ${e.diagnostics ?? e.details?.text ?? e.code}`);
}

export async function countRows(t: TestApp, table = 'fhir_resource'): Promise<number> {
  const rows = (await t.em().getConnection().execute(`select count(*) as n from ${table}`)) as Array<{ n: string | number }>;
  return Number(rows[0]!.n);
}

export async function counts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['fhir_resource', 'fhir_resource_history', 'patient', 'patient_identifier', 'observation', 'condition', 'organization', 'practitioner']) out[table] = await countRows(t, table);
  return out;
}

export const issuesOf = (res: Response): NonNullable<OperationOutcome['issue']> => {
  expect(res.body.resourceType).toBe('OperationOutcome');
  return (res.body as OperationOutcome).issue ?? [];
};

/** One resource as sent, and the server id it was given. */
export interface Sent {
  file: string;
  index: number;
  /** The sender's name for it: its fullUrl in a Bundle, else `Type/id`. */
  key: string;
  resource: Resource;
  serverId: string;
}

export interface ImportLog {
  sent: Sent[];
  /** Sender key (fullUrl, `Type/id`) → server `Type/id`. */
  byKey: Map<string, string>;
  /** Response status (HTTP, and per entry) of every file, for the test to check. */
  files: Array<{ file: string; status: number; entryStatuses: string[]; body: unknown }>;
}

export const newLog = (): ImportLog => ({ sent: [], byKey: new Map(), files: [] });

const serverIdOf = (entry: BundleEntry): string | undefined => {
  const loc = entry.response?.location ?? '';
  const m = /([A-Z][A-Za-z]+)\/([0-9a-f-]{36})(\/_history\/\d+)?$/.exec(loc);
  return m?.[2] ?? entry.resource?.id;
};

/** Posts a transaction or batch Bundle to /fhir and records what each entry became. */
export async function postBundle(t: TestApp, file: string, bundle: Bundle, log: ImportLog): Promise<Response> {
  const res = await send(t, 'post', '/fhir', bundle);
  const responseEntries = ((res.body as Bundle).entry ?? []) as BundleEntry[];
  log.files.push({ file, status: res.status, entryStatuses: responseEntries.map((e) => e.response?.status ?? '?'), body: res.status >= 400 ? res.body : undefined });
  if (res.status !== 200) return res;
  (bundle.entry ?? []).forEach((entry, index) => {
    const response = responseEntries[index];
    const serverId = response && /^2/.test(response.response?.status ?? '') ? serverIdOf(response) : undefined;
    if (!entry.resource || !serverId) return;
    const key = entry.fullUrl ?? `${entry.resource.resourceType}/${entry.resource.id}`;
    log.sent.push({ file, index, key, resource: entry.resource, serverId });
    log.byKey.set(key, `${entry.resource.resourceType}/${serverId}`);
    if (entry.resource.id) log.byKey.set(`${entry.resource.resourceType}/${entry.resource.id}`, `${entry.resource.resourceType}/${serverId}`);
  });
  return res;
}

/** NDJSON lines as a batch (or transaction) Bundle of POSTs, without fullUrls (the server keys them by the sender's Type/id). */
export const ndjsonBatch = (resources: Resource[], type: 'batch' | 'transaction' = 'batch'): Bundle => ({
  resourceType: 'Bundle',
  type,
  entry: resources.map((resource) => ({ resource, request: { method: 'POST', url: resource.resourceType } })),
});

export const SYNTHEA_NY = 'synthea-qicore-2025-ny';
export const SYNTHEA_SMART = 'synthea-2019-smart-r4';
export const NDJSON = 'bulk-ndjson-pathling-9-patients';

/** The NY directory Bundles (hospitals, practitioners) first, then its patient transactions. */
export async function importNewYork(t: TestApp, log: ImportLog, patients = Infinity): Promise<void> {
  const files = filesIn(SYNTHEA_NY);
  const directory = files.filter((f) => /\/(hospitalInformation|practitionerInformation)[^/]*\.json$/.test(f));
  for (const file of directory) await postBundle(t, file, readJson<Bundle>(file), log);
  for (const file of files.filter((f) => !directory.includes(f)).slice(0, patients)) await postBundle(t, file, readJson<Bundle>(file), log);
}

export async function importSmart(t: TestApp, log: ImportLog): Promise<void> {
  for (const file of filesIn(SYNTHEA_SMART)) await postBundle(t, file, readJson<Bundle>(file), log);
}

/**
 * Patient.ndjson before the files that refer to its patients; each file one transaction (all of it or none,
 * and on the embedded database much faster than a batch's transaction per line).
 */
export async function importNdjson(t: TestApp, log: ImportLog, type: 'batch' | 'transaction' = 'transaction'): Promise<void> {
  const files = filesIn(NDJSON).sort((a, b) => Number(!a.endsWith('/Patient.ndjson')) - Number(!b.endsWith('/Patient.ndjson')));
  for (const file of files) await postBundle(t, file, ndjsonBatch(readNdjson(file), type), log);
}
