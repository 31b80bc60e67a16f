/**
 * The message envelope on the wire: the signed bytes (7 keys, topics as strings) and the
 * encoded message (8 keys, topics as maps), written by a dedicated writer with the fixed keys
 * as precomputed byte prefixes. Only the payload goes through the general codec, and only
 * once per message: its bytes are kept with the message (see ../message-slot.ts) and reused for
 * the signed bytes, the encoding and verification. A message that came off the wire keeps the
 * payload bytes it arrived with, so that a peer's encoding choices never break its signature.
 */
import { EncodeError } from '../errors.js';
import type { Message } from '../message.js';
import { keepPayloadBytes, rawPayloadOf } from '../message-slot.js';
import { topicToString, type Topic } from '../topic.js';
import { acquireWriter, encodeValue, releaseWriter, type MsgpackWriter } from './encode.js';
import {
  ENCODED_HEAD,
  K_ATTRIBUTES,
  K_PAYLOAD,
  K_RECIPIENT,
  K_SENDER,
  K_SIGNATURE,
  K_TASK_ID,
  K_TIMESTAMP,
  K_TOPICS,
  K_VERSION,
  SIGNED_HEAD,
  TOPIC_HEAD,
} from './envelope-keys.js';

/**
 * The payload's msgpack bytes: the kept ones, else a fresh encoding, which is kept with the
 * message when it is one of ours (`createMessage`, `signMessage`, `decodeMessage`), so that a
 * message is signed, sent and verified with one and the same payload encoding.
 */
export function payloadBytesOf(msg: Message): Uint8Array {
  let bytes = rawPayloadOf(msg);
  if (bytes === undefined) {
    bytes = encodeValue(msg.payload);
    keepPayloadBytes(msg, bytes);
  }
  return bytes;
}

function writeHead(w: MsgpackWriter, head: readonly number[], msg: Message, sender: string): void {
  w.prefix(head);
  const id = msg.id;
  if (typeof id === 'string') w.str(id);
  else w.value(id);
  w.prefix(K_SENDER);
  if (typeof sender === 'string') w.recurringStr(sender);
  else w.value(sender);
  w.prefix(K_RECIPIENT);
  const recipient = msg.recipient;
  if (typeof recipient === 'string') w.recurringStr(recipient);
  else w.value(recipient);
}

function writeTail(w: MsgpackWriter, msg: Message): void {
  w.prefix(K_TASK_ID);
  w.value(msg.taskId);
  w.prefix(K_TIMESTAMP);
  const t = msg.timestamp;
  if (Number.isSafeInteger(t)) w.int(t);
  else w.value(t);
}

/**
 * Writes the signed bytes of `msg`, as if its sender were `sender`, into `w`: a map of
 * `id, sender, recipient, topics (strings), payload, task_id, timestamp`.
 */
export function writeSigningBytes(w: MsgpackWriter, msg: Message, sender: string, payload: Uint8Array): void {
  const topics = msg.topics;
  writeHead(w, SIGNED_HEAD, msg, sender);
  w.prefix(K_TOPICS);
  w.arrayHeader(topics.length);
  for (let i = 0; i < topics.length; i++) w.str(topicToString(topics[i]!));
  w.prefix(K_PAYLOAD);
  w.raw(payload);
  writeTail(w, msg);
}

/** The signed bytes of `msg` as a new array. */
export function signingBytesOf(msg: Message): Uint8Array {
  const payload = payloadBytesOf(msg);
  const w = acquireWriter();
  try {
    writeSigningBytes(w, msg, msg.sender, payload);
    return w.finish();
  } finally {
    releaseWriter(w);
  }
}

function writeAttributes(w: MsgpackWriter, attributes: unknown): void {
  if (attributes instanceof Map) {
    w.mapHeader(attributes.size);
    for (const [k, v] of attributes) {
      if (typeof k !== 'string') throw new EncodeError('topic attribute keys must be strings');
      w.str(k);
      w.value(v);
    }
    return;
  }
  if (attributes !== null && typeof attributes === 'object' && Object.getPrototypeOf(attributes) === Object.prototype) {
    const a = attributes as Record<string, unknown>;
    const keys = Object.keys(a);
    w.mapHeader(keys.length);
    for (let i = 0; i < keys.length; i++) {
      w.str(keys[i]!);
      w.value(a[keys[i]!]);
    }
    return;
  }
  w.value(attributes); // whatever the general codec makes of it (or its EncodeError)
}

function writeTopicMap(w: MsgpackWriter, t: Topic): void {
  w.prefix(TOPIC_HEAD);
  w.value(t.namespace);
  w.prefix(K_ATTRIBUTES);
  writeAttributes(w, t.attributes);
  w.prefix(K_VERSION);
  w.value(t.version);
}

/**
 * The encoded message: a map of `id, sender, recipient, topics (maps), payload, task_id,
 * timestamp, signature`.
 */
export function encodeEnvelope(msg: Message): Uint8Array {
  const payload = payloadBytesOf(msg);
  const topics = msg.topics;
  const w = acquireWriter();
  try {
    writeHead(w, ENCODED_HEAD, msg, msg.sender);
    w.prefix(K_TOPICS);
    w.arrayHeader(topics.length);
    for (let i = 0; i < topics.length; i++) writeTopicMap(w, topics[i]!);
    w.prefix(K_PAYLOAD);
    w.raw(payload);
    writeTail(w, msg);
    w.prefix(K_SIGNATURE);
    const signature = msg.signature;
    if (signature instanceof Uint8Array) w.bin(signature);
    else w.value(signature);
    return w.finish();
  } finally {
    releaseWriter(w);
  }
}
