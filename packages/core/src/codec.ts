/**
 * msgpack exactly as Python's `msgpack` 1.0 writes it, on top of `@msgpack/msgpack`:
 * smallest int widths, floats always float64, `Float64` markers as float64, `bigint` as the
 * smallest int that holds it, `Map` in insertion order, and `RawMsgpack` spliced in as is
 * (so a decoded payload is re-emitted byte for byte).
 *
 * Decoding keeps map key order where a plain object would reorder it (array-index-like keys
 * give a `Map`), turns 64-bit ints that fit in a double's safe range back into numbers,
 * rejects ext types and non-string map keys, and enforces size and depth limits, throwing
 * only `DecodeError`.
 *
 * The contract a Store (or any holder of values) builds on:
 * - **Symmetric refusals**: what `encodeValue` accepts, `decodeValue` gives back. The one map
 *   key the decoder cannot give back as an ordinary property, `__proto__`, is refused by both
 *   (`EncodeError` / `DecodeError`, same message, {@link PROTO_KEY_REFUSAL}).
 * - **Copies**: `decodeValue` returns values that share no memory with its input; a `Uint8Array`
 *   in the result is its own copy, so mutating a read value never changes the bytes it was read
 *   from. (`decodeScanned`, the message decoder's path, returns views: its caller owns the bytes.)
 */
import { Encoder, Decoder } from '@msgpack/msgpack';
import { Float64 } from './float.js';
import { DecodeError, EncodeError } from './errors.js';
import { copyBytes } from './alloc.js';
import { scanValue, takeScanFlags, SCAN_INT64, SCAN_ODD_KEY } from './scan.js';

/** Pre-encoded msgpack bytes to be written verbatim by `encodeValue`. */
export class RawMsgpack {
  /** One complete msgpack value. */
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

/** Deepest nesting the codec reads or writes. */
export const MAX_DEPTH = 100;

// The library's Encoder keeps its writers private; we reach them to add the three types
// Python's msgpack has and JS numbers lack. Pinned in package.json; covered by the vectors.
interface EncoderInternals {
  doEncode(object: unknown, depth: number): void;
  encodeNumber(n: number): void;
  encodeNumberAsFloat(n: number): void;
  encodeString(s: string): void;
  writeU8(v: number): void;
  writeU16(v: number): void;
  writeU32(v: number): void;
  writeU8a(v: ArrayLike<number>): void;
  writeBigUint64(v: bigint): void;
  writeBigInt64(v: bigint): void;
  ensureBufferSizeToWrite(n: number): void;
  encodeBinary(v: ArrayBufferView): void;
  bytes: Uint8Array;
  pos: number;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

// ES2024 string methods (Node >= 20); typed here because the project's lib is ES2023.
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };
const isWellFormed = (s: string): boolean => (s as unknown as WellFormed).isWellFormed();
const toWellFormed = (s: string): string => (s as unknown as WellFormed).toWellFormed();

function encodeBigInt(self: EncoderInternals, n: bigint): void {
  if (n >= MIN_SAFE && n <= MAX_SAFE) self.encodeNumber(Number(n));
  else if (n > 0n && n <= U64_MAX) {
    self.writeU8(0xcf);
    self.writeBigUint64(n);
  } else if (n < 0n && n >= I64_MIN) {
    self.writeU8(0xd3);
    self.writeBigInt64(n);
  } else throw new EncodeError(`integer ${n} does not fit in 64 bits`);
}

function writeHeader(self: EncoderInternals, n: number, fix: number, h16: number, h32: number): void {
  if (n < 16) self.writeU8(fix + n);
  else if (n < 0x10000) {
    self.writeU8(h16);
    self.writeU16(n);
  } else {
    self.writeU8(h32);
    self.writeU32(n);
  }
}

/**
 * Why a `__proto__` map key is refused, by `encodeValue` (`EncodeError`) and `decodeValue`
 * (`DecodeError`) alike: decoded into a plain object it would set the prototype instead of
 * becoming a property, so a value holding one could be written but never read back.
 */
export const PROTO_KEY_REFUSAL = 'the map key __proto__ is not allowed';

function encodeMap(self: EncoderInternals, map: Map<unknown, unknown>, depth: number): void {
  writeHeader(self, map.size, 0x80, 0xde, 0xdf);
  for (const [k, v] of map) {
    if (typeof k !== 'string') throw new EncodeError('map keys must be strings');
    if (k === '__proto__') throw new EncodeError(PROTO_KEY_REFUSAL);
    self.encodeString(k);
    self.doEncode(v, depth + 1);
  }
}

function createCanonicalEncoder(): Encoder {
  const encoder = new Encoder({ useBigInt64: false, forceFloat32: false, ignoreUndefined: false, maxDepth: MAX_DEPTH, initialBufferSize: 512 });
  const self = encoder as unknown as EncoderInternals;
  // Always well-formed UTF-8 (a lone surrogate becomes U+FFFD, as TextEncoder does): the
  // library's short-string path would write the surrogate's bytes, which no UTF-8 reader
  // (Python's included) accepts. The envelope writer does the same.
  const baseString = self.encodeString.bind(self);
  self.encodeString = (s: string): void => {
    const n = s.length;
    if (n < 0x100) {
      // ASCII up to 255 bytes (fixstr/str8) in one pass, where the library measures the UTF-8
      // length in one loop and writes it in another.
      self.ensureBufferSizeToWrite(2 + n);
      const bytes = self.bytes;
      const start = self.pos;
      const head = n < 32 ? 1 : 2;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return baseString(isWellFormed(s) ? s : toWellFormed(s));
        bytes[start + head + i] = c;
      }
      if (head === 1) bytes[start] = 0xa0 | n;
      else {
        bytes[start] = 0xd9;
        bytes[start + 1] = n;
      }
      self.pos = start + head + n;
      return;
    }
    baseString(isWellFormed(s) ? s : toWellFormed(s));
  };
  // The library's dispatch, specialised: primitives go straight to their writers, and plain
  // objects and arrays skip its extension lookup and second round of type tests. Containers
  // are limited to MAX_DEPTH levels, as the decoder's scan is.
  self.doEncode = (object: unknown, depth: number): void => {
    switch (typeof object) {
      case 'string':
        return self.encodeString(object);
      case 'number':
        // Python writes every float as float64; the library would write unsafe integers as u64.
        return Number.isSafeInteger(object) ? self.encodeNumber(object) : self.encodeNumberAsFloat(object);
      case 'boolean':
        return self.writeU8(object ? 0xc3 : 0xc2);
      case 'undefined':
        return self.writeU8(0xc0);
      case 'bigint':
        return encodeBigInt(self, object);
      case 'object':
        break;
      default:
        throw new EncodeError(`cannot encode a ${typeof object}`);
    }
    if (object === null) return self.writeU8(0xc0);
    if (depth > MAX_DEPTH) throw new EncodeError(`nesting deeper than ${MAX_DEPTH}`);
    if (Array.isArray(object)) {
      const n = object.length;
      writeHeader(self, n, 0x90, 0xdc, 0xdd);
      for (let i = 0; i < n; i++) self.doEncode(object[i], depth + 1);
      return;
    }
    if (ArrayBuffer.isView(object)) return self.encodeBinary(object);
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto === Object.prototype || proto === null) {
      const o = object as Record<string, unknown>;
      const keys = Object.keys(o);
      writeHeader(self, keys.length, 0x80, 0xde, 0xdf);
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === '__proto__') throw new EncodeError(PROTO_KEY_REFUSAL);
        self.encodeString(keys[i]!);
        self.doEncode(o[keys[i]!], depth + 1);
      }
      return;
    }
    if (object instanceof Float64) self.encodeNumberAsFloat(object.value);
    else if (object instanceof Map) encodeMap(self, object, depth);
    else if (object instanceof RawMsgpack) self.writeU8a(object.bytes);
    else throw new EncodeError(`cannot encode an instance of ${(object as object).constructor?.name ?? 'an unknown class'}`);
  };
  // A nested encode (a getter that encodes while its object is being encoded) runs on a
  // clone; the library's clone would lack these overrides.
  (encoder as unknown as { clone(): Encoder }).clone = createCanonicalEncoder;
  return encoder;
}

const sharedEncoder = createCanonicalEncoder();

/**
 * Encodes plain data as Python's msgpack would. Throws `EncodeError` for unsupported values
 * and for a `__proto__` map key (which `decodeValue` would refuse): whatever this returns,
 * `decodeValue` reads back.
 */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return copyBytes(sharedEncoder.encodeSharedRef(value));
  } catch (err) {
    if (err instanceof EncodeError) throw err;
    throw new EncodeError(`cannot encode value: ${(err as Error).message}`, { cause: err });
  }
}

/** Limits applied while decoding. */
export interface DecodeLimits {
  /** Largest input accepted, in bytes (default 10 MiB). */
  maxBytes?: number;
}

/** Default largest message or value accepted by the decoder: 10 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

// The common case (no 64-bit ints, no map key that starts with a digit or NUL, as the scan
// reports) decodes straight through @msgpack/msgpack. Otherwise every map key is prefixed
// while decoding so that no key is array-index-like: the object then keeps wire order, and
// `restore` turns it back into an object or, where a plain object would reorder its keys, a
// Map, and turns 64-bit ints that fit in a double back into numbers.
const KEY_MARK = '\u0000';
const LIBRARY_PROTO_REFUSAL = 'The key __proto__ is not allowed';

function checkedKey(key: unknown): string {
  if (typeof key !== 'string') throw new DecodeError(`map keys must be strings, got ${typeof key}`);
  // @msgpack/msgpack 3.1 refuses it before calling us; this holds should a release stop doing so.
  if (key === '__proto__') throw new DecodeError(PROTO_KEY_REFUSAL);
  return key;
}
const orderedDecoder = new Decoder({ useBigInt64: true, mapKeyConverter: (key: unknown) => KEY_MARK + checkedKey(key) });
const plainDecoder = new Decoder({ useBigInt64: true, mapKeyConverter: checkedKey });

const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;

function restore(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = restore(v[i]);
    return v;
  }
  if (v instanceof Uint8Array) return v;
  const keys = Object.keys(v);
  let needsMap = false;
  for (const k of keys) {
    const key = k.slice(1);
    if (INDEX_LIKE.test(key) && Number(key) < 2 ** 32 - 1) {
      needsMap = true;
      break;
    }
  }
  const src = v as Record<string, unknown>;
  if (needsMap) {
    const m = new Map<string, unknown>();
    for (const k of keys) m.set(k.slice(1), restore(src[k]));
    return m;
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k.slice(1)] = restore(src[k]);
  return out;
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
  // The scan checks structure, truncation, depth and types before anything is allocated.
  takeScanFlags();
  const end = scanValue(bytes, 0);
  const flags = takeScanFlags();
  if (end !== bytes.byteLength) throw new DecodeError(`${bytes.byteLength - end} extra bytes after the value`);
  const value = decodeScanned(bytes, flags);
  return mayHoldBinary(bytes) ? copyBinaries(value) : value;
}

// Every bin header is one of these bytes; without any of them the value holds no Uint8Array
// and needs no walk (the bytes can also occur inside strings or numbers: then it walks for nothing).
function mayHoldBinary(bytes: Uint8Array): boolean {
  return bytes.includes(0xc4) || bytes.includes(0xc5) || bytes.includes(0xc6);
}

/** Replaces, in place, every `Uint8Array` of a freshly decoded value by a plain copy. */
function copyBinaries(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = copyBinaries(v[i]);
  } else if (v instanceof Map) {
    for (const [k, x] of v) if (x !== null && typeof x === 'object') v.set(k, copyBinaries(x));
  } else {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x !== null && typeof x === 'object') o[k] = copyBinaries(x);
    }
  }
  return v;
}

/**
 * Decodes bytes that `scanValue` has already validated. `scanFlags` are the flags that scan
 * reported (`takeScanFlags`); when omitted, the slower path that handles every case is used.
 * Unlike `decodeValue`, a `Uint8Array` in the result is a **view into `bytes`** (no copy): for
 * callers that own `bytes` and never change it, as the message decoder does with its private
 * copy of a payload. Hand values read from shared buffers out through `decodeValue` instead.
 */
export function decodeScanned(bytes: Uint8Array, scanFlags = SCAN_INT64 | SCAN_ODD_KEY): unknown {
  try {
    if (scanFlags === 0) return plainDecoder.decode(bytes);
    return restore(orderedDecoder.decode(bytes));
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    // The library tests for this key before our key converter sees it; give our wording.
    if ((err as Error).message === LIBRARY_PROTO_REFUSAL) throw new DecodeError(PROTO_KEY_REFUSAL, { cause: err });
    throw new DecodeError(`malformed msgpack: ${(err as Error).message}`, { cause: err });
  }
}
