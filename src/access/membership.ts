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
  const inForce = (a: string) => `((${a}.period_start <= ? and (${a}.period_end is null or ${a}.period_end >= ?))
              or (${a}.period_start <= ? and (${a}.period_end is null or ${a}.period_end >= ?)))`;
  const inForceParams = [period.end, period.start, today, today];
  // "The last recorded is not a withdrawal" as an anti-join (no withdrawal in force with nothing recorded after it),
  // not as `coalesce((select … order by … limit 1), 'PERMIT') = 'PERMIT'`: PostgreSQL guessed that keeps 0.5 % of
  // patients, and planned a county's indicators (src/indicators/) on 250 rows instead of 47,000.
  return {
    sql: `${column} in (select cv.patient_id from coverage cv where cv.insurer_id = ? and cv.status = 'ACTIVE'
            and cv.period_start <= ? and (cv.period_end is null or cv.period_end >= ?))
          and not exists (select 1 from consent cs where cs.patient_id = ${column} and cs.purpose = 'INSURER_SHARING' and cs.decision <> 'PERMIT'
            and ${inForce('cs')}
            and not exists (select 1 from consent cl where cl.patient_id = cs.patient_id and cl.purpose = 'INSURER_SHARING' and ${inForce('cl')}
              and (cl.created_at > cs.created_at or (cl.created_at = cs.created_at and cl.id > cs.id))))`,
    params: [insurerId, period.end, period.start, ...inForceParams, ...inForceParams],
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
