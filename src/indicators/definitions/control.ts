import { controlStatusSql } from '../../care-rules/control.js';
import { latestReadingSql } from '../../care-rules/latest.js';
import type { Predicate } from '../../access/policy.js';
import { ControlStatus, type ObservationKind } from '../../../vocabulary/index.js';
import type { IndicatorInput } from '../indicator.js';
import { dayStart, nextDay } from '../period.js';

/**
 * A control rate's population, shared by the blood-pressure, glucose and HbA1c rates (each its own file): for each
 * managed patient of `condition` (a boolean column of `managed`), 1 in the denominator, and 1 in the numerator when
 * the latest counting reading of `kinds` taken in the period (latest.ts: plausible only, the newest by time) is
 * CONTROLLED by the rules (control.ts). No such reading: not controlled. `withReadingOnly`: only patients with such
 * a reading are in the denominator (the HbA1c rate).
 */
export function controlPopulationSql(input: IndicatorInput, condition: 'hypertension' | 'diabetes', kinds: readonly ObservationKind[], withReadingOnly = false): Predicate {
  const latest = latestReadingSql(kinds, 'm.id', { from: dayStart(input.period.start, input.timeZone), to: dayStart(nextDay(input.period.end), input.timeZone) });
  return {
    sql: `select m.id as patient_id, 1 as denominator,
        case when ${controlStatusSql(input.rules, 'lr')} = '${ControlStatus.CONTROLLED}' then 1 else 0 end as numerator
      from managed m ${withReadingOnly ? 'cross' : 'left'} join lateral ${latest.sql} lr ${withReadingOnly ? '' : 'on true'}
      where m.${condition}`,
    params: latest.params,
  };
}
