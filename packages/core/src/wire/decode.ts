/**
 * The value decoder: msgpack bytes to plain data, as Python's `msgpack` 1.0 data reads back.
 * The scanner (scan.ts) validates the whole value first (structure, truncation, declared
 * lengths, depth, string keys, UTF-8, no ext types), so the reader below builds the value in
 * one pass without checks of its own.
 *
 * - Integers beyond 2^53 come back as `bigint`, every other integer (64-bit forms included) as
 *   a number; floats as numbers.
 * - Maps as plain objects in wire order, or a `Map` where a plain object would reorder its keys
 *   (array-index-like keys). A `__proto__` key is refused (`DecodeError`, {@link PROTO_KEY_REFUSAL}),
 *   as `encodeValue` refuses it: what one writes, the other reads back.
 * - `decodeValue` returns values that share no memory with its input (a `Uint8Array` in the
 *   result is its own copy); `decodeScanned`, the message decoder's path, returns views.
 * Only `DecodeError` is thrown.
 */
import { DecodeError } from '../errors.js';
import { viewOf } from '../alloc.js';
import { PROTO_KEY_REFUSAL } from './encode.js';
import { MAX_DEPTH, scanForDecode } from './scan.js';
import { recurringString } from './recurring.js';
import { FIXED_SIZE, INDEX_LIKE, LENGTH_WIDTH, floatAt, intAt, lengthAt, strSpan, spanEnd, utf8At } from './read.js';

/** Limits applied while decoding. */
export interface DecodeLimits {
  /** Largest input accepted, in bytes (default 10 MiB). */
  maxBytes?: number;
}

/** Default largest message or value accepted by the decoder: 10 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

// The running decode: read position and whether bins are copied. No user code runs while a
// value is read, so one decode cannot be interleaved with another.
let pos = 0;
let copyBins = false;
// End of the readable bytes. A scanned value never reaches past it; an unscanned one
// (`decodeBounded`) is checked against it at every length, count and nesting level.
let limit = 0;

/** Where the value read by the last `decodeBounded` call ends. */
export let boundedEnd = 0;

// Only an unscanned value (`decodeBounded`) can fail these checks: the scan has passed the rest.
function unscanned(p: number, what: string): DecodeError {
  return new DecodeError(`malformed msgpack at byte ${p}: ${what}`);
}

function isIndexKey(key: string): boolean {
  return INDEX_LIKE.test(key) && Number(key) < 2 ** 32 - 1;
}

function readMap(b: Uint8Array, n: number, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw unscanned(pos, 'nesting too deep');
  if (n * 2 > limit - pos) throw unscanned(pos, 'truncated map');
  const obj: Record<string, unknown> = {};
  let map: Map<string, unknown> | undefined;
  for (let i = 0; i < n; i++) {
    const ks = pos < limit ? strSpan(b, pos) : -1;
    const ke = spanEnd;
    if (ks < 0 || !(ke <= limit)) throw unscanned(pos, 'map key is not a complete string');
    const first = b[ks]!;
    const key = recurringString(b, ks, ke, 'a map key');
    if (key === '__proto__') throw new DecodeError(PROTO_KEY_REFUSAL);
    pos = ke;
    const v = readValue(b, depth + 1);
    // A plain object would move array-index-like keys first: keep wire order in a Map.
    if (map === undefined && first >= 0x30 && first <= 0x39 && isIndexKey(key)) map = new Map(Object.entries(obj));
    if (map !== undefined) map.set(key, v);
    else obj[key] = v;
  }
  return map ?? obj;
}

function readArray(b: Uint8Array, n: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw unscanned(pos, 'nesting too deep');
  if (n > limit - pos) throw unscanned(pos, 'truncated array');
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = readValue(b, depth + 1);
  return out;
}

function readValue(b: Uint8Array, depth: number): unknown {
  const p = pos;
  if (p >= limit) throw unscanned(p, 'truncated');
  const h = b[p]!;
  if (h <= 0x7f) {
    pos = p + 1;
    return h;
  }
  if (h >= 0xe0) {
    pos = p + 1;
    return h - 0x100;
  }
  if (h <= 0x8f) {
    pos = p + 1;
    return readMap(b, h & 0x0f, depth);
  }
  if (h <= 0x9f) {
    pos = p + 1;
    return readArray(b, h & 0x0f, depth);
  }
  if (h <= 0xbf) {
    pos = p + 1 + (h & 0x1f);
    if (pos > limit) throw unscanned(p, 'truncated string');
    return utf8At(b, p + 1, pos, p);
  }
  const size = FIXED_SIZE[h]!;
  if (size === 0) return readSized(b, p, h, depth);
  pos = p + size;
  if (pos > limit) throw unscanned(p, 'truncated value');
  if (h === 0xc0) return null;
  if (h === 0xc2) return false;
  if (h === 0xc3) return true;
  return h === 0xca || h === 0xcb ? floatAt(b, p) : intAt(b, p);
}

// A bin, str, array or map with a length field (8, 16 or 32 bits) after its type byte.
function readSized(b: Uint8Array, p: number, h: number, depth: number): unknown {
  const width = LENGTH_WIDTH[h]!;
  if (width === 0) throw new DecodeError(`unsupported msgpack type byte 0x${h.toString(16)} at byte ${p}`);
  const start = p + 1 + width;
  if (start > limit) throw unscanned(p, 'truncated length');
  const n = lengthAt(b, p + 1, width);
  if (h <= 0xdb && start + n > limit) throw unscanned(p, 'truncated bytes');
  if (h <= 0xc6) {
    pos = start + n;
    return copyBins ? new Uint8Array(viewOf(b, start, pos)) : viewOf(b, start, pos);
  }
  if (h <= 0xdb) {
    pos = start + n;
    return utf8At(b, start, pos, p);
  }
  pos = start;
  return h <= 0xdd ? readArray(b, n, depth) : readMap(b, n, depth);
}

function readAll(bytes: Uint8Array, copy: boolean): unknown {
  pos = 0;
  copyBins = copy;
  limit = bytes.byteLength;
  try {
    return readValue(bytes, 0);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed msgpack: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Decodes one msgpack value occupying all of `bytes`. Integers beyond 2^53 come back as
 * `bigint`; floats as numbers; maps as objects, or `Map` where key order needs it; bin as a
 * plain `Uint8Array` **copy** (never a view into `bytes`, even when `bytes` is a `Buffer`), so
 * the result can be handed out and mutated freely. Throws only `DecodeError` (also for a
 * `__proto__` map key, which `encodeValue` refuses as well).
 */
export function decodeValue(bytes: Uint8Array, limits: DecodeLimits = {}): unknown {
  const max = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('input must be a Uint8Array');
  if (bytes.byteLength > max) throw new DecodeError(`input of ${bytes.byteLength} bytes exceeds the limit of ${max}`);
  // The scan checks structure, truncation, depth and types before anything is allocated;
  // strings are checked as UTF-8 as they are decoded.
  const end = scanForDecode(bytes, 0);
  if (end !== bytes.byteLength) throw new DecodeError(`${bytes.byteLength - end} extra bytes after the value`);
  return readAll(bytes, true);
}

/**
 * Decodes one value at the start of `bytes` that `scanValue` has already validated. Unlike
 * `decodeValue`, a `Uint8Array` in the result is a **view into `bytes`** (no copy): for callers
 * that own `bytes` and never change it, as the message decoder does with its private copy of a
 * payload. Hand values read from shared buffers out through `decodeValue` instead.
 */
export function decodeScanned(bytes: Uint8Array): unknown {
  return readAll(bytes, false);
}

/**
 * Decodes one value at the start of `bytes` that no scan has validated, checking each length,
 * count and nesting level against the bytes present as it reads (one pass instead of scan then
 * read); sets `boundedEnd`. Like `decodeScanned`, a `Uint8Array` in the result is a view into
 * `bytes`. Throws `DecodeError` on what the scan refuses, but not always with the scan's
 * message: the message decoder's fast path uses it and hands any failure to the general path.
 * @internal
 */
export function decodeBounded(bytes: Uint8Array): unknown {
  const value = readAll(bytes, false);
  boundedEnd = pos;
  return value;
}
