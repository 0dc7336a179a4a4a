/**
 * The vocabulary the domain, the GraphQL API and the FHIR mappings share: every enum whose values appear in
 * more than one of those layers. Plain TypeScript with no imports — not from src/, not from fhir-mappings/,
 * not type-graphql or MikroORM — so that any layer can depend on it without pulling in another.
 * The GraphQL registration (names, descriptions) is in src/graphql/enums.ts; the codes each value maps to in
 * FHIR are in fhir-mappings/codes.ts.
 */
export { AdmissionKind, AdmissionStatus } from './admission.js';
export { AlertKind, AlertSeverity, AlertState } from './alert.js';
export { ActivityCategory, ActivityStatus, CarePlanStatus, GoalProgressStatus } from './care-plan.js';
export { ClinicalStatus, ConditionKind, VerificationStatus } from './condition.js';
export { ConsentDecision, ConsentPurpose } from './consent.js';
export { CoverageStatus } from './coverage.js';
export { ConditionControlStatus, ControlInterpretation, ControlStatus } from './control.js';
export { DueReason, FollowUpType } from './follow-up.js';
export { DrugClass, MedicationStatus } from './medication.js';
export { ObservationKind, ObservationSource, Plausibility } from './observation.js';
export { GridKind, OrganizationLevel, OrganizationType } from './organization.js';
export { CareStatus, Gender, IdentifierKind, ManagementColour, ManagementTier } from './patient.js';
export { AssessmentKind, Complication, ContactMethod, ContactOutcome, PathwayStep, RiskFactor, TargetOrganDamage } from './pathway.js';
export { PractitionerRoleCode } from './practitioner.js';
export { ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from './referral.js';
