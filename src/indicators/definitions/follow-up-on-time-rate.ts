import { doneOnTimeSql, dueVisitSql } from '../../care-rules/visits.js';
import type { IndicatorDefinition } from '../indicator.js';
import { periodSql } from '../period.js';

/** Follow-up on-time rate: planned visits due in the period done by their due date, over those due. Counts visits. */
export const followUpOnTimeRate: IndicatorDefinition = {
  id: 'follow-up-on-time-rate',
  title: { en: 'Follow-up on-time rate', zh: '随访及时率' },
  definition: {
    numerator: 'Visits of the denominator done on or before the day they were planned for (the planned visit filled in by a visit that took place by then; care-rules/visits.ts doneOnTime).',
    denominator:
      'Planned visits (a planned date, not cancelled) of patients managed at the end of the period, planned for a day in the period — done or not. A visit not yet done whose day is today or later is not yet due and not counted.',
    exclusions: 'Cancelled planned visits (superseded, or the patient left); visits done without a plan; visits of patients registered after the period end or who left the programme on or before it.',
  },
  numeratorUnit: 'follow-ups',
  denominatorUnit: 'follow-ups',
  improvement: 'increase',
  populationSql: (input) => {
    const p = periodSql(input);
    return {
      sql: `select m.id as patient_id, count(*)::int as denominator, count(*) filter (where ${doneOnTimeSql('v')})::int as numerator
        from managed m join follow_up v on v.patient_id = m.id
        where ${dueVisitSql('v')} and v.planned_date between ${p.start} and ${p.end}
          and (v.done_date is not null or v.planned_date < date '${input.today}')
        group by m.id`,
      params: [],
    };
  },
};
