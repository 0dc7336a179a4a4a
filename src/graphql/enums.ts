/**
 * Every enum the GraphQL schema exposes, registered with type-graphql in one place: names and descriptions
 * as the SDL (schema/schema.graphql) shows them. The enums themselves are plain TypeScript — the shared
 * vocabulary in vocabulary/ (no dependencies, so fhir-mappings/ can use it without pulling in type-graphql),
 * the access layer's own in src/access/.
 *
 * Imported for its side effect by schema.ts: type-graphql needs the registrations before buildSchema runs
 * (decorators refer to the enum objects lazily, `@Field(() => Gender)`, so they do not need them earlier).
 */
import { registerEnumType } from 'type-graphql';
import {
  ActivityCategory,
  AdmissionKind,
  AdmissionStatus,
  AlertKind,
  AlertSeverity,
  AlertState,
  ActivityStatus,
  CarePlanStatus,
  CareStatus,
  AssessmentKind,
  Complication,
  ContactMethod,
  ContactOutcome,
  PathwayStep,
  RiskFactor,
  TargetOrganDamage,
  ClinicalStatus,
  ConditionKind,
  ConsentDecision,
  ConsentPurpose,
  ConditionControlStatus,
  ControlStatus,
  DueReason,
  CoverageStatus,
  DrugClass,
  FollowUpType,
  Gender,
  GoalProgressStatus,
  GridKind,
  IdentifierKind,
  ManagementColour,
  ManagementTier,
  MedicationStatus,
  ObservationKind,
  ObservationSource,
  Plausibility,
  OrganizationLevel,
  OrganizationType,
  PractitionerRoleCode,
  ReferralDirection,
  ReferralReason,
  ReferralStatus,
  ReferralUrgency,
  VerificationStatus,
} from '../../vocabulary/index.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import { ClientKind, Role } from '../access/caller.js';
import { BelowMinimumRule, RiskAdjustmentKind, RiskCombination, WorkloadMeasure } from '../domain/capitation/terms.js';

// Access
registerEnumType(Role, { name: 'Role' });
registerEnumType(ClientKind, { name: 'ClientKind' });
registerEnumType(AuditAction, { name: 'AuditAction' });
registerEnumType(AuditOutcome, { name: 'AuditOutcome' });

// Care plan
registerEnumType(CarePlanStatus, { name: 'CarePlanStatus' });
registerEnumType(ActivityCategory, {
  name: 'ActivityCategory',
  description: 'Everything but MEDICATION is a non-medical prescription (非药物处方).',
});
registerEnumType(ActivityStatus, { name: 'ActivityStatus' });
registerEnumType(GoalProgressStatus, { name: 'GoalProgressStatus', description: "How a care plan's goal stands by the readings since the plan started." });

// Condition
registerEnumType(ConditionKind, { name: 'ConditionKind' });
registerEnumType(ClinicalStatus, { name: 'ClinicalStatus' });
registerEnumType(VerificationStatus, { name: 'VerificationStatus' });

// Consent, coverage
registerEnumType(ConsentPurpose, { name: 'ConsentPurpose' });
registerEnumType(ConsentDecision, { name: 'ConsentDecision' });
registerEnumType(CoverageStatus, { name: 'CoverageStatus' });

// Medication
registerEnumType(DrugClass, { name: 'DrugClass', description: 'What a medicine is for, as the chronic-disease programmes count it (ATC groups C02/C03/C07/C08/C09, A10, C10).' });
registerEnumType(MedicationStatus, { name: 'MedicationStatus', description: 'Where the use of a medicine stands; PLANNED: drafted or intended, not yet taken.' });

// Control, follow-up
registerEnumType(ControlStatus, {
  name: 'ControlStatus',
  description: 'CONTROLLED: below target; UNCONTROLLED: above target; URGENT: needs referral now.',
});
registerEnumType(FollowUpType, { name: 'FollowUpType' });
registerEnumType(DueReason, { name: 'DueReason', description: 'Why a planned visit is due on its date: the follow-up rule that gave the earliest date (docs/care-model.md).' });
registerEnumType(ConditionControlStatus, {
  name: 'ConditionControlStatus',
  description: 'A managed condition by its latest counting readings within the look-back; NO_RECENT_READING when none counts.',
});

// Observation
registerEnumType(ObservationKind, { name: 'ObservationKind' });
registerEnumType(ObservationSource, { name: 'ObservationSource' });
registerEnumType(Plausibility, {
  name: 'Plausibility',
  description: 'PLAUSIBLE: counts for control; IMPLAUSIBLE: kept as sent or confirmed, shown flagged, left out of control status, latest readings and indicators.',
});

// Organization, grid, practitioner
registerEnumType(OrganizationLevel, { name: 'OrganizationLevel' });
registerEnumType(OrganizationType, { name: 'OrganizationType' });
registerEnumType(GridKind, { name: 'GridKind', description: 'Management grid (网格) kind.' });
registerEnumType(PractitionerRoleCode, { name: 'PractitionerRoleCode' });

// Patient
registerEnumType(Gender, { name: 'Gender' });
registerEnumType(ManagementTier, {
  name: 'ManagementTier',
  description: 'Tiered management: intensive (重点), routine (常规), general (一般). Sets the follow-up interval.',
});
registerEnumType(ManagementColour, { name: 'ManagementColour' });
registerEnumType(IdentifierKind, { name: 'IdentifierKind' });
// The pathway (src/care/pathway)
registerEnumType(PathwayStep, { name: 'PathwayStep', description: 'The seven-step pathway, in order; after REASSESSED a new cycle starts at PLAN_MADE.' });
registerEnumType(AssessmentKind, { name: 'AssessmentKind', description: 'INITIAL: the health assessment of pathway step 3; ANNUAL: the yearly re-assessment (step 7).' });
registerEnumType(RiskFactor, { name: 'RiskFactor' });
registerEnumType(Complication, { name: 'Complication' });
registerEnumType(TargetOrganDamage, { name: 'TargetOrganDamage' });
registerEnumType(ContactMethod, { name: 'ContactMethod' });
registerEnumType(ContactOutcome, { name: 'ContactOutcome', description: "What came of contacting an overdue patient (Simple.org's overdue-list outcomes)." });
registerEnumType(CareStatus, {
  name: 'CareStatus',
  description: 'Whether the programme still looks after the patient; only ACTIVE patients are on worklists and in indicators.',
});

// Referral
registerEnumType(ReferralDirection, { name: 'ReferralDirection', description: 'UP: village → township → county; DOWN: the reverse.' });
registerEnumType(ReferralStatus, { name: 'ReferralStatus' });
registerEnumType(ReferralUrgency, { name: 'ReferralUrgency' });
registerEnumType(ReferralReason, { name: 'ReferralReason' });

// Admission
registerEnumType(AdmissionKind, { name: 'AdmissionKind', description: 'INPATIENT: a hospital stay; EMERGENCY: an emergency-department visit.' });
registerEnumType(AdmissionStatus, { name: 'AdmissionStatus' });

// Alert
registerEnumType(AlertKind, { name: 'AlertKind', description: 'What an alert suggests or warns of (docs/care-model.md, "Alerts").' });
registerEnumType(AlertSeverity, { name: 'AlertSeverity', description: 'URGENT: act today; ROUTINE: at the next visit; INFO: for the record or an administrative task.' });
registerEnumType(AlertState, { name: 'AlertState', description: 'OPEN → ACKNOWLEDGED → RESOLVED (by a person, or by the rules when the cause went).' });

// Capitation (src/domain/capitation)
registerEnumType(RiskAdjustmentKind, { name: 'RiskAdjustmentKind', description: 'AGE_AT_LEAST: aged at least `years` on the first day of the period; CONDITION: a standing diagnosis of one of `conditionKinds` dated by then.' });
registerEnumType(RiskCombination, { name: 'RiskCombination', description: 'How the uplifts that apply to one head combine: ADDITIVE (their sum) or LARGEST (the largest alone).' });
registerEnumType(BelowMinimumRule, { name: 'BelowMinimumRule', description: "What a score below the kept-share function's first point keeps: nothing, or the first point's share." });
registerEnumType(WorkloadMeasure, { name: 'WorkloadMeasure', description: "A member organisation's workload: the contract's heads it manages (MANAGED_PATIENTS) or their follow-ups it did in the period (DONE_FOLLOW_UPS)." });
