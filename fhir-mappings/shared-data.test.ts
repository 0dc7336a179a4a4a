/**
 * Every resource of a mapped type in the shared FHIR data (Synthea bundles, bulk NDJSON, HL7 examples):
 * - roundtrip: toFhir(fromFhir(r)) equals r apart from id / meta.versionId / meta.lastUpdated;
 * - the domain's own emission (no original) is valid R4 and reads back to the same shape;
 * - both emissions pass base R4 validation with no error-severity issue.
 */
import type { Resource } from '@medplum/fhirtypes';
import { deepEqual } from './merge.js';
import { mappingFor, mappings, type MappedResourceType } from './index.js';
import { firstDifference, loadSharedResources, subsetDiff, withoutServerFields, type SharedResource } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const all = loadSharedResources();
const mapped = all.filter((r) => mappingFor(r.resource.resourceType));
const typesInData = [...new Set(mapped.map((r) => r.resource.resourceType))].sort() as MappedResourceType[];
const label = (r: SharedResource): string => `${r.file} ${r.where}${r.resource.resourceType}/${r.resource.id ?? '(no id)'}`;
const STORE = { id: 'stored-id', versionId: '3', lastUpdated: '2026-11-23T08:00:00.000Z' };

/** Runs `check` on every resource of a type, collecting failures so one report names them all. */
function everyOf(type: string, check: (r: SharedResource) => string | undefined): void {
  const failures: string[] = [];
  for (const r of mapped.filter((x) => x.resource.resourceType === type)) {
    try {
      const problem = check(r);
      if (problem) failures.push(`${label(r)}: ${problem}`);
    } catch (err) {
      failures.push(`${label(r)}: threw ${(err as Error).message}`);
    }
  }
  expect(failures.slice(0, 10)).toEqual([]);
}

test('the shared data holds resources of most mapped types', () => {
  expect(mapped.length).toBeGreaterThan(4000);
  expect(typesInData).toEqual(
    expect.arrayContaining(['CarePlan', 'CareTeam', 'Condition', 'Coverage', 'Encounter', 'Goal', 'Location', 'Observation', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole', 'ServiceRequest']),
  );
});

describe.each(typesInData)('%s in the shared data', (type) => {
  const mapping = mappings[type] as unknown as { fromFhir(r: Resource): { domain: unknown; original: Resource }; toFhir(s: unknown, o: object): Resource };

  test('roundtrips: toFhir(fromFhir(r), original) equals r except id and meta.versionId/lastUpdated', () => {
    everyOf(type, (r) => {
      const { domain, original } = mapping.fromFhir(r.resource);
      const out = mapping.toFhir(domain, { ...STORE, original });
      if (out.id !== STORE.id || out.meta?.versionId !== STORE.versionId || out.meta?.lastUpdated !== STORE.lastUpdated) return 'store fields not applied';
      const want = withoutServerFields(r.resource);
      const got = withoutServerFields(out);
      return deepEqual(want, got) ? undefined : firstDifference(want, got);
    });
  });

  test('the emission with its original passes R4 validation', () => {
    everyOf(type, (r) => {
      const { domain, original } = mapping.fromFhir(r.resource);
      const errors = errorsOf(validateFhir(mapping.toFhir(domain, { ...STORE, original })));
      return errors.length ? JSON.stringify(errors.slice(0, 2)) : undefined;
    });
  });

  test('the domain-only emission is valid R4 and reads back to the same shape', () => {
    everyOf(type, (r) => {
      const { domain } = mapping.fromFhir(r.resource);
      const out = mapping.toFhir(domain, STORE);
      const errors = errorsOf(validateFhir(out));
      if (errors.length) return JSON.stringify(errors.slice(0, 2));
      const diff = subsetDiff(domain, mapping.fromFhir(out).domain);
      return diff.length ? diff.slice(0, 3).join('; ') : undefined;
    });
  });
});
