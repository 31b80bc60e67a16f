// The reference's symmetric, kdf and encrypted-payload vectors, read in place.
import { expect, it } from 'vitest';
import { CryptoError, Identity, bytesToHex, decodeMessage, encodeValue, hexToBytes, verifyMessage } from '@converge/core';
import { describeWithVectors, vectors, fromTyped } from '../../../core/test/vectors.js';
import { decrypt, decryptPayload, deriveKey, deriveKeySync, encrypt, pythonJsonDumps } from '../../src/crypto/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const ad = (hex: string | null): Uint8Array | undefined => (hex === null ? undefined : hexToBytes(hex));
const identity = (name: string): Identity => {
  const rec = (vectors.identities as Any[]).find((i) => i.name === name);
  return Identity.fromSecretKey(hexToBytes(rec.seed));
};

describeWithVectors('symmetric vectors', () => {
  const cases: Any[] = vectors.symmetric.vectors;
  it('has vectors', () => expect(cases.length).toBeGreaterThan(0));
  for (const v of cases) {
    it(`${v.name}: encrypt with the given nonce equals output`, () => {
      const out = encrypt(hexToBytes(v.key), hexToBytes(v.plaintext), { nonce: hexToBytes(v.nonce), associatedData: ad(v.associated_data) });
      expect(bytesToHex(out)).toBe(v.output);
    });
    it(`${v.name}: decrypt of output gives the plaintext`, () => {
      const pt = decrypt(hexToBytes(v.key), hexToBytes(v.output), { associatedData: ad(v.associated_data) });
      expect(bytesToHex(pt)).toBe(v.plaintext);
    });
  }
  const failures: Any[] = vectors.symmetric.decrypt_failures;
  it('has failure cases', () => expect(failures.length).toBeGreaterThan(0));
  for (const f of failures) {
    it(`decrypt failure ${f.name} throws CryptoError`, () => {
      expect(() => decrypt(hexToBytes(f.key), hexToBytes(f.input), { associatedData: ad(f.associated_data) })).toThrow(CryptoError);
    });
  }
});

describeWithVectors('kdf vectors', () => {
  const cases: Any[] = vectors.kdf;
  it('has vectors', () => expect(cases.length).toBeGreaterThan(0));
  for (const v of cases) {
    const opts = (): { length?: number; iterations?: number } => {
      const o: { length?: number; iterations?: number } = {};
      if (!v.defaults_used.includes('length')) o.length = v.length;
      if (!v.defaults_used.includes('iterations')) o.iterations = v.iterations;
      return o;
    };
    it(`${v.name}: deriveKey (async) matches`, async () => {
      expect(v.function).toBe('PBKDF2-HMAC-SHA256');
      expect(bytesToHex(await deriveKey(v.password, hexToBytes(v.salt), opts()))).toBe(v.key);
    });
    it(`${v.name}: deriveKeySync matches, from the UTF-8 bytes too`, () => {
      expect(bytesToHex(deriveKeySync(hexToBytes(v.password_utf8), hexToBytes(v.salt), opts()))).toBe(v.key);
    });
  }
});

describeWithVectors('encrypted payload vectors', () => {
  const cases: Any[] = vectors.encrypted_payloads.vectors;
  it('has vectors', () => expect(cases.length).toBeGreaterThan(0));
  for (const v of cases) {
    it(`${v.name}: decode, verify, decrypt (bindMetadata false)`, () => {
      const msg = decodeMessage(hexToBytes(v.encoded));
      expect(verifyMessage(msg, identity(v.signer))).toBe(true);
      const payload = decryptPayload(msg, hexToBytes(v.key), { bindMetadata: false });
      // Compared through the codec so that int vs float and key order count.
      expect(bytesToHex(encodeValue(payload))).toBe(bytesToHex(encodeValue(fromTyped(v.decoded_payload_after_decrypt))));
    });
    it(`${v.name}: decrypt with the wrong key or bound metadata fails with CryptoError`, () => {
      const msg = decodeMessage(hexToBytes(v.encoded));
      const wrong = hexToBytes(v.key);
      wrong[0] ^= 1;
      expect(() => decryptPayload(msg, wrong, { bindMetadata: false })).toThrow(CryptoError);
      expect(() => decryptPayload(msg, hexToBytes(v.key))).toThrow(CryptoError);
    });
    if (v.kdf !== undefined) {
      it(`${v.name}: the key comes from its kdf parameters`, async () => {
        const key = await deriveKey(v.kdf.password, hexToBytes(v.kdf.salt), { iterations: v.kdf.iterations, length: v.kdf.length });
        expect(bytesToHex(key)).toBe(v.key);
      });
    }
    if (v.plaintext_payload !== undefined) {
      it(`${v.name}: our Python json.dumps form equals plaintext_json`, () => {
        const json = pythonJsonDumps(fromTyped(v.plaintext_payload));
        expect(json).toBe(v.plaintext_json);
        expect(bytesToHex(new TextEncoder().encode(json))).toBe(v.plaintext_json_utf8);
      });
      it(`${v.name}: re-encrypting with the vector's nonce reproduces the reference ciphertext`, () => {
        const sealed = encrypt(hexToBytes(v.key), pythonJsonDumps(fromTyped(v.plaintext_payload)), { nonce: hexToBytes(v.nonce) });
        expect(bytesToHex(sealed)).toBe(v.encrypted_raw);
      });
    }
  }
});
