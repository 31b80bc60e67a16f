import { fromBase64, fromHex, sameBytes, toBase64, toHex } from '#platform';

/** Lowercase hex of bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  return toHex(bytes);
}

/** Bytes of a hex string (even length, 0-9a-f); throws `TypeError` otherwise. */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('invalid hex string');
  return fromHex(hex);
}

/** Standard base64 with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  return toBase64(bytes);
}

/**
 * Bytes of a base64 string, read as Node's `Buffer.from(s, 'base64')` does (on every platform):
 * the standard or URL alphabet, other characters skipped, decoding ends at the first `=`.
 */
export function base64ToBytes(b64: string): Uint8Array {
  return fromBase64(b64);
}

/** Whether two byte arrays are equal (not constant-time; use `timingSafeEqual` for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return sameBytes(a, b);
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
