import { OrganizationLevel, ReferralDirection } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { referralPopulationSql } from './referral.js';

/**
 * 下转率: down-referrals sent by a county-level organisation in the period, per managed patient — the care model's
 * "down-from-county" figure, which a medical community wants to fall year on year (fewer patients held at the county
 * hospital who then need sending back). The numerator is the count.
 */
export const downReferralRate: IndicatorDefinition = {
  id: 'down-referral-rate',
  title: { en: 'Down-referral rate (from the county)', zh: '下转率（县级下转）' },
  definition: {
    numerator: 'Down-referrals sent by a county-level organisation (to a township or village) of the denominator\'s patients, requested in the period and made — requested, accepted or completed. A count of referrals.',
    denominator: 'Patients managed (hypertension or type 2 diabetes) at the end of the period.',
    exclusions: 'Down-referrals from a township to a village; rejected and cancelled referrals; referrals of patients not managed at the period end.',
  },
  numeratorUnit: 'referrals',
  denominatorUnit: 'patients',
  improvement: 'decrease',
  populationSql: (input) => referralPopulationSql(input, ReferralDirection.DOWN, OrganizationLevel.COUNTY),
};
