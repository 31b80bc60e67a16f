import { describe, expect, it } from 'vitest';
import { Identity, KeyError, LimitExceededError } from '@converge/core';
import { IdentityRegistry } from '../src/index.js';

describe('IdentityRegistry', () => {
  it('registers a key or an identity under its fingerprint', () => {
    const r = new IdentityRegistry();
    const alice = Identity.generate();
    const bob = Identity.generate();
    expect(r.register(alice)).toBe(alice.fingerprint);
    expect(r.register(bob.publicKey)).toBe(bob.fingerprint);
    expect(r.has(alice.fingerprint)).toBe(true);
    expect([...r.get(bob.fingerprint)!]).toEqual([...bob.publicKey]);
    expect(r.size).toBe(2);
    expect(r.remove(alice.fingerprint)).toBe(true);
    expect(r.remove(alice.fingerprint)).toBe(false);
    expect(r.get(alice.fingerprint)).toBeUndefined();
  });

  it('refuses a key under another fingerprint (KeyError) and accepts it under its own', () => {
    const r = new IdentityRegistry();
    const alice = Identity.generate();
    const mallory = Identity.generate();
    expect(() => r.registerAs(alice.fingerprint, mallory.publicKey)).toThrow(KeyError);
    expect(r.has(alice.fingerprint)).toBe(false);
    r.registerAs(alice.fingerprint, alice);
    expect(r.has(alice.fingerprint)).toBe(true);
  });

  it('refuses keys that are not 32 bytes', () => {
    const r = new IdentityRegistry();
    expect(() => r.register(new Uint8Array(31))).toThrow(KeyError);
  });

  it('returns copies, so callers cannot change a stored key', () => {
    const r = new IdentityRegistry();
    const alice = Identity.generate();
    r.register(alice);
    r.get(alice.fingerprint)![0] ^= 0xff;
    expect([...r.get(alice.fingerprint)!]).toEqual([...alice.publicKey]);
  });

  it('is bounded: a new key beyond maxEntries throws LimitExceededError, re-registering does not', () => {
    const r = new IdentityRegistry({ maxEntries: 2 });
    const ids = [Identity.generate(), Identity.generate(), Identity.generate()];
    r.register(ids[0]!);
    r.register(ids[1]!);
    expect(() => r.register(ids[2]!)).toThrow(LimitExceededError);
    expect(r.register(ids[0]!)).toBe(ids[0]!.fingerprint);
    expect(r.size).toBe(2);
  });
});
