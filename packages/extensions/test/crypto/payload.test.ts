import { describe, expect, it } from 'vitest';
import { createMessage, CryptoError, decodeMessage, encodeMessage, encodeValue, Float64, Identity, signMessage, ValidationError } from '@converge/core';
import { verifyMessage } from '@converge/core';
import type { WireValue } from '@converge/core';
import { ENCRYPTED_KEY, decryptPayload, encryptPayload, isEncryptedPayload, secureRandomBytes } from '../../src/crypto/index.js';

const alice = Identity.generate();
const bob = Identity.generate();
const key = secureRandomBytes(32);
const payload = { task: 'sum', args: [1, 2, 3], big: 2n ** 60n, ratio: new Float64(2), half: 0.5, note: 'héllo ✓' };

describe('encryptPayload / decryptPayload', () => {
  it('encrypt, sign, encode, decode, verify, decrypt (metadata bound)', () => {
    const msg = createMessage({ recipient: bob.fingerprint, payload });
    const sealed = encryptPayload(msg, key, { sender: alice });
    expect(isEncryptedPayload(sealed)).toBe(true);
    expect(sealed.signature.byteLength).toBe(0);
    expect(Object.keys(sealed.payload as object)).toEqual([ENCRYPTED_KEY]);
    const wire = decodeMessage(encodeMessage(signMessage(sealed, alice)));
    expect(verifyMessage(wire, alice)).toBe(true);
    const out = decryptPayload(wire, key);
    // Exact types survive: bigint, the 2.0 float, plain numbers, key order.
    expect(encodeValue(out)).toEqual(encodeValue(payload));
    expect((out as Record<string, unknown>).big).toBe(2n ** 60n);
    expect((out as Record<string, unknown>).ratio).toBeInstanceOf(Float64);
  });

  it('bound metadata: moving the ciphertext to another id, sender or recipient fails', () => {
    const sealed = encryptPayload(createMessage({ recipient: bob.fingerprint, payload }), key, { sender: alice.fingerprint });
    const moved = [
      createMessage({ ...sealed, id: crypto.randomUUID() }),
      createMessage({ ...sealed, sender: bob.fingerprint }),
      createMessage({ ...sealed, recipient: null }),
    ];
    for (const m of moved) expect(() => decryptPayload(m, key)).toThrow(CryptoError);
    expect(() => decryptPayload(sealed, key, { bindMetadata: false })).toThrow(CryptoError);
    expect(encodeValue(decryptPayload(sealed, key))).toEqual(encodeValue(payload));
  });

  it('bindMetadata false: the reference format, readable without metadata', () => {
    const sealed = encryptPayload(createMessage({ payload: { a: 1 } }), key, { bindMetadata: false });
    expect(decryptPayload(createMessage({ ...sealed, id: 'other' }), key, { bindMetadata: false })).toEqual({ a: 1 });
  });

  it('refuses a signed message: encrypt, then sign', () => {
    const signed = signMessage(createMessage({ payload }), alice);
    expect(() => encryptPayload(signed, key)).toThrow(CryptoError);
  });

  it('bound metadata needs a sender', () => {
    expect(() => encryptPayload(createMessage({ payload }), key)).toThrow(ValidationError);
    expect(() => encryptPayload(createMessage({ payload, sender: alice.fingerprint }), key, { sender: bob })).toThrow(ValidationError);
    expect(encryptPayload(createMessage({ payload, sender: alice.fingerprint }), key).sender).toBe(alice.fingerprint);
  });

  it('a payload JSON cannot carry is refused; a bad key is a CryptoError', () => {
    expect(() => encryptPayload(createMessage({ payload: { b: new Uint8Array(2) } }), key, { sender: alice })).toThrow(ValidationError);
    expect(() => encryptPayload(createMessage({ payload }), new Uint8Array(16), { sender: alice })).toThrow(CryptoError);
  });

  it('decrypting anything malformed is a CryptoError', () => {
    const good = encryptPayload(createMessage({ payload }), key, { sender: alice });
    const b64 = (good.payload as Record<string, string>)[ENCRYPTED_KEY]!;
    const bad: WireValue[] = [
      { a: 1 },
      'text',
      [b64],
      { [ENCRYPTED_KEY]: 5 },
      { [ENCRYPTED_KEY]: b64, extra: 1 },
      { [ENCRYPTED_KEY]: '!!not base64!!' },
      { [ENCRYPTED_KEY]: b64.slice(0, 20) },
      // A different first character (a fixed 'A' would equal the original one time in 64).
      { [ENCRYPTED_KEY]: (b64.startsWith('A') ? 'B' : 'A') + b64.slice(1) },
    ];
    for (const p of bad) expect(() => decryptPayload(createMessage({ ...good, payload: p }), key)).toThrow(CryptoError);
    expect(() => decryptPayload(good, secureRandomBytes(32))).toThrow(CryptoError);
  });

  it('non-JSON plaintext under the right key is a CryptoError', async () => {
    const { encrypt } = await import('../../src/crypto/index.js');
    const sealed = Buffer.from(encrypt(key, '{not json')).toString('base64');
    expect(() => decryptPayload(createMessage({ payload: { [ENCRYPTED_KEY]: sealed } }), key, { bindMetadata: false })).toThrow(CryptoError);
  });
});
