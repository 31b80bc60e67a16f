/**
 * Ed25519 through two interchangeable backends: `node:crypto` (OpenSSL; the fast path) and
 * `@noble/ed25519` (portable, pure JS). Ed25519 is deterministic, so both give identical
 * signatures; the tests check that.
 */
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import * as noble from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { KeyError } from './errors.js';

/** Which Ed25519 implementation to use. */
export type Ed25519Backend = 'node' | 'noble';

// noble needs a synchronous SHA-512; set it once unless the application already did.
if (!noble.hashes.sha512) noble.hashes.sha512 = sha512;

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

/** The raw 32-byte public key of a 32-byte seed. */
export function publicKeyOf(seed: Uint8Array, backend: Ed25519Backend = 'node'): Uint8Array {
  if (seed.byteLength !== 32) throw new KeyError(`an Ed25519 seed is 32 bytes, got ${seed.byteLength}`);
  if (backend === 'noble') return noble.getPublicKey(seed);
  const der = createPublicKey(nodePrivateKey(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(SPKI_PREFIX.length));
}

// Verifying with node:crypto needs a KeyObject; building one costs more than a hash lookup,
// so recently used keys are kept (bounded, oldest evicted first).
const PUBLIC_KEY_CACHE_MAX = 4096;
const publicKeyCache = new Map<string, KeyObject>();

function cachedNodePublicKey(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
  let key = publicKeyCache.get(id);
  if (!key) {
    key = nodePublicKey(publicKey);
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.delete(publicKeyCache.keys().next().value!);
    publicKeyCache.set(id, key);
  }
  return key;
}

/** Signs `data` with a seed (or a prepared node key object). */
export function ed25519Sign(data: Uint8Array, seed: Uint8Array, backend: Ed25519Backend = 'node', nodeKey?: KeyObject): Uint8Array {
  if (backend === 'noble') return noble.sign(data, seed);
  const sig = nodeSign(null, data, nodeKey ?? nodePrivateKey(seed));
  // node:crypto returns a Buffer over its own 64-byte ArrayBuffer: a plain view of it is as
  // private as a copy and costs less. (Copy in case a pooled Buffer is ever returned.)
  return sig.buffer.byteLength === sig.byteLength ? new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength) : new Uint8Array(sig);
}

/**
 * Verifies an Ed25519 signature. Returns `false` (never throws) for a key that is not 32
 * bytes, a signature that is not 64 bytes, or a point that does not decode.
 */
export function ed25519Verify(signature: Uint8Array, data: Uint8Array, publicKey: Uint8Array, backend: Ed25519Backend = 'node'): boolean {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false;
  try {
    if (backend === 'noble') return noble.verify(signature, data, publicKey);
    return nodeVerify(null, data, cachedNodePublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

/** Lowercase hex SHA-256 of a public key: an agent's fingerprint and id. */
export function fingerprintOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}
