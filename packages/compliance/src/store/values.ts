import { Float64, encodeValue } from '@converge/core';
import { expect } from 'vitest';

/** One value of the round-trip table. */
export interface RoundTripCase {
  /** Test title. */
  name: string;
  /** The value stored. */
  value: unknown;
  /** Extra checks on the value read back, beyond wire equality. */
  check?: (got: unknown) => void;
}

/**
 * Whether two values encode to the same msgpack bytes: the equality a Store owes its callers
 * (a `Float64(2)` must not come back as the int `2`, a `Map`'s key order must hold, a bigint
 * must keep every bit). A store may return a plain object for a `Map` whose keys an object
 * keeps in order, and a number for a bigint within 2^53, as the wire codec itself does.
 */
export function sameOnTheWire(a: unknown, b: unknown): boolean {
  const x = encodeValue(a);
  const y = encodeValue(b);
  return x.byteLength === y.byteLength && x.every((v, i) => v === y[i]);
}

/** The values every store must return unchanged: each msgpack type and the awkward corners. */
export function roundTripCases(): RoundTripCase[] {
  return [...scalarCases(), ...containerCases()];
}

/** null, booleans, integers, bigints, Float64 markers and plain floats. */
function scalarCases(): RoundTripCase[] {
  const big = 2n ** 63n + 12345n;
  return [
    { name: 'null', value: null, check: (g) => expect(g).toBeNull() },
    { name: 'booleans', value: [true, false], check: (g) => expect(g).toEqual([true, false]) },
    { name: 'integers', value: [0, 1, -1, 127, 128, -33, 65535, 2 ** 32, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER] },
    {
      name: 'bigint beyond 2^53',
      value: { big, neg: -(2n ** 62n) - 7n, max: 2n ** 64n - 1n },
      check: (g) => expect(g).toEqual({ big, neg: -(2n ** 62n) - 7n, max: 2n ** 64n - 1n }),
    },
    {
      name: 'Float64 markers, integral and not',
      value: { two: new Float64(2), half: new Float64(0.5), negZero: new Float64(-0), list: [new Float64(3), 4] },
      check: (g) => {
        const v = g as { two: unknown; list: unknown[] };
        expect(v.two).toBeInstanceOf(Float64);
        expect(Number(v.two)).toBe(2);
        expect(v.list[0]).toBeInstanceOf(Float64);
        expect(v.list[1]).toBe(4);
      },
    },
    { name: 'a top-level Float64', value: new Float64(7), check: (g) => expect(g).toBeInstanceOf(Float64) },
    {
      name: 'plain floats',
      value: [0.1, -2.5, 1e300, 5e-324, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      check: (g) => expect(g).toEqual([0.1, -2.5, 1e300, 5e-324, Infinity, -Infinity]),
    },
    { name: 'NaN', value: Number.NaN, check: (g) => expect(Number.isNaN(g)).toBe(true) },
  ];
}

/** Strings, bytes, nested containers, Maps and key order: the cases about shape rather than number. */
function containerCases(): RoundTripCase[] {
  return [
    {
      name: 'unicode strings',
      value: ['', 'plain', 'é', 'ключ', '日本語', '😀 emoji', 'a\u0000b', 'x'.repeat(70_000)],
      check: (g) => expect(g).toEqual(['', 'plain', 'é', 'ключ', '日本語', '😀 emoji', 'a\u0000b', 'x'.repeat(70_000)]),
    },
    {
      name: 'Uint8Array',
      value: { empty: new Uint8Array(0), bytes: new Uint8Array([0, 1, 254, 255]), big: new Uint8Array(70_000).fill(7) },
      check: (g) => {
        const v = g as Record<string, Uint8Array>;
        expect(v.bytes).toBeInstanceOf(Uint8Array);
        expect([...v.bytes]).toEqual([0, 1, 254, 255]);
        expect(v.big.byteLength).toBe(70_000);
      },
    },
    {
      name: 'nested maps and arrays',
      value: { a: { b: { c: [1, [2, [3, { d: 'deep' }]]] } }, empty: {}, list: [], mixed: [null, 'x', { y: [true] }] },
      check: (g) => expect(g).toEqual({ a: { b: { c: [1, [2, [3, { d: 'deep' }]]] } }, empty: {}, list: [], mixed: [null, 'x', { y: [true] }] }),
    },
    {
      name: 'Map with index-like keys keeps its order',
      value: new Map<string, unknown>([
        ['10', 'ten'],
        ['2', 'two'],
        ['b', 'bee'],
        ['0', 'zero'],
      ]),
      check: (g) => {
        expect(g).toBeInstanceOf(Map);
        expect([...(g as Map<string, unknown>).keys()]).toEqual(['10', '2', 'b', '0']);
      },
    },
    { name: 'object key order', value: { z: 1, a: 2, m: 3 }, check: (g) => expect(Object.keys(g as object)).toEqual(['z', 'a', 'm']) },
    { name: 'a top-level string', value: 'just a string', check: (g) => expect(g).toBe('just a string') },
    { name: 'a top-level array', value: [1, 'two', null], check: (g) => expect(g).toEqual([1, 'two', null]) },
  ];
}
