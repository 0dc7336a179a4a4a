import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { Admission } from '../src/domain/admission/admission.entity.js';
import { Alert } from '../src/care/alerts/alert.entity.js';
import { reassess } from '../src/care/index.js';
import { countyToday } from '../src/care-rules/calendar.js';
import { DEFAULT_CARE_RULES } from '../src/care-rules/rules.js';
import { addDays } from '../src/care-rules/follow-up-interval.js';
import type { EntityManager } from '../src/db/orm.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { MISSING_ID, type County } from './helpers/fixtures.js';
import { expectRefusedUnchanged } from './helpers/refusals.js';
import { FHIR_JSON } from './fhir/support.js';
import {
  AcceptReferralDocument,
  AcknowledgeAlertDocument,
  AddConditionDocument,
  AlertsDocument,
  CreateReferralDocument,
  PatientAlertsDocument,
  RecordFollowUpDocument,
  RecordObservationDocument,
  RegisterPatientDocument,
  ResolveAlertDocument,
  UpdatePatientDocument,
} from './generated/graphql.js';

// The alert rules (src/care-rules/alerts.ts) applied through the one entry point, reassess (src/care/index.ts), as
// the event consumer, the daily sweep and mutations call it; the facts written through GraphQL and FHIR.

let t: TestApp;
let county: County;
let vdToken: string;
let otherToken: string;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('AL'));
  vdToken = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  otherToken = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.otherVillage.code, sub: 'other-village' });
});
afterAll(() => t?.close());

const today = () => countyToday();
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

/** Reassesses one patient (today: the county's, or a day in the future for the time-based rules). */
async function derive(patientId: string, on = today()) {
  await t.em().transactional((em) => reassess(em as EntityManager, { patientIds: [patientId] }, DEFAULT_CARE_RULES, on));
}

async function alertsOf(patientId: string) {
  return (await t.ok(PatientAlertsDocument, { id: patientId, states: ['OPEN', 'ACKNOWLEDGED', 'RESOLVED'] })).patient.alerts;
}

const eventsOf = async (patientId: string) =>
  (await t.em().execute(`select type, payload from domain_event where patient_id = ? and aggregate_type = 'Alert' order by id`, [patientId])) as Array<{ type: string; payload: Record<string, unknown> }>;

async function newPatient(conditions: Array<'I10' | 'E11.9'> = ['I10'], extra: Record<string, unknown> = {}): Promise<string> {
  const id = (await t.ok(RegisterPatientDocument, { input: { name: '预警', gender: 'MALE', birthDate: '1955-05-05', managingOrganizationId: county.village.id, ...extra } })).registerPatient.id;
  for (const code of conditions) await t.ok(AddConditionDocument, { input: { patientId: id, code, system: 'http://hl7.org/fhir/sid/icd-10' } });
  return id;
}

const bp = (patientId: string, systolic: number, diastolic: number, effectiveAt = hoursAgo(1)) =>
  t.ok(RecordObservationDocument, { input: { patientId, kind: 'BLOOD_PRESSURE', systolic, diastolic, effectiveAt, organizationId: county.village.id } }, vdToken).then((r) => r.recordObservation.id);

const upReferral = (patientId: string) =>
  t.ok(CreateReferralDocument, { input: { patientId, direction: 'UP', fromOrganizationId: county.village.id, toOrganizationId: county.township.id, reason: 'POOR_CONTROL' } }, vdToken).then((r) => r.createReferral);

describe('urgent readings', () => {
  test('an urgent reading by GraphQL raises one urgent up-referral suggestion; deriving again changes nothing; a referral resolves it, by its sender', async () => {
    const patientId = await newPatient();
    const readingId = await bp(patientId, 186, 100);
    await derive(patientId);
    const [alert] = await alertsOf(patientId);
    expect(alert).toMatchObject({ kind: 'URGENT_REFERRAL', severity: 'URGENT', state: 'OPEN', conditionKind: 'HYPERTENSION', causeType: 'Observation', causeId: readingId, organization: { id: county.village.id }, patient: { id: patientId } });
    await derive(patientId);
    expect(await alertsOf(patientId)).toEqual([alert]);
    expect((await eventsOf(patientId)).map((e) => e.type)).toEqual(['AlertRaised']);
    expect((await eventsOf(patientId))[0]!.payload).toMatchObject({ kind: 'URGENT_REFERRAL', severity: 'URGENT', organizationId: county.village.id, causeId: readingId });

    const referral = await upReferral(patientId);
    await derive(patientId);
    const [resolved] = await alertsOf(patientId);
    expect(resolved).toMatchObject({ id: alert!.id, state: 'RESOLVED', version: alert!.version + 1, resolvedBy: { id: county.villageDoctor.id }, resolvedAt: referral.requestedAt });
    expect(resolved!.resolution).toContain(referral.id);
    expect((await eventsOf(patientId)).map((e) => e.type)).toEqual(['AlertRaised', 'AlertChanged']);
    // A second urgent reading after the referral: the referral was made before it, so it is news again.
    await bp(patientId, 190, 112, new Date().toISOString());
    await derive(patientId);
    expect((await alertsOf(patientId)).filter((a) => a.state === 'OPEN')).toHaveLength(1);
  });

  test('an urgent glucose sent in a FHIR Bundle raises one too; a high reading that is not urgent, or an old urgent one, raises none', async () => {
    const patientId = await newPatient(['E11.9']);
    await bp(patientId, 150, 95);
    await bp(patientId, 185, 95, hoursAgo(24 * (DEFAULT_CARE_RULES.alerts.urgentReadingWithinDays + 1)));
    const res = await t.http
      .post('/fhir')
      .set('authorization', `Bearer ${t.adminToken}`)
      .set('content-type', FHIR_JSON)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:0b7c9f7e-3f7a-4b7e-9a55-2f0d3c4b5a61',
            request: { method: 'POST', url: 'Observation' },
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { coding: [{ system: 'http://loinc.org', code: '1558-6' }] },
              subject: { reference: `Patient/${patientId}` },
              effectiveDateTime: hoursAgo(2),
              valueQuantity: { value: 18.2, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
            },
          },
        ],
      });
    expect(res.status).toBe(200);
    await derive(patientId);
    const alerts = await alertsOf(patientId);
    expect(alerts).toMatchObject([{ kind: 'URGENT_REFERRAL', severity: 'URGENT', conditionKind: 'TYPE_2_DIABETES', causeType: 'Observation' }]);
  });
});

describe('routine up-referral suggestions', () => {
  /** A visit whose control status is derived from the blood pressure taken at it (150/95 uncontrolled, 125/80 controlled). */
  const visit = (patientId: string, doneDate: string, control: 'CONTROLLED' | 'UNCONTROLLED', newComplication = false) => {
    const [systolic, diastolic] = control === 'CONTROLLED' ? [125, 80] : [150, 95];
    // 02:00 UTC of the day, or a minute ago when that is still to come: the county's today starts up to 8 hours before UTC's (a reading in the future is refused).
    const effectiveAt = new Date(Math.min(Date.parse(`${doneDate}T02:00:00.000Z`), Date.now() - 60_000)).toISOString();
    const readings = [{ kind: 'BLOOD_PRESSURE' as const, systolic, diastolic, effectiveAt }];
    return t.ok(RecordFollowUpDocument, { input: { patientId, type: 'CLINIC', doneDate, readings, newComplication } }, vdToken).then((r) => r.recordFollowUp.followUp);
  };

  test('two uncontrolled visits in a row suggest one, caused by the second; a controlled visit after them settles it', async () => {
    const patientId = await newPatient();
    await visit(patientId, addDays(today(), -20), 'UNCONTROLLED');
    await derive(patientId);
    expect(await alertsOf(patientId)).toEqual([]);
    const second = await visit(patientId, addDays(today(), -6), 'UNCONTROLLED');
    expect(second.controlStatus).toBe('UNCONTROLLED');
    await derive(patientId);
    const [alert] = await alertsOf(patientId);
    expect(alert).toMatchObject({ kind: 'UNCONTROLLED_REFERRAL', severity: 'ROUTINE', state: 'OPEN', causeType: 'FollowUp', causeId: second.id });
    await visit(patientId, today(), 'CONTROLLED');
    await derive(patientId);
    expect(await alertsOf(patientId)).toMatchObject([{ id: alert!.id, state: 'RESOLVED', resolvedBy: null, resolution: 'No longer two uncontrolled visits in a row.' }]);
  });

  test('not while an up-referral is open', async () => {
    const patientId = await newPatient();
    await upReferral(patientId);
    await visit(patientId, addDays(today(), -20), 'UNCONTROLLED');
    await visit(patientId, addDays(today(), -6), 'UNCONTROLLED', true);
    await derive(patientId);
    expect(await alertsOf(patientId)).toEqual([]);
  });

  test('a new complication — a diagnosis recorded, or found at a visit — suggests one; an old one does not', async () => {
    const patientId = await newPatient();
    const old = await t.ok(AddConditionDocument, { input: { patientId, code: 'I69.3', system: 'http://hl7.org/fhir/sid/icd-10', onsetDate: '2015-03-01' } });
    await derive(patientId);
    expect(await alertsOf(patientId)).toEqual([]);
    const chd = (await t.ok(AddConditionDocument, { input: { patientId, code: 'I25.1', system: 'http://hl7.org/fhir/sid/icd-10' } })).addCondition;
    const found = (await visit(patientId, today(), 'CONTROLLED', true)).id;
    await derive(patientId);
    const alerts = await alertsOf(patientId);
    expect(alerts.map((a) => [a.kind, a.causeType, a.causeId, a.conditionKind]).sort()).toEqual(
      [
        ['COMPLICATION_REFERRAL', 'Condition', chd.id, 'CHD'],
        ['COMPLICATION_REFERRAL', 'FollowUp', found, null],
      ].sort(),
    );
    expect(alerts.map((a) => a.causeId)).not.toContain(old.addCondition.id);
  });
});

describe('time-based alerts (the daily sweep, as of a later day)', () => {
  test('stable for the set time after a county-level stay suggests a down-referral; an uncontrolled reading takes it back', async () => {
    const patientId = await newPatient();
    const em = t.em();
    const discharged = new Date(Date.now() - (DEFAULT_CARE_RULES.alerts.stableDaysAfterAdmission + 2) * 86_400_000);
    const stay = em.create(Admission, { patient: patientId, kind: 'INPATIENT', status: 'FINISHED', organization: county.county.id, periodStart: new Date(discharged.getTime() - 5 * 86_400_000), periodEnd: discharged } as never) as Admission;
    await em.flush();
    await derive(patientId);
    expect(await alertsOf(patientId)).toEqual([]); // stable, but no reading shows it
    await bp(patientId, 128, 78, hoursAgo(24 * 3));
    await derive(patientId);
    const [alert] = await alertsOf(patientId);
    expect(alert).toMatchObject({ kind: 'DOWN_REFERRAL', severity: 'ROUTINE', causeType: 'Admission', causeId: stay.id, state: 'OPEN' });
    await bp(patientId, 150, 92);
    await derive(patientId);
    expect(await alertsOf(patientId)).toMatchObject([{ id: alert!.id, state: 'RESOLVED', resolution: expect.stringContaining('No longer stable') }]);
  });

  test('a referral still requested after the set days is not accepted in time; accepting it settles that', async () => {
    const patientId = await newPatient();
    const referral = await upReferral(patientId);
    await derive(patientId, addDays(today(), DEFAULT_CARE_RULES.alerts.referralAcceptanceDays - 1));
    expect((await alertsOf(patientId)).filter((a) => a.kind === 'REFERRAL_NOT_ACCEPTED')).toEqual([]);
    await derive(patientId, addDays(today(), DEFAULT_CARE_RULES.alerts.referralAcceptanceDays));
    const [alert] = await alertsOf(patientId);
    expect(alert).toMatchObject({ kind: 'REFERRAL_NOT_ACCEPTED', severity: 'ROUTINE', causeType: 'Referral', causeId: referral.id });
    const gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code });
    const accepted = (await t.ok(AcceptReferralDocument, { id: referral.id, version: referral.version }, gp)).acceptReferral;
    await derive(patientId, addDays(today(), DEFAULT_CARE_RULES.alerts.referralAcceptanceDays));
    expect(await alertsOf(patientId)).toMatchObject([{ id: alert!.id, state: 'RESOLVED', resolvedAt: accepted.acceptedAt, resolution: 'The referral was accepted.' }]);
  });

  test('a family-doctor contract about to expire raises a reminder; renewing it settles it', async () => {
    const patientId = await newPatient(['I10'], { familyDoctorTeamId: county.team.id, contractSignedOn: addDays(today(), -345), contractExpiresOn: addDays(today(), 20) });
    await derive(patientId);
    const [alert] = await alertsOf(patientId);
    expect(alert).toMatchObject({ kind: 'CONTRACT_EXPIRING', severity: 'INFO', causeType: 'PatientContract', state: 'OPEN' });
    const patient = (await t.ok(PatientAlertsDocument, { id: patientId })).patient;
    expect(patient.alerts).toHaveLength(1);
    const [row] = (await t.em().execute(`select version from patient where id = ?`, [patientId])) as Array<{ version: number }>;
    await t.ok(UpdatePatientDocument, { id: patientId, version: row!.version, input: { contractExpiresOn: addDays(today(), 385) } });
    await derive(patientId);
    expect(await alertsOf(patientId)).toMatchObject([{ id: alert!.id, state: 'RESOLVED', resolution: 'The family-doctor contract was renewed or ended.' }]);
  });
});

describe('acknowledging and resolving', () => {
  let patientId: string;
  let alert: { id: string; version: number };
  beforeAll(async () => {
    patientId = await newPatient();
    await bp(patientId, 200, 120);
    await derive(patientId);
    [alert] = await alertsOf(patientId);
  });
  const stored = () => t.em().findOneOrFail(Alert, { id: alert.id }).then((a) => ({ state: a.state, version: a.version, resolution: a.resolution }));

  test('someone who cannot see the patient: NOT_FOUND, for the alert as for its list', async () => {
    await expectRefusedUnchanged(stored, () => t.gql(AcknowledgeAlertDocument, { id: alert.id, version: alert.version }, otherToken), 'NOT_FOUND');
    expect((await t.ok(AlertsDocument, { filter: { patientIds: [patientId] } }, otherToken)).alerts).toMatchObject({ totalCount: 0, edges: [] });
    await expectRefusedUnchanged(stored, () => t.gql(AcknowledgeAlertDocument, { id: MISSING_ID, version: 1 }, vdToken), 'NOT_FOUND');
  });

  test('looking at one alert is audited as a read, the refused look too (as referral(id) and carePlan(id) are)', async () => {
    const lookAt = parse(`query LookAtAlert($id: ID!) { alert(id: $id) { id } }`) as TypedDocumentNode<{ alert: { id: string } }, { id: string }>;
    const looks = async (outcome: string) =>
      ((await t.em().execute(`select count(*)::int as n from audit_event where action = 'READ' and outcome = ? and what like '%LookAtAlert { alert }%'`, [outcome])) as Array<{ n: number }>)[0]!.n;
    const refused = await t.gql(lookAt, { id: alert.id }, otherToken);
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await looks('FAILURE')).toBe(1);
    expect((await t.ok(lookAt, { id: alert.id }, vdToken)).alert.id).toBe(alert.id);
    const [seen] = (await t.em().execute(`select patient_ids::text[] as ids from audit_event where outcome = 'SUCCESS' and what like '%LookAtAlert { alert }%'`)) as Array<{ ids: string[] }>;
    expect(seen?.ids).toEqual([patientId]);
  });

  test('acknowledged by the caller; a stale version or acknowledging twice is a CONFLICT', async () => {
    await expectRefusedUnchanged(stored, () => t.gql(AcknowledgeAlertDocument, { id: alert.id, version: alert.version + 1 }, vdToken), 'CONFLICT');
    const acked = (await t.ok(AcknowledgeAlertDocument, { id: alert.id, version: alert.version }, vdToken)).acknowledgeAlert;
    expect(acked).toMatchObject({ state: 'ACKNOWLEDGED', version: alert.version + 1, acknowledgedBy: { id: county.villageDoctor.id } });
    expect(acked.acknowledgedAt).toBeTruthy();
    await expectRefusedUnchanged(stored, () => t.gql(AcknowledgeAlertDocument, { id: alert.id, version: acked.version }, vdToken), 'CONFLICT');
    alert = acked;
  });

  test('resolved by the caller with what was done; without a word, BAD_USER_INPUT; twice, CONFLICT; the rules leave it resolved', async () => {
    await expectRefusedUnchanged(stored, () => t.gql(ResolveAlertDocument, { id: alert.id, version: alert.version, resolution: '  ' }, vdToken), 'BAD_USER_INPUT', 'resolution');
    const done = (await t.ok(ResolveAlertDocument, { id: alert.id, version: alert.version, resolution: '已电话通知，患者当日到县医院急诊' }, vdToken)).resolveAlert;
    expect(done).toMatchObject({ state: 'RESOLVED', resolvedBy: { id: county.villageDoctor.id }, resolution: '已电话通知，患者当日到县医院急诊' });
    await expectRefusedUnchanged(stored, () => t.gql(ResolveAlertDocument, { id: alert.id, version: done.version, resolution: 'again' }, vdToken), 'CONFLICT');
    await derive(patientId);
    expect(await alertsOf(patientId)).toMatchObject([{ id: alert.id, state: 'RESOLVED', version: done.version }]);
    expect((await eventsOf(patientId)).map((e) => e.type)).toEqual(['AlertRaised', 'AlertChanged', 'AlertChanged']);
  });
});

describe('alerts(filter, first, after)', () => {
  test('keyset pages, newest first; filters by severity, kind and organisation; audited with the patients shown', async () => {
    const a = await newPatient();
    const b = await newPatient();
    await bp(a, 182, 95);
    await bp(b, 181, 96);
    await derive(a);
    await derive(b);
    const filter = { patientIds: [a, b], severities: ['URGENT' as const], kinds: ['URGENT_REFERRAL' as const], organizationId: county.township.id };
    const first = (await t.ok(AlertsDocument, { filter, first: 1 }, vdToken)).alerts;
    expect(first).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true }, edges: [{ node: { patient: { id: b } } }] });
    const second = (await t.ok(AlertsDocument, { filter, first: 1, after: first.pageInfo.endCursor }, vdToken)).alerts;
    expect(second).toMatchObject({ pageInfo: { hasNextPage: false }, edges: [{ node: { patient: { id: a } } }] });
    expect((await t.ok(AlertsDocument, { filter: { ...filter, severities: ['INFO'] } }, vdToken)).alerts.totalCount).toBe(0);
    expect((await t.ok(AlertsDocument, { filter: { ...filter, organizationId: county.otherVillage.id } }, vdToken)).alerts.totalCount).toBe(0);
    const audited = async (patientId: string) =>
      ((await t.em().execute(`select count(*)::int as n from audit_event where action = 'SEARCH' and what like '%alerts%' and ? = any(patient_ids)`, [patientId])) as Array<{ n: number }>)[0]!.n;
    expect([await audited(a), await audited(b)]).toEqual([1, 1]);
    const bad = await t.gql(AlertsDocument, { filter: { patientIds: ['nope'] } }, vdToken);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
