import { daysBetween } from '../care-rules/follow-up-interval.js';
import type { Predicate } from '../access/policy.js';
import { countyTimeZone } from '../care-rules/calendar.js';
import { stepNumberSql, stuckDays, stuckInPathwaySql } from '../care-rules/pathway.js';
import { sqlText } from '../care-rules/sql.js';
import { type ConditionKind, PathwayStep, VerificationStatus } from '../../vocabulary/index.js';
import { byName, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import type { ListQuery } from './page.js';
import { textArray } from './scope.js';

/** Where a patient stands on one condition's pathway: the step reached last, in which cycle, since when, and what proved it. */
export interface PathwayEntry extends Entry {
  conditionKind: ConditionKind;
  step: PathwayStep;
  cycle: number;
  since: Date;
  daysAtStep: number;
  /** Days the step may last before the pathway calls it stuck (CareRules `pathway.stuckDays`). */
  stuckAfterDays: number;
  evidenceType: string | null;
  evidenceId: string | null;
}

/**
 * The current step of each of the patient's pathways (`cur`): of the step records the pathway derivation keeps
 * (src/care/pathway/, ADR 16), the last cycle's furthest step, with `since` its county date. Found per patient by the
 * (patient, condition, cycle, step) unique index, so a list costs one probe per patient of its scope.
 */
function currentSteps(): string {
  const tz = countyTimeZone().replaceAll("'", "''");
  return `patient p join lateral (
      select distinct on (ps.condition_kind) ps.patient_id, ps.condition_kind, ps.step, ps.cycle, ps.reached_at, ps.evidence_type, ps.evidence_id,
             (ps.reached_at at time zone '${tz}')::date as since
        from pathway_step ps where ps.patient_id = p.id
       order by ps.condition_kind, ps.cycle desc, ${stepNumberSql('ps.step')} desc) cur on true`;
}

export const PATHWAY_SORTS = {
  /** Waiting longest at the step first. */
  LONGEST_WAITING: [
    { sql: 'cur.reached_at', type: 'timestamptz' },
    { sql: 'p.id', type: 'uuid' },
    { sql: 'cur.condition_kind', type: 'text' },
  ],
  NAME: byName({ sql: 'p.id', type: 'uuid' }, { sql: 'cur.condition_kind', type: 'text' }),
} as const;

function pathwayList(ctx: ListContext, list: string, where: Predicate[]): ListQuery<PathwayEntry> {
  const side = patientSide(ctx, { conditionKindColumn: 'cur.condition_kind', extra: [ctx.policy.rowsOfShown('PathwayStepRecord', 'cur')] });
  return {
    list,
    from: currentSteps(),
    where: [...where, ...side.where],
    select: [
      side.select,
      'cur.condition_kind as "w__kind"',
      'cur.step as "w__step"',
      'cur.cycle as "w__cycle"',
      'cur.reached_at as "w__reached_at"',
      'cur.since::text as "w__since"',
      'cur.evidence_type as "w__evidence_type"',
      'cur.evidence_id as "w__evidence_id"',
    ],
    sorts: PATHWAY_SORTS,
    entry: (row) => {
      const step = row.w__step as PathwayStep;
      return {
        patient: patientOf(ctx, row),
        conditionKind: row.w__kind as ConditionKind,
        step,
        cycle: Number(row.w__cycle),
        since: new Date(row.w__reached_at as string | Date),
        daysAtStep: daysBetween(row.w__since as string, ctx.today),
        stuckAfterDays: stuckDays(step, ctx.rules),
        evidenceType: (row.w__evidence_type as string | null) ?? null,
        evidenceId: (row.w__evidence_id as string | null) ?? null,
      };
    },
  };
}

/**
 * Suspected, not confirmed (docs/care-model.md, "Worklists"): pathways whose furthest step is SUSPECTED — a screening
 * reading or an unconfirmed diagnosis — with no confirmation since and no diagnosis refuting it. `evidence` names
 * what raised the suspicion.
 */
export function suspectedNotConfirmed(ctx: ListContext): ListQuery<PathwayEntry> {
  // A suspicion a diagnosis refuted is no pathway any more (as stuckInPathwaySql has it).
  const refuted = `exists (select 1 from condition rc where rc.patient_id = p.id and rc.kind = cur.condition_kind and rc.verification_status = ${sqlText(VerificationStatus.REFUTED)})`;
  return pathwayList(ctx, 'suspectedNotConfirmed', [{ sql: `cur.step = ${sqlText(PathwayStep.SUSPECTED)} and not ${refuted}`, params: [] }]);
}

/**
 * Stuck in the pathway (docs/care-model.md, "Worklists"): pathways waiting at their step longer than the care
 * rules allow for it (`stuckInPathwaySql`, src/care-rules/pathway.ts); `steps` narrows to some steps.
 */
export function stuckInPathway(ctx: ListContext, steps?: PathwayStep[] | null): ListQuery<PathwayEntry> {
  const where: Predicate[] = [{ sql: stuckInPathwaySql(ctx.rules, 'cur', `date '${ctx.today}'`, 'p.id'), params: [] }];
  if (steps?.length) where.push({ sql: 'cur.step = any(?::text[])', params: [textArray(steps)] });
  return pathwayList(ctx, 'stuckInPathway', where);
}
