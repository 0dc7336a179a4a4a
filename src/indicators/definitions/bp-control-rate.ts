import { ObservationKind } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { controlPopulationSql } from './control.js';

/** 血压控制率: the latest blood pressure in the period below the control target, over managed hypertension patients. */
export const bpControlRate: IndicatorDefinition = {
  id: 'bp-control-rate',
  title: { en: 'Blood pressure control rate', zh: '血压控制率' },
  definition: {
    numerator:
      'Managed hypertension patients whose latest counting (plausible) blood pressure taken in the period is controlled: systolic and diastolic below the control targets (control.systolicBelow / diastolicBelow, 140/90 mmHg by default; both bounds strict).',
    denominator:
      'Patients managed for hypertension at the end of the period: a standing hypertension diagnosis dated on or before the period end, registered on or before it, and still in the programme on it. A patient with no counting blood pressure in the period is in the denominator and not the numerator.',
    exclusions:
      'Patients registered after the period end; patients who died, moved away, transferred out or withdrew on or before it; implausible readings (they count for nothing); readings after the period end.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  target: 0.67,
  populationSql: (input) => controlPopulationSql(input, 'hypertension', [ObservationKind.BLOOD_PRESSURE]),
};
