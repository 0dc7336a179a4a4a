/** CONTROLLED: below target; UNCONTROLLED: above target; URGENT: needs referral now. */
export enum ControlStatus {
  CONTROLLED = 'CONTROLLED',
  UNCONTROLLED = 'UNCONTROLLED',
  URGENT = 'URGENT',
}
