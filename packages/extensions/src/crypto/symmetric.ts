// AES-256-GCM in the reference's layout: nonce(12) ‖ ciphertext ‖ tag(16).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoError } from '@converge/core';

/** AES-256 key length in bytes. */
export const KEY_BYTES = 32;
/** GCM nonce length in bytes (random per message unless given). */
export const NONCE_BYTES = 12;
/** GCM authentication tag length in bytes. */
export const TAG_BYTES = 16;
/** Shortest valid `encrypt` output: a nonce and a tag around an empty ciphertext (28 bytes). */
export const MIN_SEALED_BYTES = NONCE_BYTES + TAG_BYTES;

/** Options of {@link encrypt}. */
export interface EncryptOptions {
  /** Authenticated but unencrypted data; `decrypt` must be given the same bytes. Empty = none. */
  associatedData?: Uint8Array | null;
  /**
   * The 12-byte nonce. Leave unset (a fresh random nonce is drawn): reusing a nonce with the
   * same key breaks GCM completely. Meant for test vectors only.
   */
  nonce?: Uint8Array;
}

/** Options of {@link decrypt}. */
export interface DecryptOptions {
  /** The associated data given to `encrypt` (none / empty when it was not). */
  associatedData?: Uint8Array | null;
}

const enc = new TextEncoder();

function checkKey(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array)) throw new CryptoError('the key must be a Uint8Array');
  if (key.byteLength !== KEY_BYTES) throw new CryptoError(`the key must be ${KEY_BYTES} bytes for AES-256, got ${key.byteLength}`);
  return key;
}

function checkAd(ad: unknown): Uint8Array | undefined {
  if (ad === undefined || ad === null) return undefined;
  if (!(ad instanceof Uint8Array)) throw new CryptoError('associatedData must be a Uint8Array');
  return ad.byteLength === 0 ? undefined : ad;
}

/**
 * Encrypts with AES-256-GCM; returns `nonce(12) ‖ ciphertext ‖ tag(16)`, as the reference's
 * `crypto.symmetric.encrypt` does. `plaintext` may be a string (UTF-8). Throws `CryptoError`
 * for a key that is not 32 bytes, a nonce that is not 12 bytes, or input of the wrong type.
 */
export function encrypt(key: Uint8Array, plaintext: Uint8Array | string, options: EncryptOptions = {}): Uint8Array {
  checkKey(key);
  const data = typeof plaintext === 'string' ? enc.encode(plaintext) : plaintext;
  if (!(data instanceof Uint8Array)) throw new CryptoError('the plaintext must be a Uint8Array or a string');
  const nonce = options.nonce ?? randomBytes(NONCE_BYTES);
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== NONCE_BYTES) throw new CryptoError(`the nonce must be ${NONCE_BYTES} bytes`);
  const ad = checkAd(options.associatedData);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    if (ad) cipher.setAAD(ad);
    const head = cipher.update(data);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(NONCE_BYTES + head.byteLength + tail.byteLength + TAG_BYTES);
    out.set(nonce, 0);
    out.set(head, NONCE_BYTES);
    out.set(tail, NONCE_BYTES + head.byteLength);
    out.set(tag, out.byteLength - TAG_BYTES);
    return out;
  } catch (err) {
    throw new CryptoError('encryption failed', { cause: err });
  }
}

/**
 * Decrypts `nonce ‖ ciphertext ‖ tag` made by {@link encrypt} (or the reference). Throws only
 * `CryptoError`: wrong key or key length, data shorter than 28 bytes, tampered data, wrong or
 * missing associated data. Never returns unauthenticated plaintext.
 */
export function decrypt(key: Uint8Array, data: Uint8Array, options: DecryptOptions = {}): Uint8Array {
  checkKey(key);
  if (!(data instanceof Uint8Array)) throw new CryptoError('the data must be a Uint8Array');
  if (data.byteLength < MIN_SEALED_BYTES) throw new CryptoError(`ciphertext too short: ${data.byteLength} bytes, need at least ${MIN_SEALED_BYTES}`);
  const ad = checkAd(options.associatedData);
  const nonce = data.subarray(0, NONCE_BYTES);
  const tag = data.subarray(data.byteLength - TAG_BYTES);
  const body = data.subarray(NONCE_BYTES, data.byteLength - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    if (ad) decipher.setAAD(ad);
    const head = decipher.update(body);
    const tail = decipher.final(); // throws when the tag does not verify
    if (tail.byteLength === 0) return new Uint8Array(head.buffer, head.byteOffset, head.byteLength);
    const out = new Uint8Array(head.byteLength + tail.byteLength);
    out.set(head, 0);
    out.set(tail, head.byteLength);
    return out;
  } catch (err) {
    // Same message whatever went wrong: no oracle on which part failed.
    throw new CryptoError('decryption failed: wrong key, wrong associated data or tampered data', { cause: err });
  }
}
