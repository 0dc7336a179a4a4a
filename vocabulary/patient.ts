export enum Gender {
  MALE = 'MALE',
  FEMALE = 'FEMALE',
  OTHER = 'OTHER',
  UNKNOWN = 'UNKNOWN',
}

/** Tiered management: intensive (重点), routine (常规), general (一般). Sets the follow-up interval. */
export enum ManagementTier {
  INTENSIVE = 'INTENSIVE',
  ROUTINE = 'ROUTINE',
  GENERAL = 'GENERAL',
}

export enum ManagementColour {
  RED = 'RED',
  YELLOW = 'YELLOW',
  GREEN = 'GREEN',
}

export enum IdentifierKind {
  RESIDENT_ID = 'RESIDENT_ID',
  HEALTH_RECORD = 'HEALTH_RECORD',
  INSURANCE = 'INSURANCE',
  MRN = 'MRN',
  OTHER = 'OTHER',
}
