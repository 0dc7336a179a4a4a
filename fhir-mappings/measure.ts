/**
 * The care model's indicators as FHIR R4 `Measure`s, and their results as `MeasureReport`s. Pure: the definition
 * comes in as a plain object (the shape of src/indicators/indicator.ts's IndicatorDefinition, without its SQL) and
 * the figures as numbers; nothing here computes anything.
 */
import type { CodeableConcept, Extension, List, Measure, MeasureGroupPopulation, MeasureReport, MeasureReportGroupPopulation } from '@medplum/fhirtypes';
import { NCD_EXTENSIONS } from './codes.js';

/** What a Measure is made from: an indicator definition's words and kinds (src/indicators/indicator.ts). */
export interface MeasureDefinitionShape {
  id: string;
  title: { en: string; zh: string };
  definition: { numerator: string; denominator: string; exclusions: string };
  numeratorUnit: MeasureUnit;
  denominatorUnit: MeasureUnit;
  improvement: 'increase' | 'decrease';
  target?: number;
}

export type MeasureUnit = 'patients' | 'follow-ups' | 'referrals' | 'townships';

export const MEASURE_SYSTEMS = {
  scoring: 'http://terminology.hl7.org/CodeSystem/measure-scoring',
  improvement: 'http://terminology.hl7.org/CodeSystem/measure-improvement-notation',
  population: 'http://terminology.hl7.org/CodeSystem/measure-population',
  resourceTypes: 'http://hl7.org/fhir/resource-types',
  translation: 'http://hl7.org/fhir/StructureDefinition/translation',
  ucum: 'http://unitsofmeasure.org',
} as const;

/**
 * The language of a population's criteria: the population as this server's indicator engine computes it
 * (`<indicator id>#<population>`, the definition file src/indicators/definitions/<id>.ts). R4's Expression needs a
 * language; the binding (text/cql, text/fhirpath, …) is extensible, and no CQL or FHIRPath says what these do.
 */
export const NCD_INDICATOR_LANGUAGE = 'application/x-ncd-indicator';

const IMPROVEMENT_DISPLAY = { increase: 'Increased score indicates improvement', decrease: 'Decreased score indicates improvement' } as const;

const POPULATION_DISPLAY = {
  'initial-population': 'Initial Population',
  denominator: 'Denominator',
  'denominator-exclusion': 'Denominator Exclusion',
  numerator: 'Numerator',
} as const;
type PopulationCode = keyof typeof POPULATION_DISPLAY;

const UNIT_WORDS: Record<MeasureUnit, string> = { patients: 'patients', 'follow-ups': 'follow-up visits', referrals: 'referrals', townships: 'townships' };

const concept = (system: string, code: string, display: string): CodeableConcept => ({ coding: [{ system, code, display }] });
const populationCode = (code: PopulationCode) => concept(MEASURE_SYSTEMS.population, code, POPULATION_DISPLAY[code]);
const improvementOf = (improvement: 'increase' | 'decrease') => concept(MEASURE_SYSTEMS.improvement, improvement, IMPROVEMENT_DISPLAY[improvement]);

/** `bp-control-rate` → `BpControlRate`: Measure.name is a computer-friendly name (R4: starts with a capital, no spaces). */
export const measureNameOf = (id: string) => id.replace(/(^|-)([a-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());

/** The canonical URL of an indicator's Measure under a canonical base (`…/fhir`): `…/fhir/Measure/<id>`. */
export const measureUrlOf = (id: string, canonicalBase: string) => `${canonicalBase.replace(/\/$/, '')}/Measure/${id}`;

/** A Measure with the primitive extensions JSON carries beside a string (`_title`), which the types leave out. */
export type MeasureWithTranslations = Measure & { _title?: { extension: Extension[] } };

/** The Chinese of an English string element, as R4's translation extension on the primitive (`_title`). */
const zhTranslation = (zh: string): { extension: Extension[] } => ({
  extension: [{ url: MEASURE_SYSTEMS.translation, extension: [{ url: 'lang', valueCode: 'zh' }, { url: 'content', valueString: zh }] }],
});

/**
 * An indicator as a FHIR R4 Measure: a proportion whose id is the indicator's id, its words in the description and
 * in each population's criteria (evaluated by this server, `$evaluate-measure`), its direction in
 * improvementNotation. The subject is the Patient — or, for the township indicator, the Organization — whatever a
 * population counts (follow-up visits, referrals): each population says what it counts.
 */
export function measureOf(def: MeasureDefinitionShape, options: { canonicalBase: string; version: string; date?: string }): MeasureWithTranslations {
  const subject = def.denominatorUnit === 'townships' ? 'Organization' : 'Patient';
  const population = (code: PopulationCode, words: string, unit?: MeasureUnit): MeasureGroupPopulation => ({
    code: populationCode(code),
    description: unit ? `${words} (counts ${UNIT_WORDS[unit]})` : words,
    criteria: { language: NCD_INDICATOR_LANGUAGE as 'text/cql', expression: `${def.id}#${code}`, description: words },
  });
  const target = def.target === undefined ? '' : `\n\nThe care model's typical target: ${Math.round(def.target * 1000) / 10}%.`;
  return {
    resourceType: 'Measure',
    id: def.id,
    url: measureUrlOf(def.id, options.canonicalBase),
    version: options.version,
    name: measureNameOf(def.id),
    title: def.title.en,
    _title: zhTranslation(def.title.zh),
    status: 'active',
    experimental: false,
    ...(options.date ? { date: options.date } : {}),
    publisher: 'NCD Gateway',
    description: `${def.title.zh} ${def.title.en}.\n\nNumerator: ${def.definition.numerator}\n\nDenominator: ${def.definition.denominator}\n\nExclusions: ${def.definition.exclusions}${target}`,
    subjectCodeableConcept: concept(MEASURE_SYSTEMS.resourceTypes, subject, subject),
    scoring: concept(MEASURE_SYSTEMS.scoring, 'proportion', 'Proportion'),
    improvementNotation: improvementOf(def.improvement),
    group: [
      {
        population: [
          population('initial-population', `Those the denominator is drawn from: ${def.definition.denominator}`, def.denominatorUnit),
          population('denominator', def.definition.denominator, def.denominatorUnit),
          population('denominator-exclusion', def.definition.exclusions),
          population('numerator', def.definition.numerator, def.numeratorUnit),
        ],
      },
    ],
  };
}

/** What a MeasureReport says: one indicator's figures for a scope and a period. */
export interface MeasureReportShape {
  /** The Measure's canonical URL (with `|version` when it has one). */
  measure: string;
  type: 'summary' | 'subject-list';
  /** County days, both included. */
  period: { start: string; end: string };
  /** When it was computed (an instant). */
  date: string;
  /** The organisation the figures are for (`Organization/<id>`): R4's subject cannot be one, its reporter can. */
  reporter?: string;
  /** What was counted over, as asked (`Organization/<id>`, `CareTeam/<id>`): the scope extension. */
  scope?: string;
  improvement: 'increase' | 'decrease';
  numerator: number;
  denominator: number;
  /** numerator / denominator; null when the denominator is 0 (no score). */
  value: number | null;
  /** subject-list: the subjects of each population (ids): patients, or for the township indicator organisations. */
  subjects?: { type?: 'Patient' | 'Organization'; numerator: readonly string[]; denominator: readonly string[] };
}

/**
 * A MeasureReport of an indicator's figures: a summary (counts and score), or a subject-list, whose numerator and
 * denominator populations also name their patients in contained Lists (`#numerator`, `#denominator`: R4's
 * subjectResults is a Reference(List)).
 */
export function measureReportOf(s: MeasureReportShape, options: { id?: string } = {}): MeasureReport {
  const lists: List[] = [];
  const population = (code: 'denominator' | 'numerator', count: number, ids?: readonly string[]): MeasureReportGroupPopulation => {
    if (!ids) return { code: populationCode(code), count };
    lists.push({
      resourceType: 'List',
      id: code,
      status: 'current',
      mode: 'snapshot',
      title: POPULATION_DISPLAY[code],
      ...(ids.length ? { entry: ids.map((id) => ({ item: { reference: `${s.subjects?.type ?? 'Patient'}/${id}` } })) } : { emptyReason: concept('http://terminology.hl7.org/CodeSystem/list-empty-reason', 'nilknown', 'Nil Known') }),
    });
    return { code: populationCode(code), count, subjectResults: { reference: `#${code}` } };
  };
  const populations = [population('denominator', s.denominator, s.subjects?.denominator), population('numerator', s.numerator, s.subjects?.numerator)];
  return {
    resourceType: 'MeasureReport',
    ...(options.id ? { id: options.id } : {}),
    ...(lists.length ? { contained: lists } : {}),
    ...(s.scope ? { extension: [{ url: NCD_EXTENSIONS.measureScope, valueReference: { reference: s.scope } }] } : {}),
    status: 'complete',
    type: s.type,
    measure: s.measure,
    date: s.date,
    ...(s.reporter ? { reporter: { reference: s.reporter } } : {}),
    period: { start: s.period.start, end: s.period.end },
    improvementNotation: improvementOf(s.improvement),
    group: [
      {
        population: populations,
        ...(s.value === null ? {} : { measureScore: { value: s.value, unit: '1', system: MEASURE_SYSTEMS.ucum, code: '1' } }),
      },
    ],
  };
}
