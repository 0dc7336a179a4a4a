import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';
import { ControlStatus, ObservationKind } from '../../vocabulary/index.js';

export { ControlStatus };

export interface Reading {
  kind: ObservationKind;
  value?: number | null;
  systolic?: number | null;
  diastolic?: number | null;
}

/**
 * How a single reading stands against the targets. Defined once here: the BP and glucose control
 * indicators, follow-up intervals and urgent worklists all ask this function.
 */
export function controlStatusOf(reading: Reading, rules: CareRules = DEFAULT_CARE_RULES): ControlStatus | undefined {
  const { control, urgent } = rules;
  switch (reading.kind) {
    case ObservationKind.BLOOD_PRESSURE: {
      const { systolic, diastolic } = reading;
      if (systolic == null || diastolic == null) return undefined;
      if (systolic >= urgent.systolicAtLeast || diastolic >= urgent.diastolicAtLeast) return ControlStatus.URGENT;
      return systolic < control.systolicBelow && diastolic < control.diastolicBelow ? ControlStatus.CONTROLLED : ControlStatus.UNCONTROLLED;
    }
    case ObservationKind.FASTING_GLUCOSE:
    case ObservationKind.GLUCOSE: {
      const v = reading.value;
      if (v == null) return undefined;
      if (v >= urgent.glucoseAtLeast || v <= urgent.glucoseAtMost) return ControlStatus.URGENT;
      // A random (non-fasting) glucose is only judged for urgency; it cannot show control.
      if (reading.kind === ObservationKind.GLUCOSE) return undefined;
      return v < control.fastingGlucoseBelow ? ControlStatus.CONTROLLED : ControlStatus.UNCONTROLLED;
    }
    case ObservationKind.HBA1C:
      if (reading.value == null) return undefined;
      return reading.value < control.hba1cBelow ? ControlStatus.CONTROLLED : ControlStatus.UNCONTROLLED;
    default:
      return undefined;
  }
}
