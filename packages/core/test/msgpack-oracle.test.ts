// A differential test of core's own msgpack codec (src/wire) against @msgpack/msgpack, the
// library the guide names as the wire dependency, kept here as the oracle (a devDependency,
// pinned exactly): over the wire's value subset our `encodeValue` writes the library's bytes,
// and our `decodeValue` of the library's bytes reads what the library's `decode` reads.
//
// Where the two differ on purpose, the test says so and asserts our typed error:
// - the library writes a bigint always as uint64/int64 and, with `useBigInt64`, a safe integer
//   beyond 32 bits as float64; we write both as the smallest int. `toOracle` hands the library
//   the input it needs for the same bytes (a small bigint as a number, a wide number as a bigint);
// - the library writes a Map as an empty map (it reads `Object.keys`): `toOracle` passes the
//   entries as a plain object, which the library writes in key order (skipped where a plain
//   object would reorder index-like keys);
// - a `Float64` marker of an integral value has no form in the library's mixed output; it is
//   checked on its own against `forceIntegerToFloat`;
// - refusals: depth beyond MAX_DEPTH, a `__proto__` key, a bigint beyond 64 bits (the library
//   wraps it), a lone surrogate (the library writes it as WTF-8, which we refuse to read), ext
//   types and non-string keys on reading.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode as libDecode, encode as libEncode, type EncoderOptions } from '@msgpack/msgpack';
import { DecodeError, EncodeError, Float64, MAX_DEPTH, PROTO_KEY_REFUSAL, bytesToHex, decodeValue, encodeValue, hexToBytes, isFloat64 } from '@converge/core';
import { anyString, plainData, wideBigInt } from './arbitraries.js';
import { itWithVectors, vectors } from './vectors.js';

/** The options the wire needs: 64-bit ints as bigint (else the library reads them as imprecise numbers). */
const LIB = { useBigInt64: true } as const;

const libHex = (v: unknown, options: EncoderOptions = LIB) => bytesToHex(libEncode(v, options));
const ourHex = (v: unknown) => bytesToHex(encodeValue(v));

/** Thrown by `toOracle` for a value the library cannot write as we do. */
class Inexpressible extends Error {}

const TWO_32 = 2 ** 32;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The input that makes the library write what `encodeValue(v)` should write (see the header). */
function toOracle(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) && (v >= TWO_32 || v < -(2 ** 31)) ? BigInt(v) : v;
  if (typeof v === 'bigint') return v >= SAFE_MIN && v <= SAFE_MAX ? toOracle(Number(v)) : v;
  if (isFloat64(v)) {
    if (Number.isSafeInteger(v.value)) throw new Inexpressible('integral Float64');
    return v.value;
  }
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(toOracle);
  if (v instanceof Map) {
    const o = Object.fromEntries([...v].map(([k, x]) => [k, toOracle(x)]));
    if (Object.keys(o).join('\0') !== [...v.keys()].join('\0')) throw new Inexpressible('a plain object reorders these keys');
    return o;
  }
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toOracle(x)]));
  return v;
}

function expressible(v: unknown): boolean {
  try {
    toOracle(v);
    return true;
  } catch (err) {
    if (err instanceof Inexpressible) return false;
    throw err;
  }
}

const num = (x: number) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : ['n', String(x)]);
const entries = (v: object, form: (x: unknown) => unknown) => [
  'map',
  (v instanceof Map ? [...v] : Object.entries(v)).map(([k, x]) => [k, form(x)]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
];

/**
 * Our decoded value in a comparable form, types kept: an integer is a number in the safe range
 * and a bigint beyond it. Maps (object or Map) compare by entries; their order is what the
 * byte comparison checks.
 */
function ourForm(v: unknown): unknown {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'bigint') return ['big', String(v)];
  if (v instanceof Uint8Array) return ['bin', bytesToHex(v)];
  if (Array.isArray(v)) return ['arr', v.map(ourForm)];
  if (v !== null && typeof v === 'object') return entries(v, ourForm);
  return v;
}

/** The library's decoded value in the same form: with `useBigInt64` every 64-bit int is a bigint, ours only beyond 2^53. */
function libForm(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= SAFE_MIN && v <= SAFE_MAX ? num(Number(v)) : ['big', String(v)];
  if (typeof v === 'number') return num(v);
  if (v instanceof Uint8Array) return ['bin', bytesToHex(v)];
  if (Array.isArray(v)) return ['arr', v.map(libForm)];
  if (v !== null && typeof v === 'object') return entries(v, libForm);
  return v;
}

/** Both decoders on the same bytes: ours reads what the library reads. */
function expectSameDecode(bytes: Uint8Array, label?: string): void {
  expect(ourForm(decodeValue(bytes)), label).toEqual(libForm(libDecode(bytes, LIB)));
}

// Every int width boundary, both sides of it.
const INT_EDGES = [0, 0x7f, 0xff, 0xffff, TWO_32 - 1, Number.MAX_SAFE_INTEGER - 1, -1, -32, -128, -0x8000, -(2 ** 31), Number.MIN_SAFE_INTEGER + 1]
  .flatMap((n) => [n - 1, n, n + 1])
  .filter(Number.isSafeInteger);

// Every str/bin width boundary (in UTF-8 bytes): fixstr < 32 <= str8 < 256 <= str16 < 65536 <= str32.
const LENGTH_EDGES = [31, 32, 255, 256, 65535, 65536];

/** A string of exactly `n` UTF-8 bytes, starting with `k` copies of a non-ASCII character. */
const sizedString = fc.tuple(fc.constantFrom(...LENGTH_EDGES), fc.constantFrom('é', '€', '😀'), fc.nat(8)).map(([n, c, k]) => {
  const head = c.repeat(Math.min(k, Math.floor(n / Buffer.byteLength(c))));
  return head + 'a'.repeat(n - Buffer.byteLength(head));
});

// '4294967295' is not an array index (2^32 - 1), so a plain object keeps it in place.
const INDEX_KEYS = ['0', '9', '10', 'b', '4294967294', '4294967295'];

const integer = fc.oneof(fc.constantFrom(...INT_EDGES), fc.maxSafeInteger(), fc.integer({ min: -40, max: 300 }), fc.integer());

const scalar = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  integer,
  integer.map(BigInt), // a bigint in the safe range: written as the smallest int
  wideBigInt,
  fc.double(),
  fc
    .double()
    .filter((x) => !Number.isSafeInteger(x))
    .map((x) => new Float64(x)),
  anyString(),
  sizedString,
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(255, 256, 65535, 65536).map((n) => new Uint8Array(n).fill(n & 0xff)),
  // Index-like keys: a plain object puts them first, and both encoders write that order; our
  // decoder reads such a map as a Map in wire order, the library as a plain object.
  fc.dictionary(fc.constantFrom(...INDEX_KEYS), integer, { maxKeys: 4, noNullPrototype: true }),
  fc.array(fc.tuple(fc.constantFrom(...INDEX_KEYS), integer), { maxLength: 4 }).map((e) => new Map(e)),
  // Containers on both sides of 16 entries (fixarray/fixmap or 16-bit headers).
  fc.constantFrom(15, 16).map((n) => Array.from({ length: n }, (_, i) => i)),
  fc.constantFrom(15, 16).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
);

/** The wire's value subset, nested a few levels (see `plainData`). */
const oracleValue = plainData<unknown>(scalar);

describe('msgpack oracle: encodeValue writes the bytes of @msgpack/msgpack', () => {
  it('over the wire value subset (nil, bool, ints and 64-bit bigints, str, bin, arrays, maps, floats)', () => {
    fc.assert(
      fc.property(oracleValue, (v) => {
        fc.pre(expressible(v));
        expect(ourHex(v)).toBe(libHex(toOracle(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('at every int width boundary, and for every str and bin width', () => {
    for (const n of INT_EDGES) expect(ourHex(n), String(n)).toBe(libHex(toOracle(n)));
    for (const b of [SAFE_MAX + 1n, 2n ** 64n - 1n, SAFE_MIN - 1n, -(2n ** 63n)]) expect(ourHex(b), String(b)).toBe(libHex(b));
    for (const n of LENGTH_EDGES) {
      expect(ourHex('x'.repeat(n)), `str of ${n}`).toBe(libHex('x'.repeat(n)));
      expect(ourHex('é'.repeat(n >> 1)), `str of ${n >> 1} two-byte characters`).toBe(libHex('é'.repeat(n >> 1)));
      expect(ourHex(new Uint8Array(n)), `bin of ${n}`).toBe(libHex(new Uint8Array(n)));
    }
  });

  it('a Float64 marker of an integral value is the float64 the library writes with forceIntegerToFloat', () => {
    fc.assert(
      fc.property(integer, (n) => {
        expect(ourHex(new Float64(n))).toBe(libHex(n, { forceIntegerToFloat: true }));
      }),
    );
    expect(ourHex(new Float64(-0))).toBe(libHex(-0, { forceIntegerToFloat: true }));
  });
});

describe('msgpack oracle: decodeValue reads what @msgpack/msgpack reads', () => {
  it("of the library's bytes, over the same subset", () => {
    fc.assert(
      fc.property(oracleValue, (v) => {
        fc.pre(expressible(v));
        expectSameDecode(libEncode(toOracle(v), LIB));
      }),
      { numRuns: 500 },
    );
  });

  it('of non-canonical widths, which we never write but read as the library does (the signature covers raw bytes)', () => {
    // uint16 5, int32 -1, uint64 1, str8 "A", str16 "", bin16 ff, array16 [nil], map16 {a: 1}, float32 1.5
    for (const h of ['cd0005', 'd2ffffffff', 'cf0000000000000001', 'd90141', 'da0000', 'c50001ff', 'dc0001c0', 'de0001a16101', 'ca3fc00000']) {
      expectSameDecode(hexToBytes(h), h);
    }
  });

  itWithVectors('of every msgpack value in the interop vectors', () => {
    const found: [string, Uint8Array][] = [];
    const walk = (o: unknown, path: string): void => {
      if (Array.isArray(o)) o.forEach((x, i) => walk(x, `${path}[${i}]`));
      else if (o !== null && typeof o === 'object') {
        for (const [k, x] of Object.entries(o)) {
          const p = `${path}.${k}`;
          if (typeof x === 'string' && ['encoded', 'signing_bytes', 'dict_msgpack'].includes(k)) found.push([p, hexToBytes(x)]);
          else if (typeof x === 'string' && (k === 'frame' || (k === 'data' && path.includes('websocket_frames')))) found.push([p, hexToBytes(x).subarray(4)]);
          else if (typeof x === 'string' && k === 'bytes' && path.startsWith('$.decode[')) found.push([p, hexToBytes(x)]);
          else walk(x, p);
        }
      }
    };
    walk(vectors, '$');
    expect(found.length).toBeGreaterThan(50);
    let refused = 0;
    for (const [path, bytes] of found) {
      let ours: unknown;
      try {
        ours = decodeValue(bytes);
      } catch (err) {
        // Only on purpose: the vector of a non-string map key, which the library reads.
        expect(err, path).toBeInstanceOf(DecodeError);
        expect((err as Error).message, path).toMatch(/key/);
        expect(path, path).toMatch(/^\$\.decode\[/);
        libDecode(bytes, LIB);
        refused++;
        continue;
      }
      expect(ourForm(ours), path).toEqual(libForm(libDecode(bytes, LIB)));
    }
    expect(refused).toBe(1);
  });
});

describe('msgpack oracle: where core refuses on purpose', () => {
  const nest = (depth: number, inner: unknown = []): unknown => (depth <= 1 ? inner : [nest(depth - 1, inner)]);
  const deep = { useBigInt64: true, maxDepth: 1000 } as const;

  it(`nesting: ${MAX_DEPTH} levels are written as the library writes them, one more is an EncodeError, and the decoder refuses the same one more that the library reads`, () => {
    expect(ourHex(nest(MAX_DEPTH))).toBe(libHex(nest(MAX_DEPTH)));
    expect(() => encodeValue(nest(MAX_DEPTH + 1))).toThrow(new EncodeError(`nesting deeper than ${MAX_DEPTH}`));
    // The decoder has the encoder's limit: it reads MAX_DEPTH nested arrays and refuses one
    // more (an empty innermost one included), so whatever it reads can be written back.
    expect(decodeValue(libEncode(nest(MAX_DEPTH), deep))).toEqual(nest(MAX_DEPTH));
    const bytes = libEncode(nest(MAX_DEPTH + 1), deep);
    expect(() => decodeValue(bytes)).toThrow(new DecodeError(`nesting deeper than ${MAX_DEPTH}`));
    expect(libDecode(bytes, LIB)).toEqual(nest(MAX_DEPTH + 1));
    // The library counts a scalar as a level too: it refuses 1 inside 100 arrays, which we write.
    expect(() => libEncode(nest(MAX_DEPTH, [1]))).toThrow(/Too deep/);
    expect(ourHex(nest(MAX_DEPTH, [1]))).toBe(libHex(nest(MAX_DEPTH, [1]), deep));
  });

  it('a __proto__ key: the library writes it and refuses to read it; we refuse both ways with typed errors', () => {
    const o = JSON.parse('{"__proto__": 1}') as object;
    const bytes = libEncode(o, LIB);
    expect(bytesToHex(bytes)).toBe('81a95f5f70726f746f5f5f01');
    expect(() => encodeValue(o)).toThrow(new EncodeError(PROTO_KEY_REFUSAL));
    expect(() => decodeValue(bytes)).toThrow(new DecodeError(PROTO_KEY_REFUSAL));
    expect(() => libDecode(bytes, LIB)).toThrow(/__proto__/);
  });

  it('a bigint beyond 64 bits: the library wraps it silently, we throw EncodeError', () => {
    expect(libHex(2n ** 64n)).toBe('cf0000000000000000');
    expect(() => encodeValue(2n ** 64n)).toThrow(EncodeError);
    expect(() => encodeValue(-(2n ** 63n) - 1n)).toThrow(EncodeError);
  });

  it('a lone surrogate: we write U+FFFD; the library writes WTF-8 bytes, which we refuse to read', () => {
    expect(ourHex('a\ud800')).toBe('a461efbfbd');
    const bytes = libEncode('a\ud800', LIB);
    expect(bytesToHex(bytes)).toBe('a461eda080');
    expect(() => decodeValue(bytes)).toThrow(DecodeError);
  });

  it('ext types and non-string map keys: the library reads them, we throw DecodeError', () => {
    for (const h of ['d40102', '81017f']) {
      expect(() => libDecode(hexToBytes(h), LIB), h).not.toThrow();
      expect(() => decodeValue(hexToBytes(h)), h).toThrow(DecodeError);
    }
  });
});
