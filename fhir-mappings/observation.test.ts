import type { Observation } from '@medplum/fhirtypes';
import { ControlInterpretation, ObservationSource } from '../vocabulary/index.js';
import { CONTROL_STATUS_DISPLAY, NCD_EXTENSIONS, NCD_SYSTEMS, ObservationKind } from './codes.js';
import type { ObservationShape } from './domain-shapes.js';
import { FhirMappingError } from './errors.js';
import { observationMapping as m } from './observation.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const observations = loadSharedResources()
  .map((r) => r.resource)
  .filter((r): r is Observation => r.resourceType === 'Observation');
const withCode = (...codes: string[]) => observations.filter((o) => o.code.coding?.some((c) => c.system === 'http://loinc.org' && codes.includes(c.code!)));
const round2 = (v: number) => Math.round(v * 100) / 100;
const componentValue = (o: Observation, code: string) => o.component?.find((c) => c.code.coding?.some((x) => x.code === code))?.valueQuantity?.value;
const valid = (r: Observation) => expect(errorsOf(validateFhir(r))).toEqual([]);

/** The error a mapping throws, to assert on its type and FHIRPath. */
function mappingError(fn: () => unknown): FhirMappingError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FhirMappingError) return err;
    throw err;
  }
  throw new Error('expected a FhirMappingError');
}

describe('classification of the shared data', () => {
  test('every blood-pressure panel (85354-9, 55284-4) becomes one observation with systolic and diastolic in mmHg', () => {
    const panels = withCode('85354-9', '55284-4');
    expect(panels.length).toBeGreaterThan(100);
    for (const o of panels) {
      const { domain } = m.fromFhir(o);
      expect(domain.kind).toBe(ObservationKind.BLOOD_PRESSURE);
      expect(domain.unit).toBe('mm[Hg]');
      const sys = componentValue(o, '8480-6');
      const dia = componentValue(o, '8462-4');
      expect(domain.systolic).toBe(sys === undefined ? undefined : round2(sys));
      expect(domain.diastolic).toBe(dia === undefined ? undefined : round2(dia));
      expect(domain.value).toBeUndefined();
    }
  });

  test('the HL7 panel whose diastolic is "not performed" keeps its systolic and has no diastolic', () => {
    const dar = observations.find((o) => o.id === 'blood-pressure-dar')!;
    expect(m.fromFhir(dar).domain).toMatchObject({ kind: ObservationKind.BLOOD_PRESSURE, systolic: 107, diastolic: undefined, sourceId: 'urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281' });
  });

  test('glucose in mg/dL is stored in mmol/L (÷ 18.016) with the received value and unit kept', () => {
    const glucose = withCode('2339-0').filter((o) => o.valueQuantity?.code === 'mg/dL');
    expect(glucose.length).toBeGreaterThan(50);
    for (const o of glucose) {
      const { domain } = m.fromFhir(o);
      expect(domain).toMatchObject({ kind: ObservationKind.GLUCOSE, unit: 'mmol/L', receivedValue: o.valueQuantity!.value, receivedUnit: 'mg/dL' });
      expect(domain.value).toBe(round2(o.valueQuantity!.value! / 18.016));
    }
  });

  test('glucose 15074-8 without a value is a GLUCOSE with no value; HbA1c 4548-4 stays in %', () => {
    const noValue = withCode('15074-8');
    expect(noValue.length).toBeGreaterThan(5);
    for (const o of noValue) {
      expect(m.fromFhir(o).domain.kind).toBe(ObservationKind.GLUCOSE);
      expect(m.fromFhir(o).domain.value).toBeUndefined();
    }
    const a1c = withCode('4548-4');
    expect(a1c.length).toBeGreaterThan(20);
    for (const o of a1c) expect(m.fromFhir(o).domain).toMatchObject({ kind: ObservationKind.HBA1C, unit: '%', value: round2(o.valueQuantity!.value!) });
  });

  test('a weight in pounds is stored in kg and goes back out in pounds', () => {
    const lbs = observations.find((o) => o.valueQuantity?.code === '[lb_av]')!;
    const { domain, original } = m.fromFhir(lbs);
    expect(domain).toMatchObject({ kind: ObservationKind.WEIGHT, value: 83.91, unit: 'kg', receivedValue: 185, receivedUnit: '[lb_av]' });
    expect(m.toFhir(domain, { id: 'x', original }).valueQuantity).toEqual(lbs.valueQuantity);
    expect(m.toFhir(domain, { id: 'x' }).valueQuantity).toEqual({ value: 185, unit: '[lb_av]', system: 'http://unitsofmeasure.org', code: '[lb_av]' });
  });
});

describe('domain-only observations', () => {
  const base: ObservationShape = {
    patientRef: 'Patient/p1',
    status: 'final',
    kind: ObservationKind.FASTING_GLUCOSE,
    code: '1558-6',
    system: 'http://loinc.org',
    effectiveAt: new Date('2026-11-20T00:00:00Z'),
    source: ObservationSource.CLINIC,
  };

  test('a fasting glucose entered in mg/dL goes out as received; bilingual text and coded display are set', () => {
    const out = m.toFhir({ ...base, value: 6.99, unit: 'mmol/L', receivedValue: 126, receivedUnit: 'mg/dL' }, { id: 'o1', versionId: '1', lastUpdated: new Date('2026-11-20T01:00:00Z') });
    expect(out.valueQuantity).toEqual({ value: 126, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' });
    expect(out.code).toEqual({ coding: [{ system: 'http://loinc.org', code: '1558-6', display: 'Fasting glucose' }], text: '空腹血糖 Fasting glucose' });
    expect(out.category?.[0]?.coding?.[0]?.code).toBe('laboratory');
    expect(out.meta).toEqual({ versionId: '1', lastUpdated: '2026-11-20T01:00:00.000Z' });
    valid(out);
    expect(m.fromFhir(out).domain).toMatchObject({ value: 6.99, receivedValue: 126, receivedUnit: 'mg/dL' });
  });

  test('a value corrected after receipt goes out in the canonical unit (the received one no longer agrees)', () => {
    const out = m.toFhir({ ...base, value: 8.2, unit: 'mmol/L', receivedValue: 126, receivedUnit: 'mg/dL' }, { id: 'o1' });
    expect(out.valueQuantity).toEqual({ value: 8.2, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' });
  });

  test('a home blood pressure from a device: one panel, two components, source and device carried', () => {
    const bp: ObservationShape = { ...base, kind: ObservationKind.BLOOD_PRESSURE, code: '85354-9', systolic: 152, diastolic: 96, unit: 'mm[Hg]', source: ObservationSource.DEVICE, deviceId: 'OMRON-123', sourceSystem: 'urn:device:omron', sourceId: 'r-1' };
    const out = m.toFhir(bp, { id: 'o2' });
    valid(out);
    expect(out.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity?.value, c.code.text])).toEqual([
      ['8480-6', 152, '收缩压 Systolic blood pressure'],
      ['8462-4', 96, '舒张压 Diastolic blood pressure'],
    ]);
    expect(out.extension?.[0]).toMatchObject({ url: NCD_EXTENSIONS.observationSource, valueCoding: { code: 'DEVICE' } });
    expect(m.fromFhir(out).domain).toMatchObject({ systolic: 152, diastolic: 96, source: ObservationSource.DEVICE, deviceId: 'OMRON-123', sourceId: 'r-1' });
  });

  test('a blood pressure sent in kPa is converted and goes back out in kPa', () => {
    const kpa: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      effectiveDateTime: '2026-11-20',
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 16, unit: 'kPa', system: 'http://unitsofmeasure.org', code: 'kPa' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 12, unit: 'kPa', system: 'http://unitsofmeasure.org', code: 'kPa' } },
      ],
    };
    const { domain } = m.fromFhir(kpa);
    expect(domain).toMatchObject({ systolic: 120.01, diastolic: 90.01, receivedSystolic: 16, receivedDiastolic: 12, receivedUnit: 'kPa' });
    expect(m.toFhir(domain, { id: 'x' }).component?.map((c) => c.valueQuantity?.value)).toEqual([16, 12]);
  });
});

describe('changes applied to a received observation', () => {
  const panel = withCode('55284-4')[0]!;

  test('a corrected systolic replaces only that component value; order, codes and everything else stay', () => {
    const { domain, original } = m.fromFhir(panel);
    const out = m.toFhir({ ...domain, systolic: 150, receivedSystolic: undefined }, { id: 'x', original });
    valid(out);
    const sysIndex = panel.component!.findIndex((c) => c.code.coding?.[0]?.code === '8480-6');
    const diaIndex = 1 - sysIndex;
    expect(out.component?.[sysIndex]?.valueQuantity).toEqual({ value: 150, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
    expect(out.component?.[sysIndex]?.code).toEqual(panel.component![sysIndex]!.code);
    expect(out.component?.[diaIndex]).toEqual(panel.component![diaIndex]);
    expect({ ...out, component: undefined, id: undefined }).toEqual({ ...panel, component: undefined, id: undefined });
  });

  test('a value given to a component that had a data-absent reason drops the reason (obs-6 stays valid)', () => {
    const dar = observations.find((o) => o.id === 'blood-pressure-dar')!;
    const { domain, original } = m.fromFhir(dar);
    const out = m.toFhir({ ...domain, diastolic: 70 }, { id: 'x', original });
    valid(out);
    expect(out.component?.[1]).toEqual({ code: dar.component![1]!.code, valueQuantity: { value: 70, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } });
    expect(out.meta?.profile).toEqual(dar.meta?.profile);
    expect(out.interpretation).toEqual(dar.interpretation);
  });

  test('a new effective time replaces effectivePeriod (one choice variant only)', () => {
    const withPeriod: Observation = { ...panel, effectiveDateTime: undefined, effectivePeriod: { start: '2020-01-01T00:00:00Z', end: '2020-01-01T00:10:00Z' } };
    const { domain, original } = m.fromFhir(withPeriod);
    const out = m.toFhir({ ...domain, effectiveAt: new Date('2021-05-05T08:00:00Z') }, { id: 'x', original });
    expect(out.effectivePeriod).toBeUndefined();
    expect(out.effectiveDateTime).toBe('2021-05-05T08:00:00.000Z');
    valid(out);
  });
});

test('re-pointing references (the resolver’s work) keeps a generated narrative; changing a value drops it', () => {
  const narrated = observations.find((o) => o.text?.status === 'generated' && o.subject?.reference === 'Patient/23')!;
  const { domain, original } = m.fromFhir(narrated);
  expect(m.toFhir({ ...domain, patientRef: 'Patient/local-23' }, { id: 'x', original }).text).toEqual(narrated.text);
  expect(m.toFhir({ ...domain, value: 5.1, unit: 'mmol/L' }, { id: 'x', original }).text).toBeUndefined();
});

describe('a shape rebuilt from the stored entity', () => {
  /** What the observation table holds: no display, no FHIR status, no encounter. */
  const entityColumns = ['kind', 'code', 'system', 'value', 'unit', 'systolic', 'diastolic', 'receivedValue', 'receivedUnit', 'effectiveAt', 'source', 'deviceId', 'sourceSystem', 'sourceId'] as const;
  const fromEntity = (shape: ObservationShape): Partial<ObservationShape> => Object.fromEntries(entityColumns.filter((k) => k in shape).map((k) => [k, shape[k]]));

  test('gives back the original unchanged: fields it does not hold are taken from the original', () => {
    for (const o of [...withCode('55284-4').slice(0, 20), ...withCode('2339-0').slice(0, 20)]) {
      const { domain, original } = m.fromFhir(o);
      expect(m.toFhir({ ...fromEntity(domain), patientRef: domain.patientRef }, { id: o.id!, original })).toEqual(o);
    }
  });

  test('a key present as undefined removes the element', () => {
    const o = withCode('2339-0')[0]!;
    const { original } = m.fromFhir(o);
    expect(m.toFhir({ encounterRef: undefined }, { id: o.id!, original }).encounter).toBeUndefined();
  });
});

describe('interpretation from the control rule', () => {
  const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
  const bp: ObservationShape = {
    patientRef: 'Patient/p1',
    status: 'final',
    kind: ObservationKind.BLOOD_PRESSURE,
    code: '85354-9',
    system: 'http://loinc.org',
    systolic: 152,
    diastolic: 96,
    unit: 'mm[Hg]',
    effectiveAt: new Date('2026-11-20T00:00:00Z'),
    source: ObservationSource.CLINIC,
  };

  test('each code goes out as the v3 code with its display, our control status beside it, and a bilingual text', () => {
    const expected: Array<[ControlInterpretation, string, string, string]> = [
      [ControlInterpretation.N, 'Normal', 'CONTROLLED', '正常（控制满意） Normal (Controlled)'],
      [ControlInterpretation.H, 'High', 'UNCONTROLLED', '偏高（控制不满意） High (Uncontrolled)'],
      [ControlInterpretation.HH, 'Critical high', 'URGENT', '危急偏高（需紧急转诊） Critical high (Urgent)'],
      [ControlInterpretation.LL, 'Critical low', 'URGENT', '危急偏低（需紧急转诊） Critical low (Urgent)'],
    ];
    for (const [code, display, status, text] of expected) {
      const out = m.toFhir({ ...bp, interpretation: code }, { id: 'o1' });
      valid(out);
      expect(out.interpretation).toEqual([
        {
          coding: [
            { system: V3, code, display },
            { system: NCD_SYSTEMS.controlStatus, code: status, display: CONTROL_STATUS_DISPLAY[status]!.en },
          ],
          text,
        },
      ]);
      // Read back, it is ours: the shape says the code, not that a sender flagged it.
      const read = m.fromFhir(out).domain;
      expect(read.interpretation).toBe(code);
      expect(read.interpretationAsSent).toBeUndefined();
    }
  });

  test('a reading the rules did not judge (implausible, a weight) has none', () => {
    expect(m.toFhir(bp, { id: 'o1' }).interpretation).toBeUndefined();
  });

  test('our own interpretation follows the rule: H becomes N, and one no longer judged is removed', () => {
    const stored = m.toFhir({ ...bp, interpretation: ControlInterpretation.H }, { id: 'o1', versionId: '1' });
    const now = m.toFhir({ systolic: 128, diastolic: 82, interpretation: ControlInterpretation.N }, { id: 'o1', original: stored });
    expect(now.interpretation?.map((c) => c.coding?.[0]?.code)).toEqual(['N']);
    expect(m.toFhir({ interpretation: undefined }, { id: 'o1', original: stored }).interpretation).toBeUndefined();
  });

  test("a sender's interpretation is kept as sent and ours is not added, whatever the rule says", () => {
    const dar = observations.find((o) => o.id === 'blood-pressure-dar')!;
    expect(dar.interpretation?.length).toBeGreaterThan(0);
    const { domain, original } = m.fromFhir(dar);
    expect(domain.interpretationAsSent).toEqual(dar.interpretation);
    expect(m.toFhir(domain, { id: dar.id!, original })).toEqual(dar);
    // The stored record's shape carries the rule's code: the sender's stays alone.
    const out = m.toFhir({ diastolic: 70, interpretation: ControlInterpretation.HH }, { id: dar.id!, original });
    expect(out.interpretation).toEqual(dar.interpretation);
    valid(out);
    // Our coding system in a sender's concept beside another of theirs: still theirs, kept whole.
    const mixed: Observation = { ...dar, interpretation: [...dar.interpretation!, { coding: [{ system: NCD_SYSTEMS.controlStatus, code: 'CONTROLLED' }] }] };
    expect(m.fromFhir(mixed).domain.interpretationAsSent).toEqual(mixed.interpretation);
  });
});

describe('invalid mapped content throws FhirMappingError with a FHIRPath', () => {
  const bp = (component: Observation['component']): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    effectiveDateTime: '2026-11-20',
    component,
  });
  const systolic = { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 150, code: 'mm[Hg]' } };

  test('a blood-pressure panel missing its diastolic component', () => {
    const err = mappingError(() => m.fromFhir(bp([systolic])));
    expect(err.expression).toBe('Observation.component');
    expect(err.message).toContain('diastolic');
    expect(err.toIssue()).toMatchObject({ severity: 'error', code: 'required', expression: ['Observation.component'] });
  });

  test('a component with neither a value nor a data-absent reason', () => {
    const err = mappingError(() => m.fromFhir(bp([systolic, { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] } }])));
    expect(err.expression).toBe('Observation.component[1].value');
  });

  test('a blood pressure in a unit that is not a pressure', () => {
    const err = mappingError(() => m.fromFhir(bp([systolic, { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 9, code: 'mg' } }])));
    expect(err.expression).toBe('Observation.component[1].valueQuantity.code');
    expect(err.code).toBe('not-supported');
  });

  test('a glucose in an unknown unit', () => {
    const glucose: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '1558-6' }] },
      valueQuantity: { value: 1.2, unit: 'g/L' },
    };
    const err = mappingError(() => m.fromFhir(glucose));
    expect(err.expression).toBe('Observation.valueQuantity.unit');
    expect(err.message).toContain('g/L');
  });

  test('no coding, an unreadable date, another resource type', () => {
    expect(mappingError(() => m.fromFhir({ resourceType: 'Observation', status: 'final', code: { text: 'BP' } })).expression).toBe('Observation.code.coding');
    expect(mappingError(() => m.fromFhir({ ...bp([]), effectiveDateTime: '20/11/2026' })).expression).toBe('Observation.effectiveDateTime');
    expect(mappingError(() => m.fromFhir({ resourceType: 'Patient' } as never)).expression).toBe('Observation.resourceType');
  });
});
