import { Float64, isFloat64 } from '@converge/core';

/** Deepest nesting `clonePlain` copies (the wire codec's limit too). */
export const MAX_CLONE_DEPTH = 100;

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;

/**
 * Deep copy of plain data (what a Store holds). Copies keep `Float64`, `bigint`, `Map` and
 * `Uint8Array`; a value that is not plain data (a class instance, a function, a symbol, a Map
 * with non-string keys, nesting deeper than `MAX_CLONE_DEPTH`) is refused with a `TypeError`,
 * so nothing stored is ever shared by reference or carries code. A `__proto__` key is refused
 * too: the wire decoder refuses it, so such a value could never be read back or sent.
 */
export function clonePlain<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) return checkScalar(value);
  return cloneObject(value, depth, true, true) as T;
}

/**
 * Deep copy of data `clonePlain` already accepted (a store's own snapshot): the same copy,
 * without re-checking what was checked on the way in. Never pass it outside data.
 */
export function cloneTrusted<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  return cloneObject(value, 0, false, cleanObjectProto()) as T;
}

/** Replaces member `k` of a fresh shallow copy by its deep copy (checking it, unless trusted). */
function copyMember(out: Record<string, unknown>, k: string, depth: number, check: boolean, clean: boolean): void {
  // (Assigning it would also set the prototype of the copy instead of copying the key.)
  if (check && k === '__proto__') throw new TypeError('the key __proto__ cannot be stored');
  const v = out[k];
  if (typeof v === 'object' && v !== null) out[k] = cloneObject(v, depth + 1, check, clean);
  else if (check) checkScalar(v);
}

/** Whether `Object.prototype` has no enumerable keys (nobody polluted it), so for-in sees own keys only. */
function cleanObjectProto(): boolean {
  for (const _ in OBJECT_PROTO) return false;
  return true;
}

function checkScalar<T>(value: T): T {
  const t = typeof value;
  if (t === 'function' || t === 'symbol') throw new TypeError(`cannot store a ${t}`);
  return value;
}

// Plain objects and arrays (nearly everything stored) are matched on their prototype first.
// An object is copied with a spread (which keeps V8's fast properties: building the copy key by
// key turns objects of more than a dozen members into slow dictionaries), then its members are
// walked with for-in (no key list allocated) to copy nested objects. for-in would also walk
// enumerable keys inherited from a polluted Object.prototype, so that case uses Object.keys.
// `clean` (whether Object.prototype is unpolluted) is computed once per copy of trusted data (a
// store's own snapshot: data properties only, so copying it runs no code). A checked copy reads
// the caller's objects, whose getters could pollute the prototype midway: it re-checks per object.
function cloneObject(value: object, depth: number, check: boolean, cleanProto: boolean): unknown {
  if (depth > MAX_CLONE_DEPTH) throw new TypeError(`value nested deeper than ${MAX_CLONE_DEPTH} levels`);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === OBJECT_PROTO || proto === null) {
    const out = { ...value } as Record<string, unknown>;
    const clean = check ? cleanObjectProto() : cleanProto;
    if (clean) {
      for (const k in out) copyMember(out, k, depth, check, clean);
    } else {
      const keys = Object.keys(out);
      for (let i = 0; i < keys.length; i++) copyMember(out, keys[i]!, depth, check, clean);
    }
    return out;
  }
  if (proto === ARRAY_PROTO || Array.isArray(value)) {
    const src = value as unknown[];
    const n = src.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (typeof v === 'object' && v !== null) out[i] = cloneObject(v, depth + 1, check, cleanProto);
      else out[i] = check ? checkScalar(v) : v;
    }
    return out;
  }
  if (isFloat64(value)) return new Float64(value.value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of value as Map<unknown, unknown>) {
      if (check) {
        if (typeof k !== 'string') throw new TypeError(`Map keys must be strings, got ${typeof k}`);
        if (k === '__proto__') throw new TypeError('the key __proto__ cannot be stored');
      }
      m.set(k, typeof v === 'object' && v !== null ? cloneObject(v, depth + 1, check, cleanProto) : check ? checkScalar(v) : v);
    }
    return m;
  }
  throw new TypeError(`cannot store an instance of ${(value as object).constructor?.name ?? 'a class'}`);
}
