// fast-check generators for plain data, topics and messages, and a normal form that compares
// decoded values with the values they were made from.
import fc from 'fast-check';
import {
  Float64,
  isFloat64,
  bytesToHex,
  createTopic,
  topicRoundTrips,
  type MessageInit,
  type Topic,
  type TopicAttributeValue,
  type WireValue,
} from '@converge/core';

/** Any string of valid Unicode (no lone surrogates, which UTF-8 cannot carry). */
export const anyString = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength });

// `__proto__` is refused as a map key by the decoder (see README); keep it out of the data.
const mapKey = anyString(12).filter((k) => k !== '__proto__');

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** A 64-bit integer outside the safe range of a double (kept as a `bigint`). */
export const wideBigInt = fc.oneof(
  fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) + 1n, max: UINT64_MAX }),
  fc.bigInt({ min: INT64_MIN, max: BigInt(Number.MIN_SAFE_INTEGER) - 1n }),
);

/** Scalars the codec carries. */
export const scalar: fc.Arbitrary<WireValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.integer({ min: -40, max: 300 }), // the small widths, often
  wideBigInt,
  fc.bigInt({ min: -1000n, max: 1000n }), // small bigints, written as small ints
  fc.double().map((x) => new Float64(x)),
  fc.double(),
  anyString(),
  fc.uint8Array({ maxLength: 40 }),
);

/**
 * Plain data over `leaf`: arrays, plain objects and Maps of it, a few levels deep. Typed as
 * `T`, for leaf types closed under those containers (`WireValue`, `unknown`).
 */
export function plainData<T>(leaf: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.letrec<{ value: T }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 3, depthSize: 'small' },
      leaf,
      fc.array(tie('value'), { maxLength: 5 }) as fc.Arbitrary<T>,
      fc.dictionary(mapKey, tie('value'), { maxKeys: 5, noNullPrototype: true }) as fc.Arbitrary<T>,
      fc.array(fc.tuple(mapKey, tie('value')), { maxLength: 5 }).map((e) => new Map(e)) as fc.Arbitrary<T>,
    ),
  })).value;
}

/** Plain data: scalars, arrays, plain objects and Maps, a few levels deep. */
export const wireValue: fc.Arbitrary<WireValue> = plainData(scalar);

/** A topic attribute value. */
export const attributeValue: fc.Arbitrary<TopicAttributeValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  wideBigInt,
  fc.double().map((x) => new Float64(x)),
  anyString(16),
);

/** A topic with arbitrary namespace, attributes (object or Map) and version. */
export const topic: fc.Arbitrary<Topic> = fc
  .tuple(
    anyString(20),
    fc.oneof(
      fc.dictionary(mapKey, attributeValue, { maxKeys: 4, noNullPrototype: true }),
      fc.array(fc.tuple(mapKey, attributeValue), { maxLength: 4 }).map((e) => new Map(e)),
    ),
    fc.oneof(fc.constant('1.0'), anyString(6)),
  )
  // createTopic (and the decoder) refuse a topic whose string form does not read back.
  .filter(([namespace, attributes, version]) => topicRoundTrips({ namespace, attributes, version }))
  .map(([ns, attrs, version]) => createTopic(ns, attrs, version));

/** Fields for `createMessage`, every one of them arbitrary (the timestamp within the safe range). */
export const messageInit: fc.Arbitrary<MessageInit> = fc.record({
  // At most 32 code points: within MAX_MESSAGE_ID_BYTES (128) even at 4 UTF-8 bytes each.
  id: fc.oneof(fc.uuid(), anyString(32)),
  sender: anyString(70),
  recipient: fc.option(anyString(70), { nil: null }),
  topics: fc.array(topic, { maxLength: 3 }),
  payload: wireValue,
  taskId: fc.option(anyString(40), { nil: null }),
  timestamp: fc.oneof(fc.maxSafeInteger(), fc.integer({ min: 0, max: 2 ** 42 })),
});

/**
 * A comparable form of plain data: maps (objects or Map) as ordered entry lists, numbers by
 * value (the wire keeps float-ness, a JS number does not; bytes tests check that separately),
 * bigints in the safe range as numbers (the decoder returns them so), bytes as hex.
 */
export function normal(v: unknown): unknown {
  if (isFloat64(v)) return normal(v.value);
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : ['n', String(v)];
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? normal(Number(v)) : ['big', String(v)];
  if (v instanceof Uint8Array) return ['bin', bytesToHex(v)];
  if (Array.isArray(v)) return ['arr', v.map(normal)];
  if (v instanceof Map) return ['map', [...v].map(([k, x]) => [k, normal(x)])];
  if (v !== null && typeof v === 'object') return ['map', Object.keys(v).map((k) => [k, normal((v as Record<string, unknown>)[k])])];
  return v;
}
