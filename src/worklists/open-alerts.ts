import { Alert } from '../care/alerts/alert.entity.js';
import { AlertKind, AlertSeverity, AlertState } from '../../vocabulary/index.js';
import { byName, daysSince, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import { columnsOf, type ListQuery, recordOf } from './page.js';
import { textArray } from './scope.js';

/** An alert that needs a person, and how many days it has been raised. */
export interface OpenAlert extends Entry {
  alert: Alert;
  daysOpen: number;
}

export interface OpenAlertsOptions {
  /** Default: OPEN and ACKNOWLEDGED (seen, not yet dealt with). */
  states?: AlertState[] | null;
  severities?: AlertSeverity[] | null;
  kinds?: AlertKind[] | null;
}

const NOT_RESOLVED = [AlertState.OPEN, AlertState.ACKNOWLEDGED];
/** URGENT before ROUTINE before INFO. */
const SEVERITY_RANK = `(case a.severity when '${AlertSeverity.URGENT}' then 0 when '${AlertSeverity.ROUTINE}' then 1 else 2 end)`;

export const OPEN_ALERTS_SORTS = {
  /** Most severe first, then the newest. */
  SEVERITY: [
    { sql: SEVERITY_RANK, type: 'int' },
    { sql: 'a.raised_at', type: 'timestamptz', desc: true },
    { sql: 'a.id', type: 'uuid', desc: true },
  ],
  /** Newest first. */
  RAISED_AT: [{ sql: 'a.raised_at', type: 'timestamptz', desc: true }, { sql: 'a.id', type: 'uuid', desc: true }],
  /** Oldest first: what has waited longest. */
  OLDEST: [{ sql: 'a.raised_at', type: 'timestamptz' }, { sql: 'a.id', type: 'uuid' }],
  NAME: byName({ sql: 'a.id', type: 'uuid' }),
} as const;

/** Open alerts by severity (docs/care-model.md, "Worklists"): alerts raised by the rules (src/care/alerts/) not yet resolved. */
export function openAlerts(ctx: ListContext, options: OpenAlertsOptions = {}): ListQuery<OpenAlert> {
  const states = options.states?.length ? options.states : NOT_RESOLVED;
  const side = patientSide(ctx, { extra: [ctx.policy.rowsOfShown('Alert', 'a')] });
  const where = [{ sql: 'a.state = any(?::text[])', params: [textArray(states)] }];
  if (options.severities?.length) where.push({ sql: 'a.severity = any(?::text[])', params: [textArray(options.severities)] });
  if (options.kinds?.length) where.push({ sql: 'a.kind = any(?::text[])', params: [textArray(options.kinds)] });
  return {
    list: 'openAlerts',
    from: 'alert a join patient p on p.id = a.patient_id',
    where: [...where, ...side.where],
    select: [side.select, columnsOf(ctx.em, Alert, 'a')],
    sorts: OPEN_ALERTS_SORTS,
    entry: (row) => {
      const alert = recordOf(ctx.em, Alert, row, 'a')!;
      return { patient: patientOf(ctx, row), alert, daysOpen: daysSince(ctx, alert.raisedAt) };
    },
  };
}
