import type { EntityManager } from '../../db/orm.js';
import { type AccessPolicy, sqlAnd } from '../../access/policy.js';
import { readOnly } from '../../db/read-only.js';
import { countyTimeZone, countyToday, daysBetween } from '../../care-rules/calendar.js';
import { isStuck, PATHWAY_CONDITION_KINDS, stepNumber, stepNumberSql, stuckInPathwaySql } from '../../care-rules/pathway.js';
import type { CareRules } from '../../care-rules/rules.js';
import { sqlText } from '../../care-rules/sql.js';
import { badInput, isUuid } from '../../domain/errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../../domain/pagination.js';
import { CareStatus } from '../../domain/patient/patient.entity.js';
import { type ConditionKind, PathwayStep } from '../../../vocabulary/index.js';
import { PathwayStepRecord } from './pathway-step.entity.js';

/** Where a patient is on the pathway of one condition: the step reached last, since when, and every step so far. */
export interface PathwayPosition {
  patient: { id: string };
  conditionKind: ConditionKind;
  step: PathwayStep;
  cycle: number;
  since: Date;
  /** Whole days at the step (county calendar). */
  daysAtStep: number;
  stuck: boolean;
  /** Every step record of this pathway, in order; loaded when asked for. */
  steps?: PathwayStepRecord[];
}

export interface PathwayFilter {
  /** Patients managed by this organisation or one below it. */
  organizationId?: string;
  conditionKinds?: ConditionKind[];
  steps?: PathwayStep[];
  /** Only pathways waiting at their step longer than the step's days (CareRules `pathway.stuckDays`). */
  stuckOnly?: boolean;
}

const byOrder = (a: PathwayStepRecord, b: PathwayStepRecord) => a.cycle - b.cycle || stepNumber(a.step) - stepNumber(b.step);

/**
 * Reads the pathway records (src/care/pathway/derivation.ts writes them): one patient's pathways, and the county's
 * list of who is at which step, for how long — through the access policy, as every read.
 */
export class PathwayService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules,
  ) {}

  /**
   * A patient's steps grouped into one position per condition (records already read through the policy).
   * `refuted`: the kinds the patient has a REFUTED diagnosis of — a suspicion it answered is not stuck (stuckInPathwaySql).
   */
  positionsOf(patientId: string, records: readonly PathwayStepRecord[], refuted: ReadonlySet<ConditionKind> = new Set(), today = countyToday()): PathwayPosition[] {
    const byKind = new Map<ConditionKind, PathwayStepRecord[]>();
    for (const r of records) byKind.set(r.conditionKind, [...(byKind.get(r.conditionKind) ?? []), r]);
    return [...byKind.entries()]
      .sort(([a], [b]) => PATHWAY_CONDITION_KINDS.indexOf(a) - PATHWAY_CONDITION_KINDS.indexOf(b))
      .map(([conditionKind, rows]) => {
        const steps = [...rows].sort(byOrder);
        const last = steps.at(-1)!;
        const sinceDay = countyToday(last.reachedAt);
        return {
          patient: { id: patientId },
          conditionKind,
          step: last.step,
          cycle: last.cycle,
          since: last.reachedAt,
          daysAtStep: daysBetween(sinceDay, today),
          stuck: isStuck(last.step, sinceDay, today, this.rules) && !(last.step === PathwayStep.SUSPECTED && refuted.has(conditionKind)),
          steps,
        };
      });
  }

  /**
   * Who is at which step and since when, longest waiting first (keyset: since, patient, condition). Only patients
   * still in the programme (care status ACTIVE) are listed: one who died or moved is at no step.
   */
  async search(filter: PathwayFilter, first: number | undefined, after: string | undefined): Promise<Page<PathwayPosition>> {
    this.policy.assertCan('EpisodeOfCare', 's');
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 3) as [string, string, string] | undefined;
    if (cursor && (typeof cursor[0] !== 'string' || Number.isNaN(Date.parse(cursor[0])) || !isUuid(String(cursor[1])) || !PATHWAY_CONDITION_KINDS.includes(cursor[2] as ConditionKind))) {
      throw badInput('after is not a cursor this API issued', 'after');
    }
    if (filter.organizationId && !isUuid(filter.organizationId)) throw badInput('organizationId is not an id', 'organizationId');
    const today = countyToday();
    const tz = countyTimeZone().replaceAll("'", "''");
    // Which patients: in the programme, in the organisation's subtree, visible to the caller (with the pathway's read scope).
    const patients: string[] = [`p.care_status = ${sqlText(CareStatus.ACTIVE)}`];
    const params: unknown[] = [];
    if (filter.organizationId) {
      patients.push(`p.managing_organization_id in (select o.id from organization o where o.path like (select s.path from organization s where s.id = ?) || '%')`);
      params.push(filter.organizationId);
    }
    const visible = sqlAnd(sqlAnd({ sql: patients.join(' and '), params }, this.policy.rowsVisible('Patient', 'p')), this.policy.rowsVisible('PathwayStepRecord', 'ps'));
    // Which positions: filtered on the step each pathway is at now.
    const at: string[] = ['true'];
    if (filter.conditionKinds?.length) at.push(`cur.condition_kind in (${filter.conditionKinds.map(sqlText).join(', ')})`);
    if (filter.steps?.length) at.push(`cur.step in (${filter.steps.map(sqlText).join(', ')})`);
    if (filter.stuckOnly) at.push(stuckInPathwaySql(this.rules, 'cur', `date '${today}'`, 'cur.patient_id'));
    const from = `
      from (select distinct on (ps.patient_id, ps.condition_kind) ps.*, (ps.reached_at at time zone '${tz}')::date as since,
                   to_char(ps.reached_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as reached_key
              from pathway_step ps join patient p on p.id = ps.patient_id
              where ${visible.sql}
              order by ps.patient_id, ps.condition_kind, ps.cycle desc, ${stepNumberSql('ps.step')} desc) cur
      where ${at.join(' and ')}`;
    const page = cursor ? ` and (cur.reached_at, cur.patient_id, cur.condition_kind) > (?::timestamptz, ?::uuid, ?)` : '';
    const rows = (await this.em.execute(
      `select cur.* ${from}${page} order by cur.reached_at, cur.patient_id, cur.condition_kind limit ?`,
      [...visible.params, ...(cursor ?? []), limit + 1],
    )) as Array<Record<string, unknown>>;
    const read = readOnly(this.em, PathwayStepRecord);
    const keys = new WeakMap<PathwayPosition, string>();
    const items = rows.slice(0, limit).map((row) => {
      const record = read.record(row);
      const since = countyToday(record.reachedAt);
      const position: PathwayPosition = {
        patient: { id: record.patient.id },
        conditionKind: record.conditionKind,
        step: record.step,
        cycle: record.cycle,
        since: record.reachedAt,
        daysAtStep: daysBetween(since, today),
        stuck: isStuck(record.step, since, today, this.rules),
      };
      // The cursor keeps the time as the database has it (microseconds), not as a JavaScript Date rounds it.
      keys.set(position, row.reached_key as string);
      return position;
    });
    return {
      items,
      hasNextPage: rows.length > limit,
      cursorOf: (p) => encodeCursor([keys.get(p), p.patient.id, p.conditionKind]),
      count: async () => {
        const [row] = (await this.em.execute(`select count(*)::int as n ${from}`, visible.params)) as Array<{ n: number }>;
        return row?.n ?? 0;
      },
    };
  }
}
