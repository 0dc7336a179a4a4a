import { sqlText } from '../care-rules/sql.js';
import { Observation } from '../domain/observation/observation.entity.js';
import { ConditionControlStatus, type ConditionKind } from '../../vocabulary/index.js';
import { byName, type Entry, type ListContext, patientOf, patientSide } from './base.js';
import { columnsOf, type ListQuery, recordOf } from './page.js';
import { textArray } from './scope.js';

/** A condition not under control: which, how (uncontrolled or urgent), the reading that decided it and when the rules decided. */
export interface Uncontrolled extends Entry {
  conditionKind: ConditionKind;
  controlStatus: ConditionControlStatus;
  reading: Observation | null;
  decidedAt: Date;
}

export interface UncontrolledOptions {
  /** Default UNCONTROLLED and URGENT; NO_RECENT_READING lists those with no counting reading in the look-back. */
  statuses?: ConditionControlStatus[] | null;
}

const NOT_CONTROLLED = [ConditionControlStatus.UNCONTROLLED, ConditionControlStatus.URGENT];
const STATUS_RANK = `(case cc.control_status when ${sqlText(ConditionControlStatus.URGENT)} then 0 when ${sqlText(ConditionControlStatus.UNCONTROLLED)} then 1 else 2 end)`;

export const UNCONTROLLED_SORTS = {
  /** Urgent first, then the latest decided. */
  URGENCY: [
    { sql: STATUS_RANK, type: 'int' },
    { sql: 'cc.decided_at', type: 'timestamptz', desc: true },
    { sql: 'p.id', type: 'uuid' },
    { sql: 'cc.condition_kind', type: 'text' },
  ],
  /** The longest uncontrolled first (decided longest ago). */
  LONGEST: [
    { sql: 'cc.decided_at', type: 'timestamptz' },
    { sql: 'p.id', type: 'uuid' },
    { sql: 'cc.condition_kind', type: 'text' },
  ],
  NAME: byName({ sql: 'p.id', type: 'uuid' }, { sql: 'cc.condition_kind', type: 'text' }),
} as const;

/**
 * Uncontrolled patients (docs/care-model.md, "Worklists"): one entry per patient and condition whose control status
 * — derived by the care rules into `condition_control` (ADR 16, src/care/state/) — is uncontrolled or urgent. A
 * patient uncontrolled for both hypertension and diabetes has two entries; `conditionKinds` narrows by the entry's kind.
 */
export function uncontrolled(ctx: ListContext, options: UncontrolledOptions = {}): ListQuery<Uncontrolled> {
  const statuses = options.statuses?.length ? options.statuses : NOT_CONTROLLED;
  const side = patientSide(ctx, { conditionKindColumn: 'cc.condition_kind', extra: [ctx.policy.rowsOfShown('Condition', 'cc'), ctx.policy.rowsOfShown('Observation', 'o')] });
  return {
    list: 'uncontrolled',
    from: 'condition_control cc join patient p on p.id = cc.patient_id left join observation o on o.id = cc.observation_id',
    where: [{ sql: 'cc.control_status = any(?::text[])', params: [textArray(statuses)] }, ...side.where],
    select: [side.select, columnsOf(ctx.em, Observation, 'o'), 'cc.condition_kind as "w__kind"', 'cc.control_status as "w__status"', 'cc.decided_at as "w__decided_at"'],
    sorts: UNCONTROLLED_SORTS,
    entry: (row) => ({
      patient: patientOf(ctx, row),
      conditionKind: row.w__kind as ConditionKind,
      controlStatus: row.w__status as ConditionControlStatus,
      reading: recordOf(ctx.em, Observation, row, 'o'),
      decidedAt: new Date(row.w__decided_at as string | Date),
    }),
  };
}
