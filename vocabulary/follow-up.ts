export enum FollowUpType {
  CLINIC = 'CLINIC',
  HOME = 'HOME',
  PHONE = 'PHONE',
  REMOTE = 'REMOTE',
}

/** Why a planned visit is due on its date: the interval rule that gave the earliest date (care-rules/follow-up-interval.ts). */
export enum DueReason {
  CONTROLLED = 'CONTROLLED',
  UNCONTROLLED = 'UNCONTROLLED',
  ADVERSE_REACTION = 'ADVERSE_REACTION',
  AFTER_REFERRAL = 'AFTER_REFERRAL',
  TIER_MAXIMUM = 'TIER_MAXIMUM',
  FACE_TO_FACE_MINIMUM = 'FACE_TO_FACE_MINIMUM',
  ANNUAL_CHECK = 'ANNUAL_CHECK',
  /** A clinician asked for an earlier date at the last visit (`nextDueDate`). */
  CLINICIAN = 'CLINICIAN',
}
