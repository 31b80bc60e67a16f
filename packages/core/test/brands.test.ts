import { describe, expect, it } from 'vitest';
import {
  AGENT_BRAND,
  Agent,
  ConflictError,
  ConvergeError,
  FrameTooLargeError,
  IDENTITY_BRAND,
  Identity,
  LimitExceededError,
  NotFoundError,
  PolicyError,
  STORE_BRAND,
  TransportError,
  isAgent,
  isConvergeError,
  isIdentity,
  isStore,
} from '@converge/core';

// A copy of a class from a second module instance shares nothing with ours but the registered
// symbols: an object made with the brand and not from the class stands for it.

describe('isStore', () => {
  const methods = {
    get: async () => undefined,
    getEntry: async () => undefined,
    put: async () => 1,
    putIfAbsent: async () => true,
    compareAndSet: async () => 1,
    delete: async () => true,
    list: async () => [],
  };
  it('accepts a store from another copy of core (the registered brand, no shared class)', () => {
    expect(isStore({ ...methods, [Symbol.for('@converge/store')]: true })).toBe(true);
    expect(STORE_BRAND).toBe(Symbol.for('@converge/store'));
  });
  it('refuses a look-alike with every method but no brand, and non-objects', () => {
    expect(isStore(methods)).toBe(false);
    expect(isStore({ ...methods, [Symbol('@converge/store')]: true })).toBe(false);
    expect(isStore(null)).toBe(false);
    expect(isStore('store')).toBe(false);
  });
});

describe('isIdentity', () => {
  it('accepts an Identity and a copy carrying the brand', () => {
    const id = Identity.generate();
    expect(isIdentity(id)).toBe(true);
    expect(id[IDENTITY_BRAND]).toBe(true);
    const copy = { publicKey: id.publicKey, fingerprint: id.fingerprint, [Symbol.for('@converge/identity')]: true };
    expect(isIdentity(copy)).toBe(true);
  });
  it('refuses a look-alike without the brand', () => {
    const id = Identity.generate();
    expect(isIdentity({ publicKey: id.publicKey, fingerprint: id.fingerprint, canSign: true })).toBe(false);
    expect(isIdentity(id.publicKey)).toBe(false);
  });
});

describe('isAgent', () => {
  class Echo extends Agent {
    decide(): [] {
      return [];
    }
  }
  it('accepts an Agent and a copy carrying the brand; refuses a look-alike', () => {
    const agent = new Echo();
    expect(isAgent(agent)).toBe(true);
    expect(agent[AGENT_BRAND]).toBe(true);
    expect(isAgent({ id: 'x', identity: agent.identity, decide: () => [], [Symbol.for('@converge/agent')]: true })).toBe(true);
    expect(isAgent({ id: 'x', identity: agent.identity, decide: () => [] })).toBe(false);
  });
});

/** An error as another copy of core would build it: its own classes, the same registered brand. */
function foreignError(names: string[], code: string): Error {
  const err = new Error('from elsewhere') as Error & { code: string };
  err.name = names[0]!;
  err.code = code;
  Object.defineProperty(err, Symbol.for('@converge/error'), { value: names });
  return err;
}

describe('isConvergeError and ConvergeError.is', () => {
  it('matches our own errors by class, parent class, name and code', () => {
    const err = new LimitExceededError('too many');
    expect(isConvergeError(err)).toBe(true);
    expect(LimitExceededError.is(err)).toBe(true);
    expect(PolicyError.is(err)).toBe(true);
    expect(ConvergeError.is(err)).toBe(true);
    expect(NotFoundError.is(err)).toBe(false);
    expect(isConvergeError(err, 'ERR_LIMIT_EXCEEDED')).toBe(true);
    expect(isConvergeError(err, 'PolicyError')).toBe(true);
    expect(isConvergeError(err, 'ERR_POLICY')).toBe(false);
    expect(FrameTooLargeError.is(new FrameTooLargeError(2, 1))).toBe(true);
    expect(TransportError.is(new FrameTooLargeError(2, 1))).toBe(true);
  });

  it('accepts an error thrown by another copy of core (brand, not our class)', () => {
    const err = foreignError(['ConflictError', 'ConvergeError'], 'ERR_CONFLICT');
    expect(err instanceof ConflictError).toBe(false);
    expect(ConflictError.is(err)).toBe(true);
    expect(ConvergeError.is(err)).toBe(true);
    expect(isConvergeError(err, 'ERR_CONFLICT')).toBe(true);
    expect(NotFoundError.is(err)).toBe(false);
  });

  it('refuses a look-alike without the brand, even with the right name and code', () => {
    const err = Object.assign(new Error('x'), { name: 'NotFoundError', code: 'ERR_NOT_FOUND' });
    expect(NotFoundError.is(err)).toBe(false);
    expect(isConvergeError(err)).toBe(false);
    expect(isConvergeError(err, 'ERR_NOT_FOUND')).toBe(false);
    expect(isConvergeError(undefined)).toBe(false);
    expect(isConvergeError('ERR_NOT_FOUND', 'ERR_NOT_FOUND')).toBe(false);
  });

  it('subclasses defined by other packages are matched by their parents', () => {
    class EndpointRefused extends PolicyError {
      constructor() {
        super('refused', { code: 'ERR_ENDPOINT' });
        this.name = 'EndpointRefused';
      }
    }
    const err = new EndpointRefused();
    expect(PolicyError.is(err)).toBe(true);
    expect(EndpointRefused.is(err)).toBe(true);
    expect(LimitExceededError.is(err)).toBe(false);
    expect(isConvergeError(err, 'ERR_ENDPOINT')).toBe(true);
  });
});
