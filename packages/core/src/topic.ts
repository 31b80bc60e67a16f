import { Float64, pythonFloatRepr } from './float.js';
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

/** Builds a topic, filling the default version `"1.0"` and empty attributes. */
export function createTopic(namespace: string, attributes: TopicAttributes = {}, version = '1.0'): Topic {
  if (typeof namespace !== 'string') throw new ValidationError('topic namespace must be a string');
  return { namespace, attributes: attributes instanceof Map ? new Map(attributes) : { ...attributes }, version };
}

/** Python's `str()` of an attribute value. */
function pythonStr(v: TopicAttributeValue): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof Float64) return pythonFloatRepr(v.value);
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
