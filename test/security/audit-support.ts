/** What the audit tests of test/security share: requests with a request id of their own, and the audit rows they left. */
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import type { TestApp } from '../helpers/app.js';

export const FHIR_JSON = 'application/fhir+json';

export interface AuditRow {
  actor_type: string;
  actor: string;
  on_behalf_of: string | null;
  action: string;
  what: string;
  patient_ids: string[];
  outcome: string;
  request_id: string;
  source_ip: string | null;
}

export const requestId = (label: string) => `${label}-${randomUUID()}`;

/** uuid[] arrives as an array from node-postgres, as its text form from PGlite: either way, a sorted array. */
export function uuidArray(value: unknown): string[] {
  const list = Array.isArray(value) ? value : String(value).replace(/^\{|\}$/g, '').split(',').filter(Boolean);
  return (list as string[]).map(String).sort();
}

/** The audit rows of one request, by action then outcome (a Bundle's parts are rows of their own). */
export async function auditRows(t: TestApp, id: string): Promise<AuditRow[]> {
  const rows = (await t.em().getConnection().execute('select * from audit_event where request_id = ? order by action, outcome, id', [id])) as AuditRow[];
  return rows.map((r) => ({ ...r, patient_ids: uuidArray(r.patient_ids) }));
}

/** Every audit row written while `action` ran. */
export async function rowsWhile(t: TestApp, action: () => Promise<unknown>): Promise<AuditRow[]> {
  const sql = () => t.em().getConnection();
  const [{ at }] = (await sql().execute('select coalesce(max(id::text), \'\') as at from audit_event')) as Array<{ at: string }>;
  await action();
  const rows = (await sql().execute('select * from audit_event where id::text > ? order by id', [at])) as AuditRow[];
  return rows.map((r) => ({ ...r, patient_ids: uuidArray(r.patient_ids) }));
}

/** A FHIR request as `token`, with a request id to find its audit rows by. */
export function fhir(t: TestApp, token: string, method: 'get' | 'post' | 'put' | 'delete', url: string, options: { body?: unknown; id?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  let req = t.http[method](url).set('authorization', `Bearer ${token}`).set('accept', FHIR_JSON);
  if (options.id) req = req.set('x-request-id', options.id);
  for (const [k, v] of Object.entries(options.headers ?? {})) req = req.set(k, v);
  return options.body === undefined ? req : req.set('content-type', FHIR_JSON).send(JSON.stringify(options.body));
}

/** A GraphQL request (a document as text: fragments and all) as `token`. */
export function graphql(t: TestApp, token: string, query: string, options: { variables?: Record<string, unknown>; id?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  let req = t.http.post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${token}`);
  if (options.id) req = req.set('x-request-id', options.id);
  for (const [k, v] of Object.entries(options.headers ?? {})) req = req.set(k, v);
  return req.send({ query, variables: options.variables ?? {} });
}
