/**
 * The fast path of `decodeMessage`, for an envelope laid out as this codec and the reference
 * write it: a map of 8 entries whose keys come in the canonical order (`id`, `sender`,
 * `recipient`, `topics`, `payload`, `task_id`, `timestamp`, `signature`), each with a value of
 * its plain type. It reads the fields in one pass, each checked against the bytes present
 * (the payload read by `decodeBounded`, which checks every length, count and nesting level as
 * it goes; the topics scanned as the general path scans them), with recurring
 * strings (fingerprints, map keys) and topic lists taken from small caches.
 *
 * It returns `undefined` at the first byte that differs from that layout, and may throw
 * `DecodeError` on a malformed value; either way the caller hands the input to the general
 * decoder, which accepts it or throws the error it always threw. So this path accepts only
 * what the general one accepts, and builds the same message.
 * @internal
 */
import type { Message } from '../message.js';
import type { Topic } from '../topic.js';
import type { WireValue } from '../value.js';
import { sealMessage } from '../message-slot.js';
import { copyRange, viewOf } from '../alloc.js';
import { boundedEnd, decodeBounded } from './decode.js';
import * as K from './envelope-keys.js';
import { MAX_MESSAGE_ID_BYTES } from './message-fields.js';
import { recurringString } from './recurring.js';
import { recurringTopicsAt, topicsEnd } from './topic-decode.js';
import { FIXED_SIZE, intAt, spanEnd, strSpan, utf8At } from './read.js';

const { expectKey, keyBytes } = K;
const ENCODED_HEAD = keyBytes(K.ENCODED_HEAD);
const K_SENDER = keyBytes(K.K_SENDER);
const K_RECIPIENT = keyBytes(K.K_RECIPIENT);
const K_TOPICS = keyBytes(K.K_TOPICS);
const K_PAYLOAD = keyBytes(K.K_PAYLOAD);
const K_TASK_ID = keyBytes(K.K_TASK_ID);
const K_TIMESTAMP = keyBytes(K.K_TIMESTAMP);
const K_SIGNATURE = keyBytes(K.K_SIGNATURE);

// Where the value read by the last `textAt` call ends.
let textEnd = 0;

// The str at `p` (null for nil), or undefined when it is neither or runs past the end.
function textAt(b: Uint8Array, p: number, what: string, recurring: boolean, maxBytes: number): string | null | undefined {
  if (p >= b.byteLength) return undefined;
  if (b[p] === 0xc0) {
    textEnd = p + 1;
    return null;
  }
  const s = strSpan(b, p);
  // `!(a <= b)`: a length read from a header cut short is NaN.
  if (s < 0 || !(spanEnd <= b.byteLength) || spanEnd - s > maxBytes) return undefined;
  textEnd = spanEnd;
  return recurring ? recurringString(b, s, spanEnd, what) : utf8At(b, s, spanEnd, what);
}

// The signature at `p` of `b` if it is bin8 of 0 or 64 bytes or nil and ends the input, else
// undefined. It is returned as a view of `tail`, the copy of `b` from `tailStart` to its end.
function signatureEnding(b: Uint8Array, p: number, tail: Uint8Array, tailStart: number): Uint8Array | undefined {
  const n = b.byteLength - p;
  if (n === 1 && b[p] === 0xc0) return new Uint8Array(0);
  if (b[p] !== 0xc4 || n < 2) return undefined;
  const len = b[p + 1]!;
  return (len === 64 || len === 0) && n === 2 + len ? viewOf(tail, p + 2 - tailStart, b.byteLength - tailStart) : undefined;
}

// The fields `readHead` read last (module state rather than an object per message).
let headId = '';
let headSender = '';
let headRecipient: string | null = null;

// Reads id, sender and recipient as the general path reads them (into `headId`, `headSender`,
// `headRecipient`); false when they are not laid out canonically.
function readHead(b: Uint8Array): boolean {
  let p = expectKey(b, 0, ENCODED_HEAD);
  if (p < 0) return false;
  const id = textAt(b, p, 'id', false, MAX_MESSAGE_ID_BYTES);
  if (typeof id !== 'string') return false;
  p = expectKey(b, textEnd, K_SENDER);
  if (p < 0) return false;
  const sender = textAt(b, p, 'sender or nil', true, Infinity);
  if (sender === undefined) return false;
  p = expectKey(b, textEnd, K_RECIPIENT);
  if (p < 0) return false;
  const recipient = textAt(b, p, 'recipient or nil', true, Infinity);
  if (recipient === undefined) return false;
  headId = id;
  headSender = sender ?? '';
  headRecipient = recipient;
  return true;
}

// The topics of every message that has none: frozen, so one array can serve them all.
const NO_TOPICS: readonly Topic[] = Object.freeze([]);

/** Decodes a canonically laid out message, or returns `undefined` (see the module comment). */
export function decodeCanonical(b: Uint8Array): Message | undefined {
  if (!readHead(b)) return undefined;
  const id = headId;
  const sender = headSender;
  const recipient = headRecipient;
  let p = expectKey(b, textEnd, K_TOPICS);
  if (p < 0 || p >= b.byteLength) return undefined;
  const topics = b[p] === 0xc0 ? [] : recurringTopicsAt(b, p);
  p = expectKey(b, b[p] === 0xc0 ? p + 1 : topicsEnd, K_PAYLOAD);
  if (p < 0) return undefined;
  // One copy from the payload to the end: the payload bytes and the signature are views of it.
  // The payload is read from it in one bounded pass (no separate scan).
  const tail = copyRange(b, p, b.byteLength);
  const tailStart = p;
  const payload = decodeBounded(tail) as WireValue;
  const payloadEnd = p + boundedEnd;
  const raw = viewOf(tail, 0, boundedEnd);
  p = expectKey(b, payloadEnd, K_TASK_ID);
  if (p < 0) return undefined;
  const taskId = textAt(b, p, 'task_id or nil', false, Infinity);
  if (taskId === undefined) return undefined;
  p = expectKey(b, textEnd, K_TIMESTAMP);
  if (p < 0 || p >= b.byteLength) return undefined;
  const timestamp = intAt(b, p);
  if (typeof timestamp !== 'number') return undefined;
  p = expectKey(b, p + FIXED_SIZE[b[p]!]!, K_SIGNATURE);
  if (p < 0) return undefined;
  const signature = signatureEnding(b, p, tail, tailStart);
  if (signature === undefined) return undefined;
  return sealMessage({ id, sender, recipient, topics: topics.length === 0 ? NO_TOPICS : Object.freeze(topics), payload, taskId, timestamp, signature }, raw);
}
