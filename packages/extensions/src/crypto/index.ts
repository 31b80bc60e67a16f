/**
 * `@converge/extensions/crypto`: AES-256-GCM (`encrypt`/`decrypt`, the reference's
 * nonce ‖ ciphertext ‖ tag layout), encrypted message payloads (`encryptPayload` /
 * `decryptPayload`, encrypt-then-sign), key derivation (PBKDF2 as the reference, HKDF, scrypt),
 * secure random bytes, and Python-`json.dumps`-compatible JSON. Built on `node:crypto`.
 * @packageDocumentation
 */
export * from './symmetric.js';
export * from './kdf.js';
export * from './payload.js';
export * from './python-json.js';
