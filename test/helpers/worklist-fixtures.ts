import { Alert, AlertKind, AlertSeverity, AlertState } from '../../src/care/alerts/alert.entity.js';
import { addDays } from '../../src/care-rules/follow-up-interval.js';
import { countyToday } from '../../src/care-rules/calendar.js';
import type { EntityManager } from '../../src/db/orm.js';
import { ActivityCategory, ActivityStatus, CarePlan, CarePlanActivity, CarePlanStatus } from '../../src/domain/care-plan/care-plan.entity.js';
import { ClinicalStatus, Condition, ConditionKind, VerificationStatus } from '../../src/domain/condition/condition.entity.js';
import { FollowUp, FollowUpType } from '../../src/domain/follow-up/follow-up.entity.js';
import { Organization, OrganizationLevel, OrganizationType } from '../../src/domain/organization/organization.entity.js';
import { Gender } from '../../src/domain/patient/gender.js';
import { CareStatus, Patient } from '../../src/domain/patient/patient.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../../src/domain/referral/referral.entity.js';
import { Observation, ObservationKind, ObservationSource } from '../../src/domain/observation/observation.entity.js';
import { ContactAttempt } from '../../src/domain/contact-attempt/contact-attempt.entity.js';
import { ConditionControl } from '../../src/care/state/condition-control.entity.js';
import { PathwayStepRecord } from '../../src/care/pathway/pathway-step.entity.js';
import { ConditionControlStatus, ContactMethod, ContactOutcome, PathwayStep } from '../../vocabulary/index.js';
import { buildCounty } from './fixtures.js';

/**
 * A county whose every worklist's membership is known by construction (the derived rows written as the rules
 * would, with the event worker off so nothing rewrites them):
 *
 *   county ── township ── village (grid, team of gp + villageDoctor), otherVillage
 *          └─ township2 ── village2                      (outside the township's GP's sight)
 *
 * Patients (names sort in this order; `today` is the county's):
 *   A overdue   village, grid      planned 10 days ago; HTN + T2D confirmed; DIET plan in force; contract +10 days;
 *                                  urgent referral up to township (requested); URGENT alert open, ROUTINE acknowledged
 *   B today     village            planned today; HTN; plan with MEDICATION only; contract +60 days;
 *                                  referral to township accepted; a RESOLVED alert
 *   C soon      otherVillage       planned in 5 days; T2D; no plan; contract −5 days (lapsed); referral to the county
 *   D done      village            a visit planned 20 days ago and done; COPD only
 *   E died      village            DIED; planned 30 days ago; HTN; contract +5; an open alert
 *   F team      otherVillage       contracted with the team; planned 3 days ago; HTN suspected (unconfirmed)
 *   G other     village2           planned 40 days ago; HTN; no plan; open alert; referral to the county addressed to gp
 *   H1…H6 ties  otherVillage       each planned 7 days ago (the same date: pages cut through ties by id)
 *   I cancelled village            a visit planned 12 days ago, cancelled
 *   J reached   village            planned 8 days ago; reached yesterday, will come in 2 days (off the overdue list)
 *   K missed    village            planned 9 days ago; not reachable 10 days ago (before the visit's date: does not count)
 *
 * Derived state: control — A hypertension uncontrolled (decided 2 days ago), A diabetes urgent (1 day), B hypertension
 * controlled, C diabetes uncontrolled (5 days), E hypertension urgent, G hypertension uncontrolled. Pathway — F
 * hypertension suspected 40 days ago (stuck: 30 days allowed), H1 suspected 3 days ago, C diabetes confirmed 5 days
 * ago after a suspicion, A hypertension at PLAN_MADE for 20 days (stuck: 14) and diabetes at INTERVENTION for 10, E
 * suspected 60 days ago (died).
 */
export async function buildWorklistCounty(em: EntityManager, tag = 'WL') {
  const c = await buildCounty(em, tag);
  const today = countyToday();
  const org = (name: string, level: OrganizationLevel, type: OrganizationType, parent: Organization) => {
    const o = em.create(Organization, { name, code: `${tag}-${name}`, level, type, parent, path: '', version: 1 } as never) as Organization;
    o.path = `${parent.path}${o.id}/`;
    return o;
  };
  const township2 = org('南镇卫生院', OrganizationLevel.TOWNSHIP, OrganizationType.TOWNSHIP_HEALTH_CENTRE, c.county);
  const village2 = org('南村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, township2);

  const patient = (name: string, managingOrganization: Organization, extra: Record<string, unknown> = {}) =>
    em.create(Patient, { name: `${tag}${name}`, gender: Gender.FEMALE, birthDate: '1955-05-05', managingOrganization, careStatus: CareStatus.ACTIVE, version: 1, ...extra } as never) as Patient;
  const contract = (days: number) => ({ familyDoctorTeam: c.team, contractSignedOn: addDays(today, days - 364), contractExpiresOn: addDays(today, days) });
  const p = {
    A: patient('A', c.village, { grid: c.grid, ...contract(10) }),
    B: patient('B', c.village, contract(60)),
    C: patient('C', c.otherVillage, contract(-5)),
    D: patient('D', c.village),
    E: patient('E', c.village, { careStatus: CareStatus.DIED, careStatusOn: addDays(today, -2), ...contract(5) }),
    F: patient('F', c.otherVillage, { familyDoctorTeam: c.team }),
    G: patient('G', village2),
    I: patient('I', c.village),
    J: patient('J', c.village),
    K: patient('K', c.village),
  };
  const ties = [1, 2, 3, 4, 5, 6].map((n) => patient(`H${n}`, c.otherVillage));

  const planned = (pt: Patient, days: number, extra: Record<string, unknown> = {}) =>
    em.create(FollowUp, { patient: pt, type: FollowUpType.CLINIC, plannedDate: addDays(today, days), adverseReaction: false, newComplication: false, version: 1, ...extra } as never) as FollowUp;
  const visits = {
    A: planned(p.A, -10),
    B: planned(p.B, 0),
    C: planned(p.C, 5),
    D: planned(p.D, -20, { doneDate: addDays(today, -19) }),
    E: planned(p.E, -30),
    F: planned(p.F, -3),
    G: planned(p.G, -40),
    ties: ties.map((t) => planned(t, -7)),
    I: planned(p.I, -12, { cancelledAt: new Date(), cancelReason: 'moved the visit' }),
    J: planned(p.J, -8),
    K: planned(p.K, -9),
  };
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
  const attempt = (pt: Patient, outcome: ContactOutcome, at: Date, willComeOn?: string) =>
    em.create(ContactAttempt, { patient: pt, attemptedAt: at, method: ContactMethod.PHONE, outcome, willComeOn, version: 1 } as never);
  attempt(p.J, ContactOutcome.REACHED, daysAgo(1), addDays(today, 2));
  attempt(p.K, ContactOutcome.NOT_REACHABLE, daysAgo(10));

  const condition = (pt: Patient, kind: ConditionKind, verificationStatus = VerificationStatus.CONFIRMED) =>
    em.create(Condition, { patient: pt, code: kind === ConditionKind.TYPE_2_DIABETES ? 'E11' : kind === ConditionKind.COPD ? 'J44' : 'I10', system: 'http://hl7.org/fhir/sid/icd-10', kind, clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus, version: 1 } as never);
  condition(p.A, ConditionKind.HYPERTENSION);
  condition(p.A, ConditionKind.TYPE_2_DIABETES);
  condition(p.B, ConditionKind.HYPERTENSION);
  condition(p.C, ConditionKind.TYPE_2_DIABETES);
  condition(p.D, ConditionKind.COPD);
  condition(p.E, ConditionKind.HYPERTENSION);
  condition(p.F, ConditionKind.HYPERTENSION, VerificationStatus.UNCONFIRMED);
  condition(p.G, ConditionKind.HYPERTENSION);

  const plan = (pt: Patient, ...activities: Array<[ActivityCategory, ActivityStatus]>) => {
    const cp = em.create(CarePlan, { patient: pt, title: '管理计划', status: CarePlanStatus.ACTIVE, addresses: [ConditionKind.HYPERTENSION], periodStart: addDays(today, -100), version: 1 } as never);
    for (const [category, status] of activities) {
      em.create(CarePlanActivity, { carePlan: cp, category, status, description: category, ...(category === ActivityCategory.MEDICATION ? { medicationName: '氨氯地平' } : {}), version: 1 } as never);
    }
  };
  plan(p.A, [ActivityCategory.DIET, ActivityStatus.IN_PROGRESS], [ActivityCategory.MEDICATION, ActivityStatus.IN_PROGRESS]);
  // B: medication, and a non-medical prescription that is no longer in force.
  plan(p.B, [ActivityCategory.MEDICATION, ActivityStatus.IN_PROGRESS], [ActivityCategory.EXERCISE, ActivityStatus.STOPPED]);

  const referral = (pt: Patient, from: Organization, to: Organization, status: ReferralStatus, extra: Record<string, unknown> = {}) =>
    em.create(Referral, {
      patient: pt,
      direction: ReferralDirection.UP,
      fromOrganization: from,
      toOrganization: to,
      reason: ReferralReason.POOR_CONTROL,
      urgency: ReferralUrgency.ROUTINE,
      status,
      requestedAt: new Date(Date.now() - 3 * 86_400_000),
      version: 1,
      ...extra,
    } as never) as Referral;
  const referrals = {
    A: referral(p.A, c.village, c.township, ReferralStatus.REQUESTED, { urgency: ReferralUrgency.URGENT, requestedAt: new Date(Date.now() - 86_400_000) }),
    B: referral(p.B, c.village, c.township, ReferralStatus.ACCEPTED, { acceptedAt: new Date() }),
    C: referral(p.C, c.otherVillage, c.county, ReferralStatus.REQUESTED),
    G: referral(p.G, village2, c.county, ReferralStatus.REQUESTED, { toPractitioner: c.gp }),
    // A completed one to the township: waits for no one.
    done: referral(p.D, c.village, c.township, ReferralStatus.COMPLETED, { acceptedAt: new Date(), completedAt: new Date() }),
  };

  const alert = (pt: Patient, severity: AlertSeverity, state: AlertState, kind: AlertKind, daysAgo: number) =>
    em.create(Alert, {
      patient: pt,
      organization: pt.managingOrganization,
      kind,
      severity,
      state,
      causeType: 'Patient',
      causeId: pt.id,
      raisedAt: new Date(Date.now() - daysAgo * 86_400_000),
      version: 1,
    } as never) as Alert;
  const alerts = {
    urgentA: alert(p.A, AlertSeverity.URGENT, AlertState.OPEN, AlertKind.URGENT_REFERRAL, 1),
    routineA: alert(p.A, AlertSeverity.ROUTINE, AlertState.ACKNOWLEDGED, AlertKind.UNCONTROLLED_REFERRAL, 4),
    resolvedB: alert(p.B, AlertSeverity.URGENT, AlertState.RESOLVED, AlertKind.URGENT_REFERRAL, 2),
    diedE: alert(p.E, AlertSeverity.URGENT, AlertState.OPEN, AlertKind.URGENT_REFERRAL, 1),
    otherG: alert(p.G, AlertSeverity.INFO, AlertState.OPEN, AlertKind.CONTRACT_EXPIRING, 6),
  };

  const reading = (pt: Patient, kind: ObservationKind, values: Record<string, number>) =>
    em.create(Observation, { patient: pt, kind, code: kind === ObservationKind.BLOOD_PRESSURE ? '85354-9' : '1558-6', system: 'http://loinc.org', unit: kind === ObservationKind.BLOOD_PRESSURE ? 'mm[Hg]' : 'mmol/L', effectiveAt: daysAgo(3), source: ObservationSource.CLINIC, version: 1, ...values } as never) as Observation;
  const readings = {
    bpA: reading(p.A, ObservationKind.BLOOD_PRESSURE, { systolic: 152, diastolic: 96 }),
    glucoseA: reading(p.A, ObservationKind.FASTING_GLUCOSE, { value: 17.2 }),
    glucoseC: reading(p.C, ObservationKind.FASTING_GLUCOSE, { value: 8.1 }),
  };
  const control = (pt: Patient, conditionKind: ConditionKind, controlStatus: ConditionControlStatus, days: number, observation?: Observation) =>
    em.create(ConditionControl, { patient: pt, conditionKind, controlStatus, observation, decidedAt: daysAgo(days) } as never);
  control(p.A, ConditionKind.HYPERTENSION, ConditionControlStatus.UNCONTROLLED, 2, readings.bpA);
  control(p.A, ConditionKind.TYPE_2_DIABETES, ConditionControlStatus.URGENT, 1, readings.glucoseA);
  control(p.B, ConditionKind.HYPERTENSION, ConditionControlStatus.CONTROLLED, 3);
  control(p.C, ConditionKind.TYPE_2_DIABETES, ConditionControlStatus.UNCONTROLLED, 5, readings.glucoseC);
  control(p.E, ConditionKind.HYPERTENSION, ConditionControlStatus.URGENT, 1);
  control(p.G, ConditionKind.HYPERTENSION, ConditionControlStatus.UNCONTROLLED, 1);

  const steps = (pt: Patient, conditionKind: ConditionKind, ...reached: Array<[PathwayStep, number]>) => {
    for (const [step, days] of reached) em.create(PathwayStepRecord, { patient: pt, conditionKind, cycle: 1, step, reachedAt: daysAgo(days), version: 1 } as never);
  };
  steps(p.F, ConditionKind.HYPERTENSION, [PathwayStep.SUSPECTED, 40]);
  steps(ties[0]!, ConditionKind.HYPERTENSION, [PathwayStep.SUSPECTED, 3]);
  steps(p.C, ConditionKind.TYPE_2_DIABETES, [PathwayStep.SUSPECTED, 100], [PathwayStep.CONFIRMED, 5]);
  steps(p.A, ConditionKind.HYPERTENSION, [PathwayStep.CONFIRMED, 60], [PathwayStep.ASSESSED, 40], [PathwayStep.PLAN_MADE, 20]);
  steps(p.A, ConditionKind.TYPE_2_DIABETES, [PathwayStep.CONFIRMED, 60], [PathwayStep.ASSESSED, 50], [PathwayStep.PLAN_MADE, 45], [PathwayStep.INTERVENTION, 10]);
  steps(p.E, ConditionKind.HYPERTENSION, [PathwayStep.SUSPECTED, 60]);
  await em.flush();
  return { ...c, township2, village2, today, patients: p, ties, visits, referrals, alerts, readings };
}

export type WorklistCounty = Awaited<ReturnType<typeof buildWorklistCounty>>;
