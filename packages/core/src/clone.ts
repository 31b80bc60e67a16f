/**
 * The one deep copy of wire values (plain objects, arrays, `Float64`, `Uint8Array`, `Map`).
 * Browser-safe.
 */
import { Float64, isFloat64 } from './float.js';

/**
 * A deep copy of plain data (objects, arrays, `Float64`, `Uint8Array`, `Map`; anything else,
 * which no store accepts, is kept as is), in key order: how a TaskManager keeps the records it
 * remembers apart from what its callers hold, and discovery copies a descriptor's attributes.
 * Not `structuredClone`: that turns a `Float64` (a class instance) into a plain object, which
 * would then encode as a map and break the signature of any message carrying it.
 */
export function cloneWireValue<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
    if (isFloat64(value)) return new Float64(value.value) as T;
    if (value instanceof Uint8Array) return new Uint8Array(value) as T;
    if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, cloneWireValue(v)])) as T;
    if (!Array.isArray(value)) return value;
  }
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneWireValue(value[i]);
    return out as T;
  }
  // A spread keeps V8's fast properties (a copy built key by key becomes a slow dictionary past a
  // dozen members); nested objects are then replaced in place. for-in allocates no key list; a
  // polluted Object.prototype (inherited enumerable keys) takes Object.keys instead.
  const out = { ...value } as Record<string, unknown>;
  if (cleanObjectProto()) {
    for (const k in out) {
      const v = out[k];
      if (typeof v === 'object' && v !== null) out[k] = cloneWireValue(v);
    }
  } else {
    for (const k of Object.keys(out)) {
      const v = out[k];
      if (typeof v === 'object' && v !== null) out[k] = cloneWireValue(v);
    }
  }
  return out as T;
}

function cleanObjectProto(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}
