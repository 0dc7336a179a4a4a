import { sqlText } from '../../care-rules/sql.js';
import { AdmissionKind, AdmissionStatus, ManagementTier } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { periodSql } from '../period.js';

/** A stay that took place: not planned, cancelled or entered in error (as the management colour reads admissions, src/care/state/management.ts). */
const NOT_A_STAY = [AdmissionStatus.PLANNED, AdmissionStatus.CANCELLED, AdmissionStatus.ENTERED_IN_ERROR];

/** 重点人群住院率: intensive-tier managed patients with an inpatient stay in the period. */
export const intensiveHospitalisationRate: IndicatorDefinition = {
  id: 'intensive-hospitalisation-rate',
  title: { en: 'Hospitalisation rate of intensive-tier patients', zh: '重点人群住院率' },
  definition: {
    numerator: 'Patients of the denominator with an INPATIENT stay (an admission, not planned, cancelled or entered in error) overlapping the period: begun before its end, and not discharged before its start.',
    denominator: 'Patients managed at the end of the period whose management tier is INTENSIVE (重点; the tier as it stands: the records keep no history of tiers).',
    exclusions: 'Emergency visits without a stay; patients of the routine and general tiers; patients not managed at the period end.',
  },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'decrease',
  populationSql: (input) => {
    const p = periodSql(input);
    return {
      sql: `select m.id as patient_id, 1 as denominator,
          case when exists (select 1 from admission ad where ad.patient_id = m.id and ad.kind = ${sqlText(AdmissionKind.INPATIENT)}
            and ad.status not in (${NOT_A_STAY.map(sqlText).join(', ')}) and ad.period_start < ${p.endAt} and (ad.period_end is null or ad.period_end >= ${p.startAt}))
          then 1 else 0 end as numerator
        from managed m where m.management_tier = ${sqlText(ManagementTier.INTENSIVE)}`,
      params: [],
    };
  },
};
