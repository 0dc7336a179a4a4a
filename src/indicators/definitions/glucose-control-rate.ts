import { ObservationKind } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { controlPopulationSql } from './control.js';

/** 血糖控制率: the latest fasting glucose in the period below the control target, over managed type 2 diabetes patients. */
export const glucoseControlRate: IndicatorDefinition = {
  id: 'glucose-control-rate',
  title: { en: 'Blood glucose control rate', zh: '血糖控制率' },
  definition: {
    numerator:
      'Managed type 2 diabetes patients whose latest counting (plausible) fasting glucose taken in the period is controlled: below control.fastingGlucoseBelow (7.0 mmol/L by default, strict) and not urgent (≥ 16.7 or ≤ 3.9 mmol/L). Random glucose readings show no control and are not read.',
    denominator:
      'Patients managed for type 2 diabetes at the end of the period: a standing diagnosis dated on or before the period end, registered on or before it, and still in the programme on it. A patient with no counting fasting glucose in the period is in the denominator and not the numerator.',
    exclusions:
      'Patients registered after the period end; patients who died, moved away, transferred out or withdrew on or before it; implausible readings; readings after the period end.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  target: 0.645,
  populationSql: (input) => controlPopulationSql(input, 'diabetes', [ObservationKind.FASTING_GLUCOSE]),
};
