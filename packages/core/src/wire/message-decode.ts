/**
 * `decodeMessage`: one pass over the envelope. The scanner validates every value (structure,
 * truncation, declared lengths against the bytes present, depth, string keys) before
 * anything is built; the fixed fields (strings, ints, nil, bin) are then read straight from
 * the bytes, and only the payload goes through the general decoder. The payload's raw bytes
 * are kept with the message, so verifying it never re-encodes the payload.
 */
import type { Message } from '../message.js';
import { topicRoundTrips, type Topic, type TopicAttributeValue } from '../topic.js';
import type { WireValue } from '../value.js';
import { Float64 } from '../float.js';
import { DecodeError } from '../errors.js';
import { sealMessage } from '../message-slot.js';
import { copyRange } from '../alloc.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeScanned, type DecodeLimits } from './decode.js';
import { scanForDecode, scanValue } from './scan.js';
import { INDEX_LIKE, arrayAt, binSpan, floatAt, intAt, mapAt, spanEnd, strSpan, utf8At } from './read.js';

/**
 * Longest message id accepted, in UTF-8 bytes (a UUID is 36). Bounds what a receiver's replay
 * cache holds per message; `decodeMessage` refuses longer ids (`DecodeError`) and
 * `createMessage` longer ones (`ValidationError`).
 */
export const MAX_MESSAGE_ID_BYTES = 128;

const ID = 0;
const SENDER = 1;
const RECIPIENT = 2;
const TOPICS = 3;
const PAYLOAD = 4;
const TASK_ID = 5;
const TIMESTAMP = 6;
const SIGNATURE = 7;
const NAMESPACE = 8;
const ATTRIBUTES = 9;
const VERSION = 10;

// Fields whose whole value decodeEnvelope decodes (so every string in it is UTF-8-checked then).
const FULLY_DECODED = new Uint8Array(8);
for (const f of [ID, SENDER, RECIPIENT, PAYLOAD, TASK_ID]) FULLY_DECODED[f] = 1;

// Known keys by UTF-8 length: fields and their bytes. Keys are matched on their bytes, not decoded.
const KEYS_BY_LENGTH: { field: number; bytes: Uint8Array }[][] = [];
for (const [field, name] of [
  [ID, 'id'],
  [SENDER, 'sender'],
  [RECIPIENT, 'recipient'],
  [TOPICS, 'topics'],
  [PAYLOAD, 'payload'],
  [TASK_ID, 'task_id'],
  [TIMESTAMP, 'timestamp'],
  [SIGNATURE, 'signature'],
  [NAMESPACE, 'namespace'],
  [ATTRIBUTES, 'attributes'],
  [VERSION, 'version'],
] as const) {
  const bytes = new TextEncoder().encode(name);
  (KEYS_BY_LENGTH[bytes.length] ??= []).push({ field, bytes });
}

function keyAt(b: Uint8Array, start: number, end: number): number {
  const candidates = KEYS_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  for (let c = 0; c < candidates.length; c++) {
    const key = candidates[c]!.bytes;
    let i = 0;
    while (i < key.length && b[start + i] === key[i]) i++;
    if (i === key.length) return candidates[c]!.field;
  }
  return -1;
}

function strAt(b: Uint8Array, pos: number, what: string): string {
  const s = strSpan(b, pos);
  if (s < 0) throw new DecodeError(`${what} must be a string`);
  return utf8At(b, s, spanEnd, what);
}

function optionalStrAt(b: Uint8Array, pos: number, what: string): string | null {
  return pos < 0 || b[pos] === 0xc0 ? null : strAt(b, pos, what + ' or nil');
}

// A topic attribute stays exactly what it was on the wire (a float stays a float, `2.0`):
// the signed bytes hold the topic's string form.
function attributeAt(b: Uint8Array, pos: number, what: string): TopicAttributeValue {
  const h = b[pos]!;
  if (h === 0xc0) return null;
  if (h === 0xc2) return false;
  if (h === 0xc3) return true;
  if (h === 0xca || h === 0xcb) return new Float64(floatAt(b, pos));
  const s = strSpan(b, pos);
  if (s >= 0) return utf8At(b, s, spanEnd, what);
  const n = intAt(b, pos);
  if (n === undefined) throw new DecodeError(`${what} is not a scalar`);
  return n;
}

// Where the topic read by the last `topicAt` call ends.
let topicEnd = 0;

function topicAt(b: Uint8Array, pos: number, i: number): Topic {
  const count = mapAt(b, pos);
  if (count < 0) throw new DecodeError(`topics[${i}] must be a map`);
  let p = spanEnd;
  let namespace: string | undefined;
  let version = '1.0';
  let attributes: Topic['attributes'] = {};
  for (let k = 0; k < count; k++) {
    const ks = strSpan(b, p);
    const ke = spanEnd;
    const vEnd = scanValue(b, ke, 2);
    const field = keyAt(b, ks, ke);
    if (field === NAMESPACE) namespace = strAt(b, ke, `topics[${i}].namespace`);
    else if (field === VERSION) version = strAt(b, ke, `topics[${i}].version`);
    else if (field === ATTRIBUTES) attributes = attributesAt(b, ke, i);
    p = vEnd;
  }
  if (namespace === undefined) throw new DecodeError(`topics[${i}].namespace is missing`);
  const topic = { namespace, attributes, version };
  // The signature covers the topic's string form only: that form must say exactly these attributes.
  if (!topicRoundTrips(topic)) throw new DecodeError(`topics[${i}] is ambiguous: its attributes do not read back from its string form`);
  topicEnd = p;
  return topic;
}

function attributesAt(b: Uint8Array, pos: number, i: number): Topic['attributes'] {
  const count = mapAt(b, pos);
  if (count < 0) throw new DecodeError(`topics[${i}].attributes must be a map`);
  let p = spanEnd;
  const names: string[] = [];
  const values: TopicAttributeValue[] = [];
  let needsMap = false;
  for (let j = 0; j < count; j++) {
    const s = strSpan(b, p);
    const first = b[s];
    const name = utf8At(b, s, spanEnd, `topics[${i}] attribute name`);
    const vStart = spanEnd;
    p = scanValue(b, vStart, 3);
    // A repeated name would leave one value of two, unseen by the signature: refused.
    if (count > 1 && names.includes(name)) throw new DecodeError(`topics[${i}] repeats the attribute ${JSON.stringify(name)}`);
    names.push(name);
    values.push(attributeAt(b, vStart, `topics[${i}].attributes.${name}`));
    // A plain object would move array-index-like keys first: keep wire order in a Map.
    if (!needsMap && first !== undefined && first >= 0x30 && first <= 0x39 && INDEX_LIKE.test(name)) needsMap = true;
  }
  if (needsMap) {
    const m = new Map<string, TopicAttributeValue>();
    for (let j = 0; j < names.length; j++) m.set(names[j]!, values[j]!);
    return m;
  }
  const o: Record<string, TopicAttributeValue> = {};
  for (let j = 0; j < names.length; j++) {
    // `__proto__` must become an own property, not the object's prototype.
    if (names[j] === '__proto__') Object.defineProperty(o, '__proto__', { value: values[j], enumerable: true, writable: true, configurable: true });
    else o[names[j]!] = values[j]!;
  }
  return o;
}

function topicsAt(b: Uint8Array, pos: number): Topic[] {
  if (b[pos] === 0xc0) return [];
  const n = arrayAt(b, pos);
  if (n < 0) throw new DecodeError('topics must be an array');
  let p = spanEnd;
  const topics: Topic[] = [];
  for (let i = 0; i < n; i++) {
    topics.push(topicAt(b, p, i));
    p = topicEnd;
  }
  return topics;
}

function signatureAt(b: Uint8Array, pos: number): Uint8Array {
  if (b[pos] === 0xc0) return new Uint8Array(0);
  const start = binSpan(b, pos);
  if (start < 0) throw new DecodeError('signature must be bytes');
  const len = spanEnd - start;
  if (len !== 0 && len !== 64) throw new DecodeError(`signature must be 0 or 64 bytes, got ${len}`);
  return copyRange(b, start, spanEnd);
}

function decodeEnvelope(b: Uint8Array): Message {
  const count = mapAt(b, 0);
  if (count < 0) throw new DecodeError(b.byteLength === 0 ? 'empty input' : 'a message must be a msgpack map');
  let p = spanEnd;
  if (p > b.byteLength) throw new DecodeError('truncated map header');
  // Each entry takes at least 2 bytes: reject impossible counts before looping.
  if (count * 2 > b.byteLength - p) throw new DecodeError(`truncated message: ${count} entries declared`);
  // Where each known field's value starts (-1: absent). A repeated key: the last one wins.
  const at = [-1, -1, -1, -1, -1, -1, -1, -1];
  let payloadEnd = -1;
  for (let i = 0; i < count; i++) {
    if (p >= b.byteLength) throw new DecodeError(`truncated message: entry ${i} of ${count} is missing`);
    const ks = strSpan(b, p);
    if (ks < 0) throw new DecodeError(`map key at byte ${p} is not a string (type byte 0x${b[p]!.toString(16)})`);
    const ke = spanEnd;
    // Declared lengths are checked against the bytes present before anything relies on them.
    if (ks > b.byteLength || ke > b.byteLength) throw new DecodeError(`truncated msgpack at byte ${p}: the key runs past the end`);
    // Each field value has the codec's whole depth budget, so any payload encodeValue writes decodes.
    const field = keyAt(b, ks, ke);
    // A field decoded in full below has its strings checked as UTF-8 then; any other value
    // (unknown, topics, or a field that a later repeat of its key replaces) is checked here.
    const decodedLater = field >= 0 && FULLY_DECODED[field] === 1 && at[field] === -1;
    const vEnd = decodedLater ? scanForDecode(b, ke, 0) : scanValue(b, ke, 0);
    if (field >= 0 && field <= SIGNATURE) {
      // A repeated key: the earlier value is no longer decoded, so its strings are checked now.
      if (at[field] !== -1 && FULLY_DECODED[field] === 1) scanValue(b, at[field]!, 0);
      at[field] = ke;
      if (field === PAYLOAD) payloadEnd = vEnd;
    }
    p = vEnd;
  }
  if (p !== b.byteLength) throw new DecodeError(`${b.byteLength - p} extra bytes after the message`);

  if (at[ID]! < 0) throw new DecodeError('id is missing');
  // Bounded before it is decoded: a receiver remembers ids against replay.
  const idStart = strSpan(b, at[ID]!);
  if (idStart >= 0 && spanEnd - idStart > MAX_MESSAGE_ID_BYTES) {
    throw new DecodeError(`id of ${spanEnd - idStart} bytes exceeds the limit of ${MAX_MESSAGE_ID_BYTES}`);
  }
  const id = strAt(b, at[ID]!, 'id');
  const sender = optionalStrAt(b, at[SENDER]!, 'sender') ?? '';
  const recipient = optionalStrAt(b, at[RECIPIENT]!, 'recipient');
  const topics = at[TOPICS]! < 0 ? [] : topicsAt(b, at[TOPICS]!);
  const taskId = optionalStrAt(b, at[TASK_ID]!, 'task_id');
  if (at[TIMESTAMP]! < 0) throw new DecodeError('timestamp is missing');
  const timestamp = intAt(b, at[TIMESTAMP]!);
  if (typeof timestamp !== 'number') throw new DecodeError('timestamp must be an integer (Unix ms) within the safe range');
  const signature = at[SIGNATURE]! < 0 ? new Uint8Array(0) : signatureAt(b, at[SIGNATURE]!);
  let payload: WireValue = {};
  let raw: Uint8Array | undefined;
  if (at[PAYLOAD]! >= 0) {
    raw = copyRange(b, at[PAYLOAD]!, payloadEnd);
    payload = decodeScanned(raw) as WireValue;
  }
  return sealMessage({ id, sender, recipient, topics: Object.freeze(topics), payload, taskId, timestamp, signature }, raw);
}

/**
 * Decodes bytes made by `encodeMessage` or by the reference (keys in any order, unknown keys
 * ignored, a missing `recipient`/`task_id` is null). Throws only `DecodeError`: for a
 * non-map top level, non-string keys, wrong field types (a timestamp must be an integer),
 * invalid UTF-8 in a field, a signature that is not 0 or 64 bytes, or input over `maxBytes`
 * (default 10 MiB). Declared lengths are checked against the input before anything is
 * allocated.
 */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits = {}): Message {
  const max = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('input must be a Uint8Array');
  if (bytes.byteLength > max) throw new DecodeError(`message of ${bytes.byteLength} bytes exceeds the limit of ${max}`);
  try {
    return decodeEnvelope(bytes);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed message: ${(err as Error).message}`, { cause: err });
  }
}
