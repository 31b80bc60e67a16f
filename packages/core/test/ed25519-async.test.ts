// verifyMessageAsync / ed25519VerifyAsync under Node: the node:crypto path, the same answers as
// the synchronous verifier, never a rejection. (The WebCrypto path runs in Chromium:
// test/browser/core-browser.test.ts.)
import { describe, expect, it } from 'vitest';
import {
  Identity,
  createMessage,
  decodeMessage,
  ed25519AsyncBackend,
  ed25519VerifyAsync,
  encodeMessage,
  signMessage,
  signingBytes,
  verifyMessage,
  verifyMessageAsync,
} from '@converge/core';

describe('asynchronous Ed25519 verification', () => {
  it('uses node:crypto under Node and agrees with verifyMessage on good and forged messages', async () => {
    expect(await ed25519AsyncBackend()).toBe('node');
    const me = Identity.generate();
    const m = signMessage(createMessage({ payload: { hello: 'async' } }), me);
    expect(await verifyMessageAsync(m, me)).toBe(true);
    expect(await verifyMessageAsync(decodeMessage(encodeMessage(m)), me.publicKey)).toBe(true);
    expect(await verifyMessageAsync(m, Identity.generate())).toBe(false);
    const bytes = encodeMessage(m);
    bytes[bytes.length - 70]! ^= 1;
    const forged = decodeMessage(bytes);
    expect(verifyMessage(forged, me)).toBe(false);
    expect(await verifyMessageAsync(forged, me)).toBe(false);
  });

  it('is false, never a rejection, for malformed keys, signatures and unsigned messages', async () => {
    const me = Identity.generate();
    const m = signMessage(createMessage({ payload: 1 }), me);
    expect(await verifyMessageAsync(m, new Uint8Array(31))).toBe(false);
    expect(await verifyMessageAsync(createMessage({ payload: 1 }), me)).toBe(false);
    expect(await ed25519VerifyAsync(m.signature.subarray(0, 63), signingBytes(m), me.publicKey)).toBe(false);
    expect(await ed25519VerifyAsync(m.signature, signingBytes(m), new Uint8Array(32).fill(0xff))).toBe(false);
    expect(await ed25519VerifyAsync(m.signature, signingBytes(m), me.publicKey)).toBe(true);
  });
});
