/** CONTROLLED: below target; UNCONTROLLED: above target; URGENT: needs referral now. */
export enum ControlStatus {
  CONTROLLED = 'CONTROLLED',
  UNCONTROLLED = 'UNCONTROLLED',
  URGENT = 'URGENT',
}

/**
 * A managed condition's control status (ADR 16, `condition_control`): its latest counting readings within the
 * look-back against the targets, or NO_RECENT_READING when none counts.
 */
export enum ConditionControlStatus {
  CONTROLLED = 'CONTROLLED',
  UNCONTROLLED = 'UNCONTROLLED',
  URGENT = 'URGENT',
  NO_RECENT_READING = 'NO_RECENT_READING',
}
