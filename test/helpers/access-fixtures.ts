import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ClientKind } from '../../src/access/caller.js';
import type { IdentifierProtector } from '../../src/access/identifier-protection.js';
import { registerClient } from '../../src/access/smart/client-registry.js';
import { tokenEndpointUrl } from '../../src/access/smart/token-endpoint.js';
import { loadConfig } from '../../src/config.js';
import type { EntityManager } from '../../src/db/orm.js';
import { CarePlan, CarePlanStatus } from '../../src/domain/care-plan/care-plan.entity.js';
import { CareTeam, CareTeamMember } from '../../src/domain/care-team/care-team.entity.js';
import { ClinicalStatus, Condition, ConditionKind, VerificationStatus } from '../../src/domain/condition/condition.entity.js';
import { Consent, ConsentDecision, ConsentPurpose } from '../../src/domain/consent/consent.entity.js';
import { Coverage, CoverageStatus } from '../../src/domain/coverage/coverage.entity.js';
import { Observation, ObservationKind, ObservationSource } from '../../src/domain/observation/observation.entity.js';
import { Grid, GridKind, Organization, OrganizationLevel, OrganizationType } from '../../src/domain/organization/organization.entity.js';
import { Gender } from '../../src/domain/patient/gender.js';
import { IdentifierKind, Patient, PatientIdentifier } from '../../src/domain/patient/patient.entity.js';
import { Practitioner, PractitionerRole, PractitionerRoleCode } from '../../src/domain/practitioner/practitioner.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../../src/domain/referral/referral.entity.js';
import type { TestApp } from './app.js';
import { residentId, SYSTEMS } from './fixtures.js';

/**
 * A county for access-control tests, with every visibility rule exercised by at least one patient:
 *
 *   C  county hospital (COUNTY, medical-community lead, the root)
 *   ├─ A  township A ── A1, A2 village clinics
 *   └─ B  township B ── B1 village clinic
 *   S  a second county hospital OUTSIDE the tree (specialist sp2 and the hospital client work there)
 *   I1, I2  insurers (EXTERNAL)
 *
 * Patients (key: managed by; what else makes them visible or not):
 *   a1     A1; grid gA1, family team teamA1; I1 coverage active; resident ID shown in the masking tests
 *   a1Exp  A1; I1 coverage expired; referred A1 → township B (GP at B sees the referral, not the patient)
 *   a1Ref  A1; referred A1 → county hospital C, addressed to specialist sp
 *   a1Team A1; family-doctor contract with teamB1 (B's team)
 *   a2     A2; grid gA2; I2 coverage active; referred A2 → S
 *   a2Grid A2; grid gA1 (the A1 village doctor's team grid); I1 coverage active but INSURER_SHARING DENY
 *   a2NoTx A2; grid gA1 but TREATMENT DENY in force; referred A2 → S
 *   a2Reg  A2; registered by S (the hospital client's organisation)
 *   b1     B1; grid gB1, family team teamB1; I1 coverage active; referred B1 → township B
 *   b1Sp2  B1; family team teamB1; referred B1 → C but addressed to specialist sp2 (of S)
 *   s      S; I1 coverage CANCELLED
 */
export const PATIENT_KEYS = ['a1', 'a1Exp', 'a1Ref', 'a1Team', 'a2', 'a2Grid', 'a2NoTx', 'a2Reg', 'b1', 'b1Sp2', 's'] as const;
export type PatientKey = (typeof PATIENT_KEYS)[number];

export const todayUtc = () => new Date().toISOString().slice(0, 10);

export async function buildAccessCounty(em: EntityManager, protector: IdentifierProtector, tag = 'AC') {
  const org = (key: string, name: string, level: OrganizationLevel, type: OrganizationType, parent?: Organization) => {
    const o = em.create(Organization, { name, code: `${tag}-${key}`, level, type, parent, path: '', version: 1 } as never) as Organization;
    o.path = `${parent ? parent.path : '/'}${o.id}/`;
    return o;
  };
  const C = org('C', '县人民医院', OrganizationLevel.COUNTY, OrganizationType.MEDICAL_COMMUNITY_LEAD);
  const A = org('A', '甲镇卫生院', OrganizationLevel.TOWNSHIP, OrganizationType.TOWNSHIP_HEALTH_CENTRE, C);
  const B = org('B', '乙镇卫生院', OrganizationLevel.TOWNSHIP, OrganizationType.TOWNSHIP_HEALTH_CENTRE, C);
  const A1 = org('A1', '甲一村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, A);
  const A2 = org('A2', '甲二村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, A);
  const B1 = org('B1', '乙一村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, B);
  const S = org('S', '县中医院', OrganizationLevel.COUNTY, OrganizationType.COUNTY_HOSPITAL);
  const I1 = org('I1', '县医疗保障局', OrganizationLevel.EXTERNAL, OrganizationType.INSURER);
  const I2 = org('I2', '商业保险公司', OrganizationLevel.EXTERNAL, OrganizationType.INSURER);
  const orgs = { C, A, B, A1, A2, B1, S, I1, I2 };

  const grid = (key: string, organization: Organization) =>
    em.create(Grid, { name: `${key}网格`, code: `${tag}-${key}`, kind: GridKind.VILLAGE, organization, version: 1 } as never) as Grid;
  const grids = { gA1: grid('gA1', A1), gA2: grid('gA2', A2), gB1: grid('gB1', B1) };

  const practitioner = (key: string, name: string, role: PractitionerRoleCode, organization: Organization) => {
    const p = em.create(Practitioner, { name, code: `${tag}-${key}`, version: 1 } as never) as Practitioner;
    em.create(PractitionerRole, { practitioner: p, organization, role, version: 1 } as never);
    return p;
  };
  const people = {
    vd: practitioner('vd', '王村医', PractitionerRoleCode.VILLAGE_DOCTOR, A1),
    gp: practitioner('gp', '李医生', PractitionerRoleCode.GENERAL_PRACTITIONER, A),
    gpB: practitioner('gpB', '赵医生', PractitionerRoleCode.GENERAL_PRACTITIONER, B),
    sp: practitioner('sp', '陈主任', PractitionerRoleCode.SPECIALIST, C),
    sp2: practitioner('sp2', '周主任', PractitionerRoleCode.SPECIALIST, S),
    ph: practitioner('ph', '孙公卫', PractitionerRoleCode.PUBLIC_HEALTH_OFFICER, A),
    ca: practitioner('ca', '吴管理', PractitionerRoleCode.ADMINISTRATOR, C),
  };

  const team = (name: string, organization: Organization, g: Grid, members: Array<[Practitioner, PractitionerRoleCode]>) => {
    const ct = em.create(CareTeam, { name, organization, grid: g, version: 1 } as never) as CareTeam;
    for (const [p, role] of members) em.create(CareTeamMember, { careTeam: ct, practitioner: p, role, version: 1 } as never);
    return ct;
  };
  const teams = {
    teamA1: team('甲一家庭医生团队', A, grids.gA1, [
      [people.gp, PractitionerRoleCode.GENERAL_PRACTITIONER],
      [people.vd, PractitionerRoleCode.VILLAGE_DOCTOR],
    ]),
    teamB1: team('乙一家庭医生团队', B, grids.gB1, [[people.gpB, PractitionerRoleCode.GENERAL_PRACTITIONER]]),
  };

  const residentIds = {} as Record<PatientKey, string>;
  const carePlans = {} as Record<PatientKey, CarePlan>;
  const patient = (key: PatientKey, managingOrganization: Organization, extra: Partial<Record<'grid' | 'familyDoctorTeam' | 'registeredBy', unknown>> = {}) => {
    const birthDate = `19${50 + PATIENT_KEYS.indexOf(key)}-03-1${PATIENT_KEYS.indexOf(key) % 10}`;
    const p = em.create(Patient, { name: `${tag}患者${key}`, gender: Gender.FEMALE, birthDate, managingOrganization, ...extra, version: 1 } as never) as Patient;
    const value = residentId(birthDate, false);
    residentIds[key] = value;
    em.create(PatientIdentifier, { patient: p, system: SYSTEMS.residentId, kind: IdentifierKind.RESIDENT_ID, ...protector.protect(SYSTEMS.residentId, IdentifierKind.RESIDENT_ID, value), version: 1 } as never);
    // Clinical data every patient has: a hypertension diagnosis, two BP readings and an active care plan.
    em.create(Condition, { patient: p, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10', kind: ConditionKind.HYPERTENSION, clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus: VerificationStatus.CONFIRMED, version: 1 } as never);
    for (const [m, systolic] of [[1, 150], [2, 138]] as const) {
      em.create(Observation, { patient: p, kind: ObservationKind.BLOOD_PRESSURE, code: '85354-9', system: 'http://loinc.org', systolic, diastolic: 88, unit: 'mm[Hg]', effectiveAt: new Date(Date.UTC(2026, m, 5)), source: ObservationSource.CLINIC, version: 1 } as never);
    }
    carePlans[key] = em.create(CarePlan, { patient: p, title: '高血压管理计划', status: CarePlanStatus.ACTIVE, addresses: [ConditionKind.HYPERTENSION], periodStart: '2026-01-01', version: 1 } as never) as CarePlan;
    return p;
  };
  const patients: Record<PatientKey, Patient> = {
    a1: patient('a1', A1, { grid: grids.gA1, familyDoctorTeam: teams.teamA1 }),
    a1Exp: patient('a1Exp', A1),
    a1Ref: patient('a1Ref', A1),
    a1Team: patient('a1Team', A1, { familyDoctorTeam: teams.teamB1 }),
    a2: patient('a2', A2, { grid: grids.gA2 }),
    a2Grid: patient('a2Grid', A2, { grid: grids.gA1 }),
    a2NoTx: patient('a2NoTx', A2, { grid: grids.gA1 }),
    a2Reg: patient('a2Reg', A2, { registeredBy: S }),
    b1: patient('b1', B1, { grid: grids.gB1, familyDoctorTeam: teams.teamB1 }),
    b1Sp2: patient('b1Sp2', B1, { familyDoctorTeam: teams.teamB1 }),
    s: patient('s', S),
  };

  let member = 0;
  const coverage = (p: Patient, insurer: Organization, status: CoverageStatus, periodStart: string, periodEnd?: string) =>
    em.create(Coverage, { patient: p, insurer, memberNumber: `${tag}-M${++member}`, plan: '城乡居民基本医疗保险', status, periodStart, periodEnd, version: 1 } as never);
  const nextYear = `${new Date().getUTCFullYear() + 1}-12-31`;
  coverage(patients.a1, I1, CoverageStatus.ACTIVE, '2024-01-01', nextYear);
  coverage(patients.a1Exp, I1, CoverageStatus.ACTIVE, '2020-01-01', '2024-12-31');
  coverage(patients.a2, I2, CoverageStatus.ACTIVE, '2024-01-01');
  coverage(patients.a2Grid, I1, CoverageStatus.ACTIVE, '2024-01-01');
  coverage(patients.b1, I1, CoverageStatus.ACTIVE, '2024-01-01', nextYear);
  coverage(patients.b1Sp2, I1, CoverageStatus.ACTIVE, '2024-01-01');
  coverage(patients.s, I1, CoverageStatus.CANCELLED, '2024-01-01');

  const consent = (p: Patient, purpose: ConsentPurpose, decision: ConsentDecision, periodStart: string) =>
    em.create(Consent, { patient: p, purpose, decision, periodStart, recordedBy: people.gp, version: 1 } as never);
  consent(patients.a2Grid, ConsentPurpose.INSURER_SHARING, ConsentDecision.DENY, '2025-01-01');
  consent(patients.a2NoTx, ConsentPurpose.TREATMENT, ConsentDecision.DENY, '2025-01-01');
  // b1Sp2 withdrew consent for insurers once, then gave it again: the newer PERMIT is the one in force.
  consent(patients.b1Sp2, ConsentPurpose.INSURER_SHARING, ConsentDecision.DENY, '2024-06-01');
  consent(patients.b1Sp2, ConsentPurpose.INSURER_SHARING, ConsentDecision.PERMIT, '2025-06-01');

  const referral = (p: Patient, from: Organization, to: Organization, toPractitioner?: Practitioner) =>
    em.create(Referral, {
      patient: p,
      direction: ReferralDirection.UP,
      fromOrganization: from,
      toOrganization: to,
      toPractitioner,
      reason: ReferralReason.POOR_CONTROL,
      urgency: ReferralUrgency.ROUTINE,
      status: ReferralStatus.REQUESTED,
      clinicalSummary: `${tag}: 血压控制不佳，建议上级医院调整方案`,
      requestedAt: new Date(),
      version: 1,
    } as never) as Referral;
  const referrals = {
    a1ToC: referral(patients.a1Ref, A1, C, people.sp),
    b1ToB: referral(patients.b1, B1, B),
    a1ExpToB: referral(patients.a1Exp, A1, B),
    a2ToS: referral(patients.a2, A2, S),
    a2NoTxToS: referral(patients.a2NoTx, A2, S),
    b1Sp2ToC: referral(patients.b1Sp2, B1, C, people.sp2),
  };
  await em.flush();

  const ids = Object.fromEntries(PATIENT_KEYS.map((k) => [patients[k].id, k])) as Record<string, PatientKey>;
  return {
    tag,
    orgs,
    grids,
    people,
    teams,
    patients,
    residentIds,
    carePlans,
    referrals,
    /** Patient keys of a set of ids (unknown ids are kept as they are, so a stray one shows in a failed assertion). */
    keysOf: (patientIds: string[]) => patientIds.map((id) => ids[id] ?? id).sort(),
  };
}

export type AccessCounty = Awaited<ReturnType<typeof buildAccessCounty>>;

/**
 * Registers a SMART backend client for an organisation (with a fresh ES384 key) and exchanges a signed
 * client assertion for an access token at /auth/token, as a hospital system or insurer would.
 */
export async function smartToken(
  t: TestApp,
  em: EntityManager,
  options: { kind: ClientKind; organizationCode: string; scopes: string[]; clientId?: string },
): Promise<{ token: string; clientId: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = randomUUID();
  const client = await registerClient(em, {
    name: `${options.kind} client of ${options.organizationCode}`,
    kind: options.kind,
    organizationCode: options.organizationCode,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' }] },
    scopes: options.scopes,
    clientId: options.clientId,
  });
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(tokenEndpointUrl(loadConfig({ NODE_ENV: 'test' })))
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .setJti(randomUUID())
    .sign(privateKey);
  const res = await t.http
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  if (res.status !== 200) throw new Error(`token request for ${client.clientId} refused: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.access_token as string, clientId: client.clientId };
}
