import type { Bundle } from '@medplum/fhirtypes';
import { NCD_FHIR_BASE } from '../../fhir-mappings/codes.js';
import { measureOf, type MeasureWithTranslations } from '../../fhir-mappings/index.js';
import { INDICATORS, indicatorById } from '../indicators/index.js';
import type { IndicatorDefinition } from '../indicators/indicator.js';
import { fhirError } from './outcome.js';
import { integerParam, MAX_COUNT } from './search.js';

/**
 * The indicators as FHIR Measures (issue 13): read-only, made from src/indicators/ on every read — the definitions
 * are code, reviewed and versioned with it, and a Measure stored beside them could only disagree. Writes of Measure
 * are refused for everyone (405: read-only.ts).
 */

/**
 * The Measures' version: the gateway's (CapabilityStatement.software.version). A definition changes only with a
 * release of the code that holds it, and a MeasureReport names the version it was computed by (`measure|version`).
 */
export const MEASURES_VERSION = '0.1.0';

export const measureOfIndicator = (def: IndicatorDefinition): MeasureWithTranslations => measureOf(def, { canonicalBase: NCD_FHIR_BASE, version: MEASURES_VERSION });

/** The canonical a MeasureReport names: the Measure's url and version. */
export const measureCanonicalOf = (def: IndicatorDefinition): string => `${measureOfIndicator(def).url}|${MEASURES_VERSION}`;

/** The indicator a Measure id names; 404 for any other. */
export function indicatorOfMeasure(id: string): IndicatorDefinition {
  const def = indicatorById(id);
  if (!def) throw fhirError(404, 'not-found', `Measure/${id} not found (the Measures are the indicators: ${INDICATORS.map((d) => d.id).join(', ')})`);
  return def;
}

export const readMeasure = (id: string): MeasureWithTranslations => measureOfIndicator(indicatorOfMeasure(id));

const RESULT_PARAMS = new Set(['_count', '_offset', '_total', '_format']);

/** `url` matches with or without `|version`; a string parameter (`name`, `title`) starts-with, case-insensitive, as FHIR string search does. */
const MATCHERS: Record<string, (m: MeasureWithTranslations, value: string) => boolean> = {
  _id: (m, v) => m.id === v,
  url: (m, v) => {
    const [url, version] = v.split('|');
    return m.url === url && (!version || m.version === version);
  },
  version: (m, v) => m.version === v,
  name: (m, v) => m.name!.toLowerCase().startsWith(v.toLowerCase()),
  title: (m, v) => m.title!.toLowerCase().startsWith(v.toLowerCase()) || !!m._title?.extension.some((e) => e.extension?.some((x) => x.valueString?.startsWith(v))),
  status: (m, v) => m.status === v,
};

export const MEASURE_SEARCH_PARAMS = Object.keys(MATCHERS);

/** GET /fhir/Measure: the indicators' Measures matching every parameter (a comma: any of its values), in the registry's order. */
export function searchMeasures(params: URLSearchParams, baseUrl: string): Bundle {
  const filters: Array<(m: MeasureWithTranslations) => boolean> = [];
  for (const [name, raw] of params) {
    if (RESULT_PARAMS.has(name)) continue;
    const match = MATCHERS[name];
    if (!match) throw fhirError(400, 'not-supported', `search parameter "${name}" is not supported for Measure (supported: ${MEASURE_SEARCH_PARAMS.join(', ')})`, [name]);
    const values = raw.split(',');
    filters.push((m) => values.some((v) => match(m, v)));
  }
  const count = Math.min(integerParam(params.get('_count'), '_count', 50), MAX_COUNT);
  const offset = integerParam(params.get('_offset'), '_offset', 0);
  const all = INDICATORS.map(measureOfIndicator).filter((m) => filters.every((f) => f(m)));
  const link = (o: number) => {
    const p = new URLSearchParams(params);
    p.set('_count', String(count));
    p.set('_offset', String(o));
    return `${baseUrl}/Measure?${p}`;
  };
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: all.length,
    link: [{ relation: 'self', url: link(offset) }, ...(offset + count < all.length ? [{ relation: 'next', url: link(offset + count) }] : [])],
    entry: all.slice(offset, offset + count).map((resource) => ({ fullUrl: `${baseUrl}/Measure/${resource.id}`, resource, search: { mode: 'match' as const } })),
  };
}
