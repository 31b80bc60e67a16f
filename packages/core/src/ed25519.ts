/**
 * Ed25519 through two interchangeable backends: `node:crypto` (OpenSSL; the fast path, Node
 * only) and `@noble/ed25519` (portable, pure JS; the only one in a browser build, where
 * WebCrypto's Ed25519 is asynchronous). Ed25519 is deterministic, so both give identical
 * signatures; the tests check that, in Node and in Chromium.
 */
import * as noble from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { PLATFORM, nativeEd25519, sha256Hex } from '#platform';
import { KeyError } from './errors.js';

/** Which Ed25519 implementation to use. */
export type Ed25519Backend = 'node' | 'noble';

// noble needs a synchronous SHA-512; set it once unless the application already did.
if (!noble.hashes.sha512) noble.hashes.sha512 = sha512;

/** The backend used when none is named: `node` under Node, `noble` in the browser build. */
export const DEFAULT_ED25519_BACKEND: Ed25519Backend = nativeEd25519 ? 'node' : 'noble';

/** The node:crypto backend; `KeyError` where there is none (the browser build). */
function native(): NonNullable<typeof nativeEd25519> {
  if (!nativeEd25519) throw new KeyError(`the 'node' Ed25519 backend is not available on this platform (${PLATFORM}); use 'noble'`);
  return nativeEd25519;
}

/** A prepared signing key for `seed` (the node backend's key object), or `undefined` for noble. */
export function prepareSigningKey(seed: Uint8Array, backend: Ed25519Backend = DEFAULT_ED25519_BACKEND): object | undefined {
  return backend === 'node' ? native().prepare(seed) : undefined;
}

/** The raw 32-byte public key of a 32-byte seed. */
export function publicKeyOf(seed: Uint8Array, backend: Ed25519Backend = DEFAULT_ED25519_BACKEND): Uint8Array {
  if (seed.byteLength !== 32) throw new KeyError(`an Ed25519 seed is 32 bytes, got ${seed.byteLength}`);
  if (backend === 'noble') return noble.getPublicKey(seed);
  return native().publicKey(seed);
}

/** Signs `data` with a seed (or a key prepared by `prepareSigningKey`). */
export function ed25519Sign(data: Uint8Array, seed: Uint8Array, backend: Ed25519Backend = DEFAULT_ED25519_BACKEND, prepared?: object): Uint8Array {
  if (backend === 'noble') return noble.sign(data, seed);
  return native().sign(data, seed, prepared);
}

/**
 * Verifies an Ed25519 signature. Returns `false` (never throws) for a key that is not 32
 * bytes, a signature that is not 64 bytes, or a point that does not decode. Naming the `node`
 * backend where there is none (the browser build) throws `KeyError`.
 */
export function ed25519Verify(signature: Uint8Array, data: Uint8Array, publicKey: Uint8Array, backend: Ed25519Backend = DEFAULT_ED25519_BACKEND): boolean {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false;
  const impl = backend === 'noble' ? undefined : native();
  try {
    if (impl === undefined) return noble.verify(signature, data, publicKey);
    return impl.verify(signature, data, publicKey);
  } catch {
    return false;
  }
}

/** Lowercase hex SHA-256 of a public key: an agent's fingerprint and id. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return sha256Hex(publicKey);
}
