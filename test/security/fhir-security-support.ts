/**
 * Shared set-up for the FHIR store's security findings (test/security/fhir-*.test.ts): the access county
 * (test/helpers/access-fixtures.ts), a token per role, SMART system clients with the scopes a test asks for, and
 * FHIR requests through the real app.
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { ClientKind } from '../../src/access/caller.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty, smartToken } from '../helpers/access-fixtures.js';

export const FHIR_JSON = 'application/fhir+json';

export interface FhirCounty {
  t: TestApp;
  c: AccessCounty;
  /** Bearer tokens by who holds them. */
  tokens: Record<string, string>;
  fhir(who: string, method: 'get' | 'post' | 'put' | 'delete', url: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Creates as `who`, asserting 201. */
  created<T extends Resource>(who: string, resource: T): Promise<T>;
  /** A SMART backend client of this kind for an organisation of the county, with exactly these scopes. */
  client(name: string, kind: ClientKind, org: keyof AccessCounty['orgs'], scopes: string[]): Promise<string>;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
}

/**
 * People: vd (village doctor, A1), nurse (A1: sees resident IDs masked), gp (township A), gpB (township B),
 * sp (specialist, county hospital C), admin (platform administrator).
 */
export async function fhirCounty(tag: string): Promise<FhirCounty> {
  const t = await startTestApp();
  const c = await buildAccessCounty(t.em(), t.app.security.protector, tag);
  const tokens: Record<string, string> = {};
  const person = (sub: string, role: string, org: keyof AccessCounty['orgs'], practitioner?: keyof AccessCounty['people']) =>
    t.tokenFor({ sub: `${tag}-${sub}`, roles: [role], org: c.orgs[org].code, practitioner: practitioner && c.people[practitioner].code });
  tokens.vd = await person('vd', 'VILLAGE_DOCTOR', 'A1', 'vd');
  tokens.nurse = await person('nurse', 'NURSE', 'A1');
  tokens.gp = await person('gp', 'GENERAL_PRACTITIONER', 'A', 'gp');
  tokens.gpB = await person('gpB', 'GENERAL_PRACTITIONER', 'B', 'gpB');
  tokens.sp = await person('sp', 'SPECIALIST', 'C', 'sp');
  tokens.admin = await t.tokenFor({ sub: `${tag}-admin`, roles: ['PLATFORM_ADMIN'] });

  const fhir: FhirCounty['fhir'] = (who, method, url, body, headers = {}) => {
    let req = t.http[method](url).set('authorization', `Bearer ${tokens[who]}`).set('accept', FHIR_JSON);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return body === undefined ? req : req.set('content-type', FHIR_JSON).send(JSON.stringify(body));
  };
  return {
    t,
    c,
    tokens,
    fhir,
    async created<T extends Resource>(who: string, resource: T): Promise<T> {
      const res = await fhir(who, 'post', `/fhir/${resource.resourceType}`, resource);
      expect({ status: res.status, body: res.status === 201 ? undefined : res.body }).toEqual({ status: 201, body: undefined });
      return res.body as T;
    },
    async client(name, kind, org, scopes) {
      tokens[name] = (await smartToken(t, t.em(), { kind, organizationCode: c.orgs[org].code, scopes })).token;
      return tokens[name];
    },
    async sql<T>(query: string, params: unknown[] = []) {
      return (await t.em().getConnection().execute(query, params)) as T[];
    },
  };
}

export function expectOutcome(res: Response, status: number, code?: string): OperationOutcome {
  expect({ status: res.status, resourceType: res.body?.resourceType, ...(code ? { code: res.body?.issue?.[0]?.code } : {}) }).toEqual({ status, resourceType: 'OperationOutcome', ...(code ? { code } : {}) });
  return res.body as OperationOutcome;
}

/** `Type/id` of every entry of a Bundle response. */
export const entriesOf = (res: Response): string[] => ((res.body?.entry ?? []) as Array<{ resource?: Resource }>).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
export const typesOf = (res: Response): string[] => [...new Set(((res.body?.entry ?? []) as Array<{ resource?: Resource }>).map((e) => e.resource!.resourceType))].sort();
