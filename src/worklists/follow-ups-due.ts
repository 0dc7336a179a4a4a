import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { addDays, daysBetween } from '../care-rules/follow-up-interval.js';
import { onOverdueListJoinSql } from '../care-rules/overdue-contact.js';
import { openPlannedVisitSql } from '../care-rules/visits.js';
import { byName, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import { columnsOf, type ListQuery, recordOf } from './page.js';

/** A planned visit that is due: the visit, its date and how many days it is overdue (negative: days until it is due). */
export interface FollowUpDue extends Entry {
  followUp: FollowUp;
  dueDate: string;
  daysOverdue: number;
}

export interface FollowUpsDueOptions {
  /** Only visits whose date has passed (due before today). */
  overdueOnly?: boolean | null;
  /** Also visits due in the next this many days (default 0: due today or before). */
  dueWithinDays?: number | null;
}

export const FOLLOW_UPS_DUE_SORTS = {
  /** Earliest due date first: the most days overdue at the top. */
  MOST_OVERDUE: [{ sql: 'f.planned_date', type: 'date' }, { sql: 'f.id', type: 'uuid' }],
  /** Latest due date first. */
  LEAST_OVERDUE: [{ sql: 'f.planned_date', type: 'date', desc: true }, { sql: 'f.id', type: 'uuid', desc: true }],
  NAME: byName({ sql: 'f.id', type: 'uuid' }),
} as const;

/**
 * Follow-ups due and overdue (docs/care-model.md, "Worklists"): planned visits dated on or before today (+
 * dueWithinDays), of patients on the overdue lists — not those a contact attempt since the visit's date keeps off
 * them for now (`onOverdueListJoinSql`, src/care-rules/overdue-contact.ts: reached and coming on a date, not reachable
 * this week, refused, a wrong number). The latest attempt is joined, not asked in WHERE, so that PostgreSQL walks the
 * open visits by date (follow_up_open_planned_index) and stops at the page's end (see there).
 */
export function followUpsDue(ctx: ListContext, options: FollowUpsDueOptions = {}): ListQuery<FollowUpDue> {
  const side = patientSide(ctx, { extra: [ctx.policy.rowsOfShown('FollowUp', 'f')] });
  const through = options.overdueOnly ? { sql: 'f.planned_date < ?::date', params: [ctx.today] } : { sql: 'f.planned_date <= ?::date', params: [addDays(ctx.today, options.dueWithinDays ?? 0)] };
  const contact = onOverdueListJoinSql(ctx.rules, { patient: 'p', followUp: 'f' }, ctx.today, 'la');
  return {
    list: 'followUpsDue',
    from: `follow_up f join patient p on p.id = f.patient_id ${contact.join}`,
    where: [{ sql: openPlannedVisitSql('f'), params: [] }, through, { sql: contact.onList, params: [] }, ...side.where],
    select: [side.select, columnsOf(ctx.em, FollowUp, 'f')],
    sorts: FOLLOW_UPS_DUE_SORTS,
    entry: (row) => {
      const followUp = recordOf(ctx.em, FollowUp, row, 'f')!;
      return { patient: patientOf(ctx, row), followUp, dueDate: followUp.plannedDate!, daysOverdue: daysBetween(followUp.plannedDate!, ctx.today) };
    },
  };
}
