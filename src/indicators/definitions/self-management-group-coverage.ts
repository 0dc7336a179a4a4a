import { sqlText } from '../../care-rules/sql.js';
import { OrganizationLevel } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { periodSql } from '../period.js';

/**
 * 自我管理小组覆盖率: townships with a self-management group at the period's end (Pingyang's target: a group in every
 * township). Counts townships, not patients: the population's `patient_id` holds the township's organisation id, and
 * indicatorPatientIds lists townships' ids.
 */
export const selfManagementGroupCoverage: IndicatorDefinition = {
  id: 'self-management-group-coverage',
  title: { en: 'Self-management group coverage of townships', zh: '乡镇自我管理小组覆盖率' },
  definition: {
    numerator: 'Townships of the denominator with at least one self-management group (of the township centre or a village clinic below it) open on the period end: recorded on or before it and not closed on or before it.',
    denominator:
      'Townships (TOWNSHIP-level organisations) managing, themselves or through a village clinic below them, at least one patient in scope. The ids listed are the townships\' organisation ids, not patients\'.',
    exclusions: 'Groups closed on or before the period end; groups recorded after it; townships with no patient in scope.',
  },
  numeratorUnit: 'townships',
  denominatorUnit: 'townships',
  improvement: 'increase',
  target: 1,
  populationSql: (input) => {
    const p = periodSql(input);
    return {
      sql: `select t.id as patient_id, 1 as denominator,
          case when exists (select 1 from self_management_group g join organization go on go.id = g.organization_id
            where go.path like t.path || '%' and ${p.dayOf('g.created_at')} <= ${p.end} and (g.closed_on is null or g.closed_on > ${p.end}))
          then 1 else 0 end as numerator
        from organization t
        where t.id in (select tt.id from (select distinct s.managing_organization_id from scoped s) so
          join organization mo on mo.id = so.managing_organization_id
          join organization tt on tt.level = ${sqlText(OrganizationLevel.TOWNSHIP)} and mo.path like tt.path || '%')`,
      params: [],
    };
  },
};
