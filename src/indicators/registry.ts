import type { IndicatorDefinition } from './indicator.js';
import { bpControlRate } from './definitions/bp-control-rate.js';
import { downReferralRate } from './definitions/down-referral-rate.js';
import { followUpOnTimeRate } from './definitions/follow-up-on-time-rate.js';
import { glucoseControlRate } from './definitions/glucose-control-rate.js';
import { hba1cControlRate } from './definitions/hba1c-control-rate.js';
import { intensiveHospitalisationRate } from './definitions/intensive-hospitalisation-rate.js';
import { nonMedicalPrescriptionRate } from './definitions/non-medical-prescription-rate.js';
import { pathwayExecutionRate } from './definitions/pathway-execution-rate.js';
import { selfManagementGroupCoverage } from './definitions/self-management-group-coverage.js';
import { standardisedManagementRate } from './definitions/standardised-management-rate.js';
import { upReferralRate } from './definitions/up-referral-rate.js';

/** Every indicator, in the care model's order (docs/care-model.md, "Quality indicators"). */
export const INDICATORS: readonly IndicatorDefinition[] = Object.freeze([
  standardisedManagementRate,
  bpControlRate,
  glucoseControlRate,
  hba1cControlRate,
  followUpOnTimeRate,
  nonMedicalPrescriptionRate,
  pathwayExecutionRate,
  upReferralRate,
  downReferralRate,
  intensiveHospitalisationRate,
  selfManagementGroupCoverage,
]);

const BY_ID = new Map(INDICATORS.map((d) => [d.id, d]));

export function indicatorById(id: string): IndicatorDefinition | undefined {
  return BY_ID.get(id);
}
