/**
 * The domain's view of each FHIR resource: plain data mirroring the entity fields a mapping fills, with
 * links to other records carried as FHIR reference strings (`Ref`) for the persistence layer to resolve.
 *
 * Fields the entity requires are optional here when FHIR allows them to be absent (a Patient without a
 * name is valid FHIR): what the domain then accepts is the importing service's decision, not the mapper's.
 */
import type { CarePlan, CareTeam, CodeableConcept, Consent, Encounter, Goal, MedicationRequest, MedicationStatement, Observation, ServiceRequest, Task } from '@medplum/fhirtypes';
import type {
  ActivityCategory,
  ActivityStatus,
  CarePlanStatus,
  ClinicalStatus,
  ConditionKind,
  ConsentDecision,
  ConsentPurpose,
  ControlInterpretation,
  ControlStatus,
  CoverageStatus,
  DrugClass,
  FollowUpType,
  Gender,
  GridKind,
  ManagementColour,
  ManagementTier,
  ObservationKind,
  ObservationSource,
  OrganizationLevel,
  OrganizationType,
  PractitionerRoleCode,
  ReferralDirection,
  ReferralReason,
  ReferralStatus,
  ReferralUrgency,
  VerificationStatus,
} from '../vocabulary/index.js';

/**
 * A link to another record: 'Patient/123', 'urn:uuid:…', '#contained-id', an absolute URL, or for a logical
 * reference the conditional form 'Organization?identifier=system|value'.
 */
export type Ref = string;

export interface IdentifierShape {
  system: string;
  value: string;
}

export interface PatientShape {
  /** Full name; Chinese names family name first without spaces. */
  name?: string;
  gender: Gender;
  /** FHIR date as sent (YYYY, YYYY-MM or YYYY-MM-DD). */
  birthDate?: string;
  phone?: string;
  address?: string;
  /** Every identifier with a system and a value; which kind each is, is configuration (src/config.ts). */
  identifiers: IdentifierShape[];
  managingOrganizationRef?: Ref;
  /** The management grid (网格), a Location. */
  gridRef?: Ref;
  managementTier?: ManagementTier;
  managementColour?: ManagementColour;
  managementOverrideReason?: string;
  managementOverriddenByRef?: Ref;
  /** The family-doctor team (a CareTeam) the patient signed a contract with, and the contract's dates. */
  familyDoctorTeamRef?: Ref;
  contractSignedOn?: string;
  contractExpiresOn?: string;
  /** deceased[x]: whether the patient died (true for any deceasedDateTime), and the date part of deceasedDateTime. */
  deceased?: boolean;
  deceasedOn?: string;
}

export interface PractitionerShape {
  name?: string;
  gender?: Gender;
  /** Licence / staff number: our practitioner-code identifier, else the first identifier's value. */
  code?: string;
  phone?: string;
  identifiers: IdentifierShape[];
}

export interface PractitionerRoleShape {
  practitionerRef?: Ref;
  organizationRef?: Ref;
  role?: PractitionerRoleCode;
  specialty?: string;
}

export interface OrganizationShape {
  name?: string;
  /** Unique organisation code: our organization-code identifier, else the first identifier's value. */
  code?: string;
  level?: OrganizationLevel;
  type?: OrganizationType;
  parentRef?: Ref;
  address?: string;
  phone?: string;
  identifiers: IdentifierShape[];
}

/** A Location; a management grid (网格) is a Location whose `gridKind` is set. */
export interface LocationShape {
  name?: string;
  /** Grid code: our grid-code identifier, else the first identifier's value. */
  code?: string;
  gridKind?: GridKind;
  organizationRef?: Ref;
  address?: string;
  phone?: string;
  identifiers: IdentifierShape[];
}

export interface CareTeamMemberShape {
  /** Usually a Practitioner; other participants (the patient, an organisation) are carried for the resolver to sort. */
  memberRef: Ref;
  role?: PractitionerRoleCode;
}

export interface CareTeamShape {
  name?: string;
  status?: CareTeam['status'];
  patientRef?: Ref;
  organizationRef?: Ref;
  gridRef?: Ref;
  members: CareTeamMemberShape[];
}

export interface ConditionShape {
  patientRef?: Ref;
  /** Absent when the condition is text only (`code.text`). */
  code?: string;
  system?: string;
  display?: string;
  kind: ConditionKind;
  /** ISO date of onset as written (its own zone). */
  onsetDate?: string;
  clinicalStatus: ClinicalStatus;
  verificationStatus: VerificationStatus;
  confirmedByRef?: Ref;
  confirmedAt?: Date;
}

export interface ObservationShape {
  patientRef?: Ref;
  encounterRef?: Ref;
  status: Observation['status'];
  kind: ObservationKind;
  code: string;
  system: string;
  display?: string;
  /** In the kind's canonical unit (codes.ts CANONICAL_UNIT); absent for blood pressure. */
  value?: number;
  unit?: string;
  /** mmHg. */
  systolic?: number;
  diastolic?: number;
  /** The value / unit (UCUM code, else unit text) as received; emitted again while they still agree with `value`. */
  receivedValue?: number;
  receivedUnit?: string;
  receivedSystolic?: number;
  receivedDiastolic?: number;
  effectiveAt?: Date;
  source: ObservationSource;
  performerRef?: Ref;
  organizationRef?: Ref;
  deviceId?: string;
  /** The sender's identifier of this reading (first identifier): what makes re-sent device batches idempotent. */
  sourceSystem?: string;
  sourceId?: string;
  /**
   * Which way the reading stands from its control target, by the care rules (`interpretation`, HL7 v3 codes with
   * our control-status coding beside them); absent when the rules did not judge it.
   */
  interpretation?: ControlInterpretation;
  /**
   * The sender's own `interpretation` (read from a received resource): emitted as sent, and ours is not added to it —
   * a laboratory's flag by its reference range and ours by the control target can disagree.
   */
  interpretationAsSent?: CodeableConcept[];
}

export interface CarePlanActivityShape {
  category: ActivityCategory;
  status: ActivityStatus;
  description: string;
  frequency?: string;
  medicationCode?: string;
  medicationSystem?: string;
  medicationName?: string;
  dosage?: string;
  /** An activity given as a reference to another resource (a MedicationRequest, a ServiceRequest) instead of a detail. */
  ref?: Ref;
}

export interface CarePlanShape {
  patientRef?: Ref;
  title?: string;
  status: CarePlanStatus;
  intent: CarePlan['intent'];
  /** Condition kinds the plan addresses (our category codings, or contained Conditions). */
  addresses: ConditionKind[];
  /** The Conditions it addresses, for the resolver to turn into kinds. */
  addressesRefs: Ref[];
  /** ISO date (its own zone). */
  periodStart?: string;
  periodEnd?: string;
  authorRef?: Ref;
  organizationRef?: Ref;
  note?: string;
  goalRefs: Ref[];
  activities: CarePlanActivityShape[];
}

/** A care-plan goal (CarePlanGoal). Goal has no link to its plan: the plan's `goalRefs` point here. */
export interface GoalShape {
  patientRef?: Ref;
  lifecycleStatus: Goal['lifecycleStatus'];
  description: string;
  measure?: ObservationKind;
  /** Value (or systolic) below this, in the measure's canonical unit. */
  targetBelow?: number;
  diastolicBelow?: number;
  dueDate?: string;
}

/** A referral as a ServiceRequest carries it; the workflow state (accepted, rejected, …) is on its Task. */
export interface ReferralShape {
  patientRef?: Ref;
  /** False for a ServiceRequest that is an order, not a referral (SNOMED 3457005 or our direction marks one). */
  isReferral: boolean;
  requestStatus: ServiceRequest['status'];
  intent: ServiceRequest['intent'];
  direction?: ReferralDirection;
  fromOrganizationRef?: Ref;
  fromPractitionerRef?: Ref;
  toOrganizationRef?: Ref;
  toPractitionerRef?: Ref;
  reason?: ReferralReason;
  reasonText?: string;
  urgency: ReferralUrgency;
  clinicalSummary?: string;
  requestedAt?: Date;
  /** A down-referral: the up-referral it closes (ServiceRequest.basedOn, a ServiceRequest). */
  closesRef?: Ref;
}

/** The referral workflow as a Task: status and the timestamp of each step. */
export interface ReferralTaskShape {
  /** The ServiceRequest this Task fulfils (Task.focus). */
  referralRef?: Ref;
  patientRef?: Ref;
  status: ReferralStatus;
  /** The Task status as received; kept because several FHIR states read as one of ours. */
  taskStatus?: Task['status'];
  intent: Task['intent'];
  statusReason?: string;
  outcomeSummary?: string;
  /** The Observations and Conditions the Task's output names: the readings and diagnoses of the receiver's visit. */
  resultRefs?: Ref[];
  requesterRef?: Ref;
  ownerRef?: Ref;
  requestedAt?: Date;
  acceptedAt?: Date;
  rejectedAt?: Date;
  completedAt?: Date;
  cancelledAt?: Date;
}

export enum EncounterKind {
  FOLLOW_UP = 'FOLLOW_UP',
  ADMISSION = 'ADMISSION',
  EMERGENCY = 'EMERGENCY',
  OTHER = 'OTHER',
}

export interface FollowUpShape {
  type: FollowUpType;
  plannedDate?: string;
  /** The date the visit took place: the start of a finished encounter. */
  doneDate?: string;
  findings?: string;
  controlStatus?: ControlStatus;
  adverseReaction: boolean;
  newComplication: boolean;
  nextDueDate?: string;
}

/** Follow-up visits and hospital admissions (the hospitalisation indicator counts the latter). */
export interface EncounterShape {
  kind: EncounterKind;
  status: Encounter['status'];
  /** v3 ActCode class (AMB, HH, VR, IMP, EMER, …). */
  classCode?: string;
  patientRef?: Ref;
  periodStart?: Date;
  periodEnd?: Date;
  practitionerRef?: Ref;
  organizationRef?: Ref;
  /** Why the patient came (the first coded reasonCode): what an admission is for. */
  reason?: { system?: string; code: string; display?: string };
  followUp?: FollowUpShape;
}

export interface CoverageShape {
  patientRef?: Ref;
  insurerRef?: Ref;
  /** The insurer's name when the payor is given by name only. */
  insurerName?: string;
  memberNumber?: string;
  /** Scheme, e.g. urban-rural resident basic medical insurance. */
  plan?: string;
  status: CoverageStatus;
  periodStart?: string;
  periodEnd?: string;
}

/** A patient's decision about one purpose of use (treatment, sharing with the insurer, research), for a period. */
export interface ConsentShape {
  patientRef?: Ref;
  status: Consent['status'];
  /** Absent when the Consent names none of our purposes. */
  purpose?: ConsentPurpose;
  decision: ConsentDecision;
  /** ISO dates (their own zone) of the period the decision is in force. */
  periodStart?: string;
  periodEnd?: string;
  /** When the decision was recorded. */
  recordedAt?: Date;
  recordedByRef?: Ref;
  note?: string;
}

/** A medicine: a Medication resource's code, or a prescription's medicationCodeableConcept. */
export interface MedicineShape {
  /** The coding that says the drug class, else the first with a code. */
  code?: string;
  system?: string;
  display?: string;
  /** The medicine as text (CodeableConcept.text). */
  text?: string;
  drugClass: DrugClass;
}

/**
 * A patient's use of one medicine, as a prescription (MedicationRequest) or the patient's own account
 * (MedicationStatement) says it.
 */
export interface MedicationShape extends MedicineShape {
  patientRef?: Ref;
  /** A medicationReference to a Medication not contained in the resource, for the resolver to look up (then `text` is its display). */
  medicationRef?: Ref;
  /** The resource's status as received (the two resource types have different value sets). */
  status: MedicationRequest['status'] | MedicationStatement['status'];
  /** Requests only. */
  intent?: MedicationRequest['intent'];
  /** Dosage instructions as text, several joined by '; '. */
  dosage?: string;
  /** ISO date: when the request was written (authoredOn), the statement asserted (dateAsserted). */
  authoredOn?: string;
  /** ISO dates of the period of use: a statement's effective period (or dateTime), a request's validity period. */
  periodStart?: string;
  periodEnd?: string;
  /** Who says so: the requester of a request, the information source of a statement. */
  sourceRef?: Ref;
  encounterRef?: Ref;
}
