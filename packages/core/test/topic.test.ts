import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Float64, ValidationError, compareCodePoints, createTopic, pythonFloatRepr, topicToString, topicsEqual, type Topic } from '@converge/core';

// Python 3's repr(float) for each input (checked against CPython 3.11).
const PYTHON_REPR: [number, string][] = [
  [1e-5, '1e-05'],
  [3e16, '3e+16'],
  [0.1, '0.1'],
  [1e16, '1e+16'],
  [123456789012345680.0, '1.2345678901234568e+17'],
  [-0.0, '-0.0'],
  [0.0, '0.0'],
  [2.0, '2.0'],
  [NaN, 'nan'],
  [Infinity, 'inf'],
  [-Infinity, '-inf'],
  [0.0001, '0.0001'],
  [0.00001234, '1.234e-05'],
  [1e15, '1000000000000000.0'],
  [9999999999999998.0, '9999999999999998.0'],
  [1e22, '1e+22'],
  [1.5e300, '1.5e+300'],
  [5e-324, '5e-324'],
  [2.2250738585072014e-308, '2.2250738585072014e-308'],
  [1.7976931348623157e308, '1.7976931348623157e+308'],
  [-1.5, '-1.5'],
  [0.491497, '0.491497'],
  [100.0, '100.0'],
  [1e-7, '1e-07'],
  [123.456, '123.456'],
  [-2.5e-5, '-2.5e-05'],
  [1e21, '1e+21'],
  [1e100, '1e+100'],
  [0.30000000000000004, '0.30000000000000004'],
  // eslint-disable-next-line no-loss-of-precision -- the literal beyond 2^53 is the case under test
  [12345678901234567890.0, '1.2345678901234567e+19'],
  [1 / 3, '0.3333333333333333'],
];

describe('pythonFloatRepr', () => {
  it.each(PYTHON_REPR)('%s prints as Python would: %s', (x, expected) => {
    expect(pythonFloatRepr(x)).toBe(expected);
  });

  it('round-trips every finite double and uses the exponent form exactly where Python does', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = pythonFloatRepr(x);
        expect(Object.is(Number(s), x)).toBe(true);
        const a = Math.abs(x);
        const sci = /e[+-]\d\d+$/.test(s);
        // Python: scientific below 1e-4 and from 1e16 up (shortest digits round-trip, so the
        // boundaries are the doubles 1e-4 and 1e16); otherwise always a '.'.
        expect(sci).toBe(a !== 0 && (a < 1e-4 || a >= 1e16));
        if (!sci) expect(s).toContain('.');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('compareCodePoints', () => {
  it('orders by code point, unlike UTF-16 .sort() for astral characters', () => {
    const keys = ['\uffff', '\u{10000}', 'a', 'B', ''];
    expect([...keys].sort(compareCodePoints)).toEqual(['', 'B', 'a', '\uffff', '\u{10000}']);
    expect([...keys].sort()).not.toEqual([...keys].sort(compareCodePoints));
  });

  it('agrees with comparing code point arrays, for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const ca = [...a].map((c) => c.codePointAt(0)!);
        const cb = [...b].map((c) => c.codePointAt(0)!);
        let expected = 0;
        for (let i = 0; i < Math.min(ca.length, cb.length) && expected === 0; i++) expected = Math.sign(ca[i]! - cb[i]!);
        if (expected === 0) expected = Math.sign(ca.length - cb.length);
        expect(Math.sign(compareCodePoints(a, b))).toBe(expected);
      }),
    );
  });
});

describe('topicToString', () => {
  it('prints namespace[k=v,...]vVERSION with keys in code-point order and Python str() values', () => {
    const t = createTopic('ns', { z: true, a: false, n: null, i: 42, f: new Float64(2), g: 0.5, big: 2n ** 64n - 1n, s: 'x y' }, '2');
    expect(topicToString(t)).toBe('ns[a=False,big=18446744073709551615,f=2.0,g=0.5,i=42,n=None,s=x y,z=True]v2');
  });

  it('uses the default version 1.0 and prints no attributes as []', () => {
    expect(topicToString(createTopic('tasks'))).toBe('tasks[]v1.0');
  });

  it('prints a number that is not a safe integer as the float the codec sends', () => {
    expect(topicToString(createTopic('t', { x: 2 ** 60, y: 1e21, z: -0 }))).toBe('t[x=1.152921504606847e+18,y=1e+21,z=0]v1.0');
  });

  it('sorts Map attributes too, and escapes nothing', () => {
    // A plain object: createTopic refuses this ambiguous form, but its string is still the reference's.
    const t: Topic = {
      namespace: 't',
      attributes: new Map<string, string | number>([
        ['\u{10000}', 1],
        ['\uffff', 2],
        ['10', 'a,b]=c'],
        ['9', 'v'],
      ]),
      version: '1.0',
    };
    expect(topicToString(t)).toBe('t[10=a,b]=c,9=v,\uffff=2,\u{10000}=1]v1.0');
  });

  it('topicsEqual compares string forms (attribute order does not matter)', () => {
    expect(topicsEqual(createTopic('a', { x: 1, y: 2 }), createTopic('a', { y: 2, x: 1 }))).toBe(true);
    expect(topicsEqual(createTopic('a', { x: 1 }), createTopic('a', { x: new Float64(1) }))).toBe(false);
  });
});

describe('createTopic', () => {
  it('copies the attributes (object or Map) and refuses a non-string namespace', () => {
    const attrs = { a: 1 };
    const t = createTopic('x', attrs);
    attrs.a = 2;
    expect(t.attributes).toEqual({ a: 1 });
    const m = new Map([['k', 1]]);
    const tm = createTopic('x', m);
    m.set('k', 2);
    expect((tm.attributes as Map<string, number>).get('k')).toBe(1);
    expect(() => createTopic(5 as never)).toThrow(ValidationError);
  });
});
