/**
 * Decoded strings that recur from message to message (map keys, sender and recipient
 * fingerprints), looked up by their bytes: a hit returns the string decoded before instead of
 * building a new one (and, for a map key, internalising it again). Direct-mapped and of fixed
 * size: a string replaces whatever occupied its slot, so the cache holds at most
 * `SLOTS x MAX_BYTES` bytes whatever the input, and a flood of distinct strings costs one
 * small copy each. Only strings that decoded (valid UTF-8) are ever kept.
 * @internal
 */
import { utf8At } from './read.js';

const SLOTS = 1024;
// Longest string kept, in bytes: a fingerprint (64 hex digits) fits.
const MAX_BYTES = 64;
const slab = new Uint8Array(SLOTS * MAX_BYTES);
// Byte length of the string in each slot; 0: empty (the empty string is never looked up).
const lengths = new Uint8Array(SLOTS);
const strings = new Array<string>(SLOTS).fill('');

// A slot from the length and three of the bytes (first, middle, last).
function slotOf(b: Uint8Array, s: number, n: number): number {
  const mix = (n << 24) ^ (b[s]! << 16) ^ (b[s + (n >> 1)]! << 8) ^ b[s + n - 1]!;
  return Math.imul(mix, 0x9e3779b1) >>> 22;
}

/**
 * The string of UTF-8 bytes `[s, e)` of `b`, as `utf8At` decodes it (a `DecodeError` naming
 * `what` when invalid), from the cache when the same bytes were decoded before.
 */
export function recurringString(b: Uint8Array, s: number, e: number, what: string | number): string {
  const n = e - s;
  if (n === 0 || n > MAX_BYTES) return utf8At(b, s, e, what);
  const slot = slotOf(b, s, n);
  const off = slot * MAX_BYTES;
  if (lengths[slot] === n) {
    let i = 0;
    while (i < n && slab[off + i] === b[s + i]) i++;
    if (i === n) return strings[slot]!;
  }
  const str = utf8At(b, s, e, what);
  for (let i = 0; i < n; i++) slab[off + i] = b[s + i]!;
  lengths[slot] = n;
  strings[slot] = str;
  return str;
}
