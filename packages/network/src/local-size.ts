import { isFloat64, MAX_DEPTH, encodeMessage, rawPayloadOf, type Message } from '@converge/core';

// An upper bound on the msgpack size of a value (every header at its widest, every UTF-16
// code unit as 3 UTF-8 bytes), or -1 when the value is not plain data the bound understands
// (the caller then encodes for real, which also reports unencodable values).
function bound(v: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  switch (typeof v) {
    case 'string':
      return 5 + 3 * v.length;
    case 'number':
    case 'bigint':
      return 9;
    case 'boolean':
      return 1;
    case 'object': {
      if (v === null) return 1;
      let n = 5;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const b = bound(v[i], depth + 1);
          if (b < 0) return -1;
          n += b;
        }
        return n;
      }
      if (v instanceof Uint8Array) return 5 + v.byteLength;
      if (isFloat64(v)) return 9;
      if (v instanceof Map) {
        for (const [k, x] of v) {
          if (typeof k !== 'string') return -1;
          const b = bound(x, depth + 1);
          if (b < 0) return -1;
          n += 5 + 3 * k.length + b;
        }
        return n;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return -1;
      // Object.keys rather than for-in: several times faster in V8 on this path.
      const keys = Object.keys(v);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const b = bound((v as Record<string, unknown>)[k], depth + 1);
        if (b < 0) return -1;
        n += 5 + 3 * k.length + b;
      }
      return n;
    }
    default:
      return -1;
  }
}

// Fixed part: map header, the eight keys, timestamp, signature header, nil fallbacks.
const FIXED_OVERHEAD = 1 + 63 + 9 + 5 + 8;

/** An upper bound on `encodeMessage(msg).byteLength`, or -1 when only encoding can tell. */
export function messageSizeBound(msg: Message): number {
  let n = FIXED_OVERHEAD + 5 + 3 * msg.id.length + 5 + 3 * msg.sender.length;
  if (msg.recipient !== null) n += 5 + 3 * msg.recipient.length;
  if (msg.taskId !== null) n += 5 + 3 * msg.taskId.length;
  n += msg.signature.byteLength;
  n += 5;
  const topics = msg.topics;
  for (let i = 0; i < topics.length; i++) {
    const t = topics[i]!;
    n += 1 + 30 + 5 + 3 * t.namespace.length + 5 + 3 * t.version.length;
    const a = bound(t.attributes, 1);
    if (a < 0) return -1;
    n += a;
  }
  const raw = rawPayloadOf(msg);
  const p = raw ? raw.byteLength : bound(msg.payload, 1);
  if (p < 0) return -1;
  return n + p;
}

/**
 * Checks `encodeMessage(msg).byteLength <= limit` without encoding in the common case: the
 * cheap upper bound decides for messages clearly under the limit; only the others (or values
 * the bound does not understand) are encoded. Returns the exact encoded size when it had to
 * encode, else -1 (meaning "fits"). Throws `EncodeError` for an unencodable message.
 */
export function exactSizeIfOver(msg: Message, limit: number, cache?: WeakMap<Message, number>): number {
  let b = cache?.get(msg);
  if (b === undefined) {
    b = messageSizeBound(msg);
    // Messages are frozen, so the bound of one object stays valid (a caller that mutates a
    // payload object after sending it breaks the Message contract). Only bounds are cached.
    if (b >= 0) cache?.set(msg, b);
  }
  if (b >= 0 && b <= limit) return -1;
  const size = encodeMessage(msg).byteLength;
  return size > limit ? size : -1;
}
