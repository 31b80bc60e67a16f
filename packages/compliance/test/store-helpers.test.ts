import { describe, expect, it } from 'vitest';
import { Float64 } from '@converge/core';
import { invalidKeys, roundTripCases, sameOnTheWire, validKeys } from '@converge/compliance/store';

describe('store compliance helpers', () => {
  it('sameOnTheWire tells apart what the wire tells apart', () => {
    expect(sameOnTheWire({ a: 1 }, { a: 1 })).toBe(true);
    expect(sameOnTheWire(new Float64(2), 2)).toBe(false);
    expect(sameOnTheWire(new Float64(2.5), 2.5)).toBe(true);
    expect(
      sameOnTheWire(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
        { a: 2, b: 1 },
      ),
    ).toBe(false);
    expect(sameOnTheWire(2n ** 60n, 2 ** 60)).toBe(false);
    expect(sameOnTheWire(new Uint8Array([1]), [1])).toBe(false);
  });

  it('every round-trip case survives an identity store and its own check', () => {
    for (const c of roundTripCases()) {
      expect(sameOnTheWire(c.value, c.value), c.name).toBe(true);
      c.check?.(c.value);
    }
  });

  it('the key tables do not overlap and contain no duplicates', () => {
    const valid = validKeys();
    expect(new Set(valid).size).toBe(valid.length);
    for (const [, k] of invalidKeys()) expect(valid).not.toContain(k);
  });
});
