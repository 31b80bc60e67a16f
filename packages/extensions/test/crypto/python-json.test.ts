import { describe, expect, it } from 'vitest';
import { Float64, ValidationError } from '@converge/core';
import { MAX_JSON_DEPTH, pythonJsonDumps, pythonJsonLoads } from '../../src/crypto/index.js';

describe('pythonJsonDumps', () => {
  it('writes what json.dumps writes', () => {
    // Expected strings are Python 3 json.dumps output for the equivalent values.
    expect(pythonJsonDumps({ a: 1, b: [true, false, null], c: {}, d: [] })).toBe('{"a": 1, "b": [true, false, null], "c": {}, "d": []}');
    expect(pythonJsonDumps(['é', '🚀', '\u007f', '\u0000', 'q"\\/\n\t\r\b\f'])).toBe(
      '["\\u00e9", "\\ud83d\\ude80", "\\u007f", "\\u0000", "q\\"\\\\/\\n\\t\\r\\b\\f"]',
    );
    expect(pythonJsonDumps([new Float64(2), 0.1, 1e-5, 3e16, new Float64(-0), 1e22, 123456789012345680000])).toBe(
      '[2.0, 0.1, 1e-05, 3e+16, -0.0, 1e+22, 1.2345678901234568e+20]',
    );
    expect(pythonJsonDumps([NaN, Infinity, -Infinity, new Float64(NaN)])).toBe('[NaN, Infinity, -Infinity, NaN]');
    expect(pythonJsonDumps([2n ** 64n, -(2n ** 63n), 9007199254740991, -0])).toBe('[18446744073709551616, -9223372036854775808, 9007199254740991, 0]');
    expect(
      pythonJsonDumps(
        new Map([
          ['10', 'a'],
          ['9', 'b'],
        ]),
      ),
    ).toBe('{"10": "a", "9": "b"}');
    expect(pythonJsonDumps('plain')).toBe('"plain"');
  });

  it('refuses what Python refuses', () => {
    for (const v of [new Uint8Array(1), { u: undefined }, { f: () => 1 }, new Date(0), new Map([[1, 2]])]) {
      expect(() => pythonJsonDumps(v as never)).toThrow(ValidationError);
    }
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_JSON_DEPTH + 1; i++) deep = [deep];
    expect(() => pythonJsonDumps(deep as never)).toThrow(ValidationError);
  });
});

describe('pythonJsonLoads', () => {
  it('keeps big integers and integer-valued floats', () => {
    const v = pythonJsonLoads('{"big": 18446744073709551615, "f": 2.0, "e": 1e16, "x": 0.25, "n": -3, "z": -0.0}') as Record<string, unknown>;
    expect(v.big).toBe(18446744073709551615n);
    expect(v.f).toEqual(new Float64(2));
    expect(v.e).toEqual(new Float64(1e16));
    expect(v.x).toBe(0.25);
    expect(v.n).toBe(-3);
    expect(Object.is((v.z as Float64).value, -0)).toBe(true);
  });

  it('round-trips with pythonJsonDumps', () => {
    const texts = [
      '{"secret": "\\u4e2d\\u6587", "n": 330647, "ratio": 0.01798519, "ok": true, "none": null, "items": ["a", "b"]}',
      '[NaN, Infinity, -Infinity, 1e-05, 2.0, 18446744073709551616]',
      '{"2": "x", "10": "y", "1": "z"}',
      '"\\ud83d\\ude80"',
    ];
    for (const t of texts) expect(pythonJsonDumps(pythonJsonLoads(t))).toBe(t);
  });

  it('keeps key order with index-like keys and handles __proto__ as data', () => {
    const m = pythonJsonLoads('{"2": 1, "10": 2}');
    expect(m).toBeInstanceOf(Map);
    expect([...(m as Map<string, unknown>).keys()]).toEqual(['2', '10']);
    const o = pythonJsonLoads('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(o)).toEqual(['__proto__']);
  });

  it('rejects malformed JSON with ValidationError', () => {
    for (const t of ['', '{', '[1,]', '{"a" 1}', '"\u0001"', '"\\x"', '01', '1 2', 'nul', '{"a":1,}', '"\\u12"']) {
      expect(() => pythonJsonLoads(t), t).toThrow(ValidationError);
    }
    expect(() => pythonJsonLoads('['.repeat(MAX_JSON_DEPTH + 2) + ']'.repeat(MAX_JSON_DEPTH + 2))).toThrow(ValidationError);
  });
});
