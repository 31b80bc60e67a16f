/**
 * The encoder: msgpack exactly as Python's `msgpack` 1.0 writes it, written by our own code
 * (no dependency's internals): smallest int widths (unsigned forms for n >= 0), floats always
 * float64, `Float64` markers (recognised by brand, from any copy of this module) as float64,
 * `bigint` as the smallest int that holds it, str as well-formed UTF-8 (a lone surrogate
 * becomes U+FFFD), bytes as bin, maps in insertion order, and `RawMsgpack` spliced in as is
 * (so a decoded payload is re-emitted byte for byte).
 *
 * `encodeValue` and the message envelope (message-encode.ts) both write through
 * `MsgpackWriter`. Writers keep one scratch buffer each and copy the result out, so a message
 * is built with one allocation for its output (from a shared slab when small: see
 * `allocBytes`). The shared writer is taken with `acquireWriter` and given back with
 * `releaseWriter`; a nested use (a getter in a payload that encodes another value) gets a
 * fresh writer instead of corrupting the shared one.
 */
import { EncodeError } from '../errors.js';
import { isFloat64 } from '../float.js';
import { copyBytes } from '../alloc.js';
import { utf8Writer } from '#platform';
import type { Utf8Writer } from '../platform-types.js';
import { MAX_DEPTH } from './scan.js';

/** Pre-encoded msgpack bytes to be written verbatim by `encodeValue`. */
export class RawMsgpack {
  /** One complete msgpack value. */
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

/**
 * Why a `__proto__` map key is refused, by `encodeValue` (`EncodeError`) and `decodeValue`
 * (`DecodeError`) alike: decoded into a plain object it would set the prototype instead of
 * becoming a property, so a value holding one could be written but never read back.
 */
export const PROTO_KEY_REFUSAL = 'the map key __proto__ is not allowed';

const TWO_32 = 2 ** 32;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
// Strings up to this many UTF-16 units are written by a JS loop (ASCII fast path: an attribute
// key or a short value); longer ones by the platform's UTF-8 writer, whose call costs more for those.
const SHORT_STRING = 64;

// The UTF-8 writer comes from the platform seam: Buffer#utf8Write under Node (called as a
// method), TextEncoder#encodeInto in the browser build.
const utf8Buffer = utf8Writer;

// Encoded forms of recurring strings (fingerprints), bounded; the oldest entry goes first.
const STR_CACHE_ENTRIES = 256;
const CACHED_STRING_MAX = 128;
const strCache = new Map<string, Uint8Array>();

function strHeaderSize(len: number): number {
  return len < 32 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
}

/** The bytes of `s` as a msgpack str (fixstr/str8/str16/str32), for precomputed prefixes. */
export function strBytes(s: string): Uint8Array {
  const w = new MsgpackWriter(16);
  w.str(s);
  return w.finish();
}

/** A growable msgpack writer over a scratch buffer. */
export class MsgpackWriter {
  #u8: Uint8Array;
  #buf: Utf8Writer;
  #view: DataView;
  #capacity: number;
  /** Write position. */
  pos = 0;

  constructor(initialSize = 1024) {
    this.#u8 = new Uint8Array(initialSize);
    this.#buf = utf8Buffer(this.#u8.buffer as ArrayBuffer, initialSize);
    this.#view = new DataView(this.#u8.buffer);
    this.#capacity = initialSize;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.#capacity) return;
    let size = this.#capacity * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#u8.subarray(0, this.pos));
    this.#u8 = next;
    this.#buf = utf8Buffer(next.buffer, size);
    this.#view = new DataView(next.buffer);
    this.#capacity = size;
  }

  /** Size of the scratch buffer in bytes. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Starts a new output (keeps the buffer). */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written (see `allocBytes`). */
  finish(): Uint8Array {
    return copyBytes(this.#u8.subarray(0, this.pos));
  }

  /** A view of what was written, valid only until the writer is used again or released. */
  view(): Uint8Array {
    return this.#u8.subarray(0, this.pos);
  }

  /** Writes raw bytes (a complete msgpack value: a payload, a cached string). */
  raw(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    this.ensure(n);
    const u8 = this.#u8;
    if (n <= 16) {
      // A loop beats TypedArray#set's call overhead for a few bytes.
      const p = this.pos;
      for (let i = 0; i < n; i++) u8[p + i] = bytes[i]!;
    } else u8.set(bytes, this.pos);
    this.pos += n;
  }

  /**
   * Writes constant bytes given as a plain array (a precomputed key prefix): reading a small
   * JS array beats reading a typed array, and these are written several times per message.
   */
  prefix(bytes: readonly number[]): void {
    const n = bytes.length;
    this.ensure(n);
    const u8 = this.#u8;
    const p = this.pos;
    for (let i = 0; i < n; i++) u8[p + i] = bytes[i]!;
    this.pos = p + n;
  }

  /** Writes one byte. */
  u8(b: number): void {
    this.ensure(1);
    this.#u8[this.pos++] = b;
  }

  /** Writes nil. */
  nil(): void {
    this.u8(0xc0);
  }

  /** Writes a string as str (UTF-8), in the smallest header. */
  str(s: string): void {
    const n = s.length;
    if (n <= SHORT_STRING) {
      // Optimistic ASCII: header for n bytes, then one byte per unit.
      this.ensure(2 + n);
      const u8 = this.#u8;
      const start = this.pos;
      let p = start + (n < 32 ? 1 : 2);
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return this.#strSlow(s);
        u8[p++] = c;
      }
      if (n < 32) u8[start] = 0xa0 | n;
      else {
        u8[start] = 0xd9;
        u8[start + 1] = n;
      }
      this.pos = p;
      return;
    }
    this.#strSlow(s);
  }

  /**
   * Writes a string that recurs from message to message (a sender or recipient fingerprint)
   * from a small cache of encoded strings: a copy costs less than a UTF-8 encode.
   */
  recurringStr(s: string): void {
    if (s.length > CACHED_STRING_MAX) return this.str(s);
    const hit = strCache.get(s);
    if (hit !== undefined) return this.raw(hit);
    const start = this.pos;
    this.str(s);
    if (strCache.size >= STR_CACHE_ENTRIES) strCache.delete(strCache.keys().next().value!);
    strCache.set(s, this.#u8.slice(start, this.pos));
  }

  // Writes as UTF-8 straight into the buffer after a header sized for all-ASCII; if the
  // string was not ASCII (more bytes than UTF-16 units), the header is fixed up, moving the
  // bytes when the header size changes. Saves measuring the string first.
  #strSlow(s: string): void {
    const n = s.length;
    this.ensure(5 + 3 * n);
    const start = this.pos;
    const guess = strHeaderSize(n);
    const len = this.#buf.utf8Write(s, start + guess);
    const size = strHeaderSize(len);
    if (size !== guess) this.#u8.copyWithin(start + size, start + guess, start + guess + len);
    this.#strHeader(len);
    this.pos = start + size + len;
  }

  #strHeader(len: number): void {
    if (len < 32) this.#u8[this.pos++] = 0xa0 | len;
    else this.#lengthHeader(len, 0xd9);
  }

  // A str8/16/32 or bin8/16/32 header: `h8` is the 8-bit form's type byte; the 16- and 32-bit
  // forms follow it.
  #lengthHeader(len: number, h8: number): void {
    const u8 = this.#u8;
    if (len < 0x100) {
      u8[this.pos++] = h8;
      u8[this.pos++] = len;
    } else if (len < 0x10000) {
      u8[this.pos++] = h8 + 1;
      this.#view.setUint16(this.pos, len);
      this.pos += 2;
    } else {
      u8[this.pos++] = h8 + 2;
      this.#view.setUint32(this.pos, len);
      this.pos += 4;
    }
  }

  /** Writes a safe integer in the smallest form (unsigned forms for n >= 0), as Python does. */
  int(n: number): void {
    this.ensure(9);
    const u8 = this.#u8;
    const v = this.#view;
    if (n >= 0) {
      if (n < 0x80) u8[this.pos++] = n;
      else if (n < 0x100) {
        u8[this.pos++] = 0xcc;
        u8[this.pos++] = n;
      } else if (n < 0x10000) {
        u8[this.pos++] = 0xcd;
        v.setUint16(this.pos, n);
        this.pos += 2;
      } else if (n < TWO_32) {
        u8[this.pos++] = 0xce;
        v.setUint32(this.pos, n);
        this.pos += 4;
      } else {
        u8[this.pos++] = 0xcf;
        v.setUint32(this.pos, Math.floor(n / TWO_32));
        v.setUint32(this.pos + 4, n % TWO_32);
        this.pos += 8;
      }
    } else if (n >= -0x20) u8[this.pos++] = n & 0xff;
    else if (n >= -0x80) {
      u8[this.pos++] = 0xd0;
      v.setInt8(this.pos++, n);
    } else if (n >= -0x8000) {
      u8[this.pos++] = 0xd1;
      v.setInt16(this.pos, n);
      this.pos += 2;
    } else if (n >= -0x80000000) {
      u8[this.pos++] = 0xd2;
      v.setInt32(this.pos, n);
      this.pos += 4;
    } else {
      u8[this.pos++] = 0xd3;
      const hi = Math.floor(n / TWO_32);
      v.setInt32(this.pos, hi);
      v.setUint32(this.pos + 4, n - hi * TWO_32);
      this.pos += 8;
    }
  }

  /** Writes a float64 (`cb`); NaN as Python's `cb 7ff8000000000000`. */
  float64(x: number): void {
    this.ensure(9);
    this.#u8[this.pos++] = 0xcb;
    if (x === x) this.#view.setFloat64(this.pos, x);
    else {
      // NaN payload bits are not portable; Python writes the canonical quiet NaN.
      this.#view.setUint32(this.pos, 0x7ff80000);
      this.#view.setUint32(this.pos + 4, 0);
    }
    this.pos += 8;
  }

  /** Writes a `bigint` in the smallest int form; `EncodeError` beyond 64 bits. */
  bigint(b: bigint): void {
    if (b >= MIN_SAFE && b <= MAX_SAFE) return this.int(Number(b));
    this.ensure(9);
    if (b > 0n && b <= U64_MAX) {
      this.#u8[this.pos++] = 0xcf;
      this.#view.setBigUint64(this.pos, b);
    } else if (b < 0n && b >= I64_MIN) {
      this.#u8[this.pos++] = 0xd3;
      this.#view.setBigInt64(this.pos, b);
    } else throw new EncodeError(`integer ${b} does not fit in 64 bits`);
    this.pos += 8;
  }

  /** Writes bytes as bin (bin8/bin16/bin32). */
  bin(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    this.ensure(5 + n);
    this.#lengthHeader(n, 0xc4);
    this.raw(bytes);
  }

  /** Writes a map header for `n` entries. */
  mapHeader(n: number): void {
    this.#header(n, 0x80, 0xde, 0xdf);
  }

  /** Writes an array header for `n` items. */
  arrayHeader(n: number): void {
    this.#header(n, 0x90, 0xdc, 0xdd);
  }

  #header(n: number, fix: number, h16: number, h32: number): void {
    this.ensure(5);
    if (n < 16) this.#u8[this.pos++] = fix | n;
    else if (n < 0x10000) {
      this.#u8[this.pos++] = h16;
      this.#view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.#u8[this.pos++] = h32;
      this.#view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  /**
   * Writes any value `encodeValue` accepts. `depth` is the nesting level of `v` (1 at the top);
   * containers deeper than `MAX_DEPTH` are an `EncodeError`, as the decoder's scan refuses them.
   */
  value(v: unknown, depth = 1): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        // Python writes every float as float64; safe integers are ints.
        return Number.isSafeInteger(v) ? this.int(v) : this.float64(v);
      case 'boolean':
        return this.u8(v ? 0xc3 : 0xc2);
      case 'bigint':
        return this.bigint(v);
      case 'undefined':
        return this.nil();
      case 'object':
        if (v === null) return this.nil();
        return this.#object(v, depth);
      default:
        throw new EncodeError(`cannot encode a ${typeof v}`);
    }
  }

  #object(v: object, depth: number): void {
    if (depth > MAX_DEPTH) throw new EncodeError(`nesting deeper than ${MAX_DEPTH}`);
    if (Array.isArray(v)) {
      const n = v.length;
      this.arrayHeader(n);
      for (let i = 0; i < n; i++) this.value(v[i], depth + 1);
      return;
    }
    if (v instanceof Uint8Array) return this.bin(v);
    if (ArrayBuffer.isView(v)) return this.bin(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      this.mapHeader(keys.length);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (k === '__proto__') throw new EncodeError(PROTO_KEY_REFUSAL);
        this.str(k);
        this.value(o[k], depth + 1);
      }
      return;
    }
    if (isFloat64(v)) return this.float64(Number(v.value));
    if (v instanceof Map) return this.#map(v, depth);
    if (v instanceof RawMsgpack) return this.raw(v.bytes);
    throw new EncodeError(`cannot encode an instance of ${(v as object).constructor?.name ?? 'an unknown class'}`);
  }

  #map(m: Map<unknown, unknown>, depth: number): void {
    this.mapHeader(m.size);
    for (const [k, x] of m) {
      if (typeof k !== 'string') throw new EncodeError('map keys must be strings');
      if (k === '__proto__') throw new EncodeError(PROTO_KEY_REFUSAL);
      this.str(k);
      this.value(x, depth + 1);
    }
  }
}

let shared: MsgpackWriter | undefined = new MsgpackWriter(4096);

/** Takes the shared writer (or a fresh one when it is in use), reset. */
export function acquireWriter(): MsgpackWriter {
  const w = shared ?? new MsgpackWriter(1024);
  shared = undefined;
  w.reset();
  return w;
}

// A writer that grew for one huge message is dropped rather than kept for ever.
const MAX_KEPT_CAPACITY = 1 << 20;

/** Gives a writer back; it is kept for reuse unless its buffer grew beyond 1 MiB. */
export function releaseWriter(w: MsgpackWriter): void {
  if (w.capacity <= MAX_KEPT_CAPACITY) shared = w;
}

/**
 * Encodes plain data as Python's msgpack would. Throws `EncodeError` for unsupported values
 * and for a `__proto__` map key (which `decodeValue` would refuse): whatever this returns,
 * `decodeValue` reads back.
 */
export function encodeValue(value: unknown): Uint8Array {
  const w = acquireWriter();
  try {
    w.value(value);
    return w.finish();
  } catch (err) {
    if (err instanceof EncodeError) throw err;
    throw new EncodeError(`cannot encode value: ${(err as Error).message}`, { cause: err });
  } finally {
    releaseWriter(w);
  }
}
