/**
 * How each environment variable is read and checked (src/config.ts): a bad value is never taken for the default.
 * Every problem is collected, so one start names them all, each with the variable and what it may be.
 */

/** A configuration the service cannot start with; its message is for the operator, whole (no stack trace needed). */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `Configuration: ${problems[0]}` : `Configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const TRUE = ['1', 'true', 'on', 'yes'];
const FALSE = ['0', 'false', 'off', 'no'];
const BYTE_SIZE = /^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i;

/** A size `byteSize` accepted (`1mb`, `500kb`, `1024`) in bytes, as Express counts them (1kb = 1024): for limits set outside Express. */
export function bytesOf(size: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(size.trim());
  if (!m) throw new Error(`${size} is not a size`);
  const unit = { b: 0, kb: 1, mb: 2, gb: 3 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb' | 'gb'];
  return Math.floor(Number(m[1]) * 1024 ** unit);
}
const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

export class EnvChecks {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The value, or undefined when unset or empty (an empty variable is unset: `FOO= npm start`). */
  value(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  problem(name: string, allowed: string, given: string | undefined): void {
    this.problems.push(`${name} must be ${allowed}, got "${given}"`);
  }

  /** Runs a check that throws (the existing TRUSTED_PROXIES and CARE_RULES_FILE readers), keeping its message. */
  guard<T>(fallback: T, read: () => T): T {
    try {
      return read();
    } catch (err) {
      this.problems.push((err instanceof Error ? err.message : String(err)).replace(/^Configuration: /, ''));
      return fallback;
    }
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}): number {
    const given = this.value(name);
    if (given === undefined) return fallback;
    const n = /^\s*\d+\s*$/.test(given) ? Number(given) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    this.problem(name, max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`, given);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const given = this.value(name);
    if (given === undefined) return fallback;
    if ((allowed as readonly string[]).includes(given)) return given as T;
    this.problem(name, `one of ${allowed.join(', ')}`, given);
    return fallback;
  }

  flag(name: string, fallback: boolean): boolean {
    const given = this.value(name)?.toLowerCase();
    if (given === undefined) return fallback;
    if (TRUE.includes(given)) return true;
    if (FALSE.includes(given)) return false;
    this.problem(name, `one of ${[...TRUE, ...FALSE].join(', ')}`, this.value(name));
    return fallback;
  }

  /** A URL with one of these protocols (`https:`), or undefined when unset. */
  url(name: string, protocols: string[], given = this.value(name)): string | undefined {
    if (given === undefined) return undefined;
    let protocol: string | undefined;
    try {
      protocol = new URL(given).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol && protocols.includes(protocol)) return given;
    this.problem(name, `a URL starting ${protocols.map((p) => `${p}//`).join(' or ')}`, given);
    return undefined;
  }

  /** A list of URLs, comma-separated. */
  urls(name: string, protocols: string[]): string[] {
    const list = (this.value(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return list.filter((entry) => this.url(name, protocols, entry) !== undefined);
  }

  /** An identifier system: any absolute URI (`urn:oid:…`, `https://…`). */
  uri(name: string, fallback: string): string {
    const given = this.value(name);
    if (given === undefined) return fallback;
    if (URI.test(given)) return given;
    this.problem(name, 'an absolute URI (urn:oid:…, https://…)', given);
    return fallback;
  }

  /** A body size as Express reads it: `1mb`, `500kb`, `1024`. */
  byteSize(name: string, fallback: string): string {
    const given = this.value(name);
    if (given === undefined) return fallback;
    if (BYTE_SIZE.test(given.trim())) return given.trim();
    this.problem(name, 'a size such as 1024, 500kb, 1mb or 1gb', given);
    return fallback;
  }

  /** A calendar date, YYYY-MM-DD. */
  date(name: string): string | undefined {
    const given = this.value(name);
    if (given === undefined) return undefined;
    const parsed = new Date(`${given}T00:00:00Z`);
    if (/^\d{4}-\d{2}-\d{2}$/.test(given) && !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(given)) return given;
    this.problem(name, 'a date, YYYY-MM-DD', given);
    return undefined;
  }

  /** An IANA time zone (`Asia/Shanghai`). */
  timeZone(name: string): void {
    const given = this.value(name);
    if (given === undefined) return;
    try {
      new Intl.DateTimeFormat('en', { timeZone: given });
    } catch {
      this.problem(name, 'an IANA time zone such as Asia/Shanghai', given);
    }
  }

  /** JSON holding an object (a JWK, a JWKS); `keys` names a property that must be an array. */
  jsonObject(name: string, keys?: string): string | undefined {
    const given = this.value(name);
    if (given === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(given);
    } catch {
      parsed = undefined;
    }
    const ok = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && (!keys || Array.isArray((parsed as Record<string, unknown>)[keys]));
    if (ok) return given;
    this.problems.push(`${name} must be a JSON object${keys ? ` with a "${keys}" array` : ''} (the value is not shown: it may be a key)`);
    return undefined;
  }

  /** A key of `bytes` bytes, base64-encoded. */
  base64Key(name: string, bytes: number): string | undefined {
    const given = this.value(name);
    if (given === undefined) return undefined;
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(given) && Buffer.from(given, 'base64').length === bytes) return given;
    this.problems.push(`${name} must be ${bytes} bytes, base64-encoded (e.g. openssl rand -base64 ${bytes}; the value is not shown)`);
    return undefined;
  }

  /** Throws one ConfigurationError naming every problem found. */
  done(): void {
    if (this.problems.length) throw new ConfigurationError(this.problems);
  }
}
