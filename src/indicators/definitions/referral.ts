import type { Predicate } from '../../access/policy.js';
import { sqlText } from '../../care-rules/sql.js';
import { OrganizationLevel, ReferralDirection, ReferralStatus } from '../../../vocabulary/index.js';
import type { IndicatorInput } from '../indicator.js';
import { periodSql } from '../period.js';

/** A referral that was made: requested, accepted or completed (not rejected or cancelled), as the interval rules count one. */
export const MADE_REFERRAL_STATUSES: readonly ReferralStatus[] = [ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED];

/**
 * A referral rate's population: each managed patient 1 in the denominator and their referrals of `direction`
 * requested in the period (made, not rejected or cancelled) in the numerator; `fromLevel` narrows to those sent by an
 * organisation of that level (down-referrals from the county).
 */
export function referralPopulationSql(input: IndicatorInput, direction: ReferralDirection, fromLevel?: OrganizationLevel): Predicate {
  const p = periodSql(input);
  const from = fromLevel ? `and r.from_organization_id in (select fo.id from organization fo where fo.level = ${sqlText(fromLevel)})` : '';
  return {
    sql: `select m.id as patient_id, 1 as denominator,
        (select count(*) from referral r where r.patient_id = m.id and r.direction = ${sqlText(direction)}
          and r.status in (${MADE_REFERRAL_STATUSES.map(sqlText).join(', ')}) and r.requested_at >= ${p.startAt} and r.requested_at < ${p.endAt} ${from})::int as numerator
      from managed m`,
    params: [],
  };
}
