/**
 * How a store keeps a value: `encodeValue` msgpack (never JSON revivers, never code), plus the
 * paths of integral `Float64` markers. msgpack writes `new Float64(2)` as float64 but decodes it
 * as the number `2`, which would re-encode as an int; the paths restore the marker so a value
 * reads back with the exact types it was written with (byte-for-byte the same on the wire).
 * Shared by `MemoryStore`/`FileStore` and the store adapters, so every store behaves alike.
 */
import { DecodeError, EncodeError, StoreError, ValidationError } from '../errors.js';
import { Float64, isFloat64 } from '../float.js';
import { RawMsgpack, decodeValue, encodeValue } from '../wire/index.js';

/** A path from a value's root to one of its nodes: array indexes and map / object keys. */
export type StoredValuePath = Array<string | number>;

/** A value encoded once (before any lock is taken or anything is sent to a server), with its float paths as a list. */
export interface PreparedStoredValue {
  /** `encodeValue(value)`. */
  bytes: Uint8Array;
  /** Paths of the integral `Float64` markers in the value; empty when there are none. */
  floatPaths: StoredValuePath[];
}

/** A value encoded once, with its float paths encoded too, ready to be sent to a server. */
export interface EncodedStoredValue {
  /** `encodeValue(value)`. */
  bytes: Uint8Array;
  /** msgpack of the list of paths of integral `Float64` markers, or `null` when there are none. */
  floats: Uint8Array | null;
}

/**
 * Encodes `value` for the store key `key` and finds its integral `Float64` markers. Throws
 * `ValidationError` for `undefined` and for anything `encodeValue` refuses (not plain data, a
 * `__proto__` key: exactly what the decoder could not give back), and `StoreError`
 * `ERR_STORE_VALUE_TOO_LARGE` when the encoding is over `maxBytes` (default: no limit).
 * The bytes are a fresh copy: the caller's value can change afterwards without touching them.
 */
export function prepareStoredValue(key: string, value: unknown, maxBytes = Infinity): PreparedStoredValue {
  if (value === undefined) throw new ValidationError(`value for ${key} is undefined (store null instead)`);
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(value);
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    throw new ValidationError(`value for ${key} is not plain data: ${err.message}`, { cause: err });
  }
  if (bytes.byteLength > maxBytes) {
    // The code FileStore uses for the same condition, so callers handle every store alike.
    throw new StoreError(`value of key ${JSON.stringify(key)} is ${bytes.byteLength} bytes, over the limit of ${maxBytes}`, {
      key,
      code: 'ERR_STORE_VALUE_TOO_LARGE',
    });
  }
  const floatPaths: StoredValuePath[] = [];
  // 0xcb heads every float64; without that byte anywhere there is no Float64 to look for.
  if (bytes.includes(0xcb)) collectFloats(value, [], floatPaths);
  return { bytes, floatPaths };
}

/**
 * Encodes `value` as `prepareStoredValue` does (same errors), with the float paths encoded as
 * msgpack (`null` when there are none): the form the server-backed stores keep. A store that
 * keeps these two byte strings per key and hands them to `decodeStoredValue` on read gets the
 * Store contract's value semantics for free: copies in both directions, every wire type back
 * with its exact type (`Float64(2)` stays a `Float64`), refusals as `ValidationError`.
 *
 * ```ts
 * const { bytes, floats } = encodeStoredValue(key, value, Infinity);   // in put()
 * const value = decodeStoredValue(key, bytes, floats, Infinity);        // in get()
 * ```
 */
export function encodeStoredValue(key: string, value: unknown, maxBytes: number): EncodedStoredValue {
  const { bytes, floatPaths } = prepareStoredValue(key, value, maxBytes);
  return { bytes, floats: floatPaths.length > 0 ? encodeValue(floatPaths) : null };
}

function collectFloats(v: unknown, path: StoredValuePath, out: StoredValuePath[]): void {
  if (isFloat64(v)) {
    if (Number.isInteger(v.value)) out.push([...path]);
    return;
  }
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof RawMsgpack) return;
  const step = (x: unknown, s: string | number): void => {
    if (x === null || typeof x !== 'object') return;
    path.push(s);
    collectFloats(x, path, out);
    path.pop();
  };
  if (Array.isArray(v)) v.forEach((x, i) => step(x, i));
  else if (v instanceof Map) for (const [k, x] of v) step(x, k as string);
  else for (const k of Object.keys(v)) step((v as Record<string, unknown>)[k], k);
}

/** A stored record that cannot be read: `StoreError` `ERR_STORE_CORRUPT`, naming the key. */
export function storedValueCorrupt(key: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(`record of key ${JSON.stringify(key)} is corrupt: ${detail}`, { key, code: 'ERR_STORE_CORRUPT', cause });
}

/**
 * Decodes a value kept by `encodeStoredValue` (and its float paths, `null` for none); throws
 * `StoreError` `ERR_STORE_CORRUPT` for anything malformed. The result is a fresh value on every
 * call (binary values included: `decodeValue` copies them), so a store can return it as is.
 */
export function decodeStoredValue(key: string, bytes: Uint8Array, floats: Uint8Array | null, maxBytes: number): unknown {
  let value: unknown;
  let paths: unknown;
  try {
    // Drivers hand out Buffers; decodeValue still gives bin values as plain Uint8Array copies.
    value = decodeValue(bytes, { maxBytes });
    paths = floats === null ? [] : decodeValue(floats, { maxBytes });
  } catch (err) {
    if (err instanceof DecodeError) throw storedValueCorrupt(key, err.message, err);
    throw err;
  }
  if (!Array.isArray(paths)) throw storedValueCorrupt(key, 'bad float path list');
  const fail = (detail: string): Error => storedValueCorrupt(key, detail);
  for (const p of paths) value = restoreFloatPath(value, p, fail);
  return value;
}

/**
 * Puts the `Float64` marker back on the integral number at `path` in the decoded `root` (in
 * place; returns the new root, which changes only for the empty path). `path` comes from storage
 * and is checked: anything that does not lead to an integral number throws `corrupt(detail)`.
 */
export function restoreFloatPath(root: unknown, path: unknown, corrupt: (detail: string) => Error): unknown {
  if (!Array.isArray(path)) throw corrupt('bad float path');
  const mark = (n: unknown): Float64 => {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw corrupt('float path does not lead to an integral number');
    return new Float64(n);
  };
  if (path.length === 0) return mark(root);
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const s: unknown = path[i];
    const last = i === path.length - 1;
    if (Array.isArray(node) && typeof s === 'number' && s >= 0 && s < node.length) {
      if (last) node[s] = mark(node[s]);
      else node = node[s];
    } else if (node instanceof Map && typeof s === 'string' && node.has(s)) {
      if (last) node.set(s, mark(node.get(s)));
      else node = node.get(s);
    } else if (node !== null && typeof node === 'object' && typeof s === 'string' && Object.hasOwn(node, s)) {
      const o = node as Record<string, unknown>;
      if (last) o[s] = mark(o[s]);
      else node = o[s];
    } else throw corrupt('float path does not match the value');
  }
  return root;
}
