import { describe, expect, it } from 'vitest';
import { TRANSPORT_BRAND, isTransport } from '@converge/core';

describe('TRANSPORT_BRAND / isTransport', () => {
  it('is a registry symbol, so a second copy of core brands the same way', () => {
    expect(TRANSPORT_BRAND).toBe(Symbol.for('@converge/transport'));
  });

  it('accepts exactly the objects carrying the brand as true', () => {
    expect(isTransport({ [Symbol.for('@converge/transport')]: true })).toBe(true);
    expect(isTransport({ [TRANSPORT_BRAND]: 'yes' })).toBe(false);
    expect(isTransport({ start() {}, stop() {}, send() {}, receive() {} })).toBe(false);
    expect(isTransport(null)).toBe(false);
    expect(isTransport(undefined)).toBe(false);
    expect(isTransport('transport')).toBe(false);
  });
});
