/**
 * A structural scanner for msgpack: finds where a value ends without building it.
 *
 * It is how the message decoder finds the raw bytes of the payload (kept, so that a peer's
 * encoding choices never break its signature), and it validates a frame before the decoder
 * allocates anything: truncation, ext types (never sent by the reference) and nesting depth
 * are `DecodeError`s, and no length can make it allocate.
 */
import { DecodeError } from './errors.js';

/** Deepest nesting accepted. */
export const MAX_SCAN_DEPTH = 100;

function need(bytes: Uint8Array, pos: number, n: number): void {
  if (pos + n > bytes.byteLength) throw new DecodeError(`truncated msgpack at byte ${pos}: need ${n} more bytes`);
}

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/** Reads a str header at `pos`; returns `[start, end]` of its UTF-8 bytes, or throws if not a str. */
export function scanString(bytes: Uint8Array, pos: number): [number, number] {
  need(bytes, pos, 1);
  const h = bytes[pos]!;
  let len: number;
  let start: number;
  if (h >= 0xa0 && h <= 0xbf) {
    len = h & 0x1f;
    start = pos + 1;
  } else if (h === 0xd9) {
    need(bytes, pos, 2);
    len = bytes[pos + 1]!;
    start = pos + 2;
  } else if (h === 0xda) {
    need(bytes, pos, 3);
    len = u16(bytes, pos + 1);
    start = pos + 3;
  } else if (h === 0xdb) {
    need(bytes, pos, 5);
    len = u32(bytes, pos + 1);
    start = pos + 5;
  } else throw new DecodeError(`expected a string at byte ${pos}, found type byte 0x${h.toString(16)}`);
  need(bytes, start, len);
  return [start, start + len];
}

/** Reads a map header at `pos`; returns `[entryCount, firstEntryPos]`, or throws if not a map. */
export function scanMapHeader(bytes: Uint8Array, pos: number): [number, number] {
  need(bytes, pos, 1);
  const h = bytes[pos]!;
  if (h >= 0x80 && h <= 0x8f) return [h & 0x0f, pos + 1];
  if (h === 0xde) {
    need(bytes, pos, 3);
    return [u16(bytes, pos + 1), pos + 3];
  }
  if (h === 0xdf) {
    need(bytes, pos, 5);
    return [u32(bytes, pos + 1), pos + 5];
  }
  throw new DecodeError(`expected a map at byte ${pos}, found type byte 0x${h.toString(16)}`);
}

/** Returns the offset just past the msgpack value starting at `pos`. Map keys must be strings. */
export function scanValue(bytes: Uint8Array, pos: number, depth = 0): number {
  if (depth > MAX_SCAN_DEPTH) throw new DecodeError(`nesting deeper than ${MAX_SCAN_DEPTH}`);
  need(bytes, pos, 1);
  const h = bytes[pos]!;
  if (h <= 0x7f || h >= 0xe0) return pos + 1; // fixints
  if (h <= 0x8f || h === 0xde || h === 0xdf) {
    let [n, p] = scanMapHeader(bytes, pos);
    // Each entry takes at least 2 bytes: reject impossible counts before looping.
    need(bytes, p, n * 2);
    for (let i = 0; i < n; i++) {
      const h2 = bytes[p]!;
      const isStr = (h2 >= 0xa0 && h2 <= 0xbf) || h2 === 0xd9 || h2 === 0xda || h2 === 0xdb;
      if (!isStr) throw new DecodeError(`map key at byte ${p} is not a string (type byte 0x${h2.toString(16)})`);
      p = scanString(bytes, p)[1];
      p = scanValue(bytes, p, depth + 1);
    }
    return p;
  }
  if (h <= 0x9f || h === 0xdc || h === 0xdd) {
    let n: number;
    let p: number;
    if (h <= 0x9f) [n, p] = [h & 0x0f, pos + 1];
    else if (h === 0xdc) {
      need(bytes, pos, 3);
      [n, p] = [u16(bytes, pos + 1), pos + 3];
    } else {
      need(bytes, pos, 5);
      [n, p] = [u32(bytes, pos + 1), pos + 5];
    }
    need(bytes, p, n);
    for (let i = 0; i < n; i++) p = scanValue(bytes, p, depth + 1);
    return p;
  }
  if (h <= 0xbf || h === 0xd9 || h === 0xda || h === 0xdb) return scanString(bytes, pos)[1];
  switch (h) {
    case 0xc0: case 0xc2: case 0xc3: return pos + 1;
    case 0xc4: need(bytes, pos, 2); need(bytes, pos + 2, bytes[pos + 1]!); return pos + 2 + bytes[pos + 1]!;
    case 0xc5: { need(bytes, pos, 3); const n = u16(bytes, pos + 1); need(bytes, pos + 3, n); return pos + 3 + n; }
    case 0xc6: { need(bytes, pos, 5); const n = u32(bytes, pos + 1); need(bytes, pos + 5, n); return pos + 5 + n; }
    case 0xca: need(bytes, pos, 5); return pos + 5;
    case 0xcb: need(bytes, pos, 9); return pos + 9;
    case 0xcc: case 0xd0: need(bytes, pos, 2); return pos + 2;
    case 0xcd: case 0xd1: need(bytes, pos, 3); return pos + 3;
    case 0xce: case 0xd2: need(bytes, pos, 5); return pos + 5;
    case 0xcf: case 0xd3: need(bytes, pos, 9); return pos + 9;
    default:
      // 0xc1 is never used; 0xc7-0xc9 and 0xd4-0xd8 are ext types, which Python's msgpack
      // does not write for plain data and which could smuggle in timestamps or custom types.
      throw new DecodeError(`unsupported msgpack type byte 0x${h.toString(16)} at byte ${pos}`);
  }
}
