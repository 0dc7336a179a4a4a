import type { List } from '@medplum/fhirtypes';
import { NCD_EXTENSIONS } from './codes.js';
import { measureNameOf, measureOf, measureReportOf, type MeasureDefinitionShape, type MeasureReportShape } from './measure.js';
import { errorsOf, validateFhir } from './validate.js';

const BASE = 'https://ncd-gateway.example/fhir';

const control: MeasureDefinitionShape = {
  id: 'bp-control-rate',
  title: { en: 'Blood pressure control rate', zh: '血压控制率' },
  definition: { numerator: 'Patients whose latest reading is below 140/90.', denominator: 'Managed hypertensive patients.', exclusions: 'Patients who died or moved away.' },
  numeratorUnit: 'patients',
  denominatorUnit: 'patients',
  improvement: 'increase',
  target: 0.6,
};

const onTime: MeasureDefinitionShape = { ...control, id: 'on-time-follow-up-rate', numeratorUnit: 'follow-ups', denominatorUnit: 'follow-ups', target: undefined };

describe('Measure', () => {
  test('an indicator is a valid R4 proportion Measure under the canonical base, Chinese title as a translation', () => {
    const m = measureOf(control, { canonicalBase: `${BASE}/`, version: '1.2.0' });
    expect(errorsOf(validateFhir(m))).toEqual([]);
    expect(m).toMatchObject({
      id: 'bp-control-rate',
      url: `${BASE}/Measure/bp-control-rate`,
      version: '1.2.0',
      name: 'BpControlRate',
      title: 'Blood pressure control rate',
      status: 'active',
      scoring: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-scoring', code: 'proportion' }] },
      improvementNotation: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-improvement-notation', code: 'increase' }] },
      subjectCodeableConcept: { coding: [{ code: 'Patient' }] },
    });
    expect(m._title?.extension?.[0]?.extension).toEqual([
      { url: 'lang', valueCode: 'zh' },
      { url: 'content', valueString: '血压控制率' },
    ]);
    expect(m.description).toContain('below 140/90');
    expect(m.description).toContain('60%');
  });

  test('its populations carry the definition words and say what they count; criteria name the engine population', () => {
    const m = measureOf(onTime, { canonicalBase: BASE, version: '1' });
    const populations = m.group![0]!.population!;
    expect(populations.map((p) => p.code!.coding![0]!.code)).toEqual(['initial-population', 'denominator', 'denominator-exclusion', 'numerator']);
    expect(populations[3]).toMatchObject({
      description: 'Patients whose latest reading is below 140/90. (counts follow-up visits)',
      criteria: { language: 'application/x-ncd-indicator', expression: 'on-time-follow-up-rate#numerator' },
    });
    expect(m.description).not.toContain('target');
  });

  test('the township indicator is about organisations; a decrease is better when the definition says so', () => {
    const m = measureOf({ ...control, id: 'townships-meeting-target', numeratorUnit: 'townships', denominatorUnit: 'townships', improvement: 'decrease' }, { canonicalBase: BASE, version: '1' });
    expect(errorsOf(validateFhir(m))).toEqual([]);
    expect(m.subjectCodeableConcept!.coding![0]!.code).toBe('Organization');
    expect(m.improvementNotation!.coding![0]!.code).toBe('decrease');
  });

  test('names are computer-friendly', () => {
    expect(measureNameOf('referral-completion-rate-30d')).toBe('ReferralCompletionRate30d');
  });
});

describe('MeasureReport', () => {
  const summary: MeasureReportShape = {
    measure: `${BASE}/Measure/bp-control-rate|1`,
    type: 'summary',
    period: { start: '2026-01-01', end: '2026-06-30' },
    date: '2026-07-01T02:00:00.000Z',
    reporter: 'Organization/0190c6a4-0000-7000-8000-000000000001',
    scope: 'Organization/0190c6a4-0000-7000-8000-000000000001',
    improvement: 'increase',
    numerator: 3,
    denominator: 4,
    value: 0.75,
  };

  test('a summary holds the counts and the score, names no patient, and is valid R4', () => {
    const r = measureReportOf(summary);
    expect(errorsOf(validateFhir(r))).toEqual([]);
    expect(r).toMatchObject({ status: 'complete', type: 'summary', measure: summary.measure, period: summary.period, reporter: { reference: summary.reporter } });
    expect(r.extension).toEqual([{ url: NCD_EXTENSIONS.measureScope, valueReference: { reference: summary.scope } }]);
    const group = r.group![0]!;
    expect(group.population!.map((p) => [p.code!.coding![0]!.code, p.count])).toEqual([
      ['denominator', 4],
      ['numerator', 3],
    ]);
    expect(group.measureScore).toEqual({ value: 0.75, unit: '1', system: 'http://unitsofmeasure.org', code: '1' });
    expect(r.contained).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain('Patient/');
  });

  test('no denominator, no score', () => {
    const r = measureReportOf({ ...summary, numerator: 0, denominator: 0, value: null });
    expect(errorsOf(validateFhir(r))).toEqual([]);
    expect(r.group![0]!.measureScore).toBeUndefined();
  });

  test('a subject-list names each population\'s patients in a contained List it refers to', () => {
    const r = measureReportOf({ ...summary, type: 'subject-list', subjects: { numerator: ['p1', 'p2', 'p3'], denominator: ['p1', 'p2', 'p3', 'p4'] } }, { id: 'r1' });
    expect(errorsOf(validateFhir(r))).toEqual([]);
    const [denominator, numerator] = r.group![0]!.population!;
    expect(denominator!.subjectResults).toEqual({ reference: '#denominator' });
    expect(numerator!.subjectResults).toEqual({ reference: '#numerator' });
    const list = (id: string) => (r.contained as List[]).find((l) => l.id === id)!;
    expect(list('numerator').entry!.map((e) => e.item.reference)).toEqual(['Patient/p1', 'Patient/p2', 'Patient/p3']);
    expect(list('denominator').entry).toHaveLength(4);
    expect(list('denominator')).toMatchObject({ status: 'current', mode: 'snapshot' });
  });

  test('an empty population is an empty List that says so', () => {
    const r = measureReportOf({ ...summary, type: 'subject-list', numerator: 0, denominator: 0, value: null, subjects: { numerator: [], denominator: [] } });
    expect(errorsOf(validateFhir(r))).toEqual([]);
    expect((r.contained as List[])[0]).toMatchObject({ emptyReason: { coding: [{ code: 'nilknown' }] } });
    expect((r.contained as List[])[0]!.entry).toBeUndefined();
  });

  test('the validator would refuse a report without its required parts (the control)', () => {
    const { period: _period, ...noPeriod } = measureReportOf(summary);
    expect(errorsOf(validateFhir(noPeriod as never)).length).toBeGreaterThan(0);
  });
});
