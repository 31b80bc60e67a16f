import { describe, expect, it } from 'vitest';
import { Float64, cloneWireValue, encodeValue } from '@converge/core';

describe('cloneWireValue (the one deep copy of wire values)', () => {
  it('copies objects, arrays, Maps and bytes deeply, keeps Float64 a Float64, and keeps key order', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const src = { z: 1, a: [new Float64(2), { b: bytes }], m: new Map([['k', { n: 1 }]]) };
    const copy = cloneWireValue(src);
    expect(copy).toEqual(src);
    expect(Object.keys(copy)).toEqual(['z', 'a', 'm']);
    expect(copy.a[0]).toBeInstanceOf(Float64);
    expect(copy.a).not.toBe(src.a);
    expect((copy.a[1] as { b: Uint8Array }).b).not.toBe(bytes);
    expect(copy.m.get('k')).not.toBe(src.m.get('k'));
    bytes[0] = 9;
    expect((copy.a[1] as { b: Uint8Array }).b[0]).toBe(1);
  });

  it('encodes to the same bytes as the original (a Float64 stays a float64 on the wire, unlike structuredClone)', () => {
    const src = { price: new Float64(2), list: [new Float64(0.5), 3], raw: new Uint8Array([7]) };
    expect(encodeValue(cloneWireValue(src))).toEqual(encodeValue(src));
    expect(encodeValue(structuredClone(src) as typeof src)).not.toEqual(encodeValue(src));
  });

  it('copies an own __proto__ key as a key, never as the prototype', () => {
    const src = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const copy = cloneWireValue(src);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'x']);
  });
});
