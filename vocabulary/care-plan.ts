export enum CarePlanStatus {
  DRAFT = 'DRAFT',
  ACTIVE = 'ACTIVE',
  ON_HOLD = 'ON_HOLD',
  REVOKED = 'REVOKED',
  COMPLETED = 'COMPLETED',
}

/** Everything but MEDICATION is a non-medical prescription (非药物处方). */
export enum ActivityCategory {
  DIET = 'DIET',
  EXERCISE = 'EXERCISE',
  SALT_REDUCTION = 'SALT_REDUCTION',
  SMOKING_CESSATION = 'SMOKING_CESSATION',
  ALCOHOL_LIMITATION = 'ALCOHOL_LIMITATION',
  SELF_MANAGEMENT_GROUP = 'SELF_MANAGEMENT_GROUP',
  MEDICATION = 'MEDICATION',
  OTHER = 'OTHER',
}

export enum ActivityStatus {
  NOT_STARTED = 'NOT_STARTED',
  SCHEDULED = 'SCHEDULED',
  IN_PROGRESS = 'IN_PROGRESS',
  ON_HOLD = 'ON_HOLD',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
  STOPPED = 'STOPPED',
}

/**
 * How a care plan's goal stands, judged from the readings since the plan started (src/care-rules/goal-progress.ts):
 * its latest counting reading meets the target (ACHIEVED), does not yet and the goal is not yet due (IN_PROGRESS),
 * does not and the due date has passed (NOT_ACHIEVED), or there is no counting reading of its measure (NO_DATA).
 */
export enum GoalProgressStatus {
  ACHIEVED = 'ACHIEVED',
  IN_PROGRESS = 'IN_PROGRESS',
  NOT_ACHIEVED = 'NOT_ACHIEVED',
  NO_DATA = 'NO_DATA',
}
