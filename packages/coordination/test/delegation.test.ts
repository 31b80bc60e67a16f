import { describe, expect, it } from 'vitest';
import { NotFoundError, PolicyError, ValidationError } from '@converge/core';
import { DelegationProtocol } from '../src/index.js';

function setup() {
  const clock = { now: 0 };
  return { clock, dp: new DelegationProtocol({ clock: () => clock.now, roots: { root: ['read', 'write'] } }) };
}

describe('DelegationProtocol', () => {
  it('delegates within scope and checks isAllowed', () => {
    const { dp } = setup();
    expect(dp.isAllowed('root', 'write')).toBe(true);
    expect(dp.isAllowed('a', 'read')).toBe(false);
    const d = dp.delegate('root', 'a', { actions: ['read'] });
    expect(d.id).toBeTruthy();
    expect(dp.isAllowed('a', 'read')).toBe(true);
    expect(dp.isAllowed('a', 'write')).toBe(false);
  });

  it("re-delegation only within the delegator's current scope", () => {
    const { dp } = setup();
    dp.delegate('root', 'a', { actions: ['read'] });
    expect(() => dp.delegate('a', 'b', { actions: ['write'] })).toThrow(PolicyError);
    expect(() => dp.delegate('a', 'b', { actions: ['read', 'write'] })).toThrow(PolicyError);
    expect(() => dp.delegate('x', 'b', { actions: ['read'] })).toThrow(PolicyError);
    dp.delegate('a', 'b', { actions: ['read'] });
    expect(dp.isAllowed('b', 'read')).toBe(true);
    expect(dp.stats().refused).toBe(3);
  });

  it('only the delegator revokes; revocation cascades to re-delegations', () => {
    const { dp } = setup();
    const d1 = dp.delegate('root', 'a', { actions: ['read'] });
    const d2 = dp.delegate('a', 'b', { actions: ['read'] });
    const d3 = dp.delegate('b', 'c', { actions: ['read'] });
    expect(() => dp.revoke(d1.id, 'a')).toThrow(PolicyError);
    expect(dp.isAllowed('c', 'read')).toBe(true);
    expect(dp.revoke(d1.id, 'root').sort()).toEqual([d1.id, d2.id, d3.id].sort());
    for (const x of ['a', 'b', 'c']) expect(dp.isAllowed(x, 'read')).toBe(false);
    expect(dp.getDelegation(d3.id).revoked).toBe(true);
    expect(() => dp.revoke('nope', 'root')).toThrow(NotFoundError);
  });

  it('expiry is honoured, along the chain too', () => {
    const { dp, clock } = setup();
    dp.delegate('root', 'a', { actions: ['read'], expiresAt: 100 });
    dp.delegate('a', 'b', { actions: ['read'] });
    expect(dp.isAllowed('b', 'read')).toBe(true);
    clock.now = 100;
    expect(dp.isAllowed('a', 'read')).toBe(false);
    expect(dp.isAllowed('b', 'read')).toBe(false);
    expect(() => dp.delegate('a', 'c', { actions: ['read'] })).toThrow(PolicyError);
    expect(() => dp.delegate('root', 'c', { actions: ['read'], expiresAt: 50 })).toThrow(ValidationError);
  });

  it('grantRoot adds root scope; bad input is refused', () => {
    const { dp } = setup();
    dp.grantRoot('z', ['deploy']);
    dp.delegate('z', 'y', { actions: ['deploy'], expiresAt: null });
    expect(dp.isAllowed('y', 'deploy')).toBe(true);
    expect(() => dp.delegate('z', 'z', { actions: ['deploy'] })).toThrow(ValidationError);
    expect(() => dp.delegate('z', 'y', { actions: [] })).toThrow(ValidationError);
  });
});
