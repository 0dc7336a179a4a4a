import { nonMedicalInForceOnSql } from '../../care-rules/non-medical.js';
import type { IndicatorDefinition } from '../indicator.js';
import { periodSql } from '../period.js';

/** 非药物处方率: managed patients with a non-medical prescription in force at the period's end. */
export const nonMedicalPrescriptionRate: IndicatorDefinition = {
  id: 'non-medical-prescription-rate',
  title: { en: 'Non-medical prescription rate', zh: '非药物处方率' },
  definition: {
    numerator:
      'Managed patients with at least one non-medical care-plan activity (diet, exercise, salt reduction, smoking cessation, alcohol limitation, self-management group, other) in force on the period end (care-rules/non-medical.ts): in an ACTIVE plan begun by then, not on hold, completed, cancelled or stopped; or in a COMPLETED plan whose period held that day.',
    denominator: 'Patients managed (hypertension or type 2 diabetes) at the end of the period.',
    exclusions: 'Plans on hold, revoked or in draft; medication activities; plans begun after the period end; patients registered after it or who left the programme on or before it.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  target: 0.7,
  populationSql: (input) => ({
    sql: `select m.id as patient_id, 1 as denominator, case when ${nonMedicalInForceOnSql('m.id', periodSql(input).end)} then 1 else 0 end as numerator from managed m`,
    params: [],
  }),
};
