import { describe, expect, it } from 'vitest';
import { Identity, ValidationError, createMessage, signMessage } from '@converge/core';
import {
  IDENTITY_REGISTRY_BRAND,
  IdentityRegistry,
  LOCAL_HUB_BRAND,
  LocalHub,
  LocalTransport,
  MessageVerifier,
  isIdentityRegistry,
  isLocalHub,
} from '../src/index.js';

/**
 * What another copy of the package would hand us: an object that is not built from our class
 * (so `instanceof` fails) but carries the registered brand and forwards to a working instance.
 */
function copyOf<T extends object>(real: T, brand: string, withBrand = true): T {
  const copy: Record<string | symbol, unknown> = withBrand ? { [Symbol.for(brand)]: true } : {};
  const proto = Object.getPrototypeOf(real) as object;
  for (const key of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key)!;
    if (key === 'constructor') continue;
    if (typeof d.value === 'function') copy[key] = (d.value as (...a: unknown[]) => unknown).bind(real);
    else if (d.get) Object.defineProperty(copy, key, { get: () => (real as Record<string, unknown>)[key] });
  }
  for (const key of Object.keys(real)) Object.defineProperty(copy, key, { get: () => (real as Record<string, unknown>)[key] });
  return copy as T;
}

describe('LocalHub brand', () => {
  it('a LocalTransport accepts a hub from another copy of the package and delivers through it', async () => {
    const real = new LocalHub();
    const foreign = copyOf(real, '@converge/local-hub');
    expect(foreign instanceof LocalHub).toBe(false);
    expect(isLocalHub(foreign)).toBe(true);
    expect(LOCAL_HUB_BRAND).toBe(Symbol.for('@converge/local-hub'));
    const a = new LocalTransport('a', { hub: foreign });
    const b = new LocalTransport('b', { hub: real });
    await a.start();
    await b.start();
    await a.send(createMessage({ sender: 'a', recipient: 'b', payload: 7 }));
    expect((await b.receive({ timeoutMs: 0 }))?.payload).toBe(7);
    await a.stop();
    await b.stop();
  });

  it('a look-alike hub without the brand is refused', () => {
    const lookAlike = copyOf(new LocalHub(), '@converge/local-hub', false);
    expect(isLocalHub(lookAlike)).toBe(false);
    expect(() => new LocalTransport('a', { hub: lookAlike })).toThrow(ValidationError);
  });
});

describe('IdentityRegistry brand', () => {
  it('a MessageVerifier accepts a registry from another copy of the package and verifies through it', () => {
    const alice = Identity.generate();
    const real = new IdentityRegistry();
    real.register(alice);
    const foreign = copyOf(real, '@converge/identity-registry');
    expect(foreign instanceof IdentityRegistry).toBe(false);
    expect(isIdentityRegistry(foreign)).toBe(true);
    expect(IDENTITY_REGISTRY_BRAND).toBe(Symbol.for('@converge/identity-registry'));
    const verifier = new MessageVerifier({ registry: foreign });
    expect(verifier.check(signMessage(createMessage({ payload: 1 }), alice))).toEqual({ ok: true });
  });

  it('a look-alike registry without the brand is refused', () => {
    const lookAlike = copyOf(new IdentityRegistry(), '@converge/identity-registry', false);
    expect(isIdentityRegistry(lookAlike)).toBe(false);
    expect(() => new MessageVerifier({ registry: lookAlike })).toThrow(ValidationError);
  });

  it('registers an Identity from another copy of core (branded), not a look-alike', () => {
    const alice = Identity.generate();
    const registry = new IdentityRegistry();
    const foreignIdentity = { publicKey: alice.publicKey, fingerprint: alice.fingerprint, [Symbol.for('@converge/identity')]: true };
    expect(registry.register(foreignIdentity as unknown as Identity)).toBe(alice.fingerprint);
    expect(() => registry.register({ publicKey: alice.publicKey } as unknown as Identity)).toThrow();
  });
});
