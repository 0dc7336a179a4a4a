/**
 * What an alert suggests or warns of (docs/care-model.md, "Alerts"). The referral suggestions follow the national
 * follow-up standard; the last two are the programme's own bookkeeping.
 */
export enum AlertKind {
  /** An urgent reading (SBP ≥ 180 or DBP ≥ 110; fasting glucose ≥ 16.7 or ≤ 3.9): refer up now. */
  URGENT_REFERRAL = 'URGENT_REFERRAL',
  /** Two consecutive uncontrolled visits: refer up (routine). */
  UNCONTROLLED_REFERRAL = 'UNCONTROLLED_REFERRAL',
  /** A new complication: refer up (routine). */
  COMPLICATION_REFERRAL = 'COMPLICATION_REFERRAL',
  /** Stable for a while after a stay at a county-level hospital: refer down. */
  DOWN_REFERRAL = 'DOWN_REFERRAL',
  /** A referral the receiver has not accepted in time. */
  REFERRAL_NOT_ACCEPTED = 'REFERRAL_NOT_ACCEPTED',
  /** The family-doctor contract expires soon. */
  CONTRACT_EXPIRING = 'CONTRACT_EXPIRING',
}

/** URGENT: act today; ROUTINE: act at the next visit; INFO: for the record or an administrative task. */
export enum AlertSeverity {
  URGENT = 'URGENT',
  ROUTINE = 'ROUTINE',
  INFO = 'INFO',
}

/** OPEN → ACKNOWLEDGED (someone has seen it) → RESOLVED (by a person, or by the rules when its cause went). */
export enum AlertState {
  OPEN = 'OPEN',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  RESOLVED = 'RESOLVED',
}
