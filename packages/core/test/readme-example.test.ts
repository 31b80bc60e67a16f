// The example of README.md, as written there: it must keep working.
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, createTopic, signMessage, encodeMessage, decodeMessage, verifyMessage, DecodeError } from '@converge/core';

describe('README example', () => {
  it('identity → create, sign, encode, decode, verify; keys persist through toJSON/fromJSON', () => {
    const alice = Identity.generate();
    const bob = Identity.generate();
    const msg = signMessage(
      createMessage({ recipient: bob.fingerprint, topics: [createTopic('tasks', { type: 'compute' })], payload: { action: 'sum', args: [1, 2, 3] } }),
      alice,
    );
    const bytes = encodeMessage(msg);
    const received = decodeMessage(bytes);
    expect(verifyMessage(received, alice.publicKey)).toBe(true);
    expect(received.sender).toBe(alice.fingerprint);
    expect(received.payload).toEqual({ action: 'sum', args: [1, 2, 3] });
    expect(() => decodeMessage(bytes.subarray(1))).toThrow(DecodeError);
    const again = Identity.fromJSON(alice.toJSON({ includeSecret: true }));
    expect(again.fingerprint).toBe(alice.fingerprint);
    expect(verifyMessage(signMessage(createMessage({ payload: 1 }), again), alice.publicKey)).toBe(true);
  });
});
