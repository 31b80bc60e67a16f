/**
 * Decoding of the envelope's `topics`: an array of maps (`namespace`, `attributes`,
 * `version`), each of which must read back from its string form (what the signature covers).
 * The bytes must have been validated by `scanValue` first.
 * @internal
 */
import { topicRoundTrips, type Topic, type TopicAttributeValue } from '../topic.js';
import { Float64 } from '../float.js';
import { DecodeError } from '../errors.js';
import { scanValue } from './scan.js';
import { ATTRIBUTES, NAMESPACE, VERSION, keyAt } from './envelope-keys.js';
import { strAt } from './message-fields.js';
import { INDEX_LIKE, arrayAt, floatAt, intAt, mapAt, spanEnd, strSpan, utf8At } from './read.js';

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

/** The topics at `pos` (nil: none), validated by `scanValue` beforehand. */
export function topicsAt(b: Uint8Array, pos: number): Topic[] {
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

// Topic lists that recur (the messages of one flow mostly carry the same topics), kept by
// their exact bytes with the topics decoded from them: a hit costs one byte comparison instead
// of a scan, a decode and the string-form check, and returns fresh copies (topics are
// mutable objects). Bounded: TOPICS_CACHE_ENTRIES lists of at most TOPICS_CACHE_MAX_BYTES
// bytes, replaced in turn. Lists with an object attribute value (`Float64`) are not kept.
const TOPICS_CACHE_ENTRIES = 16;
const TOPICS_CACHE_MAX_BYTES = 512;
const cachedBytes: Uint8Array[] = [];
const cachedTopics: Topic[][] = [];
let nextEntry = 0;

/** Where the topics read by the last `recurringTopicsAt` call end. */
export let topicsEnd = 0;

function copyTopics(topics: readonly Topic[]): Topic[] {
  const out: Topic[] = [];
  for (let i = 0; i < topics.length; i++) {
    const { namespace, attributes, version } = topics[i]!;
    out.push({ namespace, attributes: attributes instanceof Map ? new Map(attributes) : { ...attributes }, version });
  }
  return out;
}

function hasScalarAttributes(t: Topic): boolean {
  const values = t.attributes instanceof Map ? [...t.attributes.values()] : Object.values(t.attributes);
  return values.every((v) => v === null || typeof v !== 'object');
}

function cachedAt(b: Uint8Array, pos: number): number {
  for (let c = 0; c < cachedBytes.length; c++) {
    const k = cachedBytes[c]!;
    const n = k.length;
    if (pos + n > b.byteLength) continue;
    let i = 0;
    while (i < n && b[pos + i] === k[i]) i++;
    if (i === n) return c;
  }
  return -1;
}

/**
 * The topics at `pos`, as `scanValue` (which validates them) then `topicsAt` read them, from
 * the cache when the same bytes were read before; sets `topicsEnd`. Throws `DecodeError` as they do.
 */
export function recurringTopicsAt(b: Uint8Array, pos: number): Topic[] {
  if (b[pos] === 0x90) {
    topicsEnd = pos + 1;
    return [];
  }
  const hit = cachedAt(b, pos);
  if (hit >= 0) {
    topicsEnd = pos + cachedBytes[hit]!.length;
    return copyTopics(cachedTopics[hit]!);
  }
  const end = scanValue(b, pos, 0);
  const topics = topicsAt(b, pos);
  topicsEnd = end;
  if (end - pos <= TOPICS_CACHE_MAX_BYTES && topics.every(hasScalarAttributes)) {
    const bytes = new Uint8Array(end - pos);
    bytes.set(b.subarray(pos, end));
    cachedBytes[nextEntry] = bytes;
    cachedTopics[nextEntry] = copyTopics(topics);
    nextEntry = (nextEntry + 1) % TOPICS_CACHE_ENTRIES;
  }
  return topics;
}
