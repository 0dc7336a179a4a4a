export enum ObservationKind {
  BLOOD_PRESSURE = 'BLOOD_PRESSURE',
  FASTING_GLUCOSE = 'FASTING_GLUCOSE',
  GLUCOSE = 'GLUCOSE',
  HBA1C = 'HBA1C',
  WEIGHT = 'WEIGHT',
  HEIGHT = 'HEIGHT',
  BMI = 'BMI',
  HEART_RATE = 'HEART_RATE',
  WAIST_CIRCUMFERENCE = 'WAIST_CIRCUMFERENCE',
  OTHER = 'OTHER',
}

export enum ObservationSource {
  CLINIC = 'CLINIC',
  HOME = 'HOME',
  DEVICE = 'DEVICE',
}

/**
 * Whether a reading's values and time are believable (src/care-rules/plausibility.ts): IMPLAUSIBLE readings are
 * kept as sent, shown flagged, and count for nothing.
 */
export enum Plausibility {
  PLAUSIBLE = 'PLAUSIBLE',
  IMPLAUSIBLE = 'IMPLAUSIBLE',
}
