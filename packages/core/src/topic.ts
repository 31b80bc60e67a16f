import { Float64, isFloat64, pythonFloatRepr } from './float.js';
import { ValidationError } from './errors.js';

/** An attribute value of a topic. `Float64` prints as a Python float (`2.0`). */
export type TopicAttributeValue = string | number | boolean | null | bigint | Float64;

/**
 * Topic attributes: a plain object, or a `Map` where insertion order must survive
 * array-index-like keys (`"10"`, `"9"`), which a plain object would reorder.
 */
export type TopicAttributes = Record<string, TopicAttributeValue> | Map<string, TopicAttributeValue>;

/** A topic: a namespace with attributes and a version, e.g. `transport.tcp[host=h,port=1]v1.0`. */
export interface Topic {
  namespace: string;
  attributes: TopicAttributes;
  /** Defaults to `"1.0"`. */
  version: string;
}

/**
 * Builds a topic, filling the default version `"1.0"` and empty attributes. Throws
 * `ValidationError` for a topic whose string form is ambiguous (see `topicRoundTrips`): a
 * signature covers only that form, so another attribute map could claim the same signature.
 */
export function createTopic(namespace: string, attributes: TopicAttributes = {}, version = '1.0'): Topic {
  if (typeof namespace !== 'string') throw new ValidationError('topic namespace must be a string');
  const topic = { namespace, attributes: attributes instanceof Map ? new Map(attributes) : { ...attributes }, version };
  if (!topicRoundTrips(topic)) {
    throw new ValidationError(`topic ${JSON.stringify(topicToString(topic))} is ambiguous: its attributes do not read back from its string form`);
  }
  return topic;
}

/** Python's `str()` of an attribute value. */
function pythonStr(v: TopicAttributeValue): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (isFloat64(v)) return pythonFloatRepr(v.value);
  // As the codec writes them: safe integers as ints, every other number as a float.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : pythonFloatRepr(v);
  return String(v);
}

/** Compares strings by Unicode code point, as Python's `sorted` does (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/**
 * The reference's string form: `namespace[k1=v1,k2=v2]vVERSION`, attributes sorted by key
 * in code-point order, values as Python's `str()`. Signatures cover this form.
 */
export function topicToString(topic: Topic): string {
  const a = topic.attributes;
  const isMap = a instanceof Map;
  const keys = (isMap ? [...a.keys()] : Object.keys(a)).sort(compareCodePoints);
  let attrs = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    attrs += (i === 0 ? '' : ',') + k + '=' + pythonStr(isMap ? a.get(k)! : a[k]!);
  }
  return `${topic.namespace}[${attrs}]v${topic.version}`;
}

/** Whether two topics are equal (same string form). */
export function topicsEqual(a: Topic, b: Topic): boolean {
  return topicToString(a) === topicToString(b);
}

/**
 * Whether the topic's string form (what signatures cover) reads back to exactly its own
 * namespace, attributes (names and printed values) and version. The reference escapes
 * nothing, so `{host: "127.0.0.1,port=7000"}` and `{host: "127.0.0.1", port: 7000}` print
 * alike; such a topic is refused when created and when received. Reading back: the namespace
 * runs to the first `[`, the version from the last `]v`, attributes split on `,` and each
 * on its first `=`.
 */
export function topicRoundTrips(topic: Topic): boolean {
  if (topic === null || typeof topic !== 'object' || typeof topic.namespace !== 'string' || typeof topic.version !== 'string') return false;
  const a = topic.attributes;
  if (a === null || typeof a !== 'object') return false;
  const s = topicToString(topic);
  const open = s.indexOf('[');
  const close = s.lastIndexOf(']v');
  if (open !== topic.namespace.length || close !== s.length - topic.version.length - 2) return false;
  const isMap = a instanceof Map;
  const keys = (isMap ? [...a.keys()] : Object.keys(a)).sort(compareCodePoints);
  const body = s.slice(open + 1, close);
  if (keys.length === 0) return body === '';
  const parts = body.split(',');
  if (parts.length !== keys.length) return false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    const k = keys[i]!;
    if (eq !== k.length || part.slice(0, eq) !== k) return false;
    if (part.slice(eq + 1) !== pythonStr(isMap ? a.get(k)! : a[k]!)) return false;
  }
  return true;
}
