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
import { DecodeError, RawMsgpack, StoreError, decodeValue, encodeValue, prepareStoredValue, restoreFloatPath } from '@converge/core';

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
  // No size limit here: FileStore checks the size of the whole record.
  const { bytes, floatPaths } = prepareStoredValue(key, value);
  return floatPaths.length > 0 ? { bytes, floats: floatPaths } : { bytes };
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
    if (DecodeError.is(err)) throw corrupt(key, file, err.message, err);
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
    const fail = (detail: string): Error => corrupt(key, file, detail);
    for (const path of r.f) value = restoreFloatPath(value, path, fail);
  }
  return { revision: r.revision as number, value };
}

/** Decodes a tombstone; returns the revision it fences. */
export function decodeTombstone(bytes: Uint8Array, key: string, file: string, maxBytes: number): number {
  const r = decodeHead(bytes, key, file, maxBytes);
  if (r.deleted !== true) throw corrupt(key, file, 'not a tombstone');
  return r.revision as number;
}
