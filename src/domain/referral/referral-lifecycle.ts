import { ReferralStatus } from './referral.entity.js';

export type ReferralAction = 'accept' | 'reject' | 'complete' | 'cancel';

/**
 * The referral lifecycle: requested → accepted | rejected; accepted → completed; requested or accepted →
 * cancelled. Rejected, completed and cancelled are final.
 */
const TRANSITIONS: Record<ReferralAction, { from: ReferralStatus[]; to: ReferralStatus }> = {
  accept: { from: [ReferralStatus.REQUESTED], to: ReferralStatus.ACCEPTED },
  reject: { from: [ReferralStatus.REQUESTED], to: ReferralStatus.REJECTED },
  complete: { from: [ReferralStatus.ACCEPTED], to: ReferralStatus.COMPLETED },
  cancel: { from: [ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED], to: ReferralStatus.CANCELLED },
};

/** Open: the receiver has yet to decide, or is caring for the patient. At most one per patient and receiver. */
export const OPEN_REFERRAL_STATUSES: readonly ReferralStatus[] = Object.freeze([ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED]);

export function nextReferralStatus(current: ReferralStatus, action: ReferralAction): ReferralStatus | undefined {
  const t = TRANSITIONS[action];
  return t.from.includes(current) ? t.to : undefined;
}

/** The timestamp field each status stamps. */
export const STATUS_TIMESTAMP = {
  ACCEPTED: 'acceptedAt',
  REJECTED: 'rejectedAt',
  COMPLETED: 'completedAt',
  CANCELLED: 'cancelledAt',
} as const;
