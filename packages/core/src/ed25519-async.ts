/**
 * Asynchronous Ed25519 verification, for callers that verify many messages where there is no
 * synchronous native Ed25519 (a browser page): WebCrypto's `crypto.subtle` Ed25519 when the
 * runtime has it (native code, far faster than pure JS), else `@noble/ed25519`. Under Node the
 * synchronous node:crypto path is used (already native). Results are those of `ed25519Verify`
 * for every well-formed input; like it, these never throw for malformed input.
 */
import { nativeEd25519 } from '#platform';
import { DEFAULT_ED25519_BACKEND, ed25519Verify } from './ed25519.js';
import { Identity, isIdentity } from './identity.js';
import { signingBytes, type Message } from './message.js';

/** Which implementation `ed25519VerifyAsync` uses: `node` (node:crypto), `webcrypto` or `noble`. */
export type Ed25519AsyncBackend = 'node' | 'webcrypto' | 'noble';

interface SubtleLike {
  importKey(format: 'raw', key: Uint8Array, algorithm: { name: 'Ed25519' }, extractable: boolean, usages: string[]): Promise<unknown>;
  verify(algorithm: { name: 'Ed25519' }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

function subtle(): SubtleLike | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
}

// A known-good key (RFC 8032 test 1) to probe whether crypto.subtle does Ed25519.
const PROBE_KEY = new Uint8Array([
  0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02,
  0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
]);

let probed: Promise<Ed25519AsyncBackend> | undefined;

/** The implementation `ed25519VerifyAsync` picks here (probed once). */
export function ed25519AsyncBackend(): Promise<Ed25519AsyncBackend> {
  if (nativeEd25519) return Promise.resolve('node');
  probed ??= (async (): Promise<Ed25519AsyncBackend> => {
    const s = subtle();
    if (!s) return 'noble';
    try {
      await s.importKey('raw', PROBE_KEY, { name: 'Ed25519' }, false, ['verify']);
      return 'webcrypto';
    } catch {
      return 'noble';
    }
  })();
  return probed;
}

// Imported WebCrypto keys, by public key (bounded; the oldest is evicted first).
const WEBCRYPTO_KEY_CACHE_MAX = 4096;
const webKeys = new Map<string, Promise<unknown>>();

function webKey(s: SubtleLike, publicKey: Uint8Array): Promise<unknown> {
  let id = '';
  for (let i = 0; i < publicKey.length; i++) id += String.fromCharCode(publicKey[i]!);
  let key = webKeys.get(id);
  if (!key) {
    key = s.importKey('raw', publicKey.slice(), { name: 'Ed25519' }, false, ['verify']);
    key.catch(() => webKeys.delete(id));
    if (webKeys.size >= WEBCRYPTO_KEY_CACHE_MAX) webKeys.delete(webKeys.keys().next().value!);
    webKeys.set(id, key);
  }
  return key;
}

/**
 * Verifies an Ed25519 signature, asynchronously where that is faster (see the module notes).
 * `false` (never a rejection) for a key that is not 32 bytes, a signature that is not 64 bytes,
 * or a key that does not decode.
 */
export async function ed25519VerifyAsync(signature: Uint8Array, data: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false;
  const backend = await ed25519AsyncBackend();
  if (backend !== 'webcrypto') return ed25519Verify(signature, data, publicKey, DEFAULT_ED25519_BACKEND);
  const s = subtle()!;
  try {
    return await s.verify({ name: 'Ed25519' }, await webKey(s, publicKey), signature.slice(), data);
  } catch {
    return false;
  }
}

/**
 * `verifyMessage`, asynchronously (WebCrypto in a browser that has Ed25519): whether `msg`
 * carries a valid signature by `publicKey`. Never rejects; a decoded message is checked against
 * the payload bytes it arrived with.
 */
export async function verifyMessageAsync(msg: Message, publicKey: Uint8Array | Identity): Promise<boolean> {
  let data: Uint8Array;
  let key: Uint8Array;
  try {
    key = isIdentity(publicKey) ? publicKey.publicKey : publicKey;
    if (!(key instanceof Uint8Array) || key.byteLength !== 32) return false;
    if (!(msg.signature instanceof Uint8Array) || msg.signature.byteLength !== 64) return false;
    data = signingBytes(msg);
  } catch {
    return false;
  }
  return ed25519VerifyAsync(msg.signature, data, key);
}
