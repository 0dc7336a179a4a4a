import { ControlStatus } from './control.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';

export interface VisitOutcome {
  controlStatus?: ControlStatus;
  adverseReaction?: boolean;
  newComplication?: boolean;
  /** Control status at the previous visit, if any: two uncontrolled in a row call for a referral. */
  previousControlStatus?: ControlStatus;
}

export interface NextStep {
  /** Days until the next follow-up is due. */
  days: number;
  referralAdvised: boolean;
  urgent: boolean;
}

/**
 * When the next follow-up is due, decided once here from the visit's outcome: controlled → 3 months;
 * first uncontrolled or an adverse reaction → 2 weeks; two uncontrolled in a row, a new complication or
 * an urgent reading → refer, and follow up within 2 weeks.
 */
export function nextFollowUp(outcome: VisitOutcome, rules: CareRules = DEFAULT_CARE_RULES): NextStep {
  const { followUpDays } = rules;
  const urgent = outcome.controlStatus === ControlStatus.URGENT;
  const uncontrolledNow = outcome.controlStatus === ControlStatus.UNCONTROLLED || urgent;
  const uncontrolledBefore =
    outcome.previousControlStatus === ControlStatus.UNCONTROLLED || outcome.previousControlStatus === ControlStatus.URGENT;
  const referralAdvised = urgent || !!outcome.newComplication || (uncontrolledNow && uncontrolledBefore);
  if (referralAdvised) return { days: followUpDays.afterReferral, referralAdvised, urgent };
  if (uncontrolledNow || outcome.adverseReaction) return { days: followUpDays.uncontrolled, referralAdvised, urgent };
  return { days: followUpDays.controlled, referralAdvised, urgent };
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
