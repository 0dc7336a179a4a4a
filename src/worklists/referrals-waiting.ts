import { badInput, isUuid } from '../domain/errors.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { Referral, type ReferralStatus } from '../domain/referral/referral.entity.js';
import { type Receiver, waitingForSql } from '../domain/referral/waiting.js';
import { byName, daysSince, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import { columnsOf, type ListQuery, recordOf } from './page.js';

/** A referral waiting for its receiver: the referral and the days since it was sent. */
export interface ReferralWaiting extends Entry {
  referral: Referral;
  daysWaiting: number;
}

/** Whom the referrals wait for: an organisation (those sent to it or one below it), a practitioner (those addressed to them), or either. */
export interface ReferralReceiver {
  organizationId?: string | null;
  practitionerId?: string | null;
}

export const REFERRALS_WAITING_SORTS = {
  /** Waiting longest first. */
  LONGEST_WAITING: [{ sql: 'r.requested_at', type: 'timestamptz' }, { sql: 'r.id', type: 'uuid' }],
  /** Urgent referrals first, then waiting longest. */
  URGENCY: [
    { sql: `(case r.urgency when 'URGENT' then 0 else 1 end)`, type: 'int' },
    { sql: 'r.requested_at', type: 'timestamptz' },
    { sql: 'r.id', type: 'uuid' },
  ],
  NAME: byName({ sql: 'r.id', type: 'uuid' }),
} as const;

/**
 * Whom they wait for, as waitingForSql (src/domain/referral/waiting.ts) takes it: the organisation named (and those
 * below it) and/or the practitioner named; with neither, the caller's own organisation and the caller.
 */
async function receiverOf(ctx: ListContext, to: ReferralReceiver): Promise<Receiver> {
  for (const key of ['organizationId', 'practitionerId'] as const) {
    if (to[key] != null && !isUuid(to[key]!)) throw badInput(`to.${key} is not an id`, `to.${key}`);
  }
  if (!to.organizationId && !to.practitionerId) return { organizationPath: ctx.policy.caller.organizationPath, practitionerId: ctx.policy.caller.practitionerId };
  const receiver: Receiver = { practitionerId: to.practitionerId };
  if (to.organizationId) {
    const org = await ctx.em.findOne(Organization, { id: to.organizationId });
    if (!org) throw badInput(`to.organizationId: no Organization with id ${to.organizationId}`, 'to.organizationId');
    receiver.organizationPath = org.path;
  }
  return receiver;
}

/**
 * Referrals waiting for me (docs/care-model.md, "Worklists"): open referrals (requested: to accept or reject;
 * accepted: to complete) addressed to an organisation or a practitioner, by the referrals' own definition.
 */
export async function referralsWaiting(ctx: ListContext, to: ReferralReceiver = {}, statuses?: ReferralStatus[] | null): Promise<ListQuery<ReferralWaiting>> {
  const side = patientSide(ctx, { extra: [ctx.policy.rowsOfShown('Referral', 'r')] });
  return {
    list: 'referralsWaiting',
    from: 'referral r join patient p on p.id = r.patient_id',
    where: [waitingForSql('r', await receiverOf(ctx, to), statuses?.length ? statuses : undefined), ...side.where],
    select: [side.select, columnsOf(ctx.em, Referral, 'r')],
    sorts: REFERRALS_WAITING_SORTS,
    entry: (row) => {
      const referral = recordOf(ctx.em, Referral, row, 'r')!;
      return { patient: patientOf(ctx, row), referral, daysWaiting: daysSince(ctx, referral.requestedAt) };
    },
  };
}
