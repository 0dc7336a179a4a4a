/**
 * Merging FHIR JSON. The mapping layer keeps what a hospital sent and, on the way out, applies only the
 * changes the domain made to it — so extensions, other systems' identifiers, narrative and profiles survive,
 * while a value the domain corrected is not shadowed by the stale one.
 *
 * Two entry points over one algorithm:
 * - `deepMerge(base, overlay)`: overlay wins, objects merge key by key, arrays merge item by item when
 *   their items have a natural identity (see `naturalKey`), otherwise the overlay's array replaces.
 * - `mergeChanges(original, previous, next)`: three-way. `previous` is what the domain emitted for the
 *   original, `next` what it emits now; wherever they agree the original is kept verbatim, wherever they
 *   differ `next` wins. Elements the domain does not map are never in `previous`/`next`, so they stay.
 */

/** How items of an array are matched between the original and the domain's emissions. */
export type ArrayStrategy = 'replace' | 'indexed' | ((item: unknown) => string | undefined);

export interface MergeOptions {
  /**
   * Element paths (names joined by '.', array positions left out, e.g. `code`, `component.valueQuantity`)
   * replaced wholesale once the domain changed them: a code or a quantity is one statement, and keeping
   * a received coding or comparator beside a new value would say something nobody said.
   */
  atomic?: readonly string[];
  /** Array matching by path; the default matches by `naturalKey` and replaces when items have none. */
  arrays?: Readonly<Record<string, ArrayStrategy>>;
  /** Choice-element stems (`effective`, `value`, `onset`): writing one variant removes the original's others. */
  choices?: readonly string[];
  /** Writing an element (by stem) removes these siblings, e.g. a value removes `dataAbsentReason` (obs-6). */
  exclusive?: Readonly<Record<string, readonly string[]>>;
}

type Obj = Record<string, unknown>;

export function isPlainObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Date);
}

/** Structural equality for JSON and Dates; a key holding `undefined` counts as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The identity of a FHIR array item, when its datatype has one: Extension by url, Reference by reference
 * (or logical identifier), Identifier / ContactPoint / Coding by system and value or code, CodeableConcept
 * by its codings, primitives by value. Undefined when the item has none (HumanName, Address, …).
 */
export function naturalKey(item: unknown): string | undefined {
  if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') return `v:${String(item)}`;
  if (!isPlainObject(item)) return undefined;
  if (typeof item.url === 'string') return `url:${item.url}`;
  if (typeof item.reference === 'string') return `ref:${item.reference}`;
  if (typeof item.system === 'string' && (typeof item.value === 'string' || typeof item.code === 'string')) {
    return `sys:${item.system}|${String(item.value ?? '')}|${String(item.code ?? '')}`;
  }
  if (isPlainObject(item.identifier)) {
    const k = naturalKey(item.identifier);
    return k && `lref:${String(item.type ?? '')}:${k}`;
  }
  if (Array.isArray(item.coding) && item.coding.length > 0) {
    const keys = item.coding.map(naturalKey);
    return keys.every((k) => k !== undefined) ? `cc:${keys.join(',')}` : undefined;
  }
  return undefined;
}

/** Two-way deep merge: `overlay` wins; `undefined` in the overlay leaves the base alone. */
export function deepMerge<T>(base: T, overlay: unknown, options: MergeOptions = {}): T {
  return mergeChanges(base, undefined, overlay, options) as T;
}

/** Three-way merge of FHIR JSON; see the module comment. Returns new containers, sharing unchanged leaves. */
export function mergeChanges(original: unknown, previous: unknown, next: unknown, options: MergeOptions = {}, path = ''): unknown {
  if (previous !== undefined && deepEqual(previous, next)) return original;
  if (next === undefined) {
    if (previous === undefined) return original;
    // An emptied list removes what the domain had mapped, not the items it never saw.
    if (Array.isArray(previous) && Array.isArray(original)) {
      const kept = mergeArrays(original, previous, [], options, path);
      return kept.length ? kept : undefined;
    }
    return undefined;
  }
  if (isPlainObject(next)) {
    if (!isPlainObject(original) || options.atomic?.includes(path)) return next;
    const prev = isPlainObject(previous) ? previous : {};
    const out: Obj = { ...original };
    const written: string[] = [];
    for (const key of new Set([...Object.keys(prev), ...Object.keys(next)])) {
      if (prev[key] !== undefined && deepEqual(prev[key], next[key])) continue;
      if (prev[key] === undefined && next[key] === undefined) continue;
      const merged = mergeChanges(original[key], prev[key], next[key], options, path ? `${path}.${key}` : key);
      if (merged === undefined) delete out[key];
      else {
        out[key] = merged;
        written.push(key);
      }
    }
    dropDisplaced(out, written, options);
    return out;
  }
  if (Array.isArray(next)) {
    if (!Array.isArray(original) || options.atomic?.includes(path)) return next;
    return mergeArrays(original, Array.isArray(previous) ? previous : [], next, options, path);
  }
  return next;
}

function mergeArrays(original: unknown[], previous: unknown[], next: unknown[], options: MergeOptions, path: string): unknown[] {
  const strategy = options.arrays?.[path];
  if (strategy === 'replace') return next;
  if (strategy === 'indexed') {
    // Position is identity only while the original and the domain's view of it line up one to one.
    if (original.length !== previous.length || next.length < previous.length) return next;
    return next.map((item, i) => (i < original.length ? mergeChanges(original[i], previous[i], item, options, path) : item));
  }
  const keyOf = typeof strategy === 'function' ? strategy : naturalKey;
  const prevKeys = previous.map(keyOf);
  const nextKeys = next.map(keyOf);
  if (!isKeySet(prevKeys) || !isKeySet(nextKeys)) return next;
  const prevByKey = new Map(prevKeys.map((k, i) => [k, previous[i]]));
  const nextByKey = new Map(nextKeys.map((k, i) => [k, next[i]]));
  const out: unknown[] = [];
  const done = new Set<string>();
  for (const item of original) {
    const key = keyOf(item);
    if (key === undefined || done.has(key) || (!nextByKey.has(key) && !prevByKey.has(key))) {
      out.push(item); // not something the domain maps: keep it where it was
      continue;
    }
    done.add(key);
    if (nextByKey.has(key)) out.push(mergeChanges(item, prevByKey.get(key), nextByKey.get(key), options, path));
    // in previous but not in next: the domain removed it
  }
  next.forEach((item, i) => {
    if (!done.has(nextKeys[i]!)) out.push(item);
  });
  return out;
}

function isKeySet(keys: Array<string | undefined>): keys is string[] {
  return keys.every((k) => k !== undefined) && new Set(keys).size === keys.length;
}

function stemOf(key: string, stem: string): boolean {
  return key === stem || (key.startsWith(stem) && /[A-Z]/.test(key.charAt(stem.length)));
}

/** After writing a choice variant or an exclusive element, removes what it displaces from the original. */
function dropDisplaced(out: Obj, written: string[], options: MergeOptions): void {
  for (const key of written) {
    for (const stem of options.choices ?? []) {
      if (key === stem || !stemOf(key, stem)) continue;
      for (const other of Object.keys(out)) if (other !== key && stemOf(other, stem) && other !== stem && !written.includes(other)) delete out[other];
    }
    for (const [stem, siblings] of Object.entries(options.exclusive ?? {})) {
      if (!stemOf(key, stem)) continue;
      for (const sibling of siblings) if (!written.includes(sibling)) delete out[sibling];
    }
  }
}

/** Removes `undefined`, empty arrays and empty objects: FHIR JSON forbids empty elements. */
export function compact<T>(value: T): T {
  if (Array.isArray(value)) {
    const items = value.map(compact).filter((v) => v !== undefined);
    return (items.length ? items : undefined) as T;
  }
  if (isPlainObject(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (c !== undefined) out[k] = c;
    }
    return (Object.keys(out).length ? out : undefined) as T;
  }
  if (value === '') return undefined as T;
  return value;
}
