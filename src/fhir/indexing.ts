import type { Resource } from '@medplum/fhirtypes';

/** What the store extracts from a resource for search and matching: computed once on write. */
export interface ResourceIndex {
  patientId?: string;
  /** The element that names the patient (`Observation.subject`), for error messages. */
  patientPath?: string;
  sourceKeys: string[];
  /** `param:code` and `param:system|code` of every coded element a token parameter searches. */
  codes: string[];
  dateAt?: Date;
  status?: string;
  names?: string;
  gender?: string;
}

type Json = Record<string, unknown>;

/** References that put a resource in a patient's compartment, in the order FHIR's compartment definition lists them. */
const PATIENT_REFERENCE_PATHS = ['subject', 'patient', 'beneficiary', 'for', 'individual'] as const;
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
const DATE_PATHS = ['effectiveDateTime', 'effectiveInstant', 'onsetDateTime', 'recordedDate', 'authoredOn', 'occurrenceDateTime', 'performedDateTime', 'issued', 'created', 'date', 'birthDate'] as const;

/** Per type, further references that put a resource in the compartment (R4 CompartmentDefinition: Provenance by target). */
const EXTRA_PATIENT_REFERENCE_PATHS: Record<string, readonly string[]> = { Provenance: ['target'] };

export function patientIdOf(resource: Resource): string | undefined {
  return patientReferenceOf(resource)?.id;
}

function patientReferenceOf(resource: Resource): { id: string; path: string } | undefined {
  if (resource.resourceType === 'Patient') return resource.id ? { id: resource.id, path: 'Patient.id' } : undefined;
  const r = resource as unknown as Json;
  for (const path of [...PATIENT_REFERENCE_PATHS, ...(EXTRA_PATIENT_REFERENCE_PATHS[resource.resourceType] ?? [])]) {
    const value = r[path];
    // A list (Provenance.target) may name the patient anywhere in it; a single-patient element names it first.
    const refs = (Array.isArray(value) ? (path === 'target' ? value : value.slice(0, 1)) : [value]) as Array<{ reference?: string } | undefined>;
    for (const [i, ref] of refs.entries()) {
      const m = /^Patient\/([^/]+)$/.exec(ref?.reference ?? '');
      if (m) return { id: m[1]!, path: `${resource.resourceType}.${path}${Array.isArray(value) ? `[${i}]` : ''}` };
    }
  }
  return undefined;
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
  const patient = patientReferenceOf(resource);
  return {
    patientId: patient?.id,
    patientPath: patient?.path,
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
