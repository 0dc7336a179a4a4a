import { faceToFaceSql } from '../../care-rules/follow-up-interval.js';
import { faceToFaceVisitsRequiredSql } from '../../care-rules/managed.js';
import { sqlNumber } from '../../care-rules/sql.js';
import { doneVisitSql } from '../../care-rules/visits.js';
import type { IndicatorDefinition } from '../indicator.js';
import { periodSql } from '../period.js';

/**
 * 规范管理率: managed patients who had the face-to-face visits the standard asks of the time they were managed in the
 * period. The requirement is pro-rated from the later of the period's start and the day management began
 * (care-rules/managed.ts faceToFaceVisitsRequired: by default 4 a year, 1 a quarter, rounded up).
 */
export const standardisedManagementRate: IndicatorDefinition = {
  id: 'standardised-management-rate',
  title: { en: 'Standardised management rate', zh: '规范管理率' },
  definition: {
    numerator:
      'Managed patients with at least the required number of face-to-face (clinic or home) visits done in the period (done, not cancelled). Required: minFaceToFaceFollowUpsPerYear (4 by default) pro-rated by the calendar months the patient was managed in the period — from the later of the period start and the day management began (registration or the first managed diagnosis, whichever is later) to the period end, days left over counted as thirtieths of a month — and rounded up: a year asks 4, half a year 2, a quarter 1.',
    denominator:
      'Patients managed (hypertension or type 2 diabetes) at the end of the period: a standing diagnosis dated on or before it, registered on or before it, still in the programme on it.',
    exclusions: 'Patients registered or diagnosed after the period end; patients who died, moved away, transferred out or withdrew on or before it; telephone and remote visits; planned visits not done.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  target: 0.7,
  populationSql: (input) => {
    const p = periodSql(input);
    const from = `greatest(${p.start}, m.managed_since)`;
    return {
      // The period's visits counted once per patient (one pass over the visits, hashed), not a count per patient.
      sql: `select m.id as patient_id, 1 as denominator,
          case when coalesce(fv.visits, 0) >= ${faceToFaceVisitsRequiredSql(from, p.end, sqlNumber(input.rules.minFaceToFaceFollowUpsPerYear))} then 1 else 0 end as numerator
        from managed m left join (select v.patient_id, count(*) as visits from follow_up v
            where ${doneVisitSql('v')} and ${faceToFaceSql('v.type')} and v.done_date between ${p.start} and ${p.end} group by v.patient_id) fv
          on fv.patient_id = m.id`,
      params: [],
    };
  },
};
