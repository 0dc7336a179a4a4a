import { ObservationKind } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { controlPopulationSql } from './control.js';

/** HbA1c control rate: the latest HbA1c in the period below the target, over managed type 2 diabetes patients with one. */
export const hba1cControlRate: IndicatorDefinition = {
  id: 'hba1c-control-rate',
  title: { en: 'HbA1c control rate', zh: '糖化血红蛋白控制率' },
  definition: {
    numerator: 'Patients of the denominator whose latest counting (plausible) HbA1c taken in the period is below control.hba1cBelow (7.0 % by default, strict).',
    denominator:
      'Patients managed for type 2 diabetes at the end of the period (a standing diagnosis dated on or before it, registered on or before it, still in the programme on it) with at least one counting HbA1c taken in the period.',
    exclusions:
      'Managed patients with no counting HbA1c in the period; patients registered after the period end; patients who died, moved away, transferred out or withdrew on or before it; implausible readings.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  populationSql: (input) => controlPopulationSql(input, 'diabetes', [ObservationKind.HBA1C], true),
};
