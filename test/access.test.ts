import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type CryptoKey, generateKeyPair, SignJWT } from 'jose';
import { print, type ExecutionResult } from 'graphql';
import { ClientKind } from '../src/access/caller.js';
import { maskIdentifier } from '../src/access/identifier-protection.js';
import { loadConfig } from '../src/config.js';
import { Condition } from '../src/domain/condition/condition.entity.js';
import { Consent } from '../src/domain/consent/consent.entity.js';
import { Observation } from '../src/domain/observation/observation.entity.js';
import { Patient } from '../src/domain/patient/patient.entity.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { type AccessCounty, buildAccessCounty, PATIENT_KEYS, type PatientKey, smartToken, todayUtc } from './helpers/access-fixtures.js';
import { SYSTEMS } from './helpers/fixtures.js';
import {
  AccessCarePlanDocument,
  AccessCareTeamPatientsDocument,
  AccessConditionSearchDocument,
  AccessIdentifiersDocument,
  AccessObservationsDocument,
  AccessPatientByIdentifierDocument,
  AccessPatientDocument,
  AccessPatientIdsDocument,
  AccessPatientRecordsDocument,
  AccessRecordConsentDocument,
  AccessReferralPatientDocument,
  AccessReferralsDocument,
  AccessViewerDocument,
  AddConditionDocument,
  RecordObservationDocument,
  RegisterPatientDocument,
  UpdatePatientDocument,
} from './generated/graphql.js';

const config = loadConfig({ NODE_ENV: 'test' });

type CallerName =
  | 'villageDoctor'
  | 'generalPractitioner'
  | 'specialist'
  | 'publicHealth'
  | 'communityAdmin'
  | 'platformAdmin'
  | 'hospitalClient'
  | 'insurerClient'
  | 'outsideSpecialist'
  | 'townshipBDoctor';

const EVERYONE = [...PATIENT_KEYS];
const TOWNSHIP_A: PatientKey[] = ['a1', 'a1Exp', 'a1Ref', 'a1Team', 'a2', 'a2Grid', 'a2NoTx', 'a2Reg'];

/** Who sees which patients — the rules of src/access/policy.ts, spelled out for this county. */
const VISIBLE: Record<CallerName, PatientKey[]> = {
  // Her village A1, plus a2Grid on her team's grid; a2NoTx is on that grid too but denied treatment consent.
  villageDoctor: ['a1', 'a1Exp', 'a1Ref', 'a1Team', 'a2Grid'],
  // Township A's subtree (A1 and A2), whatever the consents say.
  generalPractitioner: TOWNSHIP_A,
  // The county hospital is the root: everything in the medical community, not the outside hospital's patient.
  specialist: EVERYONE.filter((k) => k !== 's'),
  publicHealth: TOWNSHIP_A,
  communityAdmin: EVERYONE.filter((k) => k !== 's'),
  platformAdmin: EVERYONE,
  // Its own hospital S: managed there (s), registered by it (a2Reg), referred to it (a2; a2NoTx denied treatment consent).
  hospitalClient: ['a2', 'a2Reg', 's'],
  // Covered by insurer 1 today and not denied: not a1Exp (expired), a2Grid (DENY), s (cancelled), a2 (insurer 2).
  insurerClient: ['a1', 'b1', 'b1Sp2'],
  // A specialist at S: managed at S, referred to S (a2), referred to him by name (b1Sp2); not a2NoTx.
  outsideSpecialist: ['a2', 'b1Sp2', 's'],
  // Township B's subtree, plus a1Team (contracted with B's team); not a1Exp, whose referral B received.
  townshipBDoctor: ['a1Team', 'b1', 'b1Sp2'],
};
const CALLERS = Object.keys(VISIBLE) as CallerName[];

let t: TestApp;
let c: AccessCounty;
const tokens = {} as Record<CallerName, string>;
let insurerClientId: string;
let hospitalClientId: string;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'ACC');
  const person = (sub: string, role: string, org: keyof AccessCounty['orgs'], practitioner?: keyof AccessCounty['people']) =>
    t.tokenFor({ sub, roles: [role], org: c.orgs[org].code, practitioner: practitioner && c.people[practitioner].code });
  tokens.villageDoctor = await person('user-vd', 'VILLAGE_DOCTOR', 'A1', 'vd');
  tokens.generalPractitioner = await person('user-gp', 'GENERAL_PRACTITIONER', 'A', 'gp');
  tokens.specialist = await person('user-sp', 'SPECIALIST', 'C', 'sp');
  tokens.publicHealth = await person('user-ph', 'PUBLIC_HEALTH', 'A', 'ph');
  tokens.communityAdmin = await person('user-ca', 'COMMUNITY_ADMIN', 'C', 'ca');
  tokens.outsideSpecialist = await person('user-sp2', 'SPECIALIST', 'S', 'sp2');
  tokens.townshipBDoctor = await person('user-gpb', 'GENERAL_PRACTITIONER', 'B', 'gpB');
  tokens.platformAdmin = await t.tokenFor({ sub: 'user-admin', roles: ['PLATFORM_ADMIN'] });
  const hospital = await smartToken(t, t.em(), {
    kind: ClientKind.HOSPITAL,
    organizationCode: c.orgs.S.code,
    scopes: ['system/Patient.rs', 'system/Observation.rs', 'system/ServiceRequest.rs', 'system/Condition.rs'],
  });
  const insurer = await smartToken(t, t.em(), {
    kind: ClientKind.INSURER,
    organizationCode: c.orgs.I1.code,
    scopes: ['system/Patient.rs', 'system/Observation.rs'],
  });
  tokens.hospitalClient = hospital.token;
  tokens.insurerClient = insurer.token;
  hospitalClientId = hospital.clientId;
  insurerClientId = insurer.clientId;
});
afterAll(() => t?.close());

const as = <R, V>(caller: CallerName, doc: TypedDocumentNode<R, V>, variables?: V) => t.gql(doc, variables, tokens[caller]);

function errorCodes(res: ExecutionResult<unknown>): unknown[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

function expectRefused(res: ExecutionResult<unknown>, code: string) {
  expect(errorCodes(res)).toEqual([code]);
  expect(res.data ?? null).toBeNull();
}

async function visibleKeys(caller: CallerName): Promise<{ keys: PatientKey[]; totalCount: number }> {
  const res = await as(caller, AccessPatientIdsDocument);
  expect(res.errors).toBeUndefined();
  const page = res.data!.patients;
  return { keys: c.keysOf(page.edges.map((e) => e.node.id)) as PatientKey[], totalCount: page.totalCount };
}

describe('who sees which patients', () => {
  test('viewer reflects each token', async () => {
    const vd = (await as('villageDoctor', AccessViewerDocument)).data!.viewer;
    expect(vd).toMatchObject({ subject: 'user-vd', kind: 'user', roles: ['VILLAGE_DOCTOR'], organization: { code: c.orgs.A1.code }, practitioner: { code: c.people.vd.code } });
    const insurer = (await as('insurerClient', AccessViewerDocument)).data!.viewer;
    expect(insurer).toMatchObject({ subject: insurerClientId, kind: 'system', roles: [], organization: { code: c.orgs.I1.code }, practitioner: null });
    expect([...insurer.scopes].sort()).toEqual(['system/Observation.rs', 'system/Patient.rs']);
    const hospital = (await as('hospitalClient', AccessViewerDocument)).data!.viewer;
    expect(hospital).toMatchObject({ subject: hospitalClientId, kind: 'system', organization: { code: c.orgs.S.code } });
  });

  test.each(CALLERS)('%s: patients(first: 100) is exactly the visible set, and totalCount its size', async (caller) => {
    const { keys, totalCount } = await visibleKeys(caller);
    expect(keys).toEqual([...VISIBLE[caller]].sort());
    expect(totalCount).toBe(VISIBLE[caller].length);
  });

  test.each(CALLERS)('%s: every patient outside the set is NOT_FOUND by id, null by identifier, and has no observations', async (caller) => {
    const outside = EVERYONE.filter((k) => !VISIBLE[caller].includes(k));
    for (const key of outside) {
      const byId = await as(caller, AccessPatientDocument, { id: c.patients[key].id });
      expect({ key, codes: errorCodes(byId), data: byId.data ?? null }).toEqual({ key, codes: ['NOT_FOUND'], data: null });

      const byIdentifier = await as(caller, AccessPatientByIdentifierDocument, { system: SYSTEMS.residentId, value: c.residentIds[key] });
      expect({ key, errors: byIdentifier.errors, data: byIdentifier.data }).toEqual({ key, errors: undefined, data: { patientByIdentifier: null } });

      const observations = await as(caller, AccessObservationsDocument, { patientId: c.patients[key].id, first: 50 });
      expect({ key, errors: observations.errors, page: observations.data?.observations }).toEqual({ key, errors: undefined, page: { totalCount: 0, edges: [] } });
    }
  });

  test.each(CALLERS)('%s: every patient inside the set is readable by id and by identifier', async (caller) => {
    for (const key of VISIBLE[caller]) {
      const byId = await as(caller, AccessPatientDocument, { id: c.patients[key].id });
      expect({ key, errors: byId.errors, id: byId.data?.patient.id }).toEqual({ key, errors: undefined, id: c.patients[key].id });
      const byIdentifier = await as(caller, AccessPatientByIdentifierDocument, { system: SYSTEMS.residentId, value: c.residentIds[key] });
      expect({ key, id: byIdentifier.data?.patientByIdentifier?.id }).toEqual({ key, id: c.patients[key].id });
    }
  });

  test.each(CALLERS)('%s: observations(…) lists the readings of visible patients only', async (caller) => {
    const res = await as(caller, AccessObservationsDocument, { first: 200 });
    expect(res.errors).toBeUndefined();
    const page = res.data!.observations;
    const owners = page.edges.map((e) => e.node.patient.id);
    expect([...new Set(c.keysOf(owners))]).toEqual([...VISIBLE[caller]].sort());
    // Two readings per patient, each served with its own patient.
    expect(page.totalCount).toBe(2 * VISIBLE[caller].length);
    expect(page.edges).toHaveLength(2 * VISIBLE[caller].length);
  });
});

describe('nested fields reach no further than the top level', () => {
  test('a referral addressed to your organisation, of a patient you may not see: the referral yes, its patient NOT_FOUND', async () => {
    const res = await as('townshipBDoctor', AccessReferralPatientDocument, { id: c.referrals.a1ExpToB.id });
    expect(res.data?.referral).toMatchObject({ id: c.referrals.a1ExpToB.id, toOrganization: { id: c.orgs.B.id }, patient: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors![0]!.path).toEqual(['referral', 'patient']);
    expect(JSON.stringify(res.data)).not.toContain(c.patients.a1Exp.name);

    // The same for a hospital receiving a referral of a patient who denied treatment consent.
    const hospital = await as('hospitalClient', AccessReferralPatientDocument, { id: c.referrals.a2NoTxToS.id });
    expect(hospital.data?.referral).toMatchObject({ id: c.referrals.a2NoTxToS.id, patient: null });
    expect(errorCodes(hospital)).toEqual(['NOT_FOUND']);

    // A referral of a visible patient carries the patient.
    const own = await as('townshipBDoctor', AccessReferralPatientDocument, { id: c.referrals.b1ToB.id });
    expect(own.errors).toBeUndefined();
    expect(own.data!.referral.patient).toEqual({ id: c.patients.b1.id, name: c.patients.b1.name });
  });

  test('a referral neither of your organisation nor of a patient you see is NOT_FOUND itself', async () => {
    expectRefused(await as('villageDoctor', AccessReferralPatientDocument, { id: c.referrals.b1ToB.id }), 'NOT_FOUND');
    expectRefused(await as('hospitalClient', AccessReferralPatientDocument, { id: c.referrals.b1ToB.id }), 'NOT_FOUND');
  });

  test('carePlan(id) of a patient you may not see is NOT_FOUND', async () => {
    expectRefused(await as('villageDoctor', AccessCarePlanDocument, { id: c.carePlans.b1.id }), 'NOT_FOUND');
    expectRefused(await as('insurerClient', AccessCarePlanDocument, { id: c.carePlans.a1.id }), 'NOT_FOUND');
    const own = await as('villageDoctor', AccessCarePlanDocument, { id: c.carePlans.a2Grid.id });
    expect(own.data!.carePlan.patient.id).toBe(c.patients.a2Grid.id);
  });

  test('referrals(…): those of visible patients and those sent from or to your organisation; none without the scope', async () => {
    const ids = async (caller: CallerName) => {
      const res = await as(caller, AccessReferralsDocument);
      expect(res.errors).toBeUndefined();
      expect(res.data!.referrals.totalCount).toBe(res.data!.referrals.edges.length);
      return res.data!.referrals.edges.map((e) => e.node.id).sort();
    };
    const r = c.referrals;
    expect(await ids('townshipBDoctor')).toEqual([r.b1ToB.id, r.a1ExpToB.id, r.b1Sp2ToC.id].sort());
    expect(await ids('villageDoctor')).toEqual([r.a1ToC.id, r.a1ExpToB.id].sort());
    expect(await ids('hospitalClient')).toEqual([r.a2ToS.id, r.a2NoTxToS.id].sort());
    expect(await ids('outsideSpecialist')).toEqual([r.a2ToS.id, r.a2NoTxToS.id, r.b1Sp2ToC.id].sort());
    // The insurer holds no ServiceRequest scope.
    expect(await ids('insurerClient')).toEqual([]);
  });

  test('careTeam(id).patients lists, and counts, only the patients you may see', async () => {
    const team = async (caller: CallerName) => {
      const res = await as(caller, AccessCareTeamPatientsDocument, { id: c.teams.teamB1.id });
      expect(res.errors).toBeUndefined();
      const page = res.data!.careTeam.patients;
      return { keys: c.keysOf(page.edges.map((e) => e.node.id)), totalCount: page.totalCount };
    };
    expect(await team('platformAdmin')).toEqual({ keys: ['a1Team', 'b1', 'b1Sp2'], totalCount: 3 });
    expect(await team('townshipBDoctor')).toEqual({ keys: ['a1Team', 'b1', 'b1Sp2'], totalCount: 3 });
    expect(await team('villageDoctor')).toEqual({ keys: ['a1Team'], totalCount: 1 });
    expect(await team('insurerClient')).toEqual({ keys: ['b1', 'b1Sp2'], totalCount: 2 });
    expect(await team('hospitalClient')).toEqual({ keys: [], totalCount: 0 });
  });
});

describe('insurer', () => {
  test('reads no conditions, care plans, referrals, coverages or consents — only what its scopes name', async () => {
    const res = await as('insurerClient', AccessPatientRecordsDocument, { first: 100 });
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.patients.edges.map((e) => e.node);
    expect(c.keysOf(nodes.map((n) => n.id))).toEqual(['a1', 'b1', 'b1Sp2']);
    for (const node of nodes) {
      expect({ conditions: node.conditions, carePlans: node.carePlans, referrals: node.referrals, coverages: node.coverages, consents: node.consents }).toEqual({
        conditions: [],
        carePlans: [],
        referrals: [],
        coverages: [],
        consents: [],
      });
      // Observations are within its scopes.
      expect(node.latestBloodPressure?.systolic).toBe(138);
    }
    expect(JSON.stringify(res.data)).not.toMatch(/I10|HYPERTENSION|高血压|血压控制不佳/);

    // The same query for a village doctor does carry the clinical record.
    const vd = await as('villageDoctor', AccessPatientRecordsDocument, { first: 100 });
    const a1 = vd.data!.patients.edges.find((e) => e.node.id === c.patients.a1.id)!.node;
    expect(a1.conditions.map((x) => x.code)).toEqual(['I10']);
    expect(a1.carePlans).toHaveLength(1);
    expect(a1.coverages).toHaveLength(1);
  });

  test('searching by condition is refused outright', async () => {
    expectRefused(await as('insurerClient', AccessConditionSearchDocument, { kind: 'HYPERTENSION' }), 'FORBIDDEN');
    // … whereas a clinician may.
    const gp = await as('generalPractitioner', AccessConditionSearchDocument, { kind: 'HYPERTENSION' });
    expect(gp.data!.patients.totalCount).toBe(TOWNSHIP_A.length);
  });

  test('every mutation is FORBIDDEN and changes nothing', async () => {
    const em = t.em();
    const counts = async () => ({
      patients: await em.count(Patient, {}),
      observations: await em.count(Observation, {}),
      conditions: await em.count(Condition, {}),
      consents: await em.count(Consent, {}),
    });
    const before = await counts();
    const a1 = c.patients.a1.id;
    expectRefused(
      await as('insurerClient', RecordObservationDocument, { input: { patientId: a1, kind: 'BLOOD_PRESSURE', systolic: 120, diastolic: 80, effectiveAt: new Date().toISOString() } }),
      'FORBIDDEN',
    );
    expectRefused(await as('insurerClient', RegisterPatientDocument, { input: { name: '保险新增', gender: 'MALE', managingOrganizationId: c.orgs.A1.id } }), 'FORBIDDEN');
    expectRefused(await as('insurerClient', UpdatePatientDocument, { id: a1, version: 1, input: { phone: '13800000000' } }), 'FORBIDDEN');
    expectRefused(await as('insurerClient', AddConditionDocument, { input: { patientId: a1, code: 'E11.9', system: 'http://hl7.org/fhir/sid/icd-10' } }), 'FORBIDDEN');
    expectRefused(
      await as('insurerClient', AccessRecordConsentDocument, { input: { patientId: a1, purpose: 'INSURER_SHARING', decision: 'PERMIT', periodStart: todayUtc() } }),
      'FORBIDDEN',
    );
    expect(await counts()).toEqual(before);
    const stored = await t.em().findOneOrFail(Patient, { id: a1 });
    expect({ version: stored.version, phone: stored.phone ?? null }).toEqual({ version: 1, phone: null });
  });

  test('seeing a patient is not managing them: moving one needs the organisation they leave as well as the one they join', async () => {
    // The A1 village doctor sees a2Grid through her care team's grid, but A2 manages that patient.
    const id = c.patients.a2Grid.id;
    const before = await t.em().findOneOrFail(Patient, { id });
    expectRefused(await as('villageDoctor', UpdatePatientDocument, { id, version: before.version, input: { managingOrganizationId: c.orgs.A1.id } }), 'FORBIDDEN');
    const after = await t.em().findOneOrFail(Patient, { id });
    expect({ org: after.managingOrganization.id, version: after.version }).toEqual({ org: c.orgs.A2.id, version: before.version });
    // The township GP manages both villages and may move the patient between them (and back, for the other tests).
    const moved = await as('generalPractitioner', UpdatePatientDocument, { id, version: before.version, input: { managingOrganizationId: c.orgs.A1.id } });
    expect(moved.errors).toBeUndefined();
    const back = await as('generalPractitioner', UpdatePatientDocument, { id, version: moved.data!.updatePatient.version, input: { managingOrganizationId: c.orgs.A2.id } });
    expect(back.errors).toBeUndefined();
  });
});

describe('consent to share with insurers', () => {
  test('a DENY recorded by the care team hides the patient from the insurer at once; a later PERMIT restores it', async () => {
    const a1 = c.patients.a1.id;
    const insurerSees = async () => (await visibleKeys('insurerClient')).keys.includes('a1');
    expect(await insurerSees()).toBe(true);

    const deny = await as('villageDoctor', AccessRecordConsentDocument, {
      input: { patientId: a1, purpose: 'INSURER_SHARING', decision: 'DENY', periodStart: todayUtc(), note: '患者撤回授权' },
    });
    expect(deny.errors).toBeUndefined();
    expect(deny.data!.recordConsent).toMatchObject({ purpose: 'INSURER_SHARING', decision: 'DENY', recordedBy: { id: c.people.vd.id } });

    expect(await insurerSees()).toBe(false);
    expectRefused(await as('insurerClient', AccessPatientDocument, { id: a1 }), 'NOT_FOUND');
    expect((await as('insurerClient', AccessObservationsDocument, { patientId: a1 })).data!.observations.totalCount).toBe(0);
    // Care is not affected.
    expect((await as('villageDoctor', AccessPatientDocument, { id: a1 })).data!.patient.id).toBe(a1);

    const permit = await as('generalPractitioner', AccessRecordConsentDocument, {
      input: { patientId: a1, purpose: 'INSURER_SHARING', decision: 'PERMIT', periodStart: todayUtc() },
    });
    expect(permit.errors).toBeUndefined();
    expect(await insurerSees()).toBe(true);
    expect((await as('insurerClient', AccessPatientDocument, { id: a1 })).data!.patient.id).toBe(a1);
  });

  test("the patient's latest word wins: a withdrawal recorded after a PERMIT hides the patient even when back-dated", async () => {
    // b1Sp2 denied in 2024 and permitted from 2025-06-01. Now the patient says sharing should have stopped in January.
    expect((await visibleKeys('insurerClient')).keys).toContain('b1Sp2');
    const res = await as('townshipBDoctor', AccessRecordConsentDocument, {
      input: { patientId: c.patients.b1Sp2.id, purpose: 'INSURER_SHARING', decision: 'DENY', periodStart: '2025-01-01' },
    });
    expect(res.errors).toBeUndefined();
    expect((await visibleKeys('insurerClient')).keys).not.toContain('b1Sp2');
    expectRefused(await as('insurerClient', AccessPatientDocument, { id: c.patients.b1Sp2.id }), 'NOT_FOUND');
  });

  test('a DENY that starts in the future does not hide the patient yet', async () => {
    const res = await as('townshipBDoctor', AccessRecordConsentDocument, {
      input: { patientId: c.patients.b1.id, purpose: 'INSURER_SHARING', decision: 'DENY', periodStart: '2099-01-01' },
    });
    expect(res.errors).toBeUndefined();
    expect((await visibleKeys('insurerClient')).keys).toContain('b1');
  });

  test('a community administrator may record consent; nobody may for a patient they cannot see', async () => {
    const ok = await as('communityAdmin', AccessRecordConsentDocument, {
      input: { patientId: c.patients.b1Sp2.id, purpose: 'RESEARCH', decision: 'DENY', periodStart: todayUtc() },
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.recordConsent.recordedBy).toEqual({ id: c.people.ca.id });

    const before = await t.em().count(Consent, {});
    const res = await as('villageDoctor', AccessRecordConsentDocument, {
      input: { patientId: c.patients.b1.id, purpose: 'INSURER_SHARING', decision: 'DENY', periodStart: todayUtc() },
    });
    expect(res.data ?? null).toBeNull();
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    expect(await t.em().count(Consent, {})).toBe(before);
    expect((await visibleKeys('insurerClient')).keys).toContain('b1');
  });
});

describe('consent to treatment', () => {
  test('a TREATMENT DENY keeps the patient from the grid, team and referral paths; a later PERMIT by the managing township restores them', async () => {
    const id = c.patients.a2NoTx.id;
    expectRefused(await as('villageDoctor', AccessPatientDocument, { id }), 'NOT_FOUND');
    expectRefused(await as('hospitalClient', AccessPatientDocument, { id }), 'NOT_FOUND');
    const permit = await as('generalPractitioner', AccessRecordConsentDocument, {
      input: { patientId: id, purpose: 'TREATMENT', decision: 'PERMIT', periodStart: '2025-01-01', note: '患者同意共享诊疗信息' },
    });
    expect(permit.errors).toBeUndefined();
    expect((await visibleKeys('villageDoctor')).keys).toContain('a2NoTx');
    expect((await visibleKeys('hospitalClient')).keys).toContain('a2NoTx');
    expect((await visibleKeys('outsideSpecialist')).keys).toContain('a2NoTx');
  });
});

describe('resident ID numbers', () => {
  const shown = async (caller: CallerName, key: PatientKey) => {
    const res = await as(caller, AccessIdentifiersDocument, { id: c.patients[key].id });
    expect(res.errors).toBeUndefined();
    const ids = res.data!.patient.identifiers.filter((i) => i.kind === 'RESIDENT_ID');
    expect(ids).toHaveLength(1);
    return ids[0]!.value;
  };

  test('masked for the platform administrator, specialist, community administrator and insurer; in full for the village doctor, GP and hospital', async () => {
    const full = c.residentIds.a1;
    // The area code only: the birth date, sequence and check character are hidden (test/security/graphql-findings.test.ts).
    const mask = `${full.slice(0, 6)}${'*'.repeat(12)}`;
    expect(maskIdentifier(full)).toBe(mask);
    for (const caller of ['platformAdmin', 'specialist', 'communityAdmin', 'insurerClient'] as const) {
      expect({ caller, value: await shown(caller, 'a1') }).toEqual({ caller, value: mask });
    }
    for (const caller of ['villageDoctor', 'generalPractitioner', 'publicHealth'] as const) {
      expect({ caller, value: await shown(caller, 'a1') }).toEqual({ caller, value: full });
    }
    expect(await shown('hospitalClient', 'a2')).toBe(c.residentIds.a2);
  });

  test('the mask is not a key: looking a patient up by it finds no one', async () => {
    const mask = maskIdentifier(c.residentIds.a1);
    const res = await as('platformAdmin', AccessPatientByIdentifierDocument, { system: SYSTEMS.residentId, value: mask });
    expect(res.data!.patientByIdentifier).toBeNull();
  });

  test('the database holds only the mask, a keyed hash and a ciphertext — never the number', async () => {
    const full = c.residentIds.a1;
    const rows = (await t
      .em()
      .getConnection()
      .execute('select value, lookup, cipher from patient_identifier where patient_id = ? and kind = ?', [c.patients.a1.id, 'RESIDENT_ID'])) as Array<{
      value: string;
      lookup: string;
      cipher: string;
    }>;
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.value).toBe(maskIdentifier(full));
    expect(row.cipher).toEqual(expect.any(String));
    expect(row.cipher).not.toBe(full);
    expect(row.cipher).not.toContain(full);
    expect(Buffer.from(row.cipher, 'base64').toString('latin1')).not.toContain(full);
    expect(row.lookup).not.toContain(full);
    expect(row.lookup).toMatch(/^[0-9a-f]{64}$/);
    const anywhere = (await t.em().getConnection().execute(`select count(*) as n from patient_identifier where value = ? or lookup = ? or cipher = ?`, [full, full, full])) as Array<{
      n: string | number;
    }>;
    expect(Number(anywhere[0]!.n)).toBe(0);
  });
});

describe('authentication', () => {
  const post = (token?: string) => {
    const req = t.http.post('/graphql').set('content-type', 'application/json');
    if (token) req.set('authorization', `Bearer ${token}`);
    return req.send({ query: print(AccessViewerDocument) });
  };
  const expect401 = (res: { status: number; body: { errors?: Array<{ extensions?: { code?: string } }>; data?: unknown } }) => {
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.data).toBeUndefined();
  };
  const sign = (claims: Record<string, unknown>, key: CryptoKey | Uint8Array, options: { exp: number; alg?: string; kid?: string }) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? t.app.security.keys.signing.kid, typ: 'at+jwt' })
      .setIssuer(config.auth.issuer)
      .setAudience(config.auth.audience)
      .setSubject('someone')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(options.exp)
      .sign(key);
  const gpClaims = () => ({ ncd_kind: 'user', roles: ['GENERAL_PRACTITIONER'], org: c.orgs.A.code });

  test('a valid token is accepted (the control for the refusals below)', async () => {
    const res = await post(await sign(gpClaims(), t.app.security.keys.signing.privateKey, { exp: Math.floor(Date.now() / 1000) + 60 }));
    expect(res.status).toBe(200);
    expect(res.body.data.viewer.subject).toBe('someone');
  });

  test('no token → 401 UNAUTHENTICATED with a WWW-Authenticate challenge', async () => {
    const res = await post();
    expect401(res);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  test('an expired token → 401', async () => {
    expect401(await post(await sign(gpClaims(), t.app.security.keys.signing.privateKey, { exp: Math.floor(Date.now() / 1000) - 60 })));
  });

  test('a token naming an unknown organisation → 401', async () => {
    expect401(await post(await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: 'NO-SUCH-ORG' })));
    // … and a non-administrator token naming none at all.
    expect401(await post(await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'] })));
  });

  test('a token naming an unknown practitioner, or no role this service knows → 401', async () => {
    expect401(await post(await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: c.orgs.A.code, practitioner: 'NO-SUCH-PRACTITIONER' })));
    expect401(await post(await t.tokenFor({ roles: ['SUPERUSER'], org: c.orgs.A.code })));
  });

  test('a token signed by another key → 401', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    expect401(await post(await sign(gpClaims(), privateKey, { exp: Math.floor(Date.now() / 1000) + 60 })));
    // An HS256 token with the public key's parameters as the secret (algorithm confusion) as well.
    const secret = new TextEncoder().encode(JSON.stringify(t.app.security.keys.signing.publicJwk));
    expect401(await post(await sign(gpClaims(), secret, { exp: Math.floor(Date.now() / 1000) + 60, alg: 'HS256' })));
  });

  test('a system token for a client that is not registered → 401', async () => {
    expect401(await post(await t.app.security.tokens.sign({ ncd_kind: 'system', scope: 'system/Patient.rs' }, 'no-such-client')));
  });
});
