/**
 * The care model's numbers, in one place: control targets, urgent-referral thresholds, follow-up
 * intervals and plausible measurement ranges. Defaults follow the national basic public health service
 * standard (see docs/care-model.md); a deployment may override any of them.
 */
export interface CareRules {
  control: {
    systolicBelow: number;
    diastolicBelow: number;
    fastingGlucoseBelow: number;
    hba1cBelow: number;
  };
  urgent: {
    systolicAtLeast: number;
    diastolicAtLeast: number;
    glucoseAtLeast: number;
    glucoseAtMost: number;
  };
  followUpDays: {
    controlled: number;
    uncontrolled: number;
    afterReferral: number;
  };
  minFaceToFaceFollowUpsPerYear: number;
  plausible: {
    systolic: [number, number];
    diastolic: [number, number];
    glucoseMmolL: [number, number];
    hba1cPercent: [number, number];
    weightKg: [number, number];
    heightCm: [number, number];
    bmi: [number, number];
    heartRate: [number, number];
    waistCm: [number, number];
  };
}

export const DEFAULT_CARE_RULES: CareRules = {
  control: { systolicBelow: 140, diastolicBelow: 90, fastingGlucoseBelow: 7.0, hba1cBelow: 7.0 },
  urgent: { systolicAtLeast: 180, diastolicAtLeast: 110, glucoseAtLeast: 16.7, glucoseAtMost: 3.9 },
  followUpDays: { controlled: 90, uncontrolled: 14, afterReferral: 14 },
  minFaceToFaceFollowUpsPerYear: 4,
  plausible: {
    systolic: [40, 300],
    diastolic: [20, 200],
    glucoseMmolL: [0.5, 50],
    hba1cPercent: [3, 20],
    weightKg: [1, 400],
    heightCm: [30, 250],
    bmi: [8, 80],
    heartRate: [20, 300],
    waistCm: [30, 250],
  },
};
