export enum FollowUpType {
  CLINIC = 'CLINIC',
  HOME = 'HOME',
  PHONE = 'PHONE',
  REMOTE = 'REMOTE',
}
