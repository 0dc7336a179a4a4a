import { ReferralDirection } from '../../../vocabulary/index.js';
import type { IndicatorDefinition } from '../indicator.js';
import { referralPopulationSql } from './referral.js';

/** 上转率: up-referrals (village → township → county) made in the period, per managed patient. The numerator is the count. */
export const upReferralRate: IndicatorDefinition = {
  id: 'up-referral-rate',
  title: { en: 'Up-referral rate', zh: '上转率' },
  definition: {
    numerator: 'Up-referrals (to a higher level) of the denominator\'s patients requested in the period and made — requested, accepted or completed; not rejected or cancelled. A count of referrals: a patient sent up twice counts twice.',
    denominator: 'Patients managed (hypertension or type 2 diabetes) at the end of the period.',
    exclusions: 'Rejected and cancelled referrals; referrals of patients not managed at the period end (registered after it, left the programme on or before it, never diagnosed).',
  },
  numeratorUnit: 'referrals',
  denominatorUnit: 'patients',
  improvement: 'increase',
  populationSql: (input) => referralPopulationSql(input, ReferralDirection.UP),
};
