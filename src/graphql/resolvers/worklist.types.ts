/**
 * The GraphQL shapes of the worklists (src/worklists/): the scope and filter every list takes, each list's entry (its
 * patient and why the patient is on it) and connection, and each list's sorts. The sort enums are made from the
 * lists' own sort tables, so a sort exists in GraphQL exactly when the list defines its keys.
 */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Alert } from '../../care/alerts/alert.entity.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { type PractitionerFilter, PRACTITIONER_SORTS } from '../../domain/practitioner/practitioner-search.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { Referral } from '../../domain/referral/referral.entity.js';
import { CONTRACTS_EXPIRING_SORTS } from '../../worklists/contracts-expiring.js';
import { FOLLOW_UPS_DUE_SORTS } from '../../worklists/follow-ups-due.js';
import { type FollowUpFilter, FOLLOW_UPS_SORTS, FollowUpState } from '../../worklists/follow-ups.js';
import { NO_NON_MEDICAL_SORTS } from '../../worklists/no-non-medical.js';
import { OPEN_ALERTS_SORTS } from '../../worklists/open-alerts.js';
import { PATHWAY_SORTS } from '../../worklists/pathway.js';
import { REFERRALS_WAITING_SORTS } from '../../worklists/referrals-waiting.js';
import { UNCONTROLLED_SORTS } from '../../worklists/uncontrolled.js';
import type { ResolvedScope, WorklistFilter, WorklistScope } from '../../worklists/scope.js';
import { ConditionControlStatus, ConditionKind, ManagementColour, ManagementTier, PathwayStep, PractitionerRoleCode } from '../../../vocabulary/index.js';
import { Connection } from '../connection.js';
import { LocalDate } from '../scalars.js';

/** A GraphQL enum of a list's sorts: its names are the keys of the list's sort table. */
function sortEnum<S extends object>(sorts: S, name: string, description: string): { [K in keyof S]: K } {
  const values = Object.fromEntries(Object.keys(sorts).map((k) => [k, k])) as { [K in keyof S]: K };
  registerEnumType(values, { name, description });
  return values;
}

export const FollowUpDueSort = sortEnum(FOLLOW_UPS_DUE_SORTS, 'FollowUpDueSort', 'MOST_OVERDUE: earliest due date first (default); LEAST_OVERDUE: latest first; NAME: by patient name.');
export const ContractExpiringSort = sortEnum(CONTRACTS_EXPIRING_SORTS, 'ContractExpiringSort', 'EXPIRES_ON: soonest first (default); NAME: by patient name.');
export const NoNonMedicalSort = sortEnum(NO_NON_MEDICAL_SORTS, 'NoNonMedicalSort', 'NAME: by patient name (default); REGISTERED: in registration order.');
export const OpenAlertSort = sortEnum(OPEN_ALERTS_SORTS, 'OpenAlertSort', 'SEVERITY: urgent first, then newest (default); RAISED_AT: newest first; OLDEST: oldest first; NAME: by patient name.');
export const UncontrolledSort = sortEnum(UNCONTROLLED_SORTS, 'UncontrolledSort', 'URGENCY: urgent first, then the latest decided (default); LONGEST: uncontrolled longest first; NAME: by patient name.');
export const PathwayWorklistSort = sortEnum(PATHWAY_SORTS, 'PathwayWorklistSort', 'LONGEST_WAITING: at the step longest first (default); NAME: by patient name.');
export const ReferralWaitingSort = sortEnum(REFERRALS_WAITING_SORTS, 'ReferralWaitingSort', 'URGENCY: urgent first, then waiting longest (default); LONGEST_WAITING; NAME: by patient name.');

@InputType({ description: 'Whose patients: several fields narrow each other; none, every patient you may see.' })
export class WorklistScopeInput implements WorklistScope {
  @Field(() => ID, { nullable: true, description: 'Managed by this organisation (a township, a clinic) or one below it.' })
  organizationId?: string;

  @Field(() => ID, { nullable: true, description: "A family-doctor team's: its grid's residents and the patients contracted with it." })
  careTeamId?: string;

  @Field(() => ID, { nullable: true, description: "A practitioner's: those of every team they are a member of." })
  practitionerId?: string;

  @Field(() => ID, { nullable: true })
  gridId?: string;
}

@InputType({ description: 'Each field takes several values (any of them); fields narrow each other.' })
export class WorklistFilterInput implements WorklistFilter {
  @Field(() => [ConditionKind], { nullable: true, description: 'Patients with an active diagnosis of one of these kinds; on lists of conditions, entries of these kinds.' })
  conditionKinds?: ConditionKind[];

  @Field(() => [ManagementTier], { nullable: true })
  tiers?: ManagementTier[];

  @Field(() => [ManagementColour], { nullable: true })
  colours?: ManagementColour[];

  @Field(() => [ID], { nullable: true })
  gridIds?: string[];
}

@InputType({ description: 'Whom referrals wait for; neither field: your organisation (and those below it) and you.' })
export class ReferralReceiverInput {
  @Field(() => ID, { nullable: true, description: 'Sent to this organisation or one below it.' })
  organizationId?: string;

  @Field(() => ID, { nullable: true, description: 'Addressed to this practitioner.' })
  practitionerId?: string;
}

/** The scope a `worklists` field was asked for, handed to each list under it. */
@ObjectType({ description: "Worklists of one scope: who needs a doctor's, a team's, a clinic's or a township's attention, and why." })
export class Worklists {
  scope!: ResolvedScope;
}

@ObjectType({ description: 'A planned visit due or overdue.' })
export class FollowUpDueEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field(() => FollowUp, { description: 'The planned visit.' })
  followUp!: FollowUp;

  @Field(() => LocalDate)
  dueDate!: string;

  @Field(() => Int, { description: "Days since the due date (county calendar): 0 due today, negative not yet due." })
  daysOverdue!: number;
}

@ObjectType({ description: 'A family-doctor contract to renew.' })
export class ContractExpiringEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field(() => LocalDate)
  expiresOn!: string;

  @Field(() => Int, { description: 'Days until it expires; negative: expired that many days ago.' })
  daysLeft!: number;
}

@ObjectType({ description: 'A managed patient with no non-medical prescription in force.' })
export class NoNonMedicalEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field({ description: 'Whether the patient has an active care plan (with medication only, then).' })
  hasActiveCarePlan!: boolean;
}

@ObjectType({ description: 'An alert not yet resolved.' })
export class OpenAlertEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field(() => Alert)
  alert!: Alert;

  @Field(() => Int, { description: 'Days since it was raised (county calendar).' })
  daysOpen!: number;
}

@ObjectType({ description: 'A referral waiting for its receiver.' })
export class ReferralWaitingEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field(() => Referral)
  referral!: Referral;

  @Field(() => Int, { description: 'Days since it was requested (county calendar).' })
  daysWaiting!: number;
}

@ObjectType({ description: 'A condition not under control, and the reading that decided it.' })
export class UncontrolledEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => ConditionControlStatus)
  controlStatus!: ConditionControlStatus;

  @Field(() => Observation, { nullable: true, description: 'The reading that decided it (none for NO_RECENT_READING).' })
  reading?: Observation | null;

  @Field({ description: 'When the care rules last changed this status.' })
  decidedAt!: Date;
}

@ObjectType({ description: "Where a patient's pathway for one condition stands: the step reached last and since when." })
export class PathwayStepEntry {
  @Field(() => Patient)
  patient!: Patient;

  @Field(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => PathwayStep)
  step!: PathwayStep;

  @Field(() => Int)
  cycle!: number;

  @Field({ description: 'When the step was reached.' })
  since!: Date;

  @Field(() => Int, { description: 'Days at the step (county calendar).' })
  daysAtStep!: number;

  @Field(() => Int, { description: 'Days the step may last before the pathway calls it stuck (care rules).' })
  stuckAfterDays!: number;

  @Field(() => String, { nullable: true, description: 'The kind of record that proved the step (Observation, Condition, …).' })
  evidenceType?: string | null;

  @Field(() => String, { nullable: true })
  evidenceId?: string | null;
}

export const UncontrolledConnection = Connection(UncontrolledEntry, 'Uncontrolled');
export const PathwayStepConnection = Connection(PathwayStepEntry, 'PathwayStepEntry');
export const FollowUpDueConnection = Connection(FollowUpDueEntry, 'FollowUpDue');
export const ContractExpiringConnection = Connection(ContractExpiringEntry, 'ContractExpiring');
export const NoNonMedicalConnection = Connection(NoNonMedicalEntry, 'NoNonMedical');
export const OpenAlertConnection = Connection(OpenAlertEntry, 'OpenAlert');
export const ReferralWaitingConnection = Connection(ReferralWaitingEntry, 'ReferralWaiting');

registerEnumType(FollowUpState, { name: 'FollowUpState', description: 'PLANNED: not done yet; DONE: took place.' });
export const FollowUpSort = sortEnum(FOLLOW_UPS_SORTS, 'FollowUpSort', "DATE: by the visit's date (done, else planned), earliest first (default); DATE_DESC: newest first.");
export const PractitionerSort = sortEnum(PRACTITIONER_SORTS, 'PractitionerSort', 'NAME: by name.');

@InputType({ description: 'Every field narrows; date ranges are inclusive.' })
export class FollowUpFilterInput implements FollowUpFilter {
  @Field(() => ID, { nullable: true })
  patientId?: string;

  @Field(() => ID, { nullable: true, description: 'Patients managed by this organisation or one below it.' })
  organizationId?: string;

  @Field(() => ID, { nullable: true, description: "This family-doctor team's patients (its grid, its contracts)." })
  careTeamId?: string;

  @Field(() => ID, { nullable: true, description: 'Visits this practitioner made or is planned to make.' })
  practitionerId?: string;

  @Field(() => FollowUpState, { nullable: true })
  state?: FollowUpState;

  @Field(() => LocalDate, { nullable: true })
  plannedFrom?: string;

  @Field(() => LocalDate, { nullable: true })
  plannedTo?: string;

  @Field(() => LocalDate, { nullable: true })
  doneFrom?: string;

  @Field(() => LocalDate, { nullable: true })
  doneTo?: string;
}

@InputType()
export class PractitionerFilterInput implements PractitionerFilter {
  @Field(() => ID, { nullable: true, description: 'Holding a role at this organisation or one below it.' })
  organizationId?: string;

  @Field(() => PractitionerRoleCode, { nullable: true })
  role?: PractitionerRoleCode;

  @Field(() => ID, { nullable: true, description: 'Members of this family-doctor team.' })
  careTeamId?: string;

  @Field({ nullable: true, description: 'A name prefix, or a practitioner code exactly.' })
  search?: string;
}

export const FollowUpConnection = Connection(FollowUp, 'FollowUp');
export const PractitionerConnection = Connection(Practitioner, 'Practitioner');
