import { describe, expect, it } from 'vitest';
import { CryptoError } from '@converge/core';
import { MIN_SEALED_BYTES, NONCE_BYTES, TAG_BYTES, decrypt, encrypt, secureRandomBytes } from '../../src/crypto/index.js';

const key = secureRandomBytes(32);
const text = new TextEncoder().encode('attack at dawn');

describe('encrypt / decrypt', () => {
  it('round-trips, with a fresh random nonce each time', () => {
    const a = encrypt(key, text);
    const b = encrypt(key, text);
    expect(a.byteLength).toBe(NONCE_BYTES + text.byteLength + TAG_BYTES);
    expect(a.subarray(0, NONCE_BYTES)).not.toEqual(b.subarray(0, NONCE_BYTES));
    expect(decrypt(key, a)).toEqual(text);
    expect(new TextDecoder().decode(decrypt(key, encrypt(key, 'héllo')))).toBe('héllo');
  });

  it('an empty associated data is the same as none', () => {
    const sealed = encrypt(key, text, { associatedData: new Uint8Array(0) });
    expect(decrypt(key, sealed)).toEqual(text);
  });

  it('wrong or missing associated data fails with CryptoError', () => {
    const sealed = encrypt(key, text, { associatedData: new Uint8Array([1, 2, 3]) });
    expect(decrypt(key, sealed, { associatedData: new Uint8Array([1, 2, 3]) })).toEqual(text);
    expect(() => decrypt(key, sealed)).toThrow(CryptoError);
    expect(() => decrypt(key, sealed, { associatedData: new Uint8Array([1, 2, 4]) })).toThrow(CryptoError);
    expect(() => decrypt(key, encrypt(key, text), { associatedData: new Uint8Array([1]) })).toThrow(CryptoError);
  });

  it('every flipped bit is detected', () => {
    const sealed = encrypt(key, text);
    for (let i = 0; i < sealed.byteLength; i++) {
      const t = sealed.slice();
      t[i] ^= 0x01;
      expect(() => decrypt(key, t)).toThrow(CryptoError);
    }
  });

  it('short data and bad keys fail with CryptoError, never another type', () => {
    const sealed = encrypt(key, text);
    for (const n of [0, 1, MIN_SEALED_BYTES - 1]) expect(() => decrypt(key, sealed.subarray(0, n))).toThrow(CryptoError);
    for (const k of [new Uint8Array(16), new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
      expect(() => decrypt(k, sealed)).toThrow(CryptoError);
      expect(() => encrypt(k, text)).toThrow(CryptoError);
    }
    expect(() => decrypt('k' as never, sealed)).toThrow(CryptoError);
    expect(() => decrypt(key, 'data' as never)).toThrow(CryptoError);
    expect(() => encrypt(key, text, { nonce: new Uint8Array(8) })).toThrow(CryptoError);
    expect(() => encrypt(key, 42 as never)).toThrow(CryptoError);
  });

  it('errors carry the stable code', () => {
    try {
      decrypt(key, new Uint8Array(40));
      expect.unreachable();
    } catch (err) {
      expect((err as CryptoError).code).toBe('ERR_CRYPTO');
      expect((err as Error).message).not.toContain('attack');
    }
  });
});
