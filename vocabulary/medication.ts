/** What a medicine is for, as far as the county's chronic-disease programmes count it. */
export enum DrugClass {
  ANTIHYPERTENSIVE = 'ANTIHYPERTENSIVE',
  ANTIDIABETIC = 'ANTIDIABETIC',
  LIPID_LOWERING = 'LIPID_LOWERING',
  OTHER = 'OTHER',
}

/**
 * Where a patient's use of a medicine stands: one status for prescriptions (MedicationRequest) and the patient's
 * own account (MedicationStatement). PLANNED: drafted or intended, not yet taken.
 */
export enum MedicationStatus {
  ACTIVE = 'ACTIVE',
  ON_HOLD = 'ON_HOLD',
  PLANNED = 'PLANNED',
  COMPLETED = 'COMPLETED',
  STOPPED = 'STOPPED',
  CANCELLED = 'CANCELLED',
  NOT_TAKEN = 'NOT_TAKEN',
  UNKNOWN = 'UNKNOWN',
}
