import { compact, deepEqual, deepMerge, mergeChanges, naturalKey } from './merge.js';

describe('deepEqual', () => {
  test('ignores key order and undefined-valued keys, compares Dates by time', () => {
    expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(deepEqual(new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00.000Z'))).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: 1 }, { a: '1' })).toBe(false);
  });
});

describe('naturalKey', () => {
  test('gives identities to the FHIR datatypes that have one', () => {
    expect(naturalKey({ url: 'http://x', valueString: 'a' })).toBe('url:http://x');
    expect(naturalKey({ system: 's', value: 'v', use: 'usual' })).toBe('sys:s|v|');
    expect(naturalKey({ reference: 'Patient/1', display: 'P' })).toBe('ref:Patient/1');
    expect(naturalKey({ coding: [{ system: 's', code: 'c' }], text: 't' })).toBe('cc:sys:s||c');
    expect(naturalKey({ family: 'Li', given: ['Lei'] })).toBeUndefined();
  });
});

describe('deepMerge (two-way)', () => {
  test('overlay wins, objects merge, undefined keeps the base', () => {
    expect(deepMerge({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 5 }, e: undefined })).toEqual({ a: 1, b: { c: 5, d: 3 } });
  });
  test('keyed arrays merge item by item; unkeyed arrays are replaced', () => {
    const base = { identifier: [{ system: 'a', value: '1', use: 'usual' }], name: [{ family: 'Old' }] };
    const overlay = { identifier: [{ system: 'a', value: '1', period: { start: '2020' } }, { system: 'b', value: '2' }], name: [{ text: 'New' }] };
    expect(deepMerge(base, overlay)).toEqual({
      identifier: [{ system: 'a', value: '1', use: 'usual', period: { start: '2020' } }, { system: 'b', value: '2' }],
      name: [{ text: 'New' }],
    });
  });
});

describe('mergeChanges (three-way)', () => {
  const original = {
    resourceType: 'Observation',
    extension: [{ url: 'http://example.org/race', valueString: 'x' }],
    status: 'final',
    effectivePeriod: { start: '2020-01-01', end: '2020-01-02' },
    valueQuantity: { value: 126, comparator: '<', unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
    dataAbsentReason: { text: 'was not measured' },
  };
  const previous = { resourceType: 'Observation', status: 'final', effectiveDateTime: '2020-01-01', valueQuantity: { value: 126, unit: 'mg/dL' } };

  test('where the domain changed nothing, the original comes back as it was', () => {
    expect(mergeChanges(original, previous, structuredClone(previous))).toBe(original);
  });

  test('a changed element wins; unmapped elements stay; choices and exclusive siblings are displaced', () => {
    const next = { ...previous, effectiveDateTime: '2020-02-02', valueQuantity: { value: 8, unit: 'mmol/L' } };
    const out = mergeChanges(original, previous, next, { atomic: ['valueQuantity'], choices: ['effective', 'value'], exclusive: { value: ['dataAbsentReason'] } });
    expect(out).toEqual({
      resourceType: 'Observation',
      extension: original.extension,
      status: 'final',
      effectiveDateTime: '2020-02-02',
      valueQuantity: { value: 8, unit: 'mmol/L' },
    });
  });

  test('without atomic, a changed object is merged key by key (the comparator would survive)', () => {
    const next = { ...previous, valueQuantity: { value: 8, unit: 'mmol/L' } };
    const out = mergeChanges(original, previous, next) as typeof original;
    expect(out.valueQuantity).toEqual({ value: 8, comparator: '<', unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mg/dL' });
  });

  test('a removed element is removed; an element the domain does not map is never touched', () => {
    const next = { resourceType: 'Observation', status: 'final', effectiveDateTime: '2020-01-01' };
    const out = mergeChanges(original, previous, next) as Record<string, unknown>;
    expect(out.valueQuantity).toBeUndefined();
    expect(out.dataAbsentReason).toEqual(original.dataAbsentReason);
    expect(out.effectivePeriod).toEqual(original.effectivePeriod);
  });

  test('keyed arrays: uncaptured items keep their place, removed ones go, new ones are appended', () => {
    const o = { identifier: [{ system: 'mrn', value: '1', use: 'usual' }, { system: 'no-value' }, { system: 'ssn', value: '9' }] };
    const p = { identifier: [{ system: 'mrn', value: '1' }, { system: 'ssn', value: '9' }] };
    const n = { identifier: [{ system: 'mrn', value: '1' }, { system: 'health-record', value: '42' }] };
    expect(mergeChanges(o, p, n)).toEqual({
      identifier: [{ system: 'mrn', value: '1', use: 'usual' }, { system: 'no-value' }, { system: 'health-record', value: '42' }],
    });
  });

  test('indexed arrays merge position by position while they line up', () => {
    const o = { activity: [{ detail: { status: 'in-progress', location: { display: 'Clinic' } } }] };
    const p = { activity: [{ detail: { status: 'in-progress' } }] };
    const n = { activity: [{ detail: { status: 'completed' } }, { detail: { status: 'not-started' } }] };
    expect(mergeChanges(o, p, n, { arrays: { activity: 'indexed' } })).toEqual({
      activity: [{ detail: { status: 'completed', location: { display: 'Clinic' } } }, { detail: { status: 'not-started' } }],
    });
  });
});

test('compact removes what FHIR JSON may not hold empty', () => {
  expect(compact({ a: undefined, b: [], c: {}, d: '', e: [{ f: undefined }], g: 0, h: false, i: 'x' })).toEqual({ g: 0, h: false, i: 'x' });
});
