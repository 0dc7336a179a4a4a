/**
 * Finding 4: one scoped query path. Every read of the FHIR store's tables (fhir_resource, fhir_resource_history)
 * is built by src/fhir/store-sql.ts, which always applies the caller's visibility (policy.ts) and per-type SMART
 * scopes; the few reads that must see past them (finding what a sender sent before, the write's own target,
 * the domain → FHIR materialiser) are functions there named `unscoped…`, each with the reason. Reproduced: the
 * reads were hand-written SQL in five files, each adding the predicate by hand (or, deliberately, not).
 */
import type { Basic, Bundle, Observation } from '@medplum/fhirtypes';
import fs from 'node:fs';
import path from 'node:path';
import { entriesOf, type FhirCounty, fhirCounty } from './fhir-security-support.js';

const BUILDER = path.join('src', 'fhir', 'store-sql.ts');
const READS_STORE = /\b(from|join)\s+"?(fhir_resource(_history)?)"?\b/gi;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

test('no SQL outside the builder reads the FHIR store tables', () => {
  const offenders = sourceFiles('src')
    .filter((file) => file !== BUILDER)
    .flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.match(READS_STORE) ? [`${file}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])),
    );
  expect(offenders).toEqual([]);
});

test('in the builder, a read that skips the caller is a function named unscoped…', () => {
  const text = fs.readFileSync(BUILDER, 'utf8');
  // Each exported function that reads the tables: scoped ones take the caller's scope, unscoped ones say so.
  const fns = [...text.matchAll(/export (?:async )?function (\w+)\(([^)]*)\)/g)].map((m) => ({ name: m[1]!, params: m[2]! }));
  const readers = fns.filter((f) => {
    const body = text.slice(text.indexOf(`function ${f.name}(`));
    const end = body.indexOf('\nexport ');
    return (end < 0 ? body : body.slice(0, end)).match(READS_STORE);
  });
  expect(readers.length).toBeGreaterThan(0);
  for (const f of readers) expect({ name: f.name, scoped: /\bscope\b/.test(f.params) || f.name.startsWith('unscoped') }).toEqual({ name: f.name, scoped: true });
});

describe('a resource out of reach is out of reach on every read path', () => {
  let f: FhirCounty;
  let hidden: Basic;
  let reading: string;
  beforeAll(async () => {
    f = await fhirCounty('FQ');
    hidden = await f.created<Basic>('gpB', { resourceType: 'Basic', identifier: [{ system: 'https://b.example.org/basic', value: 'B-1' }], code: { text: '乙镇内部' } });
    const obs = await f.created<Observation>('gpB', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '75325-1', display: 'Symptom' }], text: '乙镇' }, subject: { reference: `Patient/${f.c.patients.b1.id}` }, valueString: 'x' });
    reading = obs.id!;
  });
  afterAll(() => f?.t.close());

  test('read, vread, history, search, Bundle GET entries, conditional create', async () => {
    const paths = [`/fhir/Basic/${hidden.id}`, `/fhir/Basic/${hidden.id}/_history/1`, `/fhir/Basic/${hidden.id}/_history`, `/fhir/Observation/${reading}`];
    for (const url of paths) expect({ url, status: (await f.fhir('gp', 'get', url)).status }).toEqual({ url, status: 404 });
    expect(entriesOf(await f.fhir('gp', 'get', `/fhir/Basic?identifier=https://b.example.org/basic|B-1`))).toEqual([]);
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Basic/${hidden.id}` } },
        { request: { method: 'GET', url: `Basic?_id=${hidden.id}` } },
      ],
    };
    const res = await f.fhir('gp', 'post', '/fhir', batch);
    expect(res.body.entry.map((e: { response: { status: string }; resource?: Bundle }) => [e.response.status, e.resource?.entry?.length ?? null])).toEqual([
      ['404', null],
      ['200', 0],
    ]);
    // If-None-Exist finds nothing it may not see: the create goes ahead as a resource of the caller's own.
    const mine = await f.fhir('gp', 'post', '/fhir/Basic', { resourceType: 'Basic', code: { text: '甲镇' } }, { 'if-none-exist': `_id=${hidden.id}` });
    expect(mine.status).toBe(201);
    expect(mine.body.id).not.toBe(hidden.id);
  });
});
