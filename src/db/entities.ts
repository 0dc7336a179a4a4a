import { CarePlan, CarePlanActivity, CarePlanGoal } from '../domain/care-plan/care-plan.entity.js';
import { CareTeam, CareTeamMember } from '../domain/care-team/care-team.entity.js';
import { Condition } from '../domain/condition/condition.entity.js';
import { Coverage } from '../domain/coverage/coverage.entity.js';
import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { Admission } from '../domain/admission/admission.entity.js';
import { Observation } from '../domain/observation/observation.entity.js';
import { Grid, Organization } from '../domain/organization/organization.entity.js';
import { Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { Practitioner, PractitionerRole } from '../domain/practitioner/practitioner.entity.js';
import { Referral } from '../domain/referral/referral.entity.js';
import { ReferralResult } from '../domain/referral/referral-result.entity.js';
import { Consent } from '../domain/consent/consent.entity.js';
import { MedicationUse } from '../domain/medication/medication.entity.js';
import { SelfManagementGroup, SelfManagementGroupAttendance, SelfManagementGroupMember, SelfManagementGroupSession } from '../domain/self-management-group/self-management-group.entity.js';
import { Alert } from '../care/alerts/alert.entity.js';
import { ConditionControl } from '../care/state/condition-control.entity.js';
import { CareSweep } from '../care/state/sweep.entity.js';
import { PathwayStepRecord } from '../care/pathway/pathway-step.entity.js';
import { Assessment } from '../domain/assessment/assessment.entity.js';
import { ContactAttempt } from '../domain/contact-attempt/contact-attempt.entity.js';
import { CapitationContract } from '../domain/capitation/capitation-contract.entity.js';
import { AuditEvent } from '../access/audit-event.entity.js';
import { ClientWrite } from '../offline/client-write.entity.js';
import { FhirResource, FhirResourceHistory } from '../fhir/fhir-resource.entity.js';
import { DomainEvent, EventConsumerPosition } from '../events/domain-event.entity.js';
import { SystemClient, UsedAssertion } from '../access/system-client.entity.js';
import { BulkExportJob } from '../jobs/bulk-export/job.entity.js';

export const ENTITIES = [
  Organization,
  Grid,
  Practitioner,
  PractitionerRole,
  CareTeam,
  CareTeamMember,
  Patient,
  PatientIdentifier,
  Condition,
  Observation,
  CarePlan,
  CarePlanGoal,
  CarePlanActivity,
  Referral,
  ReferralResult,
  FollowUp,
  Admission,
  Coverage,
  Consent,
  MedicationUse,
  SelfManagementGroup,
  SelfManagementGroupMember,
  SelfManagementGroupSession,
  SelfManagementGroupAttendance,
  Alert,
  ConditionControl,
  CareSweep,
  Assessment,
  ContactAttempt,
  PathwayStepRecord,
  CapitationContract,
  SystemClient,
  UsedAssertion,
  AuditEvent,
  FhirResource,
  FhirResourceHistory,
  DomainEvent,
  EventConsumerPosition,
  ClientWrite,
  BulkExportJob,
];
