import { addDays, daysBetween } from '../care-rules/follow-up-interval.js';
import { badInput } from '../domain/errors.js';
import { byName, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import type { ListQuery } from './page.js';

/** A family-doctor contract to renew: when it expires and the days left (negative: expired that many days ago). */
export interface ContractExpiring extends Entry {
  expiresOn: string;
  daysLeft: number;
}

export interface ContractsExpiringOptions {
  /** Contracts expiring on or after this date (default: today). An earlier date also lists lapsed contracts not renewed. */
  from?: string | null;
  /** … and on or before this date (default: today + the care rules' `alerts.contractExpiringDays`, as the reminder alert has it). */
  to?: string | null;
}

export const CONTRACTS_EXPIRING_SORTS = {
  /** Soonest expiry first. */
  EXPIRES_ON: [{ sql: 'p.contract_expires_on', type: 'date' }, { sql: 'p.id', type: 'uuid' }],
  NAME: byName({ sql: 'p.id', type: 'uuid' }),
} as const;

/**
 * Contracts expiring (docs/care-model.md, "Worklists"): patients whose family-doctor contract (`contractExpiresOn`,
 * the latest one signed) expires in [from, to]. A renewed contract moves the date, so its patient leaves the list.
 */
export function contractsExpiring(ctx: ListContext, options: ContractsExpiringOptions = {}): ListQuery<ContractExpiring> {
  const from = options.from ?? ctx.today;
  const to = options.to ?? addDays(ctx.today, ctx.rules.alerts.contractExpiringDays);
  if (to < from) throw badInput('to is before from', 'to');
  const side = patientSide(ctx);
  return {
    list: 'contractsExpiring',
    from: 'patient p',
    where: [{ sql: 'p.contract_expires_on between ?::date and ?::date', params: [from, to] }, ...side.where],
    select: [side.select],
    sorts: CONTRACTS_EXPIRING_SORTS,
    entry: (row) => {
      const patient = patientOf(ctx, row);
      return { patient, expiresOn: patient.contractExpiresOn!, daysLeft: daysBetween(ctx.today, patient.contractExpiresOn!) };
    },
  };
}
