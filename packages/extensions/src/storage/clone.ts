import { Float64 } from '@converge/core';

/**
 * Deep copy of plain data (what a Store holds). Copies keep `Float64`, `bigint`, `Map` and
 * `Uint8Array`; a value that is not plain data (a class instance, a function) is refused,
 * so nothing stored is ever shared by reference or carries code.
 */
export function clonePlain<T>(value: T, depth = 0): T {
  if (depth > 100) throw new TypeError('value nested deeper than 100 levels');
  if (value === null || value === undefined) return value;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') return value;
  if (t === 'function' || t === 'symbol') throw new TypeError(`cannot store a ${t}`);
  if (value instanceof Float64) return new Float64(value.value) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map((v) => clonePlain(v, depth + 1)) as T;
  if (value instanceof Map) {
    const m = new Map();
    for (const [k, v] of value) m.set(k, clonePlain(v, depth + 1));
    return m as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`cannot store an instance of ${(value as object).constructor?.name ?? 'a class'}`);
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value as object)) out[k] = clonePlain((value as Record<string, unknown>)[k], depth + 1);
  return out as T;
}
