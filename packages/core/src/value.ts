import type { Float64 } from './float.js';

/**
 * Plain data that the wire codec and every Store can carry: msgpack's types, with `Float64`
 * for integer-valued floats, `bigint` for integers beyond 2^53 and `Map` for maps whose key
 * order a plain object cannot keep (array-index-like keys).
 *
 * Map keys are strings other than `__proto__` (the codec refuses that key in both directions).
 * `decodeValue` gives every `Uint8Array` as its own copy, so a decoded value shares no memory
 * with the bytes it came from.
 */
export type WireValue = null | boolean | number | bigint | string | Uint8Array | Float64 | WireValue[] | Map<string, WireValue> | { [key: string]: WireValue };

/** A string-keyed map of plain data (a message payload, task inputs, ...). */
export type WireRecord = { [key: string]: WireValue };
