import type { EntityManager } from '../../src/db/orm.js';
import { ActivityCategory, ActivityStatus, CarePlan, CarePlanActivity, CarePlanStatus } from '../../src/domain/care-plan/care-plan.entity.js';
import { ClinicalStatus, Condition, ConditionKind, VerificationStatus } from '../../src/domain/condition/condition.entity.js';
import { FollowUp, FollowUpType } from '../../src/domain/follow-up/follow-up.entity.js';
import { Organization, OrganizationLevel, OrganizationType } from '../../src/domain/organization/organization.entity.js';
import { Gender } from '../../src/domain/patient/gender.js';
import { CareStatus, ManagementTier, Patient } from '../../src/domain/patient/patient.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../../src/domain/referral/referral.entity.js';
import { Observation, ObservationKind, ObservationSource, Plausibility } from '../../src/domain/observation/observation.entity.js';
import { Admission, AdmissionKind, AdmissionStatus } from '../../src/domain/admission/admission.entity.js';
import { Coverage } from '../../src/domain/coverage/coverage.entity.js';
import { PathwayStepRecord } from '../../src/care/pathway/pathway-step.entity.js';
import { SelfManagementGroup } from '../../src/domain/self-management-group/self-management-group.entity.js';
import { CoverageStatus, PathwayStep } from '../../vocabulary/index.js';
import { buildCounty } from './fixtures.js';

/** The period every hand-computed figure of test/indicators.test.ts is over: the first half of 2026 (county days). */
export const PERIOD = { start: '2026-01-01', end: '2026-06-30' };

/** An instant on a county day (Asia/Shanghai, the test configuration's), 10:00 unless said. */
export const at = (day: string, time = '10:00'): Date => new Date(`${day}T${time}:00+08:00`);

/**
 * A county whose indicators over PERIOD are known by construction (the derived rows written as the rules would, the
 * event worker off). Every patient has hypertension (I10, confirmed, onset 2025-01-01) and is registered on
 * 2025-06-01 unless said.
 *
 *   county ── township ── village (grid of the team), otherVillage
 *          └─ township2 ── village2                        (outside the township's scope)
 *
 *   P1  village      BP 2026-03-01 130/80 (controlled); CLINIC visits planned and done 02-01 and (planned 05-01) 04-28;
 *                    ACTIVE plan from 2026-01-01 with DIET in progress; the whole pathway by 2026-05-20; insured
 *   P2  village      BP 02-01 130/80 then 05-01 150/95 (latest in the period: uncontrolled) and 07-15 120/70 (after the
 *                    period); a PHONE visit planned 03-01 done 03-10 (late); a COMPLETED plan 2025-07-01..2026-06-30 with
 *                    EXERCISE completed; pathway to FOLLOWED_UP; referral up 03-02 (requested) and one cancelled 04-01;
 *                    insured only from 2026-07-01
 *   P3  village      BP 2025-12-15 only (before the period); planned 04-01 cancelled, planned 06-15 never done; ACTIVE
 *                    plan with MEDICATION only; referral down township → village 04-01 (accepted); insured to 2026-02-01
 *   P4  otherVillage on the team's grid; BP 03-01 130/80, then 04-01 150/160 IMPLAUSIBLE (ignored); ACTIVE plan with DIET
 *                    starting 2026-07-15 (after the period)
 *   P5  village      DIED 2026-05-01; BP 02-15 120/80; a visit planned and done 02-01; referral up 02-01
 *   P6  village      MOVED_AWAY 2026-08-01 (after the period: counted); BP 2026-06-30 23:30 120/70 (the last evening), and 150/95
 *                    at 00:30 on 07-01 (after the period in the county; still 30 June in UTC);
 *                    CLINIC visits done 01-05 and 07-02 (one in the period)
 *   P7  village      MOVED_AWAY 2026-06-30 (on the last day: not counted); BP 03-15 120/80
 *   P8  village      registered 2026-07-05 (after the period)
 *   P9  village      hypertension onset 2026-08-01 (after the period)
 *   P10 village2     BP 03-01 125/80 (outside the township)
 *   P11 otherVillage hypertension and T2D; BP 04-01 145/85; fasting glucose 04-01 6.5; HbA1c 04-01 7.5; planned 07-10;
 *                    REVOKED plan with DIET; referral up township → county 02-01 (completed) and down county → township
 *                    03-01 (completed)
 *   P12 village      T2D only; fasting glucose 02-01 8.0; pathway: REASSESSED only on 2026-07-10
 *   P13 otherVillage T2D only; HbA1c 03-01 6.5, no fasting glucose
 *   P14 township     INTENSIVE; an INPATIENT stay from 2026-03-10 (finished)
 *   P15 otherVillage INTENSIVE; an EMERGENCY visit 03-10 and an INPATIENT stay 2025-11-01..10 (before the period)
 *   P16 village      hypertension REFUTED: not managed
 *   P17 village      COPD only: not managed
 *   P18 village      registered and diagnosed 2026-05-01; BP 06-01 135/85; a HOME visit done 06-10 (none planned)
 *   P19 village      no diagnosis; hypertension pathway SUSPECTED 2026-03-01
 *   P20 village      hypertension REFUTED; pathway SUSPECTED 2026-03-01 (answered by the refutation)
 * Self-management groups: one at the village (open), one at village2 closed 2026-06-15.
 */
export async function buildIndicatorCounty(em: EntityManager, tag = 'IN') {
  const c = await buildCounty(em, tag);
  const org = (name: string, level: OrganizationLevel, type: OrganizationType, parent: Organization) => {
    const o = em.create(Organization, { name, code: `${tag}-${name}`, level, type, parent, path: '', version: 1 } as never) as Organization;
    o.path = `${parent.path}${o.id}/`;
    return o;
  };
  const township2 = org('南镇卫生院', OrganizationLevel.TOWNSHIP, OrganizationType.TOWNSHIP_HEALTH_CENTRE, c.county);
  const village2 = org('南村卫生室', OrganizationLevel.VILLAGE, OrganizationType.VILLAGE_CLINIC, township2);

  const registered = at('2025-06-01');
  const patient = (name: string, managingOrganization: Organization, extra: Record<string, unknown> = {}) =>
    em.create(Patient, { name: `${tag}${name}`, gender: Gender.MALE, birthDate: '1950-05-05', managingOrganization, careStatus: CareStatus.ACTIVE, createdAt: registered, version: 1, ...extra } as never) as Patient;
  const p = {
    P1: patient('P1', c.village),
    P2: patient('P2', c.village),
    P3: patient('P3', c.village),
    P4: patient('P4', c.otherVillage, { grid: c.grid }),
    P5: patient('P5', c.village, { careStatus: CareStatus.DIED, careStatusOn: '2026-05-01', careStatusReason: 'died' }),
    P6: patient('P6', c.village, { careStatus: CareStatus.MOVED_AWAY, careStatusOn: '2026-08-01', careStatusReason: 'moved' }),
    P7: patient('P7', c.village, { careStatus: CareStatus.MOVED_AWAY, careStatusOn: '2026-06-30', careStatusReason: 'moved' }),
    P8: patient('P8', c.village, { createdAt: at('2026-07-05') }),
    P9: patient('P9', c.village),
    P10: patient('P10', village2),
    P11: patient('P11', c.otherVillage),
    P12: patient('P12', c.village),
    P13: patient('P13', c.otherVillage),
    P14: patient('P14', c.township, { managementTier: ManagementTier.INTENSIVE }),
    P15: patient('P15', c.otherVillage, { managementTier: ManagementTier.INTENSIVE }),
    P16: patient('P16', c.village),
    P17: patient('P17', c.village),
    P18: patient('P18', c.village, { createdAt: at('2026-05-01') }),
    P19: patient('P19', c.village),
    P20: patient('P20', c.village),
  };

  const condition = (pt: Patient, kind: ConditionKind, extra: Record<string, unknown> = {}) =>
    em.create(Condition, {
      patient: pt,
      code: kind === ConditionKind.TYPE_2_DIABETES ? 'E11' : kind === ConditionKind.COPD ? 'J44' : 'I10',
      system: 'http://hl7.org/fhir/sid/icd-10',
      kind,
      clinicalStatus: ClinicalStatus.ACTIVE,
      verificationStatus: VerificationStatus.CONFIRMED,
      onsetDate: '2025-01-01',
      createdAt: registered,
      version: 1,
      ...extra,
    } as never);
  for (const k of ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P10', 'P11', 'P14', 'P15'] as const) condition(p[k], ConditionKind.HYPERTENSION);
  condition(p.P9, ConditionKind.HYPERTENSION, { onsetDate: '2026-08-01', createdAt: at('2026-08-01') });
  condition(p.P11, ConditionKind.TYPE_2_DIABETES);
  condition(p.P12, ConditionKind.TYPE_2_DIABETES);
  condition(p.P13, ConditionKind.TYPE_2_DIABETES);
  condition(p.P16, ConditionKind.HYPERTENSION, { verificationStatus: VerificationStatus.REFUTED });
  condition(p.P17, ConditionKind.COPD);
  condition(p.P18, ConditionKind.HYPERTENSION, { onsetDate: '2026-05-01', createdAt: at('2026-05-01') });
  condition(p.P20, ConditionKind.HYPERTENSION, { verificationStatus: VerificationStatus.REFUTED });

  const LOINC: Record<string, [string, string]> = {
    [ObservationKind.BLOOD_PRESSURE]: ['85354-9', 'mm[Hg]'],
    [ObservationKind.FASTING_GLUCOSE]: ['1558-6', 'mmol/L'],
    [ObservationKind.HBA1C]: ['4548-4', '%'],
  };
  const reading = (pt: Patient, kind: ObservationKind, when: Date, values: Record<string, unknown>) =>
    em.create(Observation, { patient: pt, kind, code: LOINC[kind]![0], system: 'http://loinc.org', unit: LOINC[kind]![1], effectiveAt: when, source: ObservationSource.CLINIC, version: 1, ...values } as never);
  const bp = (pt: Patient, day: string, systolic: number, diastolic: number, extra: Record<string, unknown> = {}, time?: string) =>
    reading(pt, ObservationKind.BLOOD_PRESSURE, at(day, time), { systolic, diastolic, ...extra });
  bp(p.P1, '2026-03-01', 130, 80);
  bp(p.P2, '2026-02-01', 130, 80);
  bp(p.P2, '2026-05-01', 150, 95);
  bp(p.P2, '2026-07-15', 120, 70);
  bp(p.P3, '2025-12-15', 120, 70);
  bp(p.P4, '2026-03-01', 130, 80);
  bp(p.P4, '2026-04-01', 150, 160, { plausibility: Plausibility.IMPLAUSIBLE, plausibilityReason: 'systolic not above diastolic' });
  bp(p.P5, '2026-02-15', 120, 80);
  bp(p.P6, '2026-06-30', 120, 70, {}, '23:30');
  bp(p.P6, '2026-07-01', 150, 95, {}, '00:30');
  bp(p.P7, '2026-03-15', 120, 80);
  bp(p.P10, '2026-03-01', 125, 80);
  bp(p.P11, '2026-04-01', 145, 85);
  bp(p.P18, '2026-06-01', 135, 85);
  reading(p.P11, ObservationKind.FASTING_GLUCOSE, at('2026-04-01'), { value: 6.5 });
  reading(p.P11, ObservationKind.HBA1C, at('2026-04-01'), { value: 7.5 });
  reading(p.P12, ObservationKind.FASTING_GLUCOSE, at('2026-02-01'), { value: 8.0 });
  reading(p.P13, ObservationKind.HBA1C, at('2026-03-01'), { value: 6.5 });

  const visit = (pt: Patient, type: FollowUpType, dates: { planned?: string; done?: string; cancelled?: boolean }) =>
    em.create(FollowUp, {
      patient: pt,
      type,
      plannedDate: dates.planned,
      doneDate: dates.done,
      ...(dates.cancelled ? { cancelledAt: at('2026-03-20'), cancelReason: 'SUPERSEDED' } : {}),
      adverseReaction: false,
      newComplication: false,
      version: 1,
    } as never);
  visit(p.P1, FollowUpType.CLINIC, { planned: '2026-02-01', done: '2026-02-01' });
  visit(p.P1, FollowUpType.CLINIC, { planned: '2026-05-01', done: '2026-04-28' });
  visit(p.P2, FollowUpType.PHONE, { planned: '2026-03-01', done: '2026-03-10' });
  visit(p.P3, FollowUpType.CLINIC, { planned: '2026-04-01', cancelled: true });
  visit(p.P3, FollowUpType.CLINIC, { planned: '2026-06-15' });
  visit(p.P5, FollowUpType.CLINIC, { planned: '2026-02-01', done: '2026-02-01' });
  visit(p.P6, FollowUpType.CLINIC, { done: '2026-01-05' });
  visit(p.P6, FollowUpType.CLINIC, { done: '2026-07-02' });
  visit(p.P11, FollowUpType.CLINIC, { planned: '2026-07-10' });
  visit(p.P18, FollowUpType.HOME, { done: '2026-06-10' });

  const plan = (pt: Patient, status: CarePlanStatus, periodStart: string, periodEnd: string | undefined, ...activities: Array<[ActivityCategory, ActivityStatus]>) => {
    const cp = em.create(CarePlan, { patient: pt, title: '管理计划', status, addresses: [ConditionKind.HYPERTENSION], periodStart, periodEnd, version: 1 } as never);
    for (const [category, s] of activities) {
      em.create(CarePlanActivity, { carePlan: cp, category, status: s, description: category, ...(category === ActivityCategory.MEDICATION ? { medicationName: '氨氯地平' } : {}), version: 1 } as never);
    }
  };
  plan(p.P1, CarePlanStatus.ACTIVE, '2026-01-01', '2026-12-31', [ActivityCategory.DIET, ActivityStatus.IN_PROGRESS]);
  plan(p.P2, CarePlanStatus.COMPLETED, '2025-07-01', '2026-06-30', [ActivityCategory.EXERCISE, ActivityStatus.COMPLETED]);
  plan(p.P3, CarePlanStatus.ACTIVE, '2026-01-01', '2026-12-31', [ActivityCategory.MEDICATION, ActivityStatus.IN_PROGRESS]);
  plan(p.P4, CarePlanStatus.ACTIVE, '2026-07-15', '2027-07-14', [ActivityCategory.DIET, ActivityStatus.IN_PROGRESS]);
  plan(p.P11, CarePlanStatus.REVOKED, '2026-01-01', '2026-12-31', [ActivityCategory.DIET, ActivityStatus.IN_PROGRESS]);

  const referral = (pt: Patient, direction: ReferralDirection, from: Organization, to: Organization, status: ReferralStatus, day: string) =>
    em.create(Referral, {
      patient: pt,
      direction,
      fromOrganization: from,
      toOrganization: to,
      reason: direction === ReferralDirection.UP ? ReferralReason.POOR_CONTROL : ReferralReason.STABLE,
      urgency: ReferralUrgency.ROUTINE,
      status,
      requestedAt: at(day),
      version: 1,
    } as never);
  referral(p.P2, ReferralDirection.UP, c.village, c.township, ReferralStatus.REQUESTED, '2026-03-02');
  referral(p.P2, ReferralDirection.UP, c.village, c.township, ReferralStatus.CANCELLED, '2026-04-01');
  referral(p.P3, ReferralDirection.DOWN, c.township, c.village, ReferralStatus.ACCEPTED, '2026-04-01');
  referral(p.P5, ReferralDirection.UP, c.village, c.township, ReferralStatus.REQUESTED, '2026-02-01');
  referral(p.P11, ReferralDirection.UP, c.township, c.county, ReferralStatus.COMPLETED, '2026-02-01');
  referral(p.P11, ReferralDirection.DOWN, c.county, c.township, ReferralStatus.COMPLETED, '2026-03-01');
  referral(p.P1, ReferralDirection.UP, c.village, c.township, ReferralStatus.COMPLETED, '2025-12-31');

  const admission = (pt: Patient, kind: AdmissionKind, from: string, to?: string) =>
    em.create(Admission, { patient: pt, kind, status: AdmissionStatus.FINISHED, organization: c.county, periodStart: at(from), periodEnd: to ? at(to) : at(from, '18:00'), version: 1 } as never);
  admission(p.P14, AdmissionKind.INPATIENT, '2026-03-10', '2026-03-15');
  admission(p.P15, AdmissionKind.EMERGENCY, '2026-03-10');
  admission(p.P15, AdmissionKind.INPATIENT, '2025-11-01', '2025-11-10');

  const steps = (pt: Patient, conditionKind: ConditionKind, ...reached: Array<[PathwayStep, string]>) => {
    for (const [step, day] of reached) em.create(PathwayStepRecord, { patient: pt, conditionKind, cycle: 1, step, reachedAt: at(day), skipped: false, version: 1 } as never);
  };
  const HTN = ConditionKind.HYPERTENSION;
  steps(p.P1, HTN, [PathwayStep.SUSPECTED, '2025-01-01'], [PathwayStep.CONFIRMED, '2025-01-01'], [PathwayStep.ASSESSED, '2025-02-01'], [PathwayStep.PLAN_MADE, '2025-02-01'],
    [PathwayStep.INTERVENTION, '2025-02-01'], [PathwayStep.FOLLOWED_UP, '2025-03-01'], [PathwayStep.REASSESSED, '2026-05-20']);
  steps(p.P2, HTN, [PathwayStep.CONFIRMED, '2025-01-01'], [PathwayStep.ASSESSED, '2025-02-01'], [PathwayStep.PLAN_MADE, '2025-02-01'], [PathwayStep.INTERVENTION, '2025-02-01'], [PathwayStep.FOLLOWED_UP, '2025-03-01']);
  steps(p.P12, ConditionKind.TYPE_2_DIABETES, [PathwayStep.CONFIRMED, '2025-01-01'], [PathwayStep.ASSESSED, '2025-02-01'], [PathwayStep.PLAN_MADE, '2025-02-01'],
    [PathwayStep.INTERVENTION, '2025-02-01'], [PathwayStep.FOLLOWED_UP, '2025-03-01'], [PathwayStep.REASSESSED, '2026-07-10']);
  steps(p.P19, HTN, [PathwayStep.SUSPECTED, '2026-03-01']);
  steps(p.P20, HTN, [PathwayStep.SUSPECTED, '2026-03-01']);
  steps(p.P17, ConditionKind.COPD, [PathwayStep.CONFIRMED, '2025-01-01']);

  const coverage = (pt: Patient, periodStart: string, periodEnd?: string) =>
    em.create(Coverage, { patient: pt, insurer: c.insurer, memberNumber: `${tag}-${pt.name}`, status: CoverageStatus.ACTIVE, periodStart, periodEnd, version: 1 } as never);
  coverage(p.P1, '2025-01-01');
  coverage(p.P2, '2026-07-01');
  coverage(p.P3, '2025-01-01', '2026-02-01');

  em.create(SelfManagementGroup, { organization: c.village, name: '东村高血压自我管理小组', conditionKinds: [HTN], leaderPractitioner: c.villageDoctor, createdAt: at('2025-06-01'), version: 1 } as never);
  em.create(SelfManagementGroup, { organization: village2, name: '南村小组', conditionKinds: [HTN], leaderPractitioner: c.villageDoctor, createdAt: at('2025-06-01'), closedOn: '2026-06-15', version: 1 } as never);
  await em.flush();
  return { ...c, township2, village2, patients: p };
}

export type IndicatorCounty = Awaited<ReturnType<typeof buildIndicatorCounty>>;
