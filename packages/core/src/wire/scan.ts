/**
 * A structural scanner for msgpack: finds where a value ends without building it.
 *
 * It is how the message decoder finds the raw bytes of the payload (kept, so that a peer's
 * encoding choices never break its signature), and it validates a frame before the decoder
 * allocates anything: truncation, ext types (never sent by the reference), non-string map
 * keys and nesting depth are `DecodeError`s, and a declared length (even 4 GiB) is checked
 * against the bytes actually present before anything relies on it, so no length can make a
 * decoder allocate beyond its input.
 *
 * Every string (map keys included) must be valid UTF-8 — no overlong forms (`C0 AF`), no
 * surrogates, no sequence cut short by the end of the string — or the scan throws
 * `DecodeError`, as Python's msgpack does (`scanForDecode` leaves that check to the decoder
 * that reads every string of the value right after, with a fatal UTF-8 decoder). ASCII
 * strings take a fast path.
 */
import { isUtf8 } from '#platform';
import { DecodeError } from '../errors.js';
import { viewOf } from '../alloc.js';
import { FIXED_SIZE, LENGTH_WIDTH, lengthAt } from './read.js';

/** Deepest nesting the codec reads or writes. */
export const MAX_DEPTH = 100;

// Whether strings are checked for valid UTF-8: off only during `scanForDecode`.
let checkText = true;

/**
 * `scanValue` for a value that is decoded right after, all of it: the UTF-8 check of its
 * strings is left to the decoder, which decodes every string with a fatal UTF-8 decoder
 * (`utf8At`), so an invalid string is still a `DecodeError`, found once instead of twice.
 */
export function scanForDecode(bytes: Uint8Array, pos: number, depth = 0): number {
  checkText = false;
  try {
    return scanValue(bytes, pos, depth);
  } finally {
    checkText = true;
  }
}

function truncated(pos: number, n: number): DecodeError {
  return new DecodeError(`truncated msgpack at byte ${pos}: need ${n} more bytes`);
}

function need(bytes: Uint8Array, pos: number, n: number): void {
  if (pos + n > bytes.byteLength) throw truncated(pos, n);
}

// End of the string whose start `strStart` returned (avoids allocating a tuple per key).
let strEnd = 0;

/** Start of the UTF-8 bytes of the str at `pos` (sets `strEnd`); throws if not a complete str. */
function strStart(bytes: Uint8Array, pos: number): number {
  need(bytes, pos, 1);
  const h = bytes[pos]!;
  let len: number;
  let start: number;
  if (h >= 0xa0 && h <= 0xbf) {
    len = h & 0x1f;
    start = pos + 1;
  } else if (h >= 0xd9 && h <= 0xdb) {
    const width = LENGTH_WIDTH[h]!;
    need(bytes, pos, 1 + width);
    len = lengthAt(bytes, pos + 1, width);
    start = pos + 1 + width;
  } else throw new DecodeError(`expected a string at byte ${pos}, found type byte 0x${h.toString(16)}`);
  need(bytes, start, len);
  strEnd = start + len;
  if (len > 0 && checkText) checkUtf8(bytes, start, strEnd);
  return start;
}

// A container at 0-based depth `depth` is the (depth + 1)-th level: the encoder's limit is
// MAX_DEPTH containers deep, so one more is refused here too (an empty one included).
function checkContainerDepth(depth: number): void {
  if (depth >= MAX_DEPTH) throw new DecodeError(`nesting deeper than ${MAX_DEPTH}`);
}

function scanMap(bytes: Uint8Array, p: number, count: number, depth: number): number {
  checkContainerDepth(depth);
  // Each entry takes at least 2 bytes: reject impossible counts before looping.
  if (count * 2 > bytes.byteLength - p) throw truncated(p, count * 2);
  for (let i = 0; i < count; i++) {
    // Earlier values may have used up the bytes the header promised to the later entries.
    if (p >= bytes.byteLength) throw truncated(p, 2);
    const h = bytes[p]!;
    const isStr = (h >= 0xa0 && h <= 0xbf) || h === 0xd9 || h === 0xda || h === 0xdb;
    if (!isStr) throw new DecodeError(`map key at byte ${p} is not a string (type byte 0x${h.toString(16)})`);
    strStart(bytes, p);
    p = scanValue(bytes, strEnd, depth + 1);
  }
  return p;
}

function scanArray(bytes: Uint8Array, p: number, count: number, depth: number): number {
  checkContainerDepth(depth);
  // Each item takes at least 1 byte.
  if (count > bytes.byteLength - p) throw truncated(p, count);
  for (let i = 0; i < count; i++) p = scanValue(bytes, p, depth + 1);
  return p;
}

// Strings up to this many bytes are checked for ASCII in JS first; longer ones (or any with a
// byte >= 0x80) go to the native validator, whose call costs more than a short loop.
const ASCII_LOOP_MAX = 128;

/** Checks that bytes `[start, end)` are valid UTF-8; throws `DecodeError` otherwise. */
function checkUtf8(bytes: Uint8Array, start: number, end: number): void {
  if (end - start <= ASCII_LOOP_MAX) {
    let acc = 0;
    for (let i = start; i < end; i++) acc |= bytes[i]!;
    if (acc < 0x80) return;
  }
  if (!isUtf8(viewOf(bytes, start, end))) throw new DecodeError(`string at byte ${start} is not valid UTF-8`);
}

function skipString(bytes: Uint8Array, start: number, len: number): number {
  const end = skipBytes(bytes, start, len);
  if (len > 0 && checkText) checkUtf8(bytes, start, end);
  return end;
}

function skipBytes(bytes: Uint8Array, start: number, len: number): number {
  if (start + len > bytes.byteLength) throw truncated(start, len);
  return start + len;
}

/** Returns the offset just past the msgpack value starting at `pos`. Map keys must be strings. */
export function scanValue(bytes: Uint8Array, pos: number, depth = 0): number {
  if (depth > MAX_DEPTH) throw new DecodeError(`nesting deeper than ${MAX_DEPTH}`);
  if (pos >= bytes.byteLength) throw truncated(pos, 1);
  const h = bytes[pos]!;
  const size = FIXED_SIZE[h]!;
  if (size !== 0) {
    need(bytes, pos, size);
    return pos + size;
  }
  if (h <= 0x8f) return scanMap(bytes, pos + 1, h & 0x0f, depth);
  if (h <= 0x9f) return scanArray(bytes, pos + 1, h & 0x0f, depth);
  if (h <= 0xbf) return skipString(bytes, pos + 1, h & 0x1f);
  return scanSized(bytes, pos, h, depth);
}

// A bin, str, array or map with a length field (8, 16 or 32 bits) after its type byte.
function scanSized(bytes: Uint8Array, pos: number, h: number, depth: number): number {
  const width = LENGTH_WIDTH[h]!;
  // 0xc1 is never used; 0xc7-0xc9 and 0xd4-0xd8 are ext types, which Python's msgpack
  // does not write for plain data and which could smuggle in timestamps or custom types.
  if (width === 0) throw new DecodeError(`unsupported msgpack type byte 0x${h.toString(16)} at byte ${pos}`);
  need(bytes, pos, 1 + width);
  const n = lengthAt(bytes, pos + 1, width);
  const start = pos + 1 + width;
  if (h <= 0xc6) return skipBytes(bytes, start, n);
  if (h <= 0xdb) return skipString(bytes, start, n);
  if (h <= 0xdd) return scanArray(bytes, start, n, depth);
  return scanMap(bytes, start, n, depth);
}
