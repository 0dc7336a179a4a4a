/**
 * A care-rule number as a SQL literal. The rules' numbers are checked finite when configured (rules.ts,
 * `careRulesFrom`); this refuses anything else rather than write it into SQL.
 */
export function sqlNumber(n: number): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`care rules: ${String(n)} is not a finite number`);
  return n < 0 ? `(${String(n)})` : String(n);
}

/** A string literal for SQL: enum values and kinds only, never user input. */
export function sqlText(s: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new Error(`care rules: ${JSON.stringify(s)} is not a code`);
  return `'${s}'`;
}
