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

/**
 * Which way a judged reading stands from its target, as HL7 v3 ObservationInterpretation codes (the values are the
 * codes): N within target (CONTROLLED), H above it (UNCONTROLLED: every target is an upper limit), HH / LL urgently
 * high / low (URGENT; only glucose has an urgent low). src/care-rules/control.ts, `controlInterpretationOf`.
 */
export enum ControlInterpretation {
  N = 'N',
  H = 'H',
  HH = 'HH',
  LL = 'LL',
}
