/**
 * The seven-step closed-loop pathway a patient goes through for each condition (docs/care-model.md, "The seven-step
 * pathway"), in order. After REASSESSED a new cycle begins at PLAN_MADE: the re-assessment reviews the plan.
 */
export enum PathwayStep {
  SUSPECTED = 'SUSPECTED',
  CONFIRMED = 'CONFIRMED',
  ASSESSED = 'ASSESSED',
  PLAN_MADE = 'PLAN_MADE',
  INTERVENTION = 'INTERVENTION',
  FOLLOWED_UP = 'FOLLOWED_UP',
  REASSESSED = 'REASSESSED',
}

/** A health assessment is the first (step 3) or a yearly re-assessment (step 7). */
export enum AssessmentKind {
  INITIAL = 'INITIAL',
  ANNUAL = 'ANNUAL',
}

/** Risk factors a health assessment records (the national hypertension and diabetes guides' list). */
export enum RiskFactor {
  SMOKING = 'SMOKING',
  ALCOHOL = 'ALCOHOL',
  OVERWEIGHT = 'OVERWEIGHT',
  CENTRAL_OBESITY = 'CENTRAL_OBESITY',
  PHYSICAL_INACTIVITY = 'PHYSICAL_INACTIVITY',
  HIGH_SALT_DIET = 'HIGH_SALT_DIET',
  DYSLIPIDAEMIA = 'DYSLIPIDAEMIA',
  FAMILY_HISTORY = 'FAMILY_HISTORY',
  AGE = 'AGE',
  OTHER = 'OTHER',
}

/** Complications (clinical conditions associated with hypertension or diabetes) a health assessment found. */
export enum Complication {
  CORONARY_HEART_DISEASE = 'CORONARY_HEART_DISEASE',
  STROKE = 'STROKE',
  HEART_FAILURE = 'HEART_FAILURE',
  CHRONIC_KIDNEY_DISEASE = 'CHRONIC_KIDNEY_DISEASE',
  PERIPHERAL_ARTERY_DISEASE = 'PERIPHERAL_ARTERY_DISEASE',
  RETINOPATHY = 'RETINOPATHY',
  NEUROPATHY = 'NEUROPATHY',
  DIABETIC_FOOT = 'DIABETIC_FOOT',
  OTHER = 'OTHER',
}

/** Target-organ damage (subclinical) a health assessment found. */
export enum TargetOrganDamage {
  LEFT_VENTRICULAR_HYPERTROPHY = 'LEFT_VENTRICULAR_HYPERTROPHY',
  CAROTID_PLAQUE = 'CAROTID_PLAQUE',
  MICROALBUMINURIA = 'MICROALBUMINURIA',
  REDUCED_KIDNEY_FUNCTION = 'REDUCED_KIDNEY_FUNCTION',
  HYPERTENSIVE_RETINOPATHY = 'HYPERTENSIVE_RETINOPATHY',
  ARTERIAL_STIFFNESS = 'ARTERIAL_STIFFNESS',
  OTHER = 'OTHER',
}

/** How an overdue patient was contacted. */
export enum ContactMethod {
  PHONE = 'PHONE',
  SMS = 'SMS',
  HOME_VISIT = 'HOME_VISIT',
  OTHER = 'OTHER',
}

/** What came of contacting an overdue patient (Simple.org's overdue-list outcomes, docs/care-model.md). */
export enum ContactOutcome {
  REACHED = 'REACHED',
  NOT_REACHABLE = 'NOT_REACHABLE',
  WRONG_NUMBER = 'WRONG_NUMBER',
  MOVED = 'MOVED',
  DIED = 'DIED',
  REFUSED = 'REFUSED',
}
