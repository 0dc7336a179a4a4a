import type { IndicatorResult, IndicatorValue } from './engine.js';
import type { Period } from './indicator.js';

/**
 * The indicators as the bureau's spreadsheets take them (GET /indicators.csv, and IndicatorTable.csv): RFC 4180 CSV,
 * CRLF line ends, one header row in Chinese and English, one row per indicator over the whole scope and — with the
 * breakdown — one per organisation below it, right after its indicator's row. Counts are as counted; the rate and the
 * target are percentages with one decimal (rounded half up from numerator / denominator, not from a rounded fraction).
 */
export const CSV_HEADER = [
  '指标编号 Indicator',
  '指标 Title (zh)',
  '指标（英文） Title (en)',
  '行 Row',
  '机构 Organization',
  '机构编号 Organization id',
  '分子 Numerator',
  '分母 Denominator',
  '率（%） Rate (%)',
  '目标（%） Target (%)',
  '分子单位 Numerator unit',
  '分母单位 Denominator unit',
  '开始 Period start',
  '结束 Period end',
] as const;

/** What a row of the whole scope names as its organisation. */
export interface CsvScope {
  organizationId?: string;
  organizationName?: string;
}

/** The rate as a percentage with one decimal; empty when nothing is counted. */
export function percent({ numerator, denominator }: IndicatorValue): string {
  return denominator > 0 ? (Math.round((numerator * 1000) / denominator) / 10).toFixed(1) : '';
}

/** A target fraction (0.67) as a percentage with one decimal. */
const targetPercent = (target: number | undefined) => (target == null ? '' : (Math.round(target * 1000) / 10).toFixed(1));

/**
 * One field, quoted when it must be (a comma, a quote, a line break). Text a spreadsheet would run as a formula
 * (=, +, -, @, a tab or CR first) is prefixed with an apostrophe: organisation names come from the directory, which
 * hospitals write, and a cell `=HYPERLINK(…)` must not become a link in the bureau's Excel (OWASP, CSV injection).
 */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (fields: ReadonlyArray<string | number>) => fields.map(csvField).join(',');

export function indicatorsCsv(results: readonly IndicatorResult[], period: Period, scope: CsvScope = {}): string {
  const lines = [line(CSV_HEADER)];
  for (const r of results) {
    const d = r.definition;
    const row = (kind: string, organizationName: string, organizationId: string, v: IndicatorValue) =>
      line([d.id, d.title.zh, d.title.en, kind, organizationName, organizationId, v.numerator, v.denominator, percent(v), targetPercent(r.target), d.numeratorUnit, d.denominatorUnit, period.start, period.end]);
    lines.push(row('合计 total', scope.organizationName ?? '全部 all', scope.organizationId ?? '', r));
    for (const o of r.byOrganization ?? []) lines.push(row('下级机构 sub-organization', o.organizationName, o.organizationId, o));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The byte-order mark Excel needs to read a CSV file as UTF-8 (without it, Chinese is mojibake). */
export const UTF8_BOM = '\uFEFF';
