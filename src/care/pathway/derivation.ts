import type { EntityManager } from '../../db/orm.js';
import type { CareRules } from '../../care-rules/rules.js';
import { countyTimeZone } from '../../care-rules/calendar.js';
import { isScreeningAgeSql, nextStep, PATHWAY_CONDITION_KINDS, PATHWAY_STEPS, stepNumberSql, suspicionSql } from '../../care-rules/pathway.js';
import { sqlText } from '../../care-rules/sql.js';
import { doneVisitSql } from '../../care-rules/visits.js';
import { ActivityStatus, CarePlanStatus, ObservationKind, PathwayStep, VerificationStatus } from '../../../vocabulary/index.js';
import type { CareDerivation, CareScope } from '../index.js';

/**
 * The seven-step pathway, kept as dated step records (`pathway_step`, ADR 16) for each patient and condition kind.
 * Set-based: one statement starts the pathways of the patients in scope, then one statement moves every pathway in
 * scope on by one step, repeated until none moves (a pathway moves at most one step per statement, so a patient
 * whose history is all there — an import, the seed — takes one round per step). Steps are only ever added: a step
 * once reached stays reached (it is the record of what happened), so running it again changes nothing.
 *
 * What proves each step (docs/care-model.md, "The seven-step pathway"):
 * 1. SUSPECTED — a screening reading (`suspicionOf`: a blood pressure not below 140/90, a fasting glucose ≥ 7.0) in a
 *    resident aged `pathway.screeningAgeAtLeast` (35) or over, taken while the patient had no confirmed diagnosis of
 *    that kind; or a diagnosis recorded as unconfirmed, provisional or differential. A pathway that begins with a
 *    confirmed diagnosis (made in hospital, or before any screening was recorded) has SUSPECTED `skipped`.
 * 2. CONFIRMED — a confirmed diagnosis of the kind, dated when it was confirmed (else its onset, else when recorded).
 * 3. ASSESSED — a health assessment for the kind.
 * 4. PLAN_MADE — a care plan addressing the kind (active, on hold or completed); in a later cycle, one still in
 *    force on the day of the re-assessment or made after it.
 * 5. INTERVENTION — an activity of such a plan under way or done (dated from its plan's start).
 * 6. FOLLOWED_UP — a done follow-up visit on or after the day the intervention began.
 * 7. REASSESSED — a further health assessment on or after the day of that follow-up; the next cycle then starts at 4.
 *
 * Order: steps are reached in order. Evidence of steps 2–5 dated before the step before it counts when that step is
 * reached, and is dated then (a plan drawn up before the assessment is "made" once the patient is assessed); steps 6
 * and 7 need evidence on or after the step before (a visit before the plan follows nothing up). A record proves a
 * step 6 or 7 once: each cycle needs a visit and an assessment of its own. Only SUSPECTED is ever skipped; a
 * missing assessment holds the pathway at CONFIRMED, where the stuck list finds it.
 */
export const pathwayDerivation: CareDerivation = {
  name: 'pathway',
  async derive(em: EntityManager, scope: CareScope, rules: CareRules) {
    const sql = pathwaySql(rules, scope);
    await em.execute(sql.start, sql.startParams);
    // Each round moves every pathway in scope by at most one step; the bound stops a rule that never settles.
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const moved = (await em.execute(sql.advance, sql.advanceParams)) as unknown[];
      if (moved.length === 0) return;
    }
    throw new Error(`pathway: still advancing after ${MAX_ROUNDS} rounds`);
  },
};

/** Rounds of `advance` at most: seven steps, then four a cycle; a county's records hold a few cycles at most. */
const MAX_ROUNDS = 200;

const q = (values: readonly string[]) => values.map(sqlText).join(', ');

/** A time-ordered id (UUID version 7, as BaseEntity makes them) for rows inserted by SQL. */
const UUID_V7 =
  `(lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3) ` +
  `|| to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid`;

/** The two statements for `scope`, with their `?` parameters. */
export function pathwaySql(rules: CareRules, scope: CareScope): { start: string; startParams: unknown[]; advance: string; advanceParams: unknown[] } {
  const tz = countyTimeZone().replaceAll("'", "''");
  const midnight = (date: string) => `((${date})::timestamp at time zone '${tz}')`;
  const dateOf = (time: string) => `((${time}) at time zone '${tz}')::date`;
  const diagnosedAt = (c: string) => `coalesce(${c}.confirmed_at, ${midnight(`${c}.onset_date`)}, ${c}.created_at)`;
  const inScope = (column: string) => ('all' in scope ? 'true' : `${column} = any(?::uuid[])`);
  const kinds = q(PATHWAY_CONDITION_KINDS);
  const CONFIRMED = sqlText(VerificationStatus.CONFIRMED);
  const columns = `id, patient_id, condition_kind, cycle, step, reached_at, evidence_type, evidence_id, skipped, created_at, updated_at, version`;

  const start = `
    with suspected as (
      select distinct on (s.patient_id, s.kind) s.patient_id, s.kind, s.at, s.type, s.id from (
        select o.patient_id, ${suspicionSql(rules, 'o')} as kind, o.effective_at as at, 'Observation' as type, o.id
          from observation o join patient p on p.id = o.patient_id
          where ${inScope('o.patient_id')} and o.kind in (${q([ObservationKind.BLOOD_PRESSURE, ObservationKind.FASTING_GLUCOSE])})
            and ${isScreeningAgeSql(rules, 'p.birth_date', dateOf('o.effective_at'))}
        union all
        select c.patient_id, c.kind, coalesce(${midnight('c.onset_date')}, c.created_at), 'Condition', c.id from condition c
          where ${inScope('c.patient_id')} and c.kind in (${kinds})
            and c.verification_status in (${q([VerificationStatus.UNCONFIRMED, VerificationStatus.PROVISIONAL, VerificationStatus.DIFFERENTIAL])})
      ) s
      where s.kind is not null
        and not exists (select 1 from condition d where d.patient_id = s.patient_id and d.kind = s.kind and d.verification_status = ${CONFIRMED} and ${diagnosedAt('d')} <= s.at)
      order by s.patient_id, s.kind, s.at, s.id
    ), confirmed as (
      select distinct on (c.patient_id, c.kind) c.patient_id, c.kind, ${diagnosedAt('c')} as at from condition c
        where ${inScope('c.patient_id')} and c.kind in (${kinds}) and c.verification_status = ${CONFIRMED}
        order by c.patient_id, c.kind, ${diagnosedAt('c')}, c.id
    ), entries as (
      select coalesce(s.patient_id, f.patient_id) as patient_id, coalesce(s.kind, f.kind) as kind, coalesce(s.at, f.at) as at, s.type, s.id, s.patient_id is null as skipped
        from suspected s full join confirmed f on f.patient_id = s.patient_id and f.kind = s.kind
    )
    insert into pathway_step (${columns})
    select ${UUID_V7}, e.patient_id, e.kind, 1, ${sqlText(PathwayStep.SUSPECTED)}, e.at, e.type, e.id, e.skipped, now(), now(), 1 from entries e
      where not exists (select 1 from pathway_step ps where ps.patient_id = e.patient_id and ps.condition_kind = e.kind)
    on conflict do nothing`;

  // The plans that count for PLAN_MADE and INTERVENTION of pathway n: addressing its kind; in a later cycle, in force on its first day.
  const planCounts = (cp: string) =>
    `${cp}.patient_id = n.patient_id and ${cp}.status in (${q([CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD, CarePlanStatus.COMPLETED])}) ` +
    `and ${cp}.addresses @> jsonb_build_array(n.kind::text) and (n.cycle_start is null or coalesce(${cp}.period_end, 'infinity'::date) >= ${dateOf('n.cycle_start')})`;
  const usedFor = (steps: PathwayStep[], evidence: string) =>
    `not exists (select 1 from pathway_step u where u.patient_id = n.patient_id and u.condition_kind = n.kind and u.step in (${q(steps)}) and u.evidence_id = ${evidence})`;
  const is = (step: PathwayStep) => `n.step = ${sqlText(step)}`;
  const evidence = [
    `select ${diagnosedAt('c')} as at, 'Condition' as type, c.id from condition c
       where ${is(PathwayStep.CONFIRMED)} and c.patient_id = n.patient_id and c.kind = n.kind and c.verification_status = ${CONFIRMED}`,
    `select ${midnight('a.assessed_on')}, 'Assessment', a.id from assessment a
       where ${is(PathwayStep.ASSESSED)} and a.patient_id = n.patient_id and a.condition_kind = n.kind`,
    `select ${midnight('cp.period_start')}, 'CarePlan', cp.id from care_plan cp where ${is(PathwayStep.PLAN_MADE)} and ${planCounts('cp')}`,
    `select ${midnight('cp.period_start')}, 'CarePlanActivity', act.id from care_plan_activity act join care_plan cp on cp.id = act.care_plan_id
       where ${is(PathwayStep.INTERVENTION)} and ${planCounts('cp')} and act.status in (${q([ActivityStatus.IN_PROGRESS, ActivityStatus.COMPLETED])})`,
    `select ${midnight('f.done_date')}, 'FollowUp', f.id from follow_up f
       where ${is(PathwayStep.FOLLOWED_UP)} and f.patient_id = n.patient_id and ${doneVisitSql('f')} and f.done_date >= ${dateOf('n.prev_at')}
         and ${usedFor([PathwayStep.FOLLOWED_UP], 'f.id')}`,
    `select ${midnight('a.assessed_on')}, 'Assessment', a.id from assessment a
       where ${is(PathwayStep.REASSESSED)} and a.patient_id = n.patient_id and a.condition_kind = n.kind and a.assessed_on >= ${dateOf('n.prev_at')}
         and ${usedFor([PathwayStep.ASSESSED, PathwayStep.REASSESSED], 'a.id')}`,
  ];
  const next = PATHWAY_STEPS.map((s) => `when ${sqlText(s)} then ${sqlText(nextStep(s, 1).step)}`).join(' ');
  const REASSESSED = sqlText(PathwayStep.REASSESSED);

  const advance = `
    with cur as (
      select distinct on (ps.patient_id, ps.condition_kind) ps.patient_id, ps.condition_kind as kind, ps.cycle, ps.step, ps.reached_at
        from pathway_step ps where ${inScope('ps.patient_id')}
        order by ps.patient_id, ps.condition_kind, ps.cycle desc, ${stepNumberSql('ps.step')} desc
    ), n as (
      select cur.patient_id, cur.kind, cur.reached_at as prev_at, (case cur.step ${next} end) as step,
        case when cur.step = ${REASSESSED} then cur.cycle + 1 else cur.cycle end as cycle,
        case when cur.step = ${REASSESSED} then cur.reached_at
             when cur.cycle > 1 then (select r.reached_at from pathway_step r where r.patient_id = cur.patient_id and r.condition_kind = cur.kind and r.cycle = cur.cycle - 1 and r.step = ${REASSESSED})
        end as cycle_start
      from cur
    )
    insert into pathway_step (${columns})
    select ${UUID_V7}, n.patient_id, n.kind, n.cycle, n.step, greatest(n.prev_at, ev.at), ev.type, ev.id, false, now(), now(), 1
      from n cross join lateral (select e.* from (${evidence.join(' union all ')}) e order by e.at, e.id limit 1) ev
    on conflict do nothing
    returning id`;

  // `start` names the scope three times (readings, suspected and confirmed diagnoses), `advance` once.
  const ids = 'all' in scope ? [] : [`{${scope.patientIds.join(',')}}`];
  return { start, startParams: ids.length ? [ids[0], ids[0], ids[0]] : [], advance, advanceParams: ids };
}
