/**
 * Findings of the outside security test of the GraphQL API, each reproduced here against the real app:
 *
 * 1. Access through a referral follows its state: requested and accepted referrals grant it, a completed one for
 *    REFERRAL_ACCESS_DAYS_AFTER_COMPLETION days, a rejected or cancelled one nothing.
 * 2. A record says who did the work, and the caller cannot say it was someone else: the performer, author or
 *    practitioner is the caller or a practitioner of the caller's organisation (or one below it), the organisation
 *    the caller's or one below it; unnamed, they are the caller's own.
 * 3. Registering a patient whose identifier the county already holds is refused without saying which identifier
 *    matched or whose record it is, and the attempt is audited against the record it ran into.
 * 4. A masked resident ID, with everything else the same caller is shown, does not give back the number.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { randomUUID } from 'node:crypto';
import { type Caller, ClientKind, Role } from '../../src/access/caller.js';
import { maskIdentifier } from '../../src/access/identifier-protection.js';
import { entityManagerFor } from '../../src/access/index.js';
import { DEFAULT_POLICY_SETTINGS } from '../../src/access/policy.js';
import { scopesForRoles } from '../../src/access/scopes.js';
import { loadConfig } from '../../src/config.js';
import { CarePlan } from '../../src/domain/care-plan/care-plan.entity.js';
import { FollowUp } from '../../src/domain/follow-up/follow-up.entity.js';
import { Observation, ObservationKind, ObservationSource } from '../../src/domain/observation/observation.entity.js';
import type { Organization } from '../../src/domain/organization/organization.entity.js';
import { Gender } from '../../src/domain/patient/gender.js';
import { Patient } from '../../src/domain/patient/patient.entity.js';
import { parseResidentId } from '../../src/domain/patient/resident-id.js';
import { Referral } from '../../src/domain/referral/referral.entity.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty, smartToken } from '../helpers/access-fixtures.js';
import { residentId, SYSTEMS } from '../helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from '../helpers/refusals.js';
import {
  AccessPatientDocument,
  AccessReferralPatientDocument,
  SecAcceptReferralDocument,
  SecCancelReferralDocument,
  SecCompleteReferralDocument,
  SecCreateCarePlanDocument,
  SecCreateReferralDocument,
  SecObservationCountDocument,
  SecPatientShownDocument,
  SecRecordFollowUpDocument,
  SecRecordObservationDocument,
  SecRecordObservationsDocument,
  SecRegisterPatientDocument,
  SecRejectReferralDocument,
  SecUpdatePatientDocument,
} from '../generated/graphql.js';

let t: TestApp;
let c: AccessCounty;
const tokens = {} as Record<'vd' | 'gp' | 'gpB' | 'sp' | 'sp2' | 'ca' | 'admin' | 'hospital' | 'insurer', string>;
type Who = keyof typeof tokens;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'GQF');
  const person = (sub: string, role: string, org: keyof AccessCounty['orgs'], practitioner: keyof AccessCounty['people']) =>
    t.tokenFor({ sub, roles: [role], org: c.orgs[org].code, practitioner: c.people[practitioner].code });
  tokens.vd = await person('gqf-vd', 'VILLAGE_DOCTOR', 'A1', 'vd');
  tokens.gp = await person('gqf-gp', 'GENERAL_PRACTITIONER', 'A', 'gp');
  tokens.gpB = await person('gqf-gpb', 'GENERAL_PRACTITIONER', 'B', 'gpB');
  tokens.sp = await person('gqf-sp', 'SPECIALIST', 'C', 'sp');
  tokens.sp2 = await person('gqf-sp2', 'SPECIALIST', 'S', 'sp2');
  tokens.ca = await person('gqf-ca', 'COMMUNITY_ADMIN', 'C', 'ca');
  tokens.admin = await t.tokenFor({ sub: 'gqf-admin', roles: ['PLATFORM_ADMIN'] });
  tokens.hospital = (
    await smartToken(t, t.em(), {
      kind: ClientKind.HOSPITAL,
      organizationCode: c.orgs.S.code,
      scopes: ['system/Patient.rs', 'system/Observation.crs', 'system/ServiceRequest.rs'],
    })
  ).token;
  tokens.insurer = (await smartToken(t, t.em(), { kind: ClientKind.INSURER, organizationCode: c.orgs.I1.code, scopes: ['system/Patient.rs', 'system/Observation.rs'] })).token;
});
afterAll(() => t?.close());

const as = <R, V>(who: Who, doc: TypedDocumentNode<R, V>, variables: V) => t.gql(doc, variables, tokens[who]);

async function ok<R, V>(who: Who, doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const res = await as(who, doc, variables);
  expect(res.errors).toBeUndefined();
  return res.data!;
}

/** Posts an operation with its own request id, for finding its audit record. */
async function sendWithId<R, V>(who: Who, doc: TypedDocumentNode<R, V>, variables: V): Promise<{ res: ExecutionResult<R>; requestId: string }> {
  const requestId = `gqf-${randomUUID()}`;
  const res = await t.http
    .post('/graphql')
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${tokens[who]}`)
    .set('x-request-id', requestId)
    .send({ query: print(doc), variables });
  return { res: res.body as ExecutionResult<R>, requestId };
}

/** uuid[] arrives as an array from node-postgres, as its text form from PGlite: either way, a sorted array. */
function uuidArray(value: unknown): string[] {
  const list = Array.isArray(value) ? value : String(value).replace(/^\{|\}$/g, '').split(',').filter(Boolean);
  return (list as string[]).map(String).sort();
}

async function auditRows(requestId: string) {
  const rows = (await t.em().getConnection().execute('select action, outcome, patient_ids, what from audit_event where request_id = ?', [requestId])) as Array<{
    action: string;
    outcome: string;
    patient_ids: unknown;
    what: string;
  }>;
  return rows.map((r) => ({ ...r, patient_ids: uuidArray(r.patient_ids) }));
}

let patientSeq = 0;
/** A patient managed at `org` with `readings` blood pressures and no other tie to anyone: only referrals can reveal them. */
async function isolatedPatient(org: Organization, readings = 20): Promise<Patient> {
  const em = t.em();
  const patient = em.create(Patient, { name: `GQF隔离${++patientSeq}`, gender: Gender.MALE, birthDate: '1961-05-0' + ((patientSeq % 9) + 1), managingOrganization: org, version: 1 } as never) as Patient;
  for (let i = 0; i < readings; i++) {
    em.create(Observation, {
      patient,
      kind: ObservationKind.BLOOD_PRESSURE,
      code: '85354-9',
      system: 'http://loinc.org',
      systolic: 140 + (i % 20),
      diastolic: 85,
      unit: 'mm[Hg]',
      effectiveAt: new Date(Date.UTC(2026, 0, 1 + i)),
      source: ObservationSource.CLINIC,
      version: 1,
    } as never);
  }
  await em.flush();
  return patient;
}

/** What `who` sees of a patient: the patient itself (or not), and how many of its readings. */
async function sees(who: Who, patientId: string): Promise<{ patient: boolean; readings: number }> {
  const byId = await as(who, AccessPatientDocument, { id: patientId });
  const observations = await ok(who, SecObservationCountDocument, { patientId });
  return { patient: byId.data?.patient?.id === patientId, readings: observations.observations.totalCount };
}
const SEEN = { patient: true, readings: 20 };
const UNSEEN = { patient: false, readings: 0 };

/** Township B's GP refers a B1 patient up to the outside county hospital S, addressed to its specialist sp2. */
async function referToS(patientId: string) {
  return (
    await ok('gpB', SecCreateReferralDocument, {
      input: { patientId, direction: 'UP', fromOrganizationId: c.orgs.B1.id, toOrganizationId: c.orgs.S.id, toPractitionerId: c.people.sp2.id, reason: 'POOR_CONTROL' },
    })
  ).createReferral;
}

describe('finding 1: access through a referral follows its state', () => {
  test('requested: the specialist it is addressed to and the receiving hospital see the patient; rejected: neither does', async () => {
    const p = await isolatedPatient(c.orgs.B1);
    expect(await sees('sp2', p.id)).toEqual(UNSEEN);
    expect(await sees('hospital', p.id)).toEqual(UNSEEN);

    const referral = await referToS(p.id);
    expect(referral.status).toBe('REQUESTED');
    expect(await sees('sp2', p.id)).toEqual(SEEN);
    expect(await sees('hospital', p.id)).toEqual(SEEN);

    expect((await ok('sp2', SecRejectReferralDocument, { id: referral.id, reason: '本院无床位' })).rejectReferral.status).toBe('REJECTED');
    expect(await sees('sp2', p.id)).toEqual(UNSEEN);
    expect(await sees('hospital', p.id)).toEqual(UNSEEN);
    // The receiver keeps its own record of the referral it rejected, but not the patient behind it.
    const kept = await as('sp2', AccessReferralPatientDocument, { id: referral.id });
    expect(kept.data?.referral).toMatchObject({ id: referral.id, patient: null });
    expect(kept.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    // The managing side is untouched.
    expect(await sees('gpB', p.id)).toEqual(SEEN);
  });

  test('cancelled by the sender: the receiving side sees the patient no longer', async () => {
    const p = await isolatedPatient(c.orgs.B1);
    const referral = await referToS(p.id);
    expect(await sees('sp2', p.id)).toEqual(SEEN);
    expect((await ok('gpB', SecCancelReferralDocument, { id: referral.id, reason: '患者拒绝转诊' })).cancelReferral.status).toBe('CANCELLED');
    expect(await sees('sp2', p.id)).toEqual(UNSEEN);
    expect(await sees('hospital', p.id)).toEqual(UNSEEN);
  });

  test('accepted: seen; completed: seen for 30 days (the default) after completion, then not', async () => {
    const p = await isolatedPatient(c.orgs.B1);
    const referral = await referToS(p.id);
    expect((await ok('sp2', SecAcceptReferralDocument, { id: referral.id })).acceptReferral.status).toBe('ACCEPTED');
    expect(await sees('sp2', p.id)).toEqual(SEEN);
    expect((await ok('sp2', SecCompleteReferralDocument, { id: referral.id })).completeReferral.status).toBe('COMPLETED');
    expect(await sees('sp2', p.id)).toEqual(SEEN);
    expect(await sees('hospital', p.id)).toEqual(SEEN);

    const completedDaysAgo = (days: number) =>
      t.em().getConnection().execute('update referral set completed_at = ? where id = ?', [new Date(Date.now() - days * 86_400_000).toISOString(), referral.id]);
    await completedDaysAgo(29);
    expect(await sees('sp2', p.id)).toEqual(SEEN);
    await completedDaysAgo(31);
    expect(await sees('sp2', p.id)).toEqual(UNSEEN);
    expect(await sees('hospital', p.id)).toEqual(UNSEEN);
  });

  test('REFERRAL_ACCESS_DAYS_AFTER_COMPLETION: read by the configuration (default 30), applied by the policy the access layer builds', async () => {
    expect(loadConfig({ NODE_ENV: 'test' }).referralAccessDaysAfterCompletion).toBe(30);
    expect(loadConfig({ NODE_ENV: 'test', REFERRAL_ACCESS_DAYS_AFTER_COMPLETION: '7' }).referralAccessDaysAfterCompletion).toBe(7);
    expect(() => loadConfig({ NODE_ENV: 'test', REFERRAL_ACCESS_DAYS_AFTER_COMPLETION: 'a month' })).toThrow(/REFERRAL_ACCESS_DAYS_AFTER_COMPLETION/);
    expect(DEFAULT_POLICY_SETTINGS).toEqual({ referralAccessDaysAfterCompletion: 30 });
    expect(t.app.security.policySettings).toEqual({ referralAccessDaysAfterCompletion: 30 });

    const p = await isolatedPatient(c.orgs.B1, 0);
    const referral = await referToS(p.id);
    await ok('sp2', SecAcceptReferralDocument, { id: referral.id });
    await ok('sp2', SecCompleteReferralDocument, { id: referral.id });
    await t.em().getConnection().execute('update referral set completed_at = ? where id = ?', [new Date(Date.now() - 45 * 86_400_000).toISOString(), referral.id]);
    const sp2: Caller = {
      kind: 'user',
      subject: 'gqf-sp2',
      roles: [Role.SPECIALIST],
      scopes: scopesForRoles([Role.SPECIALIST]),
      organizationId: c.orgs.S.id,
      organizationPath: c.orgs.S.path,
      practitionerId: c.people.sp2.id,
    };
    const visibleWith = async (days?: number) => {
      const { em } = entityManagerFor(t.orm, sp2, days === undefined ? undefined : { referralAccessDaysAfterCompletion: days });
      return (await em.count(Patient, { id: p.id })) === 1;
    };
    expect(await visibleWith()).toBe(false);
    expect(await visibleWith(60)).toBe(true);
    expect(await visibleWith(44)).toBe(false);
    expect(await visibleWith(0)).toBe(false);
  });
});

describe('finding 2: a record names the caller, or a colleague of the caller, as having done the work', () => {
  const reading = (extra: Record<string, unknown> = {}) => ({
    patientId: c.patients.a1.id,
    kind: 'BLOOD_PRESSURE' as const,
    systolic: 132,
    diastolic: 84,
    effectiveAt: new Date().toISOString(),
    ...extra,
  });
  const observations = () => t.em().count(Observation, {});

  test('recordObservation: another organisation’s practitioner or organisation is FORBIDDEN, and nothing is stored', async () => {
    await expectRefusedUnchanged(observations, () => as('vd', SecRecordObservationDocument, { input: reading({ performerId: c.people.sp2.id }) }), 'FORBIDDEN', 'input.performerId');
    await expectRefusedUnchanged(observations, () => as('vd', SecRecordObservationDocument, { input: reading({ organizationId: c.orgs.S.id }) }), 'FORBIDDEN', 'input.organizationId');
    // A practitioner of the township above is not the village clinic's to name either.
    await expectRefusedUnchanged(observations, () => as('vd', SecRecordObservationDocument, { input: reading({ performerId: c.people.gp.id }) }), 'FORBIDDEN', 'input.performerId');
    await expectRefusedUnchanged(observations, () => as('vd', SecRecordObservationDocument, { input: reading({ organizationId: c.orgs.A.id }) }), 'FORBIDDEN', 'input.organizationId');
    // An unknown id stays what it was: a bad input.
    expectRefusal(await as('vd', SecRecordObservationDocument, { input: reading({ performerId: randomUUID() }) }), 'BAD_USER_INPUT', 'input.performerId');
  });

  test('recordObservation: unnamed, the performer and organisation are the caller’s; a home reading has no performer', async () => {
    const own = (await ok('vd', SecRecordObservationDocument, { input: reading() })).recordObservation;
    expect(own).toMatchObject({ performer: { id: c.people.vd.id }, organization: { id: c.orgs.A1.id } });
    const home = (await ok('vd', SecRecordObservationDocument, { input: reading({ source: 'HOME' }) })).recordObservation;
    expect(home).toMatchObject({ source: 'HOME', performer: null, organization: { id: c.orgs.A1.id } });
    // Naming oneself is naming oneself.
    const self = (await ok('vd', SecRecordObservationDocument, { input: reading({ performerId: c.people.vd.id, organizationId: c.orgs.A1.id }) })).recordObservation;
    expect(self).toMatchObject({ performer: { id: c.people.vd.id }, organization: { id: c.orgs.A1.id } });
  });

  test('recordObservation: the township may name a practitioner and clinic below it; an administrator anyone; a hospital its own staff', async () => {
    const below = (await ok('gp', SecRecordObservationDocument, { input: reading({ performerId: c.people.vd.id, organizationId: c.orgs.A1.id }) })).recordObservation;
    expect(below).toMatchObject({ performer: { id: c.people.vd.id }, organization: { id: c.orgs.A1.id } });
    const admin = (await ok('admin', SecRecordObservationDocument, { input: reading({ performerId: c.people.sp2.id, organizationId: c.orgs.S.id }) })).recordObservation;
    expect(admin).toMatchObject({ performer: { id: c.people.sp2.id }, organization: { id: c.orgs.S.id } });

    const s = c.patients.s.id;
    const hospital = (await ok('hospital', SecRecordObservationDocument, { input: reading({ patientId: s, performerId: c.people.sp2.id }) })).recordObservation;
    expect(hospital).toMatchObject({ performer: { id: c.people.sp2.id }, organization: { id: c.orgs.S.id } });
    const unnamed = (await ok('hospital', SecRecordObservationDocument, { input: reading({ patientId: s }) })).recordObservation;
    expect(unnamed).toMatchObject({ performer: null, organization: { id: c.orgs.S.id } });
    await expectRefusedUnchanged(observations, () => as('hospital', SecRecordObservationDocument, { input: reading({ patientId: s, performerId: c.people.vd.id }) }), 'FORBIDDEN', 'input.performerId');
  });

  test('recordObservations: one reading naming someone else refuses the batch, at its position', async () => {
    await expectRefusedUnchanged(
      observations,
      () => as('vd', SecRecordObservationsDocument, { inputs: [reading(), reading({ performerId: c.people.sp2.id })] }),
      'FORBIDDEN',
      'inputs.1.performerId',
    );
    await expectRefusedUnchanged(
      observations,
      () => as('vd', SecRecordObservationsDocument, { inputs: [reading({ organizationId: c.orgs.B1.id }), reading()] }),
      'FORBIDDEN',
      'inputs.0.organizationId',
    );
    const batch = (await ok('vd', SecRecordObservationsDocument, { inputs: [reading(), reading({ performerId: c.people.vd.id })] })).recordObservations;
    expect(batch).toEqual([expect.objectContaining({ performer: { id: c.people.vd.id }, organization: { id: c.orgs.A1.id } }), expect.objectContaining({ performer: { id: c.people.vd.id } })]);
  });

  test('recordFollowUp: the same rule for its practitioner and organisation', async () => {
    const visit = (extra: Record<string, unknown> = {}) => ({ patientId: c.patients.a1.id, type: 'CLINIC' as const, doneDate: '2026-01-10', ...extra });
    const followUps = () => t.em().count(FollowUp, {});
    await expectRefusedUnchanged(followUps, () => as('vd', SecRecordFollowUpDocument, { input: visit({ practitionerId: c.people.sp2.id }) }), 'FORBIDDEN', 'practitionerId');
    await expectRefusedUnchanged(followUps, () => as('vd', SecRecordFollowUpDocument, { input: visit({ organizationId: c.orgs.S.id }) }), 'FORBIDDEN', 'organizationId');
    const own = (await ok('vd', SecRecordFollowUpDocument, { input: visit() })).recordFollowUp.followUp;
    expect(own).toMatchObject({ practitioner: { id: c.people.vd.id }, organization: { id: c.orgs.A1.id } });
  });

  test('createCarePlan: the same rule for its author and organisation', async () => {
    const plan = (extra: Record<string, unknown> = {}) => ({ patientId: c.patients.a1.id, title: '血压管理', periodStart: '2026-01-01', ...extra });
    const plans = () => t.em().count(CarePlan, {});
    await expectRefusedUnchanged(plans, () => as('vd', SecCreateCarePlanDocument, { input: plan({ authorId: c.people.sp2.id }) }), 'FORBIDDEN', 'authorId');
    await expectRefusedUnchanged(plans, () => as('vd', SecCreateCarePlanDocument, { input: plan({ organizationId: c.orgs.S.id }) }), 'FORBIDDEN', 'organizationId');
    const own = (await ok('vd', SecCreateCarePlanDocument, { input: plan() })).createCarePlan;
    expect(own).toMatchObject({ author: { id: c.people.vd.id }, organization: { id: c.orgs.A1.id } });
  });

  test('createReferral: the sender is the caller or a colleague; the practitioner it is addressed to works where it goes', async () => {
    const referral = (extra: Record<string, unknown> = {}) => ({
      patientId: c.patients.a1Team.id,
      direction: 'UP' as const,
      fromOrganizationId: c.orgs.A1.id,
      toOrganizationId: c.orgs.C.id,
      reason: 'POOR_CONTROL' as const,
      ...extra,
    });
    const referrals = () => t.em().count(Referral, {});
    await expectRefusedUnchanged(referrals, () => as('vd', SecCreateReferralDocument, { input: referral({ fromPractitionerId: c.people.sp2.id }) }), 'FORBIDDEN', 'fromPractitionerId');
    // Addressing a referral to a practitioner lets them see the patient: only one who works at the receiving end.
    await expectRefusedUnchanged(referrals, () => as('vd', SecCreateReferralDocument, { input: referral({ toPractitionerId: c.people.sp2.id }) }), 'FORBIDDEN', 'toPractitionerId');
    const sent = (await ok('vd', SecCreateReferralDocument, { input: referral({ toPractitionerId: c.people.sp.id }) })).createReferral;
    expect(sent).toMatchObject({ status: 'REQUESTED', fromPractitioner: { id: c.people.vd.id }, toPractitioner: { id: c.people.sp.id } });

    // On accepting, the receiver names who takes the patient on: one of its own.
    expectRefusal(await as('sp', SecAcceptReferralDocument, { id: sent.id, toPractitionerId: c.people.sp2.id }), 'FORBIDDEN', 'toPractitionerId');
    expect((await t.em().findOneOrFail(Referral, { id: sent.id })).status).toBe('REQUESTED');
    const accepted = (await ok('sp', SecAcceptReferralDocument, { id: sent.id, toPractitionerId: c.people.sp.id })).acceptReferral;
    expect(accepted).toMatchObject({ status: 'ACCEPTED', toPractitioner: { id: c.people.sp.id } });
  });
});

describe('finding 3: registering an identifier the county already holds', () => {
  const EXPECTED = 'a record with these identifiers already exists in the county; ask its managing organisation for a transfer';

  function expectQuietConflict(res: ExecutionResult<unknown>, existingId: string) {
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    const error = res.errors![0]!;
    expect({ message: error.message, extensions: error.extensions }).toEqual({ message: EXPECTED, extensions: { code: 'CONFLICT' } });
    const text = JSON.stringify(res);
    expect(text).not.toContain(existingId);
    expect(text).not.toContain(SYSTEMS.residentId);
    expect(text).not.toContain(SYSTEMS.healthRecord);
  }

  test('registerPatient: CONFLICT naming neither the identifier nor the record, audited against the record it matched', async () => {
    const a1 = c.patients.a1;
    const input = { name: '重复登记', gender: 'FEMALE' as const, managingOrganizationId: c.orgs.B1.id, identifiers: [{ system: SYSTEMS.residentId, value: c.residentIds.a1 }] };
    const patients = () => t.em().count(Patient, {});
    const before = await patients();
    const { res, requestId } = await sendWithId('gpB', SecRegisterPatientDocument, { input });
    expectQuietConflict(res, a1.id);
    expect(await patients()).toBe(before);
    expect(await auditRows(requestId)).toEqual([expect.objectContaining({ action: 'CREATE', outcome: 'FAILURE', patient_ids: [a1.id] })]);

    // The same answer whichever of several identifiers matched, and in whatever case the number was typed.
    const healthRecord = { system: SYSTEMS.healthRecord, value: '33032600100100001' };
    const lower = { ...input, identifiers: [healthRecord, { system: SYSTEMS.residentId, value: c.residentIds.a1.toLowerCase() }] };
    const again = await sendWithId('gpB', SecRegisterPatientDocument, { input: lower });
    expectQuietConflict(again.res, a1.id);
    expect((await auditRows(again.requestId))[0]?.patient_ids).toEqual([a1.id]);
  });

  test('updatePatient: giving a patient another patient’s identifier is the same CONFLICT, audited against both', async () => {
    // A patient of township B with no birth date yet, so the resident ID's own birth date is no objection.
    const own = (await ok('gpB', SecRegisterPatientDocument, { input: { name: '待补证件', gender: 'FEMALE', managingOrganizationId: c.orgs.B1.id } })).registerPatient.id;
    const a2 = c.patients.a2;
    const { res, requestId } = await sendWithId('gpB', SecUpdatePatientDocument, {
      id: own,
      version: 1,
      input: { identifiers: [{ system: SYSTEMS.residentId, value: c.residentIds.a2 }] },
    });
    expectQuietConflict(res, a2.id);
    expect(await auditRows(requestId)).toEqual([expect.objectContaining({ action: 'UPDATE', outcome: 'FAILURE', patient_ids: [a2.id, own].sort() })]);
    const stored = await t.em().findOneOrFail(Patient, { id: own });
    expect({ version: stored.version, birthDate: stored.birthDate ?? null }).toEqual({ version: 1, birthDate: null });
  });

  test('a new identifier still registers, and keeping one’s own identifier is no conflict', async () => {
    const value = residentId('1970-02-02', true);
    const registered = await sendWithId('gpB', SecRegisterPatientDocument, {
      input: { name: '新登记', gender: 'MALE', managingOrganizationId: c.orgs.B1.id, identifiers: [{ system: SYSTEMS.residentId, value }] },
    });
    expect(registered.res.errors).toBeUndefined();
    const id = registered.res.data!.registerPatient.id;
    const updated = await ok('gpB', SecUpdatePatientDocument, { id, version: 1, input: { identifiers: [{ system: SYSTEMS.residentId, value }] } });
    expect(updated.updatePatient.id).toBe(id);
  });
});

describe('finding 4: a masked resident ID cannot be rebuilt from what the same caller sees', () => {
  /**
   * Every resident ID consistent with what is shown: the mask's visible characters, the patient's birth date (the
   * ID's digits 7–14), the sex (the parity of digit 17) and the check character (ISO 7064 MOD 11-2 of the rest).
   */
  function candidates(mask: string, birthDate: string | null | undefined, gender: string): string[] {
    expect(mask).toHaveLength(18);
    const hidden = [...mask].flatMap((ch, i) => (ch === '*' && !(birthDate && i >= 6 && i < 14) ? [i] : []));
    // Beyond a few hidden characters the count is only larger: enumerate those of the sequence and check.
    expect(hidden.length).toBeLessThanOrEqual(6);
    const birth = birthDate?.replaceAll('-', '');
    const out: string[] = [];
    const chars = (i: number) => (i === 17 ? '0123456789X' : '0123456789');
    const walk = (i: number, prefix: string) => {
      if (i === 18) {
        const parts = parseResidentId(prefix);
        if (parts && (gender === 'MALE' ? parts.male : gender === 'FEMALE' ? !parts.male : true)) out.push(prefix);
        return;
      }
      if (birth && i >= 6 && i < 14) {
        if (mask[i] !== '*' && mask[i] !== birth[i - 6]) return;
        return walk(i + 1, prefix + birth[i - 6]);
      }
      if (mask[i] !== '*') return walk(i + 1, prefix + mask[i]);
      for (const ch of chars(i)) walk(i + 1, prefix + ch);
    };
    walk(0, '');
    return out;
  }

  test('the mask shows the area code and hides the birth date, sequence and check character', () => {
    const full = c.residentIds.a1;
    expect(maskIdentifier(full)).toBe(`${full.slice(0, 6)}${'*'.repeat(12)}`);
    // A value masked the old way masks to the same: the mask never depends on the characters it hides.
    expect(maskIdentifier(`${full.slice(0, 6)}********${full.slice(-4)}`)).toBe(maskIdentifier(full));
  });

  test.each(['admin', 'sp', 'ca', 'insurer'] as const)('%s: the mask, birth date and sex leave hundreds of candidates, the number among them', async (who) => {
    const key = 'a1';
    const shown = (await ok(who, SecPatientShownDocument, { id: c.patients[key].id })).patient;
    const masked = shown.identifiers.find((i) => i.kind === 'RESIDENT_ID')!.value;
    expect(masked).not.toBe(c.residentIds[key]);
    const found = candidates(masked, shown.birthDate, shown.gender);
    expect(found).toContain(c.residentIds[key]);
    expect(found.length).toBeGreaterThanOrEqual(100);
  });

  test('the old mask, by the same count, gave the number back: the test can tell', () => {
    const full = c.residentIds.a1;
    const old = `${full.slice(0, 6)}********${full.slice(-4)}`;
    expect(candidates(old, c.patients.a1.birthDate, 'FEMALE')).toEqual([full]);
  });

  test('the stored value is the new mask, for patients stored by the fixtures and registered through the API alike', async () => {
    const value = residentId('1966-06-06', false);
    const registered = await ok('gpB', SecRegisterPatientDocument, {
      input: { name: '掩码登记', gender: 'FEMALE', managingOrganizationId: c.orgs.B1.id, identifiers: [{ system: SYSTEMS.residentId, value }] },
    });
    const rows = (await t
      .em()
      .getConnection()
      .execute(`select patient_id, value from patient_identifier where kind = 'RESIDENT_ID' and patient_id in (?, ?)`, [registered.registerPatient.id, c.patients.a1.id])) as Array<{
      patient_id: string;
      value: string;
    }>;
    const byPatient = Object.fromEntries(rows.map((r) => [r.patient_id, r.value]));
    expect(byPatient).toEqual({ [registered.registerPatient.id]: maskIdentifier(value), [c.patients.a1.id]: maskIdentifier(c.residentIds.a1) });
    expect(Object.values(byPatient).every((v) => /^\d{6}\*{12}$/.test(v))).toBe(true);
  });

  test('values stored under the old mask are re-masked by the migration', async () => {
    const MIGRATION = 'Migration20261201120000_resident_id_mask';
    const full = c.residentIds.a2;
    const sql = t.em().getConnection();
    const stored = async () =>
      ((await sql.execute(`select value from patient_identifier where kind = 'RESIDENT_ID' and patient_id = ?`, [c.patients.a2.id])) as Array<{ value: string }>)[0]!.value;
    await sql.execute(`update patient_identifier set value = ? where kind = 'RESIDENT_ID' and patient_id = ?`, [`${full.slice(0, 6)}********${full.slice(-4)}`, c.patients.a2.id]);
    expect(candidates(await stored(), c.patients.a2.birthDate, 'FEMALE')).toEqual([full]);
    await t.orm.migrator.down({ migrations: [MIGRATION] });
    await t.orm.migrator.up({ migrations: [MIGRATION] });
    expect(await stored()).toBe(maskIdentifier(full));
    expect(await t.orm.migrator.getPending()).toEqual([]);
  });
});
