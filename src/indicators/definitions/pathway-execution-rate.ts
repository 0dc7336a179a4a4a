import { inProgrammeOnSql } from '../../care-rules/managed.js';
import { MANAGED_KINDS } from '../../care-rules/management.js';
import { pathwayCompletedSql, pathwayEnteredSql } from '../../care-rules/pathway.js';
import type { IndicatorDefinition } from '../indicator.js';
import { periodSql } from '../period.js';

/** 全流程执行率: patients who entered the seven-step pathway and passed all seven steps by the period's end. */
export const pathwayExecutionRate: IndicatorDefinition = {
  id: 'pathway-execution-rate',
  title: { en: 'Pathway execution rate', zh: '全流程闭环管理执行率' },
  definition: {
    numerator:
      'Patients of the denominator who reached the seventh step (REASSESSED, any cycle) of a hypertension or type 2 diabetes pathway by the period end: steps are reached only in order (care-rules/pathway.ts), so every step before it was passed; a skipped SUSPECTED counts as passed.',
    denominator:
      'Patients who entered a hypertension or type 2 diabetes pathway (step 1 SUSPECTED or step 2 CONFIRMED reached) on or before the period end, registered on or before it and still in the programme on it. Cumulative: a patient who entered years ago and completed in the period, or before it, is counted.',
    exclusions: 'A suspicion only (no CONFIRMED step) answered by a refuted diagnosis; pathways of other conditions; patients registered after the period end or who left the programme on or before it.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  target: 0.7,
  populationSql: (input) => {
    const p = periodSql(input);
    return {
      sql: `select s.id as patient_id, 1 as denominator, case when ${pathwayCompletedSql('s.id', MANAGED_KINDS, p.endAt)} then 1 else 0 end as numerator
        from scoped s where ${inProgrammeOnSql('s', p.end, input.timeZone)} and ${pathwayEnteredSql('s.id', MANAGED_KINDS, p.endAt)}`,
      params: [],
    };
  },
};
