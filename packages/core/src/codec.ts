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
 */
import { Encoder, Decoder } from '@msgpack/msgpack';
import { Float64 } from './float.js';
import { DecodeError, EncodeError } from './errors.js';
import { scanValue } from './scan.js';

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
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

function createCanonicalEncoder(): Encoder {
  const encoder = new Encoder({ useBigInt64: false, forceFloat32: false, ignoreUndefined: false, maxDepth: MAX_DEPTH, initialBufferSize: 512 });
  const self = encoder as unknown as EncoderInternals;
  const base = self.doEncode.bind(self);
  self.doEncode = (object: unknown, depth: number): void => {
    if (object instanceof Float64) {
      self.encodeNumberAsFloat(object.value);
    } else if (typeof object === 'bigint') {
      if (object >= MIN_SAFE && object <= MAX_SAFE) self.encodeNumber(Number(object));
      else if (object > 0n && object <= U64_MAX) {
        self.writeU8(0xcf);
        self.writeBigUint64(object);
      } else if (object < 0n && object >= I64_MIN) {
        self.writeU8(0xd3);
        self.writeBigInt64(object);
      } else throw new EncodeError(`integer ${object} does not fit in 64 bits`);
    } else if (object instanceof Map) {
      if (depth > MAX_DEPTH) throw new EncodeError(`nesting deeper than ${MAX_DEPTH}`);
      const size = object.size;
      if (size < 16) self.writeU8(0x80 + size);
      else if (size < 0x10000) {
        self.writeU8(0xde);
        self.writeU16(size);
      } else {
        self.writeU8(0xdf);
        self.writeU32(size);
      }
      for (const [k, v] of object) {
        if (typeof k !== 'string') throw new EncodeError('map keys must be strings');
        self.encodeString(k);
        self.doEncode(v, depth + 1);
      }
    } else if (object instanceof RawMsgpack) {
      self.writeU8a(object.bytes);
    } else if (typeof object === 'number' && !Number.isSafeInteger(object)) {
      // Python writes every float as float64; the library would write unsafe integers as u64.
      self.encodeNumberAsFloat(object);
    } else if (object !== null && typeof object === 'object' && !Array.isArray(object) && !ArrayBuffer.isView(object) && Object.getPrototypeOf(object) !== Object.prototype && Object.getPrototypeOf(object) !== null) {
      throw new EncodeError(`cannot encode an instance of ${object.constructor?.name ?? 'an unknown class'}`);
    } else if (typeof object === 'function' || typeof object === 'symbol') {
      throw new EncodeError(`cannot encode a ${typeof object}`);
    } else {
      base(object, depth);
    }
  };
  return encoder;
}

const sharedEncoder = createCanonicalEncoder();

/** Encodes plain data as Python's msgpack would. Throws `EncodeError` for unsupported values. */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return sharedEncoder.encode(value);
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

// Every map key is prefixed while decoding so that no key is array-index-like: the object
// then keeps wire order, and `restore` turns it back into an object or, where a plain object
// would reorder its keys, a Map.
const KEY_MARK = '\u0000';
const decoder = new Decoder({
  useBigInt64: true,
  mapKeyConverter: (key: unknown) => {
    if (typeof key !== 'string') throw new DecodeError(`map keys must be strings, got ${typeof key}`);
    return KEY_MARK + key;
  },
});

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
 * `bigint`; floats as numbers; maps as objects, or `Map` where key order needs it.
 * Throws only `DecodeError`.
 */
export function decodeValue(bytes: Uint8Array, limits: DecodeLimits = {}): unknown {
  const max = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('input must be a Uint8Array');
  if (bytes.byteLength > max) throw new DecodeError(`input of ${bytes.byteLength} bytes exceeds the limit of ${max}`);
  // The scan checks structure, truncation, depth and types before anything is allocated.
  const end = scanValue(bytes, 0);
  if (end !== bytes.byteLength) throw new DecodeError(`${bytes.byteLength - end} extra bytes after the value`);
  return decodeScanned(bytes);
}

/** Decodes bytes that `scanValue` has already validated. */
export function decodeScanned(bytes: Uint8Array): unknown {
  try {
    return restore(decoder.decode(bytes));
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed msgpack: ${(err as Error).message}`, { cause: err });
  }
}
