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

/**
 * Whether the programme still looks after the patient (ADR 16). Only ACTIVE patients are on worklists and in
 * indicators; the others keep their record and history and may come back (set ACTIVE again).
 */
export enum CareStatus {
  ACTIVE = 'ACTIVE',
  TRANSFERRED_OUT = 'TRANSFERRED_OUT',
  MOVED_AWAY = 'MOVED_AWAY',
  DIED = 'DIED',
  WITHDREW = 'WITHDREW',
}

export enum IdentifierKind {
  RESIDENT_ID = 'RESIDENT_ID',
  HEALTH_RECORD = 'HEALTH_RECORD',
  INSURANCE = 'INSURANCE',
  MRN = 'MRN',
  OTHER = 'OTHER',
}
