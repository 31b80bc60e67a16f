import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DecodeError,
  EncodeError,
  Float64,
  PROTO_KEY_REFUSAL,
  RawMsgpack,
  bytesToHex,
  decodeScanned,
  decodeValue,
  encodeValue,
  isFloat64,
} from '@converge/core';
import { normal, wireValue } from './arbitraries.js';

const hex = (v: unknown) => bytesToHex(encodeValue(v));

describe('Float64', () => {
  it('is written as float64 (cb) even when integer-valued; a plain integral number is an int', () => {
    expect(hex(new Float64(2))).toBe('cb4000000000000000');
    expect(hex(2)).toBe('02');
    expect(hex(new Float64(-0))).toBe('cb8000000000000000');
    expect(hex(-0)).toBe('00');
    expect(hex(new Float64(NaN))).toBe('cb7ff8000000000000');
    expect(hex(0.5)).toBe('cb3fe0000000000000');
  });

  it('behaves as its number (valueOf, toJSON) and is recognised by isFloat64', () => {
    const f = new Float64(1.5);
    expect(+f + 1).toBe(2.5);
    expect(JSON.stringify({ f })).toBe('{"f":1.5}');
    expect(isFloat64(f)).toBe(true);
    expect(isFloat64(1.5)).toBe(false);
  });

  it('decodes floats as plain numbers (the marker is for writing), -0 included', () => {
    expect(decodeValue(encodeValue(new Float64(2)))).toBe(2);
    expect(Object.is(decodeValue(encodeValue(new Float64(-0))), -0)).toBe(true);
    expect(Number.isNaN(decodeValue(encodeValue(new Float64(NaN))))).toBe(true);
  });

  it('writes every non-safe-integer number as float64, as Python does for floats', () => {
    expect(hex(2 ** 53)).toBe('cb4340000000000000');
    expect(hex(Infinity)).toBe('cb7ff0000000000000');
  });
});

describe('integers and bigint', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [2 ** 32 - 1, 'ceffffffff'],
    [2 ** 32, 'cf0000000100000000'],
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-128, 'd080'],
    [-129, 'd1ff7f'],
    [-32768, 'd18000'],
    [-32769, 'd2ffff7fff'],
    [-(2 ** 31), 'd280000000'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
    [5n, '05'],
    [-5n, 'fb'],
    [300n, 'cd012c'],
    [2n ** 64n - 1n, 'cfffffffffffffffff'],
    [-(2n ** 63n), 'd38000000000000000'],
    [2n ** 53n, 'cf0020000000000000'],
  ];
  it.each(cases)('%s is written in the smallest form: %s', (v, expected) => {
    expect(hex(v)).toBe(expected);
  });

  it('refuses a bigint beyond 64 bits with EncodeError', () => {
    expect(() => encodeValue(2n ** 64n)).toThrow(EncodeError);
    expect(() => encodeValue(-(2n ** 63n) - 1n)).toThrow(EncodeError);
  });

  it('decodes 64-bit ints in the safe range as numbers, beyond it as bigint', () => {
    expect(decodeValue(encodeValue(2n ** 53n - 1n))).toBe(2 ** 53 - 1);
    expect(decodeValue(Buffer.from('cf0000000000000005', 'hex'))).toBe(5);
    expect(decodeValue(encodeValue(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    expect(decodeValue(encodeValue(-(2n ** 63n)))).toBe(-(2n ** 63n));
    expect(decodeValue(encodeValue({ a: [2n ** 60n] }))).toEqual({ a: [2n ** 60n] });
  });
});

describe('strings and bytes', () => {
  it('writes str8 (not bin) from 32 bytes, counting UTF-8 bytes, and bytes as bin', () => {
    expect(hex('a'.repeat(31)).slice(0, 2)).toBe('bf');
    expect(hex('a'.repeat(32)).slice(0, 4)).toBe('d920');
    expect(hex('é'.repeat(16)).slice(0, 4)).toBe('d920');
    expect(hex('a\u0000b')).toBe('a3610062');
    expect(hex(new Uint8Array([1, 2]))).toBe('c4020102');
  });

  it('writes any string as its UTF-8 bytes behind the smallest str header (checked against Buffer)', () => {
    const header = (n: number) =>
      n < 32
        ? (0xa0 | n).toString(16)
        : n < 256
          ? 'd9' + n.toString(16).padStart(2, '0')
          : n < 65536
            ? 'da' + n.toString(16).padStart(4, '0')
            : 'db' + n.toString(16).padStart(8, '0');
    const expected = (x: string) => {
      const b = Buffer.from(x, 'utf8');
      return header(b.byteLength) + b.toString('hex');
    };
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'binary-ascii', maxLength: 300 })), (x) => {
        expect(hex(x)).toBe(expected(x));
      }),
      { numRuns: 500 },
    );
    for (const n of [31, 32, 255, 256, 65535, 65536]) expect(hex('a'.repeat(n))).toBe(expected('a'.repeat(n)));
  });

  it('writes a lone surrogate as U+FFFD, so the output is always valid UTF-8', () => {
    expect(hex('\ud800')).toBe('a3efbfbd');
    expect(hex('x'.repeat(60) + '\udc00').slice(-6)).toBe('efbfbd');
  });
});

describe('maps', () => {
  it('keep insertion order, for objects and Maps', () => {
    expect(hex({ b: 1, a: 2 })).toBe('82a16201a16102');
    expect(
      hex(
        new Map([
          ['10', 'a'],
          ['9', 'b'],
        ]),
      ),
    ).toBe('82a23130a161a139a162');
  });

  it('decode array-index-like keys as a Map in wire order, other maps as plain objects', () => {
    const m = decodeValue(
      encodeValue(
        new Map([
          ['2', 1],
          ['10', 2],
          ['x', 3],
        ]),
      ),
    );
    expect(m).toBeInstanceOf(Map);
    expect([...(m as Map<string, number>).keys()]).toEqual(['2', '10', 'x']);
    const o = decodeValue(encodeValue({ b: 1, a: { c: 2 } }));
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o as object)).toEqual(['b', 'a']);
    // A key starting with a digit that is not an index, or with NUL, stays a plain-object key.
    expect(decodeValue(encodeValue({ '1a': 1, '\u0000z': 2, '01': 3 }))).toEqual({ '1a': 1, '\u0000z': 2, '01': 3 });
  });

  it('refuse non-string keys on both sides', () => {
    expect(() => encodeValue(new Map([[1 as never, 1]]))).toThrow(EncodeError);
    expect(() => decodeValue(Buffer.from('810102', 'hex'))).toThrow(DecodeError);
  });

  it('refuse __proto__ as a key when decoding (no prototype games)', () => {
    // 81 a9 "__proto__" 01: written by hand, since encodeValue refuses to write it.
    const bytes = Buffer.from('81a95f5f70726f746f5f5f01', 'hex');
    expect(() => decodeValue(bytes)).toThrow(DecodeError);
    expect(() => decodeValue(bytes)).toThrow(PROTO_KEY_REFUSAL);
  });

  it('refuse __proto__ as a key when decoding on the ordered path too (a 64-bit int beside it)', () => {
    // 82 a9 "__proto__" 01 a1 "b" cf <2^64-1>: the int64 sends it through the key-order-keeping decoder.
    const bytes = Buffer.from('82a95f5f70726f746f5f5f01a162cfffffffffffffffff', 'hex');
    expect(() => decodeValue(bytes)).toThrow(PROTO_KEY_REFUSAL);
    expect(({} as Record<string, unknown>).b).toBeUndefined();
  });

  it('refuse __proto__ as a key when encoding, with the message decodeValue gives (symmetric refusals)', () => {
    const refused: [string, unknown][] = [
      ['a plain object (JSON.parse makes it an own key)', JSON.parse('{"__proto__": {"polluted": true}}')],
      ['a nested object', { deep: [JSON.parse('{"a": {"__proto__": 1}}')] }],
      ['a Map', new Map([['__proto__', 1]])],
      ['an object defined with defineProperty', Object.defineProperty({}, '__proto__', { value: 1, enumerable: true })],
    ];
    for (const [name, v] of refused) {
      expect(() => encodeValue(v), name).toThrow(EncodeError);
      expect(() => encodeValue(v), name).toThrow(PROTO_KEY_REFUSAL);
    }
    // An object whose prototype is set by a literal `__proto__` has no such key, and a key
    // that merely contains the word is fine.
    expect(decodeValue(encodeValue({ __proto__proto: 1, x__proto__: 2 }))).toEqual({ __proto__proto: 1, x__proto__: 2 });
  });

  it('whatever encodeValue accepts, decodeValue reads back (or encodeValue refuses it)', () => {
    const keyish = fc.constantFrom('__proto__', 'constructor', 'prototype', 'a', '0');
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string(),
        fc.dictionary(keyish, tie('v'), { maxKeys: 3 }),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.array(fc.tuple(keyish, tie('v')), { maxLength: 3 }).map((e) => new Map(e)),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeValue(v);
        } catch (err) {
          expect(err).toBeInstanceOf(EncodeError);
          return;
        }
        expect(() => decodeValue(bytes)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('nested encoding', () => {
  it('a getter that encodes while its object is being encoded gets the same canonical forms', () => {
    let inner = '';
    const outer = {};
    Object.defineProperty(outer, 'x', {
      enumerable: true,
      get: () => (inner = bytesToHex(encodeValue([new Float64(2), 2n ** 64n - 1n, new Map([['1', 1]])]))),
    });
    const encoded = hex(outer);
    expect(encoded).toBe(hex({ x: inner }));
    expect(inner).toBe(hex([new Float64(2), 2n ** 64n - 1n, new Map([['1', 1]])]));
    expect(inner).toBe('93cb4000000000000000cfffffffffffffffff81a13101');
  });
});

describe('RawMsgpack', () => {
  it('is spliced in verbatim', () => {
    expect(hex({ a: new RawMsgpack(new Uint8Array([0xcc, 0x01])) })).toBe('81a161cc01');
  });
});

describe('refused values', () => {
  class Point {
    x = 1;
  }
  const refused: [string, unknown][] = [
    ['a class instance', new Point()],
    ['a Date', new Date(0)],
    ['a function', () => 1],
    ['a nested function', { a: [() => 1] }],
    ['a symbol', Symbol('s')],
    ['a Set', new Set([1])],
    ['a bigint beyond 64 bits', 2n ** 70n],
    ['nesting deeper than 100', Array.from({ length: 120 }).reduce<unknown>((acc) => [acc], 0)],
  ];
  it.each(refused)('%s gives EncodeError', (_name, v) => {
    expect(() => encodeValue(v)).toThrow(EncodeError);
  });

  it('accepts a null-prototype object as a map', () => {
    const o = Object.assign(Object.create(null), { a: 1 });
    expect(hex(o)).toBe('81a16101');
  });
});

describe('decodeValue', () => {
  it('round-trips arbitrary plain data', () => {
    fc.assert(
      fc.property(wireValue, (v) => {
        const bytes = encodeValue(v);
        expect(normal(decodeValue(bytes))).toEqual(normal(v));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses ext types, the never-used 0xc1, trailing bytes, truncation and oversize with DecodeError', () => {
    for (const h of ['c1', 'd401', 'c70100', 'c0c0', 'a3616263'.slice(0, 6), 'dc0001']) {
      expect(() => decodeValue(Buffer.from(h, 'hex')), h).toThrow(DecodeError);
    }
    expect(() => decodeValue(new Uint8Array(11), { maxBytes: 10 })).toThrow(DecodeError);
    expect(() => decodeValue(new Uint8Array(0))).toThrow(DecodeError);
  });
});

describe('decodeValue gives copies', () => {
  it('a decoded Uint8Array is a copy: mutating it leaves the input unchanged', () => {
    const input = encodeValue({ bin: new Uint8Array([1, 2, 3]), list: [new Uint8Array([4])], map: new Map([['0', new Uint8Array([5])]]) });
    const before = bytesToHex(input);
    const v = decodeValue(input) as { bin: Uint8Array; list: Uint8Array[]; map: Map<string, Uint8Array> };
    v.bin[0] = 9;
    v.list[0]![0] = 9;
    v.map.get('0')![0] = 9;
    expect(bytesToHex(input)).toBe(before);
    for (const b of [v.bin, v.list[0]!, v.map.get('0')!]) expect(b.buffer).not.toBe(input.buffer);
  });

  it('a top-level bin and bins decoded from a Buffer are plain Uint8Array copies', () => {
    const input = Buffer.from(encodeValue({ a: new Uint8Array([7, 8]) }));
    const v = decodeValue(input) as { a: Uint8Array };
    expect(Object.getPrototypeOf(v.a)).toBe(Uint8Array.prototype);
    v.a[0] = 0;
    expect([...input]).toEqual([...encodeValue({ a: new Uint8Array([7, 8]) })]);
    const top = encodeValue(new Uint8Array([1, 2]));
    const got = decodeValue(top) as Uint8Array;
    got[0] = 0;
    expect(bytesToHex(top)).toBe('c4020102');
  });

  it('each decode returns fresh bins (two reads of the same bytes share nothing)', () => {
    const input = encodeValue([new Uint8Array([1])]);
    const a = decodeValue(input) as Uint8Array[];
    const b = decodeValue(input) as Uint8Array[];
    a[0]![0] = 2;
    expect(b[0]![0]).toBe(1);
  });

  it('decodeScanned, the message path, stays zero-copy: its bins are views into the bytes it was given', () => {
    const input = encodeValue({ bin: new Uint8Array([1, 2, 3]) });
    const v = decodeScanned(input) as { bin: Uint8Array };
    expect(v.bin.buffer).toBe(input.buffer);
  });
});
