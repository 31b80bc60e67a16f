/**
 * Node side of the platform seam (see `platform-types.ts`): node:crypto and `Buffer`, the fast
 * paths core was tuned on.
 * @internal
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes as nodeRandomBytes,
  randomUUID as nodeRandomUUID,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { isUtf8 as nodeIsUtf8 } from 'node:buffer';
import type { NativeEd25519, Utf8Writer } from './platform-types.js';

/** Which platform module this is. */
export const PLATFORM: 'node' | 'browser' = 'node';

/** A random UUID v4. */
export function randomUUID(): string {
  return nodeRandomUUID();
}

/** `n` cryptographically random bytes. */
export function randomBytes(n: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(n));
}

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return view(bytes).toString('hex');
}

/** Bytes of a hex string already checked to be valid. */
export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return view(bytes).toString('base64');
}

/** Bytes of a base64 string (standard or URL alphabet; other characters skipped, ends at `=`). */
export function fromBase64(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** Whether two arrays of the same length hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return view(a).equals(view(b));
}

/** UTF-8 length of a string (a lone surrogate counts 3, as its replacement character). */
export function utf8ByteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Whether `bytes` are valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  return nodeIsUtf8(bytes);
}

/**
 * Decodes bytes `[s, e)` of `this` known to be ASCII (called as `latin1Slice.call(bytes, s, e)`):
 * Buffer's native `latin1Slice`, when this Node has it.
 */
export const latin1Slice: ((this: Uint8Array, s: number, e: number) => string) | undefined = (
  Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, s: number, e: number) => string }
).latin1Slice;

// Buffer#utf8Write(string, offset) is what Buffer#write calls after validating its
// arguments; it has been on Buffer.prototype in every Node release. Called as a method (a
// `.call` through a variable is not inlined); where it is missing, Buffer#write stands in.
const HAS_UTF8_WRITE = typeof (Buffer.prototype as unknown as Partial<Utf8Writer>).utf8Write === 'function';

/** A UTF-8 writer over `ab[0, size)`. */
export function utf8Writer(ab: ArrayBuffer, size: number): Utf8Writer {
  const buf = Buffer.from(ab, 0, size);
  return HAS_UTF8_WRITE ? (buf as unknown as Utf8Writer) : { utf8Write: (s, offset) => buf.write(s, offset) };
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Node private key object of a 32-byte seed. */
export function nodePrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** Node public key object of a raw 32-byte public key. */
export function nodePublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

// Verifying with node:crypto needs a KeyObject; building one costs more than a hash lookup,
// so recently used keys are kept (bounded, oldest evicted first).
const PUBLIC_KEY_CACHE_MAX = 4096;
const publicKeyCache = new Map<string, KeyObject>();

function cachedNodePublicKey(publicKey: Uint8Array): KeyObject {
  const id = view(publicKey).toString('latin1');
  let key = publicKeyCache.get(id);
  if (!key) {
    key = nodePublicKey(publicKey);
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.delete(publicKeyCache.keys().next().value!);
    publicKeyCache.set(id, key);
  }
  return key;
}

/** Ed25519 through node:crypto (OpenSSL). */
export const nativeEd25519: NativeEd25519 | undefined = {
  prepare: nodePrivateKey,
  publicKey(seed) {
    const der = createPublicKey(nodePrivateKey(seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(der.subarray(SPKI_PREFIX.length));
  },
  sign(data, seed, prepared) {
    const sig = sign(null, data, (prepared as KeyObject | undefined) ?? nodePrivateKey(seed));
    // node:crypto returns a Buffer over its own 64-byte ArrayBuffer: a plain view of it is as
    // private as a copy and costs less. (Copy in case a pooled Buffer is ever returned.)
    return sig.buffer.byteLength === sig.byteLength ? new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength) : new Uint8Array(sig);
  },
  verify(signature, data, publicKey) {
    return verify(null, data, cachedNodePublicKey(publicKey), signature);
  },
};
