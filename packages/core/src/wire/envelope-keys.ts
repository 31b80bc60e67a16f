/**
 * The keys of the message envelope and of its topic maps: their msgpack bytes as written by
 * the encoder (precomputed prefixes), and their field numbers as matched by the decoders.
 * @internal
 */
import { strBytes } from './encode.js';

// A header byte (if any) and a key, as msgpack bytes. Not frozen: V8 reads a frozen array's
// elements markedly slower, and these are read several times per message (`readonly` guards them).
function prefix(head: number[], key: string): readonly number[] {
  return [...head, ...strBytes(key)];
}

/** The signed bytes' map header (7 entries) and first key. */
export const SIGNED_HEAD = prefix([0x87], 'id');
/** The encoded message's map header (8 entries) and first key. */
export const ENCODED_HEAD = prefix([0x88], 'id');
/** The `sender` key. */
export const K_SENDER = prefix([], 'sender');
/** The `recipient` key. */
export const K_RECIPIENT = prefix([], 'recipient');
/** The `topics` key. */
export const K_TOPICS = prefix([], 'topics');
/** The `payload` key. */
export const K_PAYLOAD = prefix([], 'payload');
/** The `task_id` key. */
export const K_TASK_ID = prefix([], 'task_id');
/** The `timestamp` key. */
export const K_TIMESTAMP = prefix([], 'timestamp');
/** The `signature` key. */
export const K_SIGNATURE = prefix([], 'signature');
/** A topic map's header (3 entries) and first key. */
export const TOPIC_HEAD = prefix([0x83], 'namespace');
/** The `attributes` key of a topic map. */
export const K_ATTRIBUTES = prefix([], 'attributes');
/** The `version` key of a topic map. */
export const K_VERSION = prefix([], 'version');

/** Field numbers of the envelope's keys (0-7) and of a topic map's keys (8-10). */
export const ID = 0;
/** See {@link ID}. */
export const SENDER = 1;
/** See {@link ID}. */
export const RECIPIENT = 2;
/** See {@link ID}. */
export const TOPICS = 3;
/** See {@link ID}. */
export const PAYLOAD = 4;
/** See {@link ID}. */
export const TASK_ID = 5;
/** See {@link ID}. */
export const TIMESTAMP = 6;
/** See {@link ID}. */
export const SIGNATURE = 7;
/** See {@link ID}. */
export const NAMESPACE = 8;
/** See {@link ID}. */
export const ATTRIBUTES = 9;
/** See {@link ID}. */
export const VERSION = 10;

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

/** The field number of the key whose UTF-8 bytes are `[start, end)` of `b`, or -1. */
export function keyAt(b: Uint8Array, start: number, end: number): number {
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

/** A key prefix as a `Uint8Array`, for `expectKey` (typed-array reads compare fastest). */
export function keyBytes(key: readonly number[]): Uint8Array {
  return Uint8Array.from(key);
}

/** Where the bytes of `key` end if they stand at `p` in `b`, or -1. */
export function expectKey(b: Uint8Array, p: number, key: Uint8Array): number {
  const n = key.length;
  if (p + n > b.byteLength) return -1;
  for (let i = 0; i < n; i++) if (b[p + i] !== key[i]) return -1;
  return p + n;
}
