import type { CodeableConcept, Coding, Extension, Identifier, Narrative, Reference, Resource } from '@medplum/fhirtypes';
import { bilingual, type Display } from './codes.js';
import type { IdentifierShape, Ref } from './domain-shapes.js';
import { FhirMappingError } from './errors.js';
import { compact, deepEqual, deepMerge, isPlainObject, mergeChanges, type MergeOptions } from './merge.js';

/** What `fromFhir` returns: the domain's view, and the resource as received so nothing it said is lost. */
export interface FromFhirResult<S, R extends Resource> {
  domain: S;
  original: R;
}

export interface ToFhirOptions<R extends Resource> {
  id: string;
  versionId?: string;
  lastUpdated?: string | Date;
  /** The resource as received (the `original` of `fromFhir`), when the record came in over FHIR. */
  original?: R;
}

export interface ResourceMapping<R extends Resource, S> {
  readonly resourceType: R['resourceType'];
  fromFhir(resource: R): FromFhirResult<S, R>;
  toFhir(shape: S, options: ToFhirOptions<R>): R;
  /**
   * With an original, a field absent from `shape` (no key at all) keeps what the original says, so a shape
   * rebuilt from an entity need not carry what the entity does not store (a coding's display, a FHIR
   * status); a key present with `undefined` removes the element.
   */
  toFhir(shape: Partial<S>, options: ToFhirOptions<R> & { original: R }): R;
}

interface MappingDefinition<R extends Resource, S> {
  resourceType: R['resourceType'];
  /** FHIR → domain; throws FhirMappingError for mapped content that cannot mean anything in the domain. */
  read(resource: R): S;
  /** Domain → FHIR for a record with no original: must be valid R4 on its own. */
  build(shape: S): R;
  merge?: MergeOptions;
}

/**
 * Every resource maps the same way: `toFhir` builds the domain's emission and, when there is an original,
 * applies only what changed since the original's own emission (`mergeChanges`). So an unchanged record
 * comes back byte for byte as received, and a changed one keeps everything the domain does not map.
 */
export function defineMapping<R extends Resource, S>(def: MappingDefinition<R, S>): ResourceMapping<R, S> {
  const build = (shape: S): R => compact(def.build(shape));
  const checkType = (resource: Resource, where: string): void => {
    if (resource?.resourceType !== def.resourceType) {
      throw new FhirMappingError(`expected a ${def.resourceType}, got ${String(resource?.resourceType)}`, `${where}.resourceType`);
    }
  };
  return {
    resourceType: def.resourceType,
    fromFhir(resource) {
      checkType(resource, def.resourceType);
      return { domain: def.read(resource), original: structuredClone(resource) };
    },
    toFhir(shape: Partial<S>, options: ToFhirOptions<R>): R {
      let out: R;
      if (options.original) {
        checkType(options.original, 'original');
        const received = def.read(options.original);
        const previous = build(received);
        const next = build({ ...received, ...shape });
        const changed = !deepEqual(previous, next);
        out = structuredClone((changed ? mergeChanges(options.original, previous, next, def.merge) : options.original) as R);
        // A generated narrative describing the old values would contradict the data; it can be regenerated.
        // Re-pointed references (the resolver's work on every import) leave what it says true.
        const narrated = out as { text?: Narrative };
        if (changed && narrated.text?.status === 'generated' && !deepEqual(withoutReferences(previous), withoutReferences(next))) delete narrated.text;
      } else {
        out = build(shape as S);
      }
      out.id = options.id;
      const lastUpdated = options.lastUpdated instanceof Date ? options.lastUpdated.toISOString() : options.lastUpdated;
      if (options.versionId !== undefined || lastUpdated !== undefined) {
        out.meta = deepMerge(out.meta ?? {}, compact({ versionId: options.versionId, lastUpdated }));
      }
      return out;
    },
  };
}

// ---- references -------------------------------------------------------------------------------------------

/** The JSON with every Reference collapsed to a marker: what is left is what the resource says. */
function withoutReferences(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutReferences);
  if (!isPlainObject(value)) return value;
  if (typeof value.reference === 'string' || (isPlainObject(value.identifier) && Object.keys(value).every((k) => ['type', 'identifier', 'display'].includes(k)))) {
    return '(reference)';
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutReferences(v)]));
}

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?identifier=(?:([^|]*)\|)?(.+)$/;
const TYPED = /(?:^|\/)([A-Z][A-Za-z]+)(?:\/[^/?]+(?:\/_history\/[^/]+)?$|\?)/;

/**
 * A reference as the domain carries it: the FHIR reference string ('Patient/123', 'urn:uuid:…', '#local'),
 * or for a logical reference (identifier only) the conditional form 'Organization?identifier=system|value',
 * which is what a transaction would send and what the resolving layer looks up.
 */
export function refOf(reference: Reference | undefined, type?: string): Ref | undefined {
  if (!reference) return undefined;
  if (reference.reference) return reference.reference;
  const id = reference.identifier;
  const t = reference.type ?? type;
  if (id?.value && t) return `${t}?identifier=${id.system ? `${id.system}|` : ''}${id.value}`;
  return undefined;
}

/** The Reference for a domain ref; a conditional ref becomes a logical reference, valid in stored resources. */
export function toReference<T extends Resource = Resource>(ref: Ref | undefined, type?: string): Reference<T> | undefined {
  if (!ref) return undefined;
  const m = CONDITIONAL.exec(ref);
  if (m) return { type: m[1] as Reference['type'], identifier: compact({ system: m[2], value: m[3] }) as Identifier };
  // `type` only where the string does not already say it (urn:uuid, #local): readers need it to tell targets apart.
  return type && !TYPED.test(ref) ? { reference: ref, type: type as Reference['type'] } : { reference: ref };
}

/** The target type of a reference: its `type`, else what the reference string says, else undefined (urn:uuid). */
export function refType(reference: Reference | undefined): string | undefined {
  if (!reference) return undefined;
  if (reference.type) return reference.type;
  const m = reference.reference ? TYPED.exec(reference.reference) : undefined;
  return m?.[1];
}

// ---- codes ------------------------------------------------------------------------------------------------

export function coding(system: string, code: string, display?: string): Coding {
  return display ? { system, code, display } : { system, code };
}

/** A CodeableConcept from our own code system: the coding's display in English, the text in both languages. */
export function ncdConcept(system: string, code: string, display: Display, extra: Coding[] = []): CodeableConcept {
  return { coding: [coding(system, code, display.en), ...extra], text: bilingual(display) };
}

export function findCoding(concept: CodeableConcept | undefined, system: string): Coding | undefined {
  return concept?.coding?.find((c) => c.system === system && c.code);
}

export function findCodingIn(concepts: CodeableConcept[] | undefined, system: string): Coding | undefined {
  for (const c of concepts ?? []) {
    const found = findCoding(c, system);
    if (found) return found;
  }
  return undefined;
}

/** The code of our enum in our code system, when present and a member of the enum. */
export function enumFrom<E extends string>(values: Record<string, E>, code: string | undefined): E | undefined {
  return code !== undefined && Object.values(values).includes(code as E) ? (code as E) : undefined;
}

// ---- identifiers, telecom, names, addresses ----------------------------------------------------------------

export function identifiersOf(identifiers: Identifier[] | undefined): IdentifierShape[] {
  return (identifiers ?? []).filter((i) => i.system && i.value).map((i) => ({ system: i.system!, value: i.value! }));
}

export function toIdentifiers(identifiers: IdentifierShape[]): Identifier[] {
  return identifiers.map((i) => ({ system: i.system, value: i.value }));
}

const CJK = /[\u3400-\u9fff]/;

/** One display string from a HumanName: Chinese names family-first without spaces, others given-first. */
export function humanNameText(name: { text?: string; family?: string; given?: string[] } | undefined): string | undefined {
  if (!name) return undefined;
  if (name.text?.trim()) return name.text.trim();
  const given = (name.given ?? []).filter(Boolean);
  const family = name.family?.trim();
  if (!family && given.length === 0) return undefined;
  if (family && CJK.test(family)) return family + given.join('');
  return [...given, family].filter(Boolean).join(' ');
}

export function preferredName<N extends { use?: string; text?: string; family?: string; given?: string[] }>(names: N[] | undefined): N | undefined {
  const usable = (names ?? []).filter((n) => n.use !== 'old' && humanNameText(n));
  return usable.find((n) => n.use === 'official') ?? usable.find((n) => n.use === 'usual') ?? usable[0];
}

/** One line from an Address: Chinese addresses largest unit first without separators, others smallest first. */
export function addressText(a: { text?: string; line?: string[]; city?: string; district?: string; state?: string; postalCode?: string; country?: string } | undefined): string | undefined {
  if (!a) return undefined;
  if (a.text?.trim()) return a.text.trim();
  const lines = (a.line ?? []).filter(Boolean);
  const parts = [...lines, a.district, a.city, a.state, a.postalCode, a.country].filter((p): p is string => !!p?.trim());
  if (parts.length === 0) return undefined;
  if (parts.some((p) => CJK.test(p))) return [a.country, a.state, a.city, a.district, ...lines].filter(Boolean).join('');
  return parts.join(', ');
}

export function phoneOf(telecom: Array<{ system?: string; value?: string }> | undefined): string | undefined {
  return telecom?.find((t) => t.system === 'phone' && t.value)?.value;
}

// ---- dates -------------------------------------------------------------------------------------------------

const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** A FHIR date/dateTime/instant as a point in time (partial dates at their start, UTC when no zone is given). */
export function parseInstant(value: string | undefined, expression: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = DATE_TIME.test(value) ? new Date(value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new FhirMappingError(`"${value}" is not a FHIR date/time`, expression, 'value');
  return d;
}

/** The calendar date a dateTime names, as written (its own zone), or the partial date itself. */
export function datePart(value: string | undefined, expression: string): string | undefined {
  if (value === undefined) return undefined;
  if (!DATE_TIME.test(value)) throw new FhirMappingError(`"${value}" is not a FHIR date/time`, expression, 'value');
  return value.slice(0, 10);
}

export const iso = (d: Date | undefined): string | undefined => d?.toISOString();

// ---- extensions ---------------------------------------------------------------------------------------------

export function findExtension(extensions: Extension[] | undefined, url: string): Extension | undefined {
  return extensions?.find((e) => e.url === url);
}

export function subExtension(extension: Extension | undefined, url: string): Extension | undefined {
  return extension?.extension?.find((e) => e.url === url);
}

/** A complex extension, or undefined when none of its parts has a value (FHIR forbids empty extensions). */
export function complexExtension(url: string, parts: Array<Extension | undefined>): Extension | undefined {
  const present = parts.filter((p): p is Extension => p !== undefined && Object.keys(p).some((k) => k.startsWith('value') && (p as unknown as Record<string, unknown>)[k] !== undefined));
  return present.length ? { url, extension: present } : undefined;
}

/** Joins Annotation texts the way the domain stores notes: one free-text field. */
export function notesText(notes: Array<{ text?: string }> | undefined): string | undefined {
  const texts = (notes ?? []).map((n) => n.text).filter((t): t is string => !!t);
  return texts.length ? texts.join('\n\n') : undefined;
}
