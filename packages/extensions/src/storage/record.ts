/**
 * FileStore records: what one file holds, as msgpack (`encodeValue`/`decodeValue`, never JSON
 * revivers, never code).
 *
 * Live record: `{ v: 1, revision, value, f? }`. Tombstone (left by `delete`, the revision fence
 * that keeps revisions growing across delete and re-create): `{ v: 1, revision, deleted: true }`.
 *
 * `f` lists the paths of integral `Float64` values: msgpack writes `Float64(2)` as float64 but
 * decodes it as the number `2`, which would re-encode as an int. Restoring the marker keeps a
 * stored value byte-for-byte the same on the wire (what Python interop and signatures need).
 */
import { DecodeError, EncodeError, Float64, RawMsgpack, StoreError, ValidationError, decodeValue, encodeValue } from '@converge/core';

/** Format version written in every record. */
export const RECORD_VERSION = 1;

/** A value encoded once, before any lock is taken. */
export interface PreparedValue {
  /** The msgpack of the value. */
  bytes: Uint8Array;
  /** Paths of integral `Float64` markers, when there are any. */
  floats?: Array<Array<string | number>>;
}

/** A decoded live record. */
export interface LiveRecord {
  /** The record's revision. */
  revision: number;
  /** The value, with `Float64` markers restored. */
  value: unknown;
}

/** Encodes `value`; throws `ValidationError` for anything that is not plain data. */
export function prepareValue(key: string, value: unknown): PreparedValue {
  if (value === undefined) throw new ValidationError(`value for ${key} is undefined (store null instead)`);
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(value);
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    throw new ValidationError(`value for ${key} is not plain data: ${err.message}`, { cause: err });
  }
  // The decoder refuses a `__proto__` key: such a record could be written but never read.
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(PROTO) && hasProtoKey(value, 0)) {
    throw new ValidationError(`value for ${key} has a __proto__ key, which cannot be stored`);
  }
  // 0xcb heads every float64; without that byte anywhere there is no Float64 to look for.
  if (!bytes.includes(0xcb)) return { bytes };
  const floats: Array<Array<string | number>> = [];
  collectFloats(value, [], floats);
  return floats.length > 0 ? { bytes, floats } : { bytes };
}

const PROTO = Buffer.from('__proto__');

function hasProtoKey(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || depth > 100) return false;
  if (Array.isArray(v)) return v.some((x) => hasProtoKey(x, depth + 1));
  if (v instanceof Map) {
    for (const [k, x] of v) if (k === '__proto__' || hasProtoKey(x, depth + 1)) return true;
    return false;
  }
  for (const k of Object.keys(v)) if (k === '__proto__' || hasProtoKey((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

function collectFloats(v: unknown, path: Array<string | number>, out: Array<Array<string | number>>): void {
  if (v instanceof Float64) {
    if (Number.isInteger(v.value)) out.push([...path]);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) descend(v[i], path, i, out);
  } else if (v instanceof Map) {
    for (const [k, x] of v) descend(x, path, k as string, out);
  } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof RawMsgpack)) {
    for (const k of Object.keys(v)) descend((v as Record<string, unknown>)[k], path, k, out);
  }
}

function descend(v: unknown, path: Array<string | number>, step: string | number, out: Array<Array<string | number>>): void {
  if (v === null || (typeof v !== 'object')) return;
  path.push(step);
  collectFloats(v, path, out);
  path.pop();
}

/** The bytes of a live record. */
export function encodeRecord(revision: number, value: PreparedValue): Uint8Array {
  const rec: Record<string, unknown> = { v: RECORD_VERSION, revision, value: new RawMsgpack(value.bytes) };
  if (value.floats) rec.f = value.floats;
  return encodeValue(rec);
}

/** The bytes of a tombstone that fences `revision`. */
export function encodeTombstone(revision: number): Uint8Array {
  return encodeValue({ v: RECORD_VERSION, revision, deleted: true });
}

/** A record that cannot be read: `StoreError` `ERR_STORE_CORRUPT`, naming the key and file. */
export function corrupt(key: string, file: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(`record of key ${JSON.stringify(key)} in ${file} is corrupt: ${detail}`, { key, code: 'ERR_STORE_CORRUPT', cause });
}

function decodeHead(bytes: Uint8Array, key: string, file: string, maxBytes: number): Record<string, unknown> {
  let rec: unknown;
  try {
    rec = decodeValue(bytes, { maxBytes });
  } catch (err) {
    if (err instanceof DecodeError) throw corrupt(key, file, err.message, err);
    throw err;
  }
  if (rec === null || typeof rec !== 'object' || Object.getPrototypeOf(rec) !== Object.prototype) throw corrupt(key, file, 'not a record map');
  const r = rec as Record<string, unknown>;
  if (r.v !== RECORD_VERSION) throw corrupt(key, file, `unknown record version ${String(r.v)}`);
  if (typeof r.revision !== 'number' || !Number.isSafeInteger(r.revision) || r.revision < 1) throw corrupt(key, file, 'bad revision');
  return r;
}

/** Decodes a live record; throws `ERR_STORE_CORRUPT` for anything else. */
export function decodeRecord(bytes: Uint8Array, key: string, file: string, maxBytes: number): LiveRecord {
  const r = decodeHead(bytes, key, file, maxBytes);
  if (!Object.hasOwn(r, 'value') || r.deleted !== undefined) throw corrupt(key, file, 'no value');
  let value = r.value;
  if (r.f !== undefined) {
    if (!Array.isArray(r.f)) throw corrupt(key, file, 'bad float list');
    for (const path of r.f) value = restoreFloat(value, path, key, file);
  }
  return { revision: r.revision as number, value };
}

/** Decodes a tombstone; returns the revision it fences. */
export function decodeTombstone(bytes: Uint8Array, key: string, file: string, maxBytes: number): number {
  const r = decodeHead(bytes, key, file, maxBytes);
  if (r.deleted !== true) throw corrupt(key, file, 'not a tombstone');
  return r.revision as number;
}

function restoreFloat(root: unknown, path: unknown, key: string, file: string): unknown {
  if (!Array.isArray(path)) throw corrupt(key, file, 'bad float path');
  const mark = (n: unknown): Float64 => {
    if (typeof n !== 'number' || !Number.isInteger(n)) throw corrupt(key, file, 'float path does not lead to an integral number');
    return new Float64(n);
  };
  if (path.length === 0) return mark(root);
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    const last = i === path.length - 1;
    if (Array.isArray(node) && typeof step === 'number' && step >= 0 && step < node.length) {
      if (last) node[step] = mark(node[step]);
      else node = node[step];
    } else if (node instanceof Map && typeof step === 'string' && node.has(step)) {
      if (last) node.set(step, mark(node.get(step)));
      else node = node.get(step);
    } else if (node !== null && typeof node === 'object' && typeof step === 'string' && Object.hasOwn(node, step)) {
      const o = node as Record<string, unknown>;
      if (last) o[step] = mark(o[step]);
      else node = o[step];
    } else throw corrupt(key, file, 'float path does not match the value');
  }
  return root;
}
