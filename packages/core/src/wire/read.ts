/**
 * Byte-level msgpack readers shared by the scanner, the value decoder and the message
 * decoder: header lengths, integers, floats and UTF-8 text read straight from a `Uint8Array`.
 * They do no bounds checks: callers read only bytes that `scanValue` has validated, or check
 * the span they got against the input themselves. Not part of the public API.
 * @internal
 */
import { latin1Slice } from '#platform';
import { DecodeError } from '../errors.js';
import { viewOf } from '../alloc.js';

/** A decimal integer without leading zeros: a key that a plain object may move first. */
export const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;

/**
 * Size in bytes of a value whose type byte is the index, for the fixed-size types (fixints,
 * nil, booleans, ints, floats); 0 for every other type byte.
 */
export const FIXED_SIZE = new Uint8Array(256);
for (let h = 0; h <= 0x7f; h++) FIXED_SIZE[h] = 1;
for (let h = 0xe0; h <= 0xff; h++) FIXED_SIZE[h] = 1;
for (const [h, size] of [
  [0xc0, 1],
  [0xc2, 1],
  [0xc3, 1],
  [0xca, 5],
  [0xcb, 9],
  [0xcc, 2],
  [0xcd, 3],
  [0xce, 5],
  [0xcf, 9],
  [0xd0, 2],
  [0xd1, 3],
  [0xd2, 5],
  [0xd3, 9],
] as const) {
  FIXED_SIZE[h] = size;
}

/**
 * Width in bytes of the length (or count) field after a type byte that has one: bin8/16/32,
 * str8/16/32, array16/32, map16/32; 0 for every other type byte (fix forms included).
 */
export const LENGTH_WIDTH = new Uint8Array(256);
for (const [h, width] of [
  [0xc4, 1],
  [0xc5, 2],
  [0xc6, 4],
  [0xd9, 1],
  [0xda, 2],
  [0xdb, 4],
  [0xdc, 2],
  [0xdd, 4],
  [0xde, 2],
  [0xdf, 4],
] as const) {
  LENGTH_WIDTH[h] = width;
}

/** The length field of `width` bytes (1, 2 or 4) at `p`, big-endian. */
export function lengthAt(b: Uint8Array, p: number, width: number): number {
  return width === 1 ? b[p]! : width === 2 ? u16At(b, p) : u32At(b, p);
}

/** Big-endian uint16 at `p`. */
export function u16At(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Big-endian uint32 at `p`. */
export function u32At(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function i32At(b: Uint8Array, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

/**
 * Where the span found by the last `strSpan`, `binSpan` or `mapAt` call ends (its string or
 * bin bytes, or the first entry of its map): a module-level slot saves a tuple per call. The
 * readers run no user code, so nothing can move it between a call and the read after it.
 */
export let spanEnd = 0;

// Start of the bytes of a str8/16/32 or bin8/16/32 at `pos` whose 8-bit form is `h8` (the
// 16- and 32-bit forms follow it); sets `spanEnd`; -1 if the type byte is none of the three.
function lengthSpan(b: Uint8Array, pos: number, h8: number): number {
  const h = b[pos]!;
  let start: number;
  if (h === h8) {
    start = pos + 2;
    spanEnd = start + b[pos + 1]!;
  } else if (h === h8 + 1) {
    start = pos + 3;
    spanEnd = start + u16At(b, pos + 1);
  } else if (h === h8 + 2) {
    start = pos + 5;
    spanEnd = start + u32At(b, pos + 1);
  } else return -1;
  return start;
}

/** Start of the UTF-8 bytes of a str at `pos` (sets `spanEnd`), or -1 if it is not a str. */
export function strSpan(b: Uint8Array, pos: number): number {
  const h = b[pos]!;
  if (h >= 0xa0 && h <= 0xbf) {
    spanEnd = pos + 1 + (h & 0x1f);
    return pos + 1;
  }
  return lengthSpan(b, pos, 0xd9);
}

/** Start of the bytes of a bin at `pos` (sets `spanEnd`), or -1 if it is not a bin. */
export function binSpan(b: Uint8Array, pos: number): number {
  return lengthSpan(b, pos, 0xc4);
}

// Count of the map or array at `pos` whose fix form starts at `fix` and whose 16-bit form is
// `h16` (the 32-bit form follows it); `spanEnd` is set to its first item; -1 if it is neither.
function countAt(b: Uint8Array, pos: number, fix: number, h16: number): number {
  const h = b[pos]!;
  if (h >= fix && h <= fix + 0x0f) {
    spanEnd = pos + 1;
    return h & 0x0f;
  }
  if (h === h16) {
    spanEnd = pos + 3;
    return u16At(b, pos + 1);
  }
  if (h === h16 + 1) {
    spanEnd = pos + 5;
    return u32At(b, pos + 1);
  }
  return -1;
}

/** Entry count of the map at `pos`, with `spanEnd` set to its first entry; -1 if it is not a map. */
export function mapAt(b: Uint8Array, pos: number): number {
  return countAt(b, pos, 0x80, 0xde);
}

/** Item count of the array at `pos`, with `spanEnd` set to its first item; -1 if it is not an array. */
export function arrayAt(b: Uint8Array, pos: number): number {
  return countAt(b, pos, 0x90, 0xdc);
}

/** A msgpack int at `pos` as a number (safe range) or bigint; `undefined` if it is not an int. */
export function intAt(b: Uint8Array, pos: number): number | bigint | undefined {
  const h = b[pos]!;
  if (h <= 0x7f) return h;
  if (h >= 0xe0) return h - 0x100;
  switch (h) {
    case 0xcc:
      return b[pos + 1]!;
    case 0xcd:
      return u16At(b, pos + 1);
    case 0xce:
      return u32At(b, pos + 1);
    case 0xcf: {
      const hi = u32At(b, pos + 1);
      const lo = u32At(b, pos + 5);
      return hi < 0x200000 ? hi * 2 ** 32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
    }
    case 0xd0:
      return (b[pos + 1]! << 24) >> 24;
    case 0xd1:
      return (u16At(b, pos + 1) << 16) >> 16;
    case 0xd2:
      return i32At(b, pos + 1);
    case 0xd3: {
      const hi = i32At(b, pos + 1);
      const lo = u32At(b, pos + 5);
      const n = hi * 2 ** 32 + lo;
      return Number.isSafeInteger(n) ? n : (BigInt(hi) << 32n) | BigInt(lo);
    }
    default:
      return undefined;
  }
}

// Scratch for reading floats without a DataView per value.
const floatScratch = new DataView(new ArrayBuffer(8));

/** The float32 (`ca`) or float64 (`cb`) at `pos`. */
export function floatAt(b: Uint8Array, pos: number): number {
  const v = floatScratch;
  if (b[pos] === 0xcb) {
    for (let i = 0; i < 8; i++) v.setUint8(i, b[pos + 1 + i]!);
    return v.getFloat64(0);
  }
  for (let i = 0; i < 4; i++) v.setUint8(i, b[pos + 1 + i]!);
  return v.getFloat32(0);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes UTF-8 bytes `[s, e)`; invalid UTF-8 is a `DecodeError` naming `what`, as in Python's
 * msgpack. A number `what` names the string by where its header is ("string at byte N"): the
 * message is built only when it is needed.
 */
export function utf8At(b: Uint8Array, s: number, e: number, what: string | number): string {
  let acc = 0;
  for (let i = s; i < e; i++) acc |= b[i]!;
  if (acc < 0x80) {
    // ASCII: every byte is its own code unit.
    if (e - s > 16 && latin1Slice !== undefined) return latin1Slice.call(b, s, e);
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
    return out;
  }
  try {
    return strictUtf8.decode(viewOf(b, s, e));
  } catch (err) {
    throw new DecodeError(`${typeof what === 'number' ? `string at byte ${what}` : what} is not valid UTF-8`, { cause: err });
  }
}
