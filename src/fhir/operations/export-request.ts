import { countyToday } from '../../care-rules/calendar.js';
import type { BulkExportRequest } from '../../jobs/bulk-export/job.entity.js';
import { isR4ResourceType } from '../../../fhir-mappings/index.js';
import { fhirError } from '../outcome.js';

/** The output formats the IG names for NDJSON; only NDJSON is written. */
const NDJSON = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];

/** Kick-off parameters understood; the IG's others (`_elements`, `patient`, `includeAssociatedData`) are refused, not ignored. */
const KNOWN = new Set(['_outputFormat', '_type', '_since', '_until', '_typeFilter']);

/** `_typeFilter` this server applies: an Observation's code (one or more tokens, `system|code` or `code`). */
const TYPE_FILTER = /^Observation\?code=([^&]+)$/;

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function instant(value: string | null, name: string): Date | undefined {
  if (value === null) return undefined;
  const d = INSTANT.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw fhirError(400, 'invalid', `${name} must be a FHIR instant (e.g. 2026-01-01T00:00:00Z) or a date`, [name]);
  return d;
}

/**
 * The kick-off request, checked: anything the server would not do as asked is a 400 OperationOutcome, before a job
 * exists. `Prefer: respond-async` is required (the IG's only mode). `earliestCoverage`: the first day the insurer's
 * membership could begin, when `_since` gives none (the period an insurer is judged over: src/access/membership.ts).
 */
export function parseExportRequest(
  level: BulkExportRequest['level'],
  query: URLSearchParams,
  headers: { prefer?: string; accept?: string },
  insurer?: { id: string; earliestCoverage: string | null },
): BulkExportRequest {
  if (!/(^|[,;\s])respond-async\b/i.test(headers.prefer ?? '')) throw fhirError(400, 'invalid', 'Bulk export needs the header Prefer: respond-async');
  const accept = headers.accept?.split(',').map((a) => a.split(';')[0]!.trim().toLowerCase());
  if (accept && !accept.some((a) => ['application/fhir+json', 'application/json', '*/*'].includes(a))) throw fhirError(400, 'invalid', 'Accept must be application/fhir+json');
  for (const name of new Set(query.keys())) {
    if (!KNOWN.has(name)) throw fhirError(400, 'not-supported', `${name} is not supported by this server's $export`, [name]);
    if (query.getAll(name).length > 1) throw fhirError(400, 'invalid', `${name} is given more than once`, [name]);
  }
  const format = query.get('_outputFormat');
  if (format !== null && !NDJSON.includes(format)) throw fhirError(400, 'not-supported', `_outputFormat ${format}: only application/fhir+ndjson is written`, ['_outputFormat']);
  const typeList = query.get('_type');
  const types = typeList === null ? undefined : [...new Set(typeList.split(',').map((t) => t.trim()))];
  for (const t of types ?? []) if (!/^[A-Z][A-Za-z]+$/.test(t) || !isR4ResourceType(t)) throw fhirError(400, 'invalid', `_type: "${t}" is not a resource type`, ['_type']);
  const since = instant(query.get('_since'), '_since');
  const until = instant(query.get('_until'), '_until');
  if (since && until && since > until) throw fhirError(400, 'invalid', '_since is after _until', ['_since']);
  let observationCodes: string[] | undefined;
  const filter = query.get('_typeFilter');
  if (filter !== null) {
    const m = TYPE_FILTER.exec(filter);
    if (!m) throw fhirError(400, 'not-supported', `_typeFilter "${filter}": only Observation?code=<system|code>[,…] is supported`, ['_typeFilter']);
    if (types && !types.includes('Observation')) throw fhirError(400, 'invalid', '_typeFilter names Observation, which _type leaves out', ['_typeFilter']);
    observationCodes = m[1]!
      .split(',')
      .filter(Boolean)
      .map((token) => `code:${token}`);
    if (!observationCodes.length) throw fhirError(400, 'invalid', '_typeFilter: no code given', ['_typeFilter']);
  }
  const today = countyToday();
  const start = since ? countyToday(since) : (insurer?.earliestCoverage ?? '0001-01-01');
  const end = until ? countyToday(until) : today;
  return {
    level,
    ...(insurer ? { insurerId: insurer.id } : {}),
    ...(types ? { types } : {}),
    ...(since ? { since: since.toISOString() } : {}),
    ...(until ? { until: until.toISOString() } : {}),
    period: { start, end: end < start ? start : end },
    ...(observationCodes ? { observationCodes } : {}),
  };
}
