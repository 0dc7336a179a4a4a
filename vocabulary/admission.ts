/** What kind of hospital encounter an admission is, and where it stands (FHIR Encounter.status, in our casing). */
export enum AdmissionKind {
  /** A hospital stay (encounter class IMP, ACUTE, NONAC): what the hospitalisation indicator counts. */
  INPATIENT = 'INPATIENT',
  /** An emergency-department visit (class EMER). */
  EMERGENCY = 'EMERGENCY',
}

export enum AdmissionStatus {
  PLANNED = 'PLANNED',
  IN_PROGRESS = 'IN_PROGRESS',
  ON_LEAVE = 'ON_LEAVE',
  FINISHED = 'FINISHED',
  CANCELLED = 'CANCELLED',
  ENTERED_IN_ERROR = 'ENTERED_IN_ERROR',
  UNKNOWN = 'UNKNOWN',
}
