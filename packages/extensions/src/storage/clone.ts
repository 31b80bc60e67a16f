import { Float64 } from '@converge/core';

/** Deepest nesting `clonePlain` copies (the wire codec's limit too). */
export const MAX_CLONE_DEPTH = 100;

/**
 * Deep copy of plain data (what a Store holds). Copies keep `Float64`, `bigint`, `Map` and
 * `Uint8Array`; a value that is not plain data (a class instance, a function, a symbol, a Map
 * with non-string keys, nesting deeper than `MAX_CLONE_DEPTH`) is refused with a `TypeError`,
 * so nothing stored is ever shared by reference or carries code. A `__proto__` key is refused
 * too: the wire decoder refuses it, so such a value could never be read back or sent.
 */
export function clonePlain<T>(value: T, depth = 0): T {
  if (depth > MAX_CLONE_DEPTH) throw new TypeError(`value nested deeper than ${MAX_CLONE_DEPTH} levels`);
  if (value === null || value === undefined) return value;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') return value;
  if (t === 'function' || t === 'symbol') throw new TypeError(`cannot store a ${t}`);
  if (value instanceof Float64) return new Float64(value.value) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = clonePlain(value[i], depth + 1);
    return out as T;
  }
  if (value instanceof Map) {
    const m = new Map();
    for (const [k, v] of value) {
      if (typeof k !== 'string') throw new TypeError(`Map keys must be strings, got ${typeof k}`);
      if (k === '__proto__') throw new TypeError('the key __proto__ cannot be stored');
      m.set(k, clonePlain(v, depth + 1));
    }
    return m as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`cannot store an instance of ${(value as object).constructor?.name ?? 'a class'}`);
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value as object)) {
    // (Assigning it would also set the prototype of the copy instead of copying the key.)
    if (k === '__proto__') throw new TypeError('the key __proto__ cannot be stored');
    out[k] = clonePlain((value as Record<string, unknown>)[k], depth + 1);
  }
  return out as T;
}
