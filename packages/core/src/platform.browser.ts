/**
 * Browser side of the platform seam (see `platform-types.ts`): no `node:*` module and no
 * `Buffer`. Randomness and UUIDs come from WebCrypto (`globalThis.crypto`), SHA-256 from
 * `@noble/hashes` (WebCrypto's digest is asynchronous; core's API is not), UTF-8 from
 * `TextEncoder`/`TextDecoder`. There is no native Ed25519: WebCrypto's is asynchronous, so core
 * signs and verifies with `@noble/ed25519` (same signatures; see `ed25519.ts`).
 * @internal
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type * as NodePlatform from './platform.node.js';
import type * as Self from './platform.browser.js';
import type { NativeEd25519, Utf8Writer } from './platform-types.js';

/** Which platform module this is. */
export const PLATFORM: 'node' | 'browser' = 'browser';

interface WebCrypto {
  getRandomValues<T extends Uint8Array>(array: T): T;
  randomUUID?(): string;
}

function webCrypto(): WebCrypto {
  const c = (globalThis as { crypto?: WebCrypto }).crypto;
  if (!c || typeof c.getRandomValues !== 'function') throw new Error('globalThis.crypto.getRandomValues is not available');
  return c;
}

// getRandomValues fills at most 65,536 bytes per call.
const RANDOM_CHUNK = 65_536;

/** `n` cryptographically random bytes (`crypto.getRandomValues`). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const c = webCrypto();
  for (let o = 0; o < n; o += RANDOM_CHUNK) c.getRandomValues(out.subarray(o, Math.min(n, o + RANDOM_CHUNK)));
  return out;
}

/** A random UUID v4 (`crypto.randomUUID`, or built from `getRandomValues` outside a secure context). */
export function randomUUID(): string {
  const c = webCrypto();
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]!;
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** Bytes of a hex string already checked to be valid. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;
B64_VALUE['-'.charCodeAt(0)] = 62; // the URL alphabet decodes too, as Buffer does
B64_VALUE['_'.charCodeAt(0)] = 63;

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  if (i + 1 === n) {
    const v = bytes[i]! << 16;
    out += `${B64[v >> 18]!}${B64[(v >> 12) & 63]!}==`;
  } else if (i + 2 === n) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[v >> 18]!}${B64[(v >> 12) & 63]!}${B64[(v >> 6) & 63]!}=`;
  }
  return out;
}

/**
 * Bytes of a base64 string as `Buffer.from(s, 'base64')` reads it: standard or URL alphabet,
 * other characters (whitespace) skipped, decoding ends at the first `=`.
 */
export function fromBase64(b64: string): Uint8Array {
  const out = new Uint8Array(Math.ceil((b64.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b64.length; i++) {
    const c = b64.charCodeAt(i);
    if (c === 61) break; // '='
    const v = c < 128 ? B64_VALUE[c]! : -1;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.slice(0, o);
}

/** Whether two arrays of the same length hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** UTF-8 length of a string (a lone surrogate counts 3, as its replacement character). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Whether `bytes` are valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    fatalUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// fromCharCode.apply takes its arguments on the stack: decode in slices of this many bytes.
const LATIN1_CHUNK = 4096;

/** Decodes bytes `[s, e)` of `this` known to be ASCII (called as `latin1Slice.call(bytes, s, e)`). */
export const latin1Slice: ((this: Uint8Array, s: number, e: number) => string) | undefined = function latin1(this: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i += LATIN1_CHUNK) {
    out += String.fromCharCode.apply(null, this.subarray(i, Math.min(e, i + LATIN1_CHUNK)) as unknown as number[]);
  }
  return out;
};

const encoder = new TextEncoder();

/** A UTF-8 writer over `ab[0, size)` (`TextEncoder#encodeInto`). */
export function utf8Writer(ab: ArrayBuffer, size: number): Utf8Writer {
  const u8 = new Uint8Array(ab, 0, size);
  return { utf8Write: (s, offset) => encoder.encodeInto(s, u8.subarray(offset)).written };
}

/** No native Ed25519 here: core uses `@noble/ed25519`. */
export const nativeEd25519: NativeEd25519 | undefined = undefined;

// Compile-time check: this module exports what the Node one does (less its Node-only key helpers), with the same types.
type NodeSeam = Omit<typeof NodePlatform, 'nodePrivateKey' | 'nodePublicKey'>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
// eslint-disable-next-line @typescript-eslint/no-unused-vars
type SeamCheck = Assert<Same<typeof Self, NodeSeam>>;
