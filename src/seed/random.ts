/**
 * Seeded pseudo-random numbers for the demo-data generator: the same seed gives the same county.
 * sfc32 (small fast counter, 128-bit state, passes PractRand) seeded through splitmix32, plus the
 * handful of distributions the generator needs, and deterministic UUID v7s.
 */

/** splitmix32: turns any 32-bit number into a well-mixed one; used to seed and to derive sub-streams. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit hash of a string (FNV-1a, then mixed): names sub-streams, e.g. `rng.derive('patient', 17)`. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The 32-bit seed this stream was created from (sub-streams derive from it). */
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.a = mix32(this.seed);
    this.b = mix32(this.a ^ 0x6a09e667);
    this.c = mix32(this.b ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32(); // warm up
  }

  /** An independent stream named by `parts`: the same seed and parts always give the same stream. */
  derive(...parts: Array<string | number>): Random {
    let h = mix32(this.seed ^ 0x5bd1e995);
    for (const p of parts) h = mix32(h ^ (typeof p === 'number' ? mix32(p >>> 0 ^ 0x27d4eb2d) : hashString(p)));
    return new Random(h);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Integer in [min, max], inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Real in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** Normal(mean, sd), Box–Muller. */
  normal(mean = 0, sd = 1): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Normal(mean, sd) clamped into [min, max]. */
  normalClamped(mean: number, sd: number, min: number, max: number): number {
    return Math.min(max, Math.max(min, this.normal(mean, sd)));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight from a prepared table (see `weighted`). */
  pickWeighted<T>(table: WeightedTable<T>): T {
    const r = this.next() * table.total;
    // binary search on the cumulative weights
    let lo = 0;
    let hi = table.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (table.cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return table.items[lo]!;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** `k` distinct items (fewer if the list is shorter), in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    return this.shuffle([...items]).slice(0, Math.min(k, items.length));
  }
}

export interface WeightedTable<T> {
  items: T[];
  cumulative: number[];
  total: number;
}

export function weighted<T>(entries: ReadonlyArray<readonly [T, number]>): WeightedTable<T> {
  const items: T[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [item, weight] of entries) {
    if (weight <= 0) continue;
    total += weight;
    items.push(item);
    cumulative.push(total);
  }
  if (items.length === 0) throw new Error('weighted table without positive weights');
  return { items, cumulative, total };
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Deterministic UUID v7s (RFC 9562): the 48-bit Unix-ms timestamp is the row's own creation time, so id
 * order follows creation order as with `uuid.v7()`; of the 74 other bits, 42 come from a seeded stream
 * and 32 are a per-factory counter passed through a bijective mix — so two ids from one factory never
 * collide, and none looks like a counter.
 */
export class IdFactory {
  private counter = 0;
  private readonly rng: Random;
  private readonly salt: number;

  constructor(seed: number) {
    this.rng = new Random(mix32(seed ^ 0x1d5eed1d));
    this.salt = mix32(seed ^ 0x7c0ffee7);
  }

  /** A UUID v7 for a row created at `at` (a Date or Unix milliseconds). */
  next(at: Date | number): string {
    const ms = Math.max(0, Math.floor(typeof at === 'number' ? at : at.getTime()));
    const r1 = this.rng.nextUint32();
    const r2 = this.rng.nextUint32();
    // mix32 is a bijection of 32-bit integers, so distinct counters give distinct values
    const c = mix32((this.counter++ ^ this.salt) >>> 0);
    const hi = Math.floor(ms / 4294967296); // top 16 bits of the 48-bit timestamp
    const lo = ms >>> 0;
    return (
      HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + HEX[(lo >>> 24) & 0xff]! + HEX[(lo >>> 16) & 0xff]! + '-' +
      HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]! + '-' +
      // version 7 and 12 random bits
      HEX[0x70 | (r1 & 0x0f)]! + HEX[(r1 >>> 4) & 0xff]! + '-' +
      // variant 10 and 14 random bits
      HEX[0x80 | ((r1 >>> 12) & 0x3f)]! + HEX[(r1 >>> 18) & 0xff]! + '-' +
      // 16 random bits and the 32 mixed counter bits
      HEX[r2 & 0xff]! + HEX[(r2 >>> 8) & 0xff]! +
      HEX[(c >>> 24) & 0xff]! + HEX[(c >>> 16) & 0xff]! + HEX[(c >>> 8) & 0xff]! + HEX[c & 0xff]!
    );
  }
}
