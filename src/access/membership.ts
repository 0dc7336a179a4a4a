import type { Predicate } from './policy.js';

/**
 * Whose data an insurer may have: its members, and of those only the ones who did not withhold consent to share with
 * insurers. One rule, asked for a day (what the insurer sees today, AccessPolicy.patientVisible) or for a period
 * (what a payment period's indicators count and what a Bulk `$export` for that period may contain, ADR 18):
 *  - a member: an ACTIVE coverage with this insurer whose period overlaps the period asked for;
 *  - consent: of the INSURER_SHARING decisions in force during the period or today, the one recorded last is the
 *    patient's word (default PERMIT). A withdrawal wins even when back-dated, and a withdrawal in force today stops
 *    the sharing of past periods too: the patient's word is about their data, not about a date.
 * Dates are county days (ISO). `column` is the patient id column being judged.
 */
export function insurerMembersSql(column: string, insurerId: string | null, period: { start: string; end: string }, today: string): Predicate {
  return {
    sql: `${column} in (select cv.patient_id from coverage cv where cv.insurer_id = ? and cv.status = 'ACTIVE'
            and cv.period_start <= ? and (cv.period_end is null or cv.period_end >= ?))
          and coalesce((select cs.decision from consent cs where cs.patient_id = ${column} and cs.purpose = 'INSURER_SHARING'
            and ((cs.period_start <= ? and (cs.period_end is null or cs.period_end >= ?))
              or (cs.period_start <= ? and (cs.period_end is null or cs.period_end >= ?)))
            order by cs.created_at desc, cs.id desc limit 1), 'PERMIT') = 'PERMIT'`,
    params: [insurerId, period.end, period.start, period.end, period.start, today, today],
  };
}

/**
 * The days an insurer covered a patient, as SQL true for the patient `patientColumn` on the date expression
 * `dateSql`: a resource of a member is theirs only when it falls in a coverage of this insurer (an observation taken
 * before the patient joined belongs to no insurer's payment period).
 */
export function coveredOnSql(patientColumn: string, insurerId: string | null, dateSql: string): Predicate {
  return {
    sql: `exists (select 1 from coverage cd where cd.patient_id = ${patientColumn} and cd.insurer_id = ? and cd.status = 'ACTIVE'
            and cd.period_start <= ${dateSql} and (cd.period_end is null or cd.period_end >= ${dateSql}))`,
    params: [insurerId],
  };
}
