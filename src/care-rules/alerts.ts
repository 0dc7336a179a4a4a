import { AlertKind, AlertSeverity, ConditionKind, ControlStatus, ObservationKind, OrganizationLevel, ReferralDirection, ReferralStatus, ReferralUrgency } from '../../vocabulary/index.js';
import { COMPLICATION_KINDS, hasManagedConditionSql, standingConditionSql } from './management.js';
import type { CareRules } from './rules.js';
import { sqlNumber, sqlText } from './sql.js';
import { doneVisitSql } from './visits.js';

/**
 * The alert rules (docs/care-model.md, "Alerts"): when the programme suggests a referral or reminds someone of a
 * task. Each rule is a SQL query over the facts giving the alerts that *hold* now, one row per cause; the derivation
 * (src/care/alerts/derivation.ts) raises those not yet raised and resolves those whose cause is gone. Pure: numbers
 * from CareRules, the date and time zone passed in.
 */

/** How urgent each kind is: the subscription pushes URGENT ones; worklists sort by it. */
export const ALERT_SEVERITY: Readonly<Record<AlertKind, AlertSeverity>> = Object.freeze({
  [AlertKind.URGENT_REFERRAL]: AlertSeverity.URGENT,
  [AlertKind.UNCONTROLLED_REFERRAL]: AlertSeverity.ROUTINE,
  [AlertKind.COMPLICATION_REFERRAL]: AlertSeverity.ROUTINE,
  [AlertKind.DOWN_REFERRAL]: AlertSeverity.ROUTINE,
  [AlertKind.REFERRAL_NOT_ACCEPTED]: AlertSeverity.ROUTINE,
  [AlertKind.CONTRACT_EXPIRING]: AlertSeverity.INFO,
});

/** The referral each suggestion asks for: one of that direction, made after the alert's cause, settles it. */
export const SUGGESTED_REFERRAL: Readonly<Partial<Record<AlertKind, ReferralDirection>>> = Object.freeze({
  [AlertKind.URGENT_REFERRAL]: ReferralDirection.UP,
  [AlertKind.UNCONTROLLED_REFERRAL]: ReferralDirection.UP,
  [AlertKind.COMPLICATION_REFERRAL]: ReferralDirection.UP,
  [AlertKind.DOWN_REFERRAL]: ReferralDirection.DOWN,
});

/** What the rules write when an alert's cause went by itself (no referral settled it). */
export const CAUSE_GONE: Readonly<Record<AlertKind, string>> = Object.freeze({
  [AlertKind.URGENT_REFERRAL]: 'The reading no longer counts as urgent (corrected, found implausible or removed).',
  [AlertKind.UNCONTROLLED_REFERRAL]: 'No longer two uncontrolled visits in a row.',
  [AlertKind.COMPLICATION_REFERRAL]: 'The complication is no longer recorded, or an up-referral is open.',
  [AlertKind.DOWN_REFERRAL]: 'No longer stable since discharge (an uncontrolled reading, or a new stay).',
  [AlertKind.REFERRAL_NOT_ACCEPTED]: 'The referral is no longer waiting.',
  [AlertKind.CONTRACT_EXPIRING]: 'The family-doctor contract was renewed or ended.',
});

/** Which condition an urgent reading is about. */
const READING_CONDITION: Record<string, ConditionKind> = {
  [ObservationKind.BLOOD_PRESSURE]: ConditionKind.HYPERTENSION,
  [ObservationKind.FASTING_GLUCOSE]: ConditionKind.TYPE_2_DIABETES,
  [ObservationKind.GLUCOSE]: ConditionKind.TYPE_2_DIABETES,
};

export interface AlertQueryOptions {
  /** The county's date, YYYY-MM-DD (care-rules/calendar.ts). */
  today: string;
  /** The county's time zone (COUNTY_TIME_ZONE): a date's start is its midnight there. */
  timeZone: string;
  /**
   * A SQL condition on `p` (the patient table) naming the patients to judge, e.g. `p.id = any(?::uuid[])`; its
   * parameters are the query's only ones.
   */
  patientScope: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ZONE = /^[A-Za-z0-9_+\-/]+$/;

/**
 * The alerts that hold now for the active patients in scope: columns patient_id, organization_id (the managing
 * organisation), kind, severity, condition_kind, cause_type, cause_id and `raise` — false for a cause older than its
 * window (rules.alerts), which keeps an alert raised before but raises none.
 *
 * - URGENT_REFERRAL: a reading whose stored control status is URGENT (observation.control_status, by
 *   controlStatusOf when written), with no up-referral requested since it was taken.
 * - UNCONTROLLED_REFERRAL: the patient's last two done visits both not controlled (UNCONTROLLED or URGENT: the
 *   visits' control status), caused by the last; COMPLICATION_REFERRAL: an active complication diagnosis (CHD, stroke,
 *   CKD: management.ts) of a patient with hypertension or type 2 diabetes, or a done visit finding a new
 *   complication. Neither while an up-referral is open (requested or accepted), nor once one was requested since the cause.
 * - DOWN_REFERRAL: an inpatient stay at a county-level organisation, finished at least `stableDaysAfterAdmission`
 *   days ago, with no later stay, no down-referral since, at least one controlled reading since discharge and none
 *   uncontrolled or urgent.
 * - REFERRAL_NOT_ACCEPTED: a referral still REQUESTED `referralAcceptanceDays` (urgent: `urgentReferralAcceptanceDays`)
 *   days after the county date it was sent.
 * - CONTRACT_EXPIRING: a family-doctor contract expiring within `contractExpiringDays` (or expired); its cause is
 *   the contract's end date, named by an id made from the patient and that date, so a renewed contract is a new cause.
 */
export function alertsHoldingSql(rules: CareRules, { today, timeZone, patientScope }: AlertQueryOptions): string {
  if (!DATE.test(today)) throw new Error(`alerts: ${today} is not a date`);
  if (!ZONE.test(timeZone)) throw new Error(`alerts: ${timeZone} is not a time zone`);
  const a = rules.alerts;
  const t = `date '${today}'`;
  const zone = `'${timeZone}'`;
  /** The start of a county date (an SQL date expression) as an instant. */
  const startOf = (date: string) => `((${date})::timestamp at time zone ${zone})`;
  const countyDate = (instant: string) => `((${instant}) at time zone ${zone})::date`;
  const daysBefore = (n: number) => `(${t} - ${sqlNumber(n)})`;
  const severity = (kind: AlertKind) => `${sqlText(kind)} as kind, ${sqlText(ALERT_SEVERITY[kind])} as severity`;
  const notControlled = `(${sqlText(ControlStatus.UNCONTROLLED)}, ${sqlText(ControlStatus.URGENT)})`;
  const up = sqlText(ReferralDirection.UP);
  const open = `(${sqlText(ReferralStatus.REQUESTED)}, ${sqlText(ReferralStatus.ACCEPTED)})`;
  /** No up-referral open, and none requested since `since` (an instant): the routine up-referral suggestions. */
  const noUpReferralSince = (since: string) =>
    `not exists (select 1 from referral r where r.patient_id = s.id and r.direction = ${up} and (r.status in ${open} or r.requested_at >= ${since}))`;
  const readingCondition = Object.entries(READING_CONDITION)
    .map(([kind, condition]) => `when ${sqlText(kind)} then ${sqlText(condition)}`)
    .join(' ');

  const urgent = `select s.id as patient_id, s.organization_id, ${severity(AlertKind.URGENT_REFERRAL)},
      case o.kind ${readingCondition} end as condition_kind, 'Observation' as cause_type, o.id as cause_id,
      o.effective_at >= ${startOf(daysBefore(a.urgentReadingWithinDays))} as raise
    from scoped s join observation o on o.patient_id = s.id
    where o.control_status = ${sqlText(ControlStatus.URGENT)}
      and not exists (select 1 from referral r where r.patient_id = s.id and r.direction = ${up} and r.requested_at >= o.effective_at)`;

  const visits = (alias: string, before?: string) =>
    `(select f.id, f.done_date, f.control_status from follow_up f where f.patient_id = s.id and ${doneVisitSql('f')}` +
    `${before ? ` and (f.done_date, f.id) < (${before}.done_date, ${before}.id)` : ''} order by f.done_date desc, f.id desc limit 1) ${alias}`;
  const uncontrolled = `select s.id, s.organization_id, ${severity(AlertKind.UNCONTROLLED_REFERRAL)}, null, 'FollowUp', v1.id,
      v1.done_date >= ${daysBefore(a.uncontrolledVisitWithinDays)}
    from scoped s join lateral ${visits('v1')} on true join lateral ${visits('v0', 'v1')} on true
    where v1.control_status in ${notControlled} and v0.control_status in ${notControlled} and ${noUpReferralSince(startOf('v1.done_date'))}`;

  const complicationCondition = `select s.id, s.organization_id, ${severity(AlertKind.COMPLICATION_REFERRAL)}, c.kind, 'Condition', c.id,
      coalesce(c.onset_date, ${countyDate('c.created_at')}) >= ${daysBefore(a.newComplicationWithinDays)}
    from scoped s join condition c on c.patient_id = s.id
    where c.kind in (${COMPLICATION_KINDS.map(sqlText).join(', ')}) and ${standingConditionSql('c')} and ${hasManagedConditionSql('s.id')} and ${noUpReferralSince(`coalesce(${startOf('c.onset_date')}, c.created_at)`)}`;
  const complicationVisit = `select s.id, s.organization_id, ${severity(AlertKind.COMPLICATION_REFERRAL)}, null, 'FollowUp', f.id,
      f.done_date >= ${daysBefore(a.newComplicationWithinDays)}
    from scoped s join follow_up f on f.patient_id = s.id
    where f.new_complication and ${doneVisitSql('f')} and ${noUpReferralSince(startOf('f.done_date'))}`;

  const sinceDischarge = (statuses: string) =>
    `select 1 from observation o where o.patient_id = s.id and o.effective_at > ad.period_end and o.control_status in ${statuses}`;
  const down = `select s.id, s.organization_id, ${severity(AlertKind.DOWN_REFERRAL)}, null, 'Admission', ad.id,
      ad.period_end >= ${startOf(daysBefore(a.downReferralWithinDays))}
    from scoped s join admission ad on ad.patient_id = s.id join organization ao on ao.id = ad.organization_id
    where ad.kind = 'INPATIENT' and ad.status = 'FINISHED' and ao.level = ${sqlText(OrganizationLevel.COUNTY)}
      and ad.period_end < ${startOf(daysBefore(a.stableDaysAfterAdmission - 1))}
      and not exists (select 1 from admission later where later.patient_id = s.id and later.id <> ad.id and later.period_start > ad.period_start
        and later.status not in ('CANCELLED', 'ENTERED_IN_ERROR'))
      and not exists (select 1 from referral r where r.patient_id = s.id and r.direction = ${sqlText(ReferralDirection.DOWN)} and r.requested_at >= ad.period_end)
      and exists (${sinceDischarge(`(${sqlText(ControlStatus.CONTROLLED)})`)}) and not exists (${sinceDischarge(notControlled)})`;

  const waiting = `select s.id, s.organization_id, ${severity(AlertKind.REFERRAL_NOT_ACCEPTED)}, null, 'Referral', r.id, true
    from scoped s join referral r on r.patient_id = s.id
    where r.status = ${sqlText(ReferralStatus.REQUESTED)} and ${countyDate('r.requested_at')} <=
      ${t} - case r.urgency when ${sqlText(ReferralUrgency.URGENT)} then ${sqlNumber(a.urgentReferralAcceptanceDays)} else ${sqlNumber(a.referralAcceptanceDays)} end`;

  const contract = `select s.id, s.organization_id, ${severity(AlertKind.CONTRACT_EXPIRING)}, null, 'PatientContract', ${contractCauseSql('s.id', 's.contract_expires_on')},
      s.contract_expires_on >= ${daysBefore(a.contractExpiringDays)}
    from scoped s where s.contract_expires_on is not null and s.contract_expires_on <= ${t} + ${sqlNumber(a.contractExpiringDays)}`;

  return `with scoped as (select p.id, p.managing_organization_id as organization_id, p.contract_expires_on from patient p where p.care_status = 'ACTIVE' and (${patientScope}))
    ${[urgent, uncontrolled, complicationCondition, complicationVisit, down, waiting, contract].join('\n    union all ')}`;
}

/** The cause id of a contract's end: a uuid made from the patient and the end date (md5), the same every time. */
export function contractCauseSql(patientColumn: string, expiresColumn: string): string {
  return `md5(${patientColumn}::text || ':' || ${expiresColumn}::text)::uuid`;
}

/**
 * How an alert (`g`: the alert row, `p` its patient) whose cause is gone is resolved: columns resolved_at,
 * resolved_by_id, resolution. A referral suggestion is settled by the first referral of the suggested direction
 * requested since the day before the alert was raised — its sender resolved it, when it was requested; a referral
 * that waited is settled by its next step (accepted or rejected by the receiver, cancelled by the sender); a patient
 * who left the programme settles every alert; otherwise the cause went by itself (now, by no one).
 */
export function resolutionSql(): string {
  const suggested = Object.entries(SUGGESTED_REFERRAL)
    .map(([kind, direction]) => `when ${sqlText(kind)} then ${sqlText(direction)}`)
    .join(' ');
  const gone = Object.entries(CAUSE_GONE)
    .map(([kind, text]) => `when ${sqlText(kind)} then '${text.replace(/'/g, "''")}'`)
    .join(' ');
  return `select coalesce(ref.requested_at, step.at, now()) as resolved_at, coalesce(ref.from_practitioner_id, step.by_id) as resolved_by_id,
      coalesce(
        case when ref.id is not null then initcap(lower(ref.direction)) || '-referral requested (referral ' || ref.id || ').' end,
        step.text,
        case when p.care_status <> 'ACTIVE' then 'The patient left the programme (' || p.care_status || ').' end,
        case g.kind ${gone} end) as resolution
    from (select 1) one
    left join lateral (select r.id, r.direction, r.requested_at, r.from_practitioner_id from referral r
      where r.patient_id = g.patient_id and r.direction = (case g.kind ${suggested} end) and r.requested_at >= g.raised_at - interval '1 day'
      order by r.requested_at limit 1) ref on true
    left join lateral (select coalesce(r.accepted_at, r.rejected_at, r.cancelled_at, r.completed_at) as at,
        case when r.status in ('ACCEPTED', 'REJECTED', 'COMPLETED') then r.to_practitioner_id when r.status = 'CANCELLED' then r.from_practitioner_id end as by_id,
        'The referral was ' || lower(r.status) || '.' as text
      from referral r where g.kind = ${sqlText(AlertKind.REFERRAL_NOT_ACCEPTED)} and r.id = g.cause_id and r.status <> ${sqlText(ReferralStatus.REQUESTED)}) step on true`;
}
