import type { Resource } from '@medplum/fhirtypes';

/** What the store extracts from a resource for search and matching: computed once on write. */
export interface ResourceIndex {
  patientId?: string;
  sourceKeys: string[];
  codes: string[];
  dateAt?: Date;
  status?: string;
  names?: string;
  gender?: string;
}

type Json = Record<string, unknown>;

/** References that put a resource in a patient's compartment, in the order FHIR's compartment definition lists them. */
const PATIENT_REFERENCE_PATHS = ['subject', 'patient', 'beneficiary', 'for', 'individual'] as const;
const CODE_PATHS = ['code', 'category', 'type', 'class', 'vaccineCode', 'medicationCodeableConcept', 'clinicalStatus', 'verificationStatus', 'intent'] as const;
const DATE_PATHS = ['effectiveDateTime', 'effectiveInstant', 'onsetDateTime', 'recordedDate', 'authoredOn', 'occurrenceDateTime', 'performedDateTime', 'issued', 'created', 'date', 'birthDate'] as const;

export function patientIdOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const r = resource as unknown as Json;
  for (const path of PATIENT_REFERENCE_PATHS) {
    const value = r[path];
    const ref = (Array.isArray(value) ? value[0] : value) as { reference?: string } | undefined;
    const m = /^Patient\/([^/]+)$/.exec(ref?.reference ?? '');
    if (m) return m[1];
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
  for (const path of CODE_PATHS) {
    for (const c of codingsOf(r[path])) {
      if (!c.code) continue;
      codes.add(c.code);
      if (c.system) codes.add(`${c.system}|${c.code}`);
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
  return {
    patientId: patientIdOf(resource),
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
