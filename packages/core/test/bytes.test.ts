import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base64ToBytes, bytesEqual, bytesToBase64, bytesToHex, concatBytes, hexToBytes } from '@converge/core';

describe('byte helpers', () => {
  it('hex and base64 round-trip arbitrary bytes, also views into larger buffers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 8 }), (b, pad) => {
        const big = new Uint8Array(b.byteLength + 2 * pad).fill(0xee);
        big.set(b, pad);
        const view = big.subarray(pad, pad + b.byteLength);
        expect(bytesToHex(view)).toBe(Buffer.from(b).toString('hex'));
        expect(bytesEqual(hexToBytes(bytesToHex(view)), b)).toBe(true);
        expect(bytesEqual(base64ToBytes(bytesToBase64(view)), b)).toBe(true);
      }),
    );
  });

  it('hexToBytes refuses odd length and non-hex characters', () => {
    expect(() => hexToBytes('abc')).toThrow(TypeError);
    expect(() => hexToBytes('zz')).toThrow(TypeError);
    expect(hexToBytes('ABff')).toEqual(new Uint8Array([0xab, 0xff]));
  });

  it('bytesEqual compares length and content; concatBytes joins in order', () => {
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3]))).toEqual(new Uint8Array([1, 2, 3]));
  });
});
