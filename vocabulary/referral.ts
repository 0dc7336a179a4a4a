/** UP: village → township → county; DOWN: the reverse. */
export enum ReferralDirection {
  UP = 'UP',
  DOWN = 'DOWN',
}

export enum ReferralStatus {
  REQUESTED = 'REQUESTED',
  ACCEPTED = 'ACCEPTED',
  REJECTED = 'REJECTED',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
}

export enum ReferralUrgency {
  ROUTINE = 'ROUTINE',
  URGENT = 'URGENT',
}

export enum ReferralReason {
  UNCLEAR_DIAGNOSIS = 'UNCLEAR_DIAGNOSIS',
  POOR_CONTROL = 'POOR_CONTROL',
  ACUTE_EXACERBATION = 'ACUTE_EXACERBATION',
  COMPLICATION = 'COMPLICATION',
  STABLE = 'STABLE',
  RECOVERY = 'RECOVERY',
  OTHER = 'OTHER',
}
