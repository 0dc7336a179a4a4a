/**
 * Support for the access matrix (matrix.test.ts): the app, the county with one token per caller, the FHIR
 * bodies of every kind of resource the matrix writes, and disposable copies of patients. Nothing here says what
 * any caller may do: that is the matrix's own table.
 */
import 'reflect-metadata';
import type { Resource } from '@medplum/fhirtypes';
import supertest, { type Response } from 'supertest';
import { ClientKind } from '../../src/access/caller.js';
import { asInternal } from '../../src/access/index.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type EntityManager, openDatabase } from '../../src/db/orm.js';
import { Consent } from '../../src/domain/consent/consent.entity.js';
import { Coverage } from '../../src/domain/coverage/coverage.entity.js';
import { Patient } from '../../src/domain/patient/patient.entity.js';
import { Practitioner, PractitionerRole, PractitionerRoleCode } from '../../src/domain/practitioner/practitioner.entity.js';
import { Referral } from '../../src/domain/referral/referral.entity.js';
import { type AccessCounty, buildAccessCounty, smartToken } from '../helpers/access-fixtures.js';
import type { TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

export const FHIR_JSON = 'application/fhir+json';

/**
 * The app as startTestApp builds it, but with the per-caller rate limits (all requests, and system clients' FHIR
 * writes) out of the way: the matrix sends thousands of requests in minutes, some callers hundreds of set-up
 * writes, and what it checks is who may do what, not throttling.
 */
export async function startMatrixApp(): Promise<TestApp> {
  const db = await createTestDatabase();
  const orm = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  const config = loadConfig({ NODE_ENV: 'test', RATE_LIMIT_PER_MINUTE: '10000000', FHIR_WRITE_RATE_LIMIT_PER_MINUTE: '10000000' });
  const app = await createApp({ config, orm });
  const http = supertest(app.express);
  const tokenFor = (claims: { roles: string[]; org?: string; practitioner?: string; sub?: string }) =>
    app.security.tokens.sign({ ncd_kind: 'user', roles: claims.roles, org: claims.org, practitioner: claims.practitioner }, claims.sub ?? `test-${claims.roles.join('-')}`, 3600);
  const adminToken = await tokenFor({ roles: ['PLATFORM_ADMIN'], sub: 'matrix-setup-admin' });
  const unsupported = () => {
    throw new Error('GraphQL is not used by the matrix');
  };
  return {
    app,
    orm,
    db,
    em: () => asInternal(orm.em.fork() as EntityManager),
    http,
    queries: [],
    tokenFor,
    adminToken,
    gql: unsupported,
    ok: unsupported,
    async close() {
      await app.stop();
      await orm.close();
      await db.drop();
    },
  };
}

/** The access county (test/helpers/access-fixtures.ts) plus a nurse at township A, who is on no care team. */
export async function buildMatrixCounty(t: TestApp) {
  const em = t.em();
  const county = await buildAccessCounty(em, t.app.security.protector, 'MX');
  const nurse = em.create(Practitioner, { name: '钱护士', code: 'MX-nurse', version: 1 } as never) as Practitioner;
  em.create(PractitionerRole, { practitioner: nurse, organization: county.orgs.A, role: PractitionerRoleCode.NURSE, version: 1 } as never);
  await em.flush();
  return { ...county, nurse };
}
export type MatrixCounty = Awaited<ReturnType<typeof buildMatrixCounty>>;

export type OrgKey = keyof AccessCounty['orgs'];
export type PersonKey = keyof AccessCounty['people'] | 'nurse';

/** A person's token (development tokens, as every user test uses) or a SMART backend client's, registered through the real registry. */
export type Identity = { user: { role: string; org?: OrgKey; practitioner?: PersonKey } } | { client: { kind: ClientKind; org: OrgKey; scopes: string[] } };

export async function tokenOf(t: TestApp, c: MatrixCounty, name: string, who: Identity): Promise<string> {
  if ('user' in who) {
    const { role, org, practitioner } = who.user;
    const code = practitioner === 'nurse' ? c.nurse.code : practitioner ? c.people[practitioner].code : undefined;
    return t.tokenFor({ sub: `matrix-${name}`, roles: [role], org: org && c.orgs[org].code, practitioner: code });
  }
  return (await smartToken(t, t.em(), { kind: who.client.kind, organizationCode: c.orgs[who.client.org].code, scopes: who.client.scopes })).token;
}

export function fhir(t: TestApp, token: string, method: 'get' | 'post' | 'put' | 'delete', url: string, body?: unknown): Promise<Response> {
  const req = t.http[method](url).set('authorization', `Bearer ${token}`).set('accept', FHIR_JSON);
  return body === undefined ? req : req.set('content-type', FHIR_JSON).send(JSON.stringify(body));
}

/** POSTs a resource that must be created, and returns it as stored. */
export async function created<T extends Resource>(t: TestApp, token: string, resource: T): Promise<T> {
  const res = await fhir(t, token, 'post', `/fhir/${resource.resourceType}`, resource);
  if (res.status !== 201) throw new Error(`set-up: POST ${resource.resourceType} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as T;
}

let serial = 0;
/** Unique per call: identifiers must not repeat, or a create is taken for a re-send of an earlier one (idempotency). */
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++serial}`;

const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });
const coding = (system: string, code: string) => ({ coding: [{ system, code }] });

/** A new resource in a patient's record, per type: the types the domain models and representatives of those it does not. */
export const PATIENT_RECORD_BODIES: Record<string, (patientId: string, organizationId: string) => Resource> = {
  Patient: (_patientId, organizationId) => ({ resourceType: 'Patient', name: [{ text: '矩阵新患者' }], gender: 'female', birthDate: '1962-05-01', managingOrganization: ref('Organization', organizationId) }),
  Condition: (p) => ({
    resourceType: 'Condition',
    subject: ref('Patient', p),
    code: coding('http://hl7.org/fhir/sid/icd-10', 'E11.9'),
    clinicalStatus: coding('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active'),
    verificationStatus: coding('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed'),
  }),
  Observation: (p) => ({
    resourceType: 'Observation',
    status: 'final',
    category: [coding('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs')],
    code: coding('http://loinc.org', '85354-9'),
    subject: ref('Patient', p),
    effectiveDateTime: '2026-11-01T08:00:00Z',
    component: [
      { code: coding('http://loinc.org', '8480-6'), valueQuantity: { value: 146, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: coding('http://loinc.org', '8462-4'), valueQuantity: { value: 92, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ],
  }),
  CarePlan: (p) => ({ resourceType: 'CarePlan', status: 'active', intent: 'plan', title: '矩阵管理计划', subject: ref('Patient', p) }),
  Goal: (p) => ({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: '血压低于140/90' }, subject: ref('Patient', p) }),
  ServiceRequest: (p) => ({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', code: { text: '眼底检查' }, subject: ref('Patient', p) }),
  Task: (p) => ({ resourceType: 'Task', status: 'requested', intent: 'order', description: '随访提醒', for: ref('Patient', p) }),
  Encounter: (p) => ({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: ref('Patient', p), period: { start: '2026-11-02T09:00:00Z' } }),
  Coverage: (p) => ({ resourceType: 'Coverage', status: 'active', beneficiary: ref('Patient', p), payor: [{ display: '县医疗保障局' }], identifier: [{ system: 'https://matrix.example.org/member', value: unique('M') }] }),
  Consent: (p) => ({
    resourceType: 'Consent',
    status: 'active',
    scope: coding('http://terminology.hl7.org/CodeSystem/consentscope', 'patient-privacy'),
    category: [coding('http://loinc.org', '59284-0')],
    patient: ref('Patient', p),
    policyRule: coding('http://terminology.hl7.org/CodeSystem/v3-ActCode', 'OPTIN'),
  }),
  MedicationRequest: (p) => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { ...coding('http://www.whocc.no/atc', 'C08CA01'), text: '氨氯地平片' }, subject: ref('Patient', p), dosageInstruction: [{ text: '每日一次' }] }),
  MedicationStatement: (p) => ({ resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: '二甲双胍片' }, subject: ref('Patient', p), effectivePeriod: { start: '2026-01-01' } }),
  AllergyIntolerance: (p) => ({
    resourceType: 'AllergyIntolerance',
    clinicalStatus: coding('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active'),
    verificationStatus: coding('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed'),
    code: { text: '青霉素' },
    patient: ref('Patient', p),
  }),
  DocumentReference: (p) => ({
    resourceType: 'DocumentReference',
    status: 'current',
    subject: ref('Patient', p),
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('出院小结').toString('base64') } }],
  }),
  // In the patient's compartment by Appointment.actor (R4 CompartmentDefinition), not by subject or patient.
  Appointment: (p) => ({
    resourceType: 'Appointment',
    status: 'booked',
    start: '2026-12-10T09:00:00Z',
    end: '2026-12-10T09:30:00Z',
    participant: [{ actor: ref('Patient', p), status: 'accepted' }],
  }),
};

/** A new directory resource for an organisation (`practitionerId`: a Practitioner of that organisation, for PractitionerRole). */
export const DIRECTORY_BODIES: Record<string, (organizationId: string, practitionerId: string) => Resource> = {
  Organization: (o) => ({ resourceType: 'Organization', name: `矩阵分点 ${unique('O')}`, partOf: ref('Organization', o) }),
  Location: (o) => ({ resourceType: 'Location', name: '矩阵诊室', status: 'active', managingOrganization: ref('Organization', o) }),
  Practitioner: () => ({ resourceType: 'Practitioner', identifier: [{ system: 'https://his.example.org/staff', value: unique('P') }], name: [{ text: '矩阵医生' }] }),
  PractitionerRole: (o, p) => ({ resourceType: 'PractitionerRole', active: true, practitioner: ref('Practitioner', p), organization: ref('Organization', o) }),
  HealthcareService: (o) => ({ resourceType: 'HealthcareService', active: true, name: '慢病门诊', providedBy: ref('Organization', o) }),
  Endpoint: (o) => ({
    resourceType: 'Endpoint',
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    payloadType: [{ text: 'FHIR R4' }],
    address: 'https://his.example.org/fhir',
    managingOrganization: ref('Organization', o),
  }),
};

/** A new resource in no patient's record and outside the directory: it belongs to the organisation that sends it. */
export const OWNED_BODIES: Record<string, () => Resource> = {
  Medication: () => ({ resourceType: 'Medication', code: { text: '氨氯地平片 5mg' } }),
  Device: () => ({ resourceType: 'Device', deviceName: [{ name: '电子血压计', type: 'user-friendly-name' }] }),
  CareTeam: () => ({ resourceType: 'CareTeam', status: 'active', name: '矩阵随访小组' }),
  // A FHIR document, stored as a Bundle resource (POST /fhir/Bundle): a Composition naming no patient.
  Bundle: () => ({
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'https://matrix.example.org/documents', value: unique('D') },
    timestamp: '2026-11-20T10:00:00Z',
    entry: [
      {
        fullUrl: 'urn:uuid:0190b5a2-7777-7000-8000-000000000001',
        resource: { resourceType: 'Composition', status: 'final', type: { text: '慢病宣教材料' }, date: '2026-11-20', author: [{ display: '县疾控中心' }], title: '高血压饮食指导' },
      },
    ],
  }),
};

/**
 * A new patient, disposable (to update or delete), related to the county exactly as `source` is: managed by the
 * same organisation, on the same grid and family-doctor team, registered by the same organisation, with the same
 * coverages, consents and referrals — so that every caller sees it if and only if it sees `source`.
 */
export async function copyOfPatient(t: TestApp, sourceId: string): Promise<string> {
  const em = t.em();
  const source = await em.findOneOrFail(Patient, { id: sourceId });
  const p = em.create(Patient, {
    name: `${source.name}副本`,
    gender: source.gender,
    birthDate: source.birthDate,
    managingOrganization: source.managingOrganization,
    grid: source.grid,
    familyDoctorTeam: source.familyDoctorTeam,
    registeredBy: source.registeredBy,
    version: 1,
  } as never) as Patient;
  for (const cv of await em.find(Coverage, { patient: source })) {
    em.create(Coverage, { patient: p, insurer: cv.insurer, memberNumber: unique(cv.memberNumber), plan: cv.plan, status: cv.status, periodStart: cv.periodStart, periodEnd: cv.periodEnd, version: 1 } as never);
  }
  for (const cs of await em.find(Consent, { patient: source })) {
    em.create(Consent, { patient: p, purpose: cs.purpose, decision: cs.decision, periodStart: cs.periodStart, periodEnd: cs.periodEnd, recordedBy: cs.recordedBy, version: 1 } as never);
  }
  for (const r of await em.find(Referral, { patient: source })) {
    em.create(Referral, {
      patient: p,
      direction: r.direction,
      fromOrganization: r.fromOrganization,
      toOrganization: r.toOrganization,
      toPractitioner: r.toPractitioner,
      reason: r.reason,
      urgency: r.urgency,
      status: r.status,
      clinicalSummary: r.clinicalSummary,
      requestedAt: r.requestedAt,
      version: 1,
    } as never);
  }
  await em.flush();
  return p.id;
}

export async function storeCount(t: TestApp): Promise<number> {
  const rows = (await t.em().getConnection().execute(`select count(*) as n from fhir_resource`)) as Array<{ n: string | number }>;
  return Number(rows[0]!.n);
}

/** The patient a resource's record is of, by the references R4's Patient compartment names (Appointment by actor). */
export function patientOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const r = resource as unknown as Record<string, unknown>;
  const refs: unknown[] = [r.subject, r.patient, r.beneficiary, r.for, r.individual];
  if (Array.isArray(r.participant)) refs.push(...(r.participant as Array<{ actor?: unknown }>).map((p) => p.actor));
  for (const x of refs) {
    const m = /^Patient\/(.+)$/.exec((x as { reference?: string } | undefined)?.reference ?? '');
    if (m) return m[1];
  }
  return undefined;
}
