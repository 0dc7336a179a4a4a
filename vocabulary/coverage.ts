export enum CoverageStatus {
  ACTIVE = 'ACTIVE',
  CANCELLED = 'CANCELLED',
}
