/**
 * Test support: every resource in the public FHIR test data (test/fixtures/fhir, found from the repo root; see its
 * SOURCES.md): top-level files, Bundle entries, NDJSON lines, and contained resources.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { isPlainObject } from '../merge.js';

export const SHARED_FHIR_DIR = path.resolve('test/fixtures/fhir');

export interface SharedResource {
  /** File relative to the shared directory. */
  file: string;
  /** Where in the file: entry index / line number, and '#id' for a contained resource. */
  where: string;
  resource: Resource;
  /** True for a resource contained in another (its parent carries it through its own mapping as well). */
  contained: boolean;
}

let cache: SharedResource[] | undefined;

export function loadSharedResources(): SharedResource[] {
  if (cache) return cache;
  const out: SharedResource[] = [];
  const visit = (resource: Resource, file: string, where: string, contained: boolean): void => {
    out.push({ file, where, resource, contained });
    if (resource.resourceType === 'Bundle') {
      (resource as Bundle).entry?.forEach((e, i) => e.resource && visit(e.resource, file, `${where}entry[${i}]`, false));
    }
    const inner = (resource as { contained?: Resource[] }).contained;
    inner?.forEach((c) => visit(c, file, `${where}${resource.resourceType}/${resource.id ?? '?'}#${c.id ?? '?'}`, true));
  };
  for (const dir of fs.readdirSync(SHARED_FHIR_DIR).sort()) {
    const full = path.join(SHARED_FHIR_DIR, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const name of fs.readdirSync(full).sort()) {
      const file = `${dir}/${name}`;
      const text = fs.readFileSync(path.join(full, name), 'utf8');
      if (name.endsWith('.ndjson')) {
        text.split('\n').forEach((line, i) => line.trim() && visit(JSON.parse(line) as Resource, file, `line ${i + 1} `, false));
      } else if (name.endsWith('.json')) {
        visit(JSON.parse(text) as Resource, file, '', false);
      }
    }
  }
  cache = out;
  return out;
}

/** The resource without what the store assigns: id, meta.versionId, meta.lastUpdated. */
export function withoutServerFields(resource: Resource): unknown {
  const copy = structuredClone(resource) as Resource & { meta?: Record<string, unknown> };
  delete copy.id;
  if (copy.meta) {
    delete copy.meta.versionId;
    delete copy.meta.lastUpdated;
    if (Object.keys(copy.meta).length === 0) delete copy.meta;
  }
  return copy;
}

/** Paths where `actual` does not carry what `expected` says (keys undefined in `expected` are not checked). */
export function subsetDiff(expected: unknown, actual: unknown, at = ''): string[] {
  if (expected === undefined) return [];
  if (expected instanceof Date) return actual instanceof Date && actual.getTime() === expected.getTime() ? [] : [at];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${at} (length)`];
    return expected.flatMap((e, i) => subsetDiff(e, actual[i], `${at}[${i}]`));
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return [at];
    return Object.keys(expected).flatMap((k) => subsetDiff(expected[k], actual[k], at ? `${at}.${k}` : k));
  }
  return expected === actual ? [] : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** A first difference between two JSON values, for readable failure messages. */
export function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return undefined; // same content, different key order
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 200)} ≠ ${JSON.stringify(b)?.slice(0, 200)}`;
}
