/**
 * Health assessments of the demo county (健康评估, the pathway's steps 3 and 7): an initial assessment of each
 * programme condition soon after it was diagnosed (and the health record opened), for nearly every managed patient
 * and a quarter of those diagnosed but not in management; and, for most managed patients, the yearly re-assessment a
 * few days before each yearly care plan (the generator's plans are yearly: "年度健康评估后制定"). What they find agrees
 * with the patient: smoking and drinking where the plan prescribes stopping, overweight by the last weight, age by the
 * national guides' thresholds (men over 55, women over 65), the complications the patient's diagnoses are, and
 * findings — retinopathy, plaques, microalbuminuria — that appear from some day on and stay.
 */
import { AssessmentKind, Complication, ConditionKind, PractitionerRoleCode, RiskFactor, TargetOrganDamage } from '../../../vocabulary/index.js';
import type { Random } from '../random.js';
import { ageOn, dayOf, iso, localMs } from '../time.js';
import type { CountyFacts, PatientFacts } from './facts.js';

export interface AssessmentRow {
  at: number;
  patient: string;
  conditionKind: ConditionKind;
  assessedOn: string;
  kind: AssessmentKind;
  riskFactors: RiskFactor[];
  complications: Complication[];
  targetOrganDamage: TargetOrganDamage[];
  assessedBy?: string;
  organization?: string;
}

const CORE: readonly ConditionKind[] = [ConditionKind.HYPERTENSION, ConditionKind.TYPE_2_DIABETES];
/** Diagnoses that are, for a hypertension or diabetes assessment, an associated clinical condition. */
const AS_COMPLICATION: Partial<Record<ConditionKind, Complication>> = {
  [ConditionKind.CHD]: Complication.CORONARY_HEART_DISEASE,
  [ConditionKind.STROKE]: Complication.STROKE,
  [ConditionKind.CKD]: Complication.CHRONIC_KIDNEY_DISEASE,
};

/** Shares of those not in management who were assessed once all the same, and of managed patients who never were. */
const P_ASSESSED_UNMANAGED = 0.25;
const P_ASSESSED_MANAGED = 0.94;
/** Patients who come to the yearly health check as a rule, and how often those who do and those who do not come. */
const P_REGULAR = 0.8;
const P_YEARLY = { regular: 0.9, irregular: 0.3 };

const RISK_ORDER = Object.values(RiskFactor);

/** A finding that appears on some day (a day number) and stays. */
type Finding<T> = { value: T; from: number };

/**
 * The patient's assessments. `today` is the seed's today (a day number); nothing is dated on or after it. The
 * kinds assessed: a managed patient's every programme diagnosis (their plans address them all), otherwise the core
 * ones. The rng is the patient's own.
 */
export function assessmentsOf(patient: PatientFacts, county: CountyFacts, today: number, rng: Random): AssessmentRow[] {
  const managed = patient.visited || patient.plans.length > 0;
  const diagnoses = patient.diagnoses.filter((d, i, all) => all.findIndex((e) => e.kind === d.kind) === i);
  const kinds = managed ? diagnoses : diagnoses.filter((d) => CORE.includes(d.kind));
  if (kinds.length === 0 || !rng.chance(managed ? P_ASSESSED_MANAGED : P_ASSESSED_UNMANAGED)) return [];

  const created = dayOf(patient.createdOn);
  const planStarts = patient.plans.map((p) => dayOf(p.start));
  const firstPlan = planStarts.length ? Math.min(...planStarts) : undefined;
  const grid = patient.gridId ? county.grids.get(patient.gridId) : undefined;
  const gp = grid?.team[PractitionerRoleCode.GENERAL_PRACTITIONER];
  const villageDoctor = grid?.team[PractitionerRoleCode.VILLAGE_DOCTOR];
  const by = (practitioner: string | undefined) => ({ assessedBy: practitioner, organization: practitioner ? county.organizationOf.get(practitioner) : undefined });

  // The first assessment, when the earliest core diagnosis (or the first diagnosis) was made: before the first plan when there is one.
  const first = kinds.find((d) => CORE.includes(d.kind)) ?? kinds[0]!;
  const initialOn = (diagnosed: number) => {
    const from = Math.max(diagnosed, created);
    if (firstPlan !== undefined && from <= firstPlan && firstPlan - from <= 60) return rng.int(from, firstPlan);
    return from + rng.int(0, 20);
  };
  const baseDay = initialOn(dayOf(first.on));

  // Lifestyle and constitution, as the team finds them (the plan's prescriptions follow from the same).
  const smoker = patient.plans.some((p) => p.smoking) || rng.chance(patient.male ? (managed ? 0.05 : 0.45) : 0.02);
  const drinker = patient.plans.some((p) => p.alcohol) || rng.chance(patient.male ? (managed ? 0.04 : 0.35) : 0.03);
  const overweight = patient.weight !== undefined ? patient.weight >= (patient.male ? 68 : 60) : rng.chance(0.35);
  const htn = kinds.some((d) => d.kind === ConditionKind.HYPERTENSION);
  const dm = kinds.some((d) => d.kind === ConditionKind.TYPE_2_DIABETES);
  const stable: RiskFactor[] = [];
  if (overweight) stable.push(RiskFactor.OVERWEIGHT);
  if (rng.chance(overweight ? 0.6 : 0.08)) stable.push(RiskFactor.CENTRAL_OBESITY);
  if (rng.chance(0.3)) stable.push(RiskFactor.PHYSICAL_INACTIVITY);
  if (rng.chance(htn ? 0.55 : 0.3)) stable.push(RiskFactor.HIGH_SALT_DIET);
  if (rng.chance(dm ? 0.45 : 0.3)) stable.push(RiskFactor.DYSLIPIDAEMIA);
  if (rng.chance(0.25)) stable.push(RiskFactor.FAMILY_HISTORY);
  // A smoker or drinker may give it up after a year of counselling.
  const quits = (yes: boolean) => (yes ? (rng.chance(0.15) ? baseDay + rng.int(200, 800) : Infinity) : -Infinity);
  const smokesUntil = quits(smoker);
  const drinksUntil = quits(drinker);
  const ageThreshold = patient.male ? 55 : 65;
  const ageAt = (day: number) => ageOn(patient.birthDate, iso(day));

  // Findings of a hypertension or diabetes assessment, each from the day it is first found.
  const onset = () => baseDay + rng.int(-900, 1200);
  const maybe = <T>(value: T, p: number): Array<Finding<T>> => (rng.chance(p) ? [{ value, from: onset() }] : []);
  const complications: Array<Finding<Complication>> = [
    ...patient.diagnoses.flatMap((d) => (AS_COMPLICATION[d.kind] ? [{ value: AS_COMPLICATION[d.kind]!, from: dayOf(d.on) }] : [])),
    ...maybe(Complication.HEART_FAILURE, patient.diagnoses.some((d) => d.kind === ConditionKind.CHD) ? 0.12 : 0.01),
    ...maybe(Complication.PERIPHERAL_ARTERY_DISEASE, dm ? 0.04 : 0.02),
    ...(dm ? [...maybe(Complication.RETINOPATHY, 0.12), ...maybe(Complication.NEUROPATHY, 0.15), ...maybe(Complication.DIABETIC_FOOT, 0.015)] : []),
  ];
  const damage: Array<Finding<TargetOrganDamage>> = [
    ...(htn ? maybe(TargetOrganDamage.LEFT_VENTRICULAR_HYPERTROPHY, 0.08) : []),
    ...maybe(TargetOrganDamage.CAROTID_PLAQUE, ageAt(baseDay) >= 60 ? 0.18 : 0.08),
    ...maybe(TargetOrganDamage.MICROALBUMINURIA, dm ? 0.15 : 0.05),
    ...(patient.diagnoses.some((d) => d.kind === ConditionKind.CKD) ? [] : maybe(TargetOrganDamage.REDUCED_KIDNEY_FUNCTION, 0.03)),
    ...(htn ? maybe(TargetOrganDamage.HYPERTENSIVE_RETINOPATHY, 0.05) : []),
    ...maybe(TargetOrganDamage.ARTERIAL_STIFFNESS, 0.03),
  ];
  const present = <T>(findings: Array<Finding<T>>, day: number) => [...new Set(findings.filter((f) => f.from <= day).map((f) => f.value))];

  const rows: AssessmentRow[] = [];
  /** The day each kind was first assessed: a re-assessment is of kinds assessed before. */
  const assessedFrom = new Map<ConditionKind, number>();
  const assess = (day: number, kind: AssessmentKind, of: typeof kinds, practitioner: string | undefined) => {
    if (day >= today) return;
    for (const d of of) if (!assessedFrom.has(d.kind)) assessedFrom.set(d.kind, day);
    const at = localMs(day, rng.int(8, 16), rng.int(0, 59));
    const found = new Set(stable);
    if (day < smokesUntil) found.add(RiskFactor.SMOKING);
    if (day < drinksUntil) found.add(RiskFactor.ALCOHOL);
    if (ageAt(day) > ageThreshold) found.add(RiskFactor.AGE);
    const risk = RISK_ORDER.filter((r) => found.has(r));
    for (const [i, d] of of.entries()) {
      const core = CORE.includes(d.kind);
      rows.push({
        at: at + i * 60_000,
        patient: patient.id,
        conditionKind: d.kind,
        assessedOn: iso(day),
        kind,
        riskFactors: risk,
        // The associated conditions and target-organ damage are the hypertension and diabetes guides' findings.
        complications: core ? present(complications, day) : [],
        targetOrganDamage: core ? present(damage, day) : [],
        ...by(practitioner),
      });
    }
  };

  // Initial assessments: the conditions diagnosed by then together, each later one on its own after its diagnosis.
  const initialBy = rng.chance(villageDoctor ? 0.4 : 0) ? villageDoctor : gp;
  assess(baseDay, AssessmentKind.INITIAL, kinds.filter((d) => dayOf(d.on) <= baseDay), initialBy);
  for (const d of kinds.filter((k) => dayOf(k.on) > baseDay)) assess(initialOn(dayOf(d.on)), AssessmentKind.INITIAL, [d], initialBy);

  // Yearly re-assessments, a few days before each yearly plan after the first assessment; at the township centre.
  if (managed) {
    const regular = rng.chance(P_REGULAR);
    for (const start of planStarts) {
      if (start - baseDay < 200 || !rng.chance(regular ? P_YEARLY.regular : P_YEARLY.irregular)) continue;
      const day = Math.max(baseDay + 1, start - rng.int(0, 14));
      assess(day, AssessmentKind.ANNUAL, kinds.filter((d) => (assessedFrom.get(d.kind) ?? Infinity) < day), gp);
    }
  }
  return rows;
}
