import { createTopic, topicToString, type Topic, type TopicAttributes, type TopicAttributeValue } from './topic.js';
import { Float64 } from './float.js';
import type { WireValue } from './value.js';
import { uuid4 } from './uuid.js';
import { Identity } from './identity.js';
import { ed25519Verify, type Ed25519Backend } from './ed25519.js';
import { DecodeError, KeyError, ValidationError } from './errors.js';
import { encodeValue, decodeScanned, RawMsgpack, DEFAULT_MAX_MESSAGE_BYTES, type DecodeLimits } from './codec.js';
import { scanMapHeader, scanString, scanValue } from './scan.js';

/**
 * A message between agents. Immutable (frozen); `signMessage` returns a new one.
 * `sender` and `recipient` are fingerprints; `timestamp` is Unix ms.
 */
export interface Message {
  readonly id: string;
  readonly sender: string;
  readonly recipient: string | null;
  readonly topics: readonly Topic[];
  readonly payload: WireValue;
  readonly taskId: string | null;
  readonly timestamp: number;
  /** 64 bytes when signed, empty when not. */
  readonly signature: Uint8Array;
}

/** Fields accepted by `createMessage`; everything has a default. */
export interface MessageInit {
  id?: string;
  sender?: string;
  recipient?: string | null;
  topics?: readonly Topic[];
  payload?: WireValue;
  taskId?: string | null;
  timestamp?: number;
  signature?: Uint8Array;
}

// The payload bytes exactly as received, for messages that came off the wire: signatures
// are checked over them, and re-encoding writes them back unchanged.
const rawPayloads = new WeakMap<Message, Uint8Array>();

function freeze(fields: Message, rawPayload?: Uint8Array): Message {
  const msg = Object.freeze(fields);
  if (rawPayload) rawPayloads.set(msg, rawPayload);
  return msg;
}

/** Builds a message with defaults: UUID v4 id, empty sender, no recipient, `{}` payload, now. */
export function createMessage(fields: MessageInit = {}): Message {
  const timestamp = fields.timestamp ?? Date.now();
  if (!Number.isSafeInteger(timestamp)) throw new ValidationError('timestamp must be an integer number of ms');
  const signature = fields.signature ?? new Uint8Array(0);
  if (signature.byteLength !== 0 && signature.byteLength !== 64) throw new ValidationError('a signature is 0 or 64 bytes');
  return freeze({
    id: fields.id ?? uuid4(),
    sender: fields.sender ?? '',
    recipient: fields.recipient ?? null,
    topics: Object.freeze([...(fields.topics ?? [])]),
    payload: fields.payload === undefined ? {} : fields.payload,
    taskId: fields.taskId ?? null,
    timestamp,
    signature,
  });
}

function payloadForEncoding(msg: Message): unknown {
  const raw = rawPayloads.get(msg);
  return raw ? new RawMsgpack(raw) : msg.payload;
}

/**
 * The bytes a signature covers: a msgpack map of `id, sender, recipient, topics (as strings),
 * payload, task_id, timestamp`, in that order.
 */
export function signingBytes(msg: Message): Uint8Array {
  return encodeValue({
    id: msg.id,
    sender: msg.sender,
    recipient: msg.recipient,
    topics: msg.topics.map(topicToString),
    payload: payloadForEncoding(msg),
    task_id: msg.taskId,
    timestamp: msg.timestamp,
  });
}

/** Returns a copy of `msg` with `sender` set to the signer's fingerprint and signed. */
export function signMessage(msg: Message, identity: Identity): Message {
  if (!identity.canSign) throw new KeyError('signing needs an identity with a secret key');
  const withSender = { ...msg, sender: identity.fingerprint, signature: new Uint8Array(0) };
  const raw = rawPayloads.get(msg);
  if (raw) rawPayloads.set(withSender, raw);
  const signature = identity.sign(signingBytes(withSender));
  return freeze({ ...withSender, signature }, raw);
}

/**
 * Whether `msg` carries a valid signature by `publicKey` (raw 32 bytes or an `Identity`).
 * Never throws: a malformed key or signature is simply `false`.
 */
export function verifyMessage(msg: Message, publicKey: Uint8Array | Identity, options: { backend?: Ed25519Backend } = {}): boolean {
  try {
    const key = publicKey instanceof Identity ? publicKey.publicKey : publicKey;
    if (!(key instanceof Uint8Array) || key.byteLength !== 32) return false;
    if (!(msg.signature instanceof Uint8Array) || msg.signature.byteLength !== 64) return false;
    return ed25519Verify(msg.signature, signingBytes(msg), key, options.backend ?? 'node');
  } catch {
    return false;
  }
}

/** Encodes a message as the reference's `Message.to_bytes()` does. */
export function encodeMessage(msg: Message): Uint8Array {
  return encodeValue({
    id: msg.id,
    sender: msg.sender,
    recipient: msg.recipient,
    topics: msg.topics.map((t) => ({ namespace: t.namespace, attributes: t.attributes, version: t.version })),
    payload: payloadForEncoding(msg),
    task_id: msg.taskId,
    timestamp: msg.timestamp,
    signature: msg.signature,
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

// Topics are decoded by hand rather than through the generic decoder because a float
// attribute must stay a float (`2.0`): the signed bytes contain the topic's string form.
function decodeAttribute(bytes: Uint8Array, start: number, end: number, where: string): TopicAttributeValue {
  const h = bytes[start]!;
  const v = decodeScanned(bytes.subarray(start, end));
  if (h === 0xca || h === 0xcb) return new Float64(v as number);
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  throw new DecodeError(`${where} is not a scalar`);
}

function decodeTopicAt(bytes: Uint8Array, pos: number, i: number): Topic {
  const [count, first] = scanMapHeader(bytes, pos);
  let namespace: unknown;
  let version: unknown = '1.0';
  let attributes: TopicAttributes = {};
  let p = first;
  for (let k = 0; k < count; k++) {
    const [ks, ke] = scanString(bytes, p);
    const key = utf8.decode(bytes.subarray(ks, ke));
    const vEnd = scanValue(bytes, ke);
    if (key === 'attributes') {
      const [n, f] = scanMapHeader(bytes, ke);
      const entries: [string, TopicAttributeValue][] = [];
      let q = f;
      for (let j = 0; j < n; j++) {
        const [as, ae] = scanString(bytes, q);
        const name = utf8.decode(bytes.subarray(as, ae));
        const aEnd = scanValue(bytes, ae);
        entries.push([name, decodeAttribute(bytes, ae, aEnd, `topics[${i}].attributes.${name}`)]);
        q = aEnd;
      }
      const indexLike = entries.some(([name]) => /^(0|[1-9][0-9]*)$/.test(name));
      attributes = indexLike ? new Map(entries) : Object.fromEntries(entries);
    } else if (key === 'namespace') namespace = decodeScanned(bytes.subarray(ke, vEnd));
    else if (key === 'version') version = decodeScanned(bytes.subarray(ke, vEnd));
    p = vEnd;
  }
  if (typeof namespace !== 'string') throw new DecodeError(`topics[${i}].namespace is not a string`);
  if (typeof version !== 'string') throw new DecodeError(`topics[${i}].version is not a string`);
  return createTopic(namespace, attributes, version);
}

function decodeTopics(bytes: Uint8Array, start: number): Topic[] {
  const h = bytes[start]!;
  let n: number;
  let p: number;
  if (h >= 0x90 && h <= 0x9f) [n, p] = [h & 0x0f, start + 1];
  else if (h === 0xdc) [n, p] = [(bytes[start + 1]! << 8) | bytes[start + 2]!, start + 3];
  else if (h === 0xdd) [n, p] = [new DataView(bytes.buffer, bytes.byteOffset + start + 1, 4).getUint32(0), start + 5];
  else if (h === 0xc0) return [];
  else throw new DecodeError('topics must be an array');
  const topics: Topic[] = [];
  for (let i = 0; i < n; i++) {
    topics.push(decodeTopicAt(bytes, p, i));
    p = scanValue(bytes, p);
  }
  return topics;
}

/**
 * Decodes bytes made by `encodeMessage` or by the reference (keys in any order, unknown keys
 * ignored, a missing `recipient`/`task_id` is null). Throws only `DecodeError`: for a
 * non-map top level, non-string keys, wrong field types, a signature that is not 0 or 64
 * bytes, or input over `maxBytes` (default 10 MiB).
 */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits = {}): Message {
  const max = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('input must be a Uint8Array');
  if (bytes.byteLength > max) throw new DecodeError(`message of ${bytes.byteLength} bytes exceeds the limit of ${max}`);
  try {
    const end = scanValue(bytes, 0);
    if (end !== bytes.byteLength) throw new DecodeError(`${bytes.byteLength - end} extra bytes after the message`);
    const [count, first] = scanMapHeader(bytes, 0);
    const spans = new Map<string, [number, number]>();
    let p = first;
    for (let i = 0; i < count; i++) {
      const [ks, ke] = scanString(bytes, p);
      const key = utf8.decode(bytes.subarray(ks, ke));
      const vEnd = scanValue(bytes, ke);
      spans.set(key, [ke, vEnd]);
      p = vEnd;
    }
    const field = (name: string): unknown => {
      const s = spans.get(name);
      return s ? decodeScanned(bytes.subarray(s[0], s[1])) : undefined;
    };
    const id = field('id');
    if (typeof id !== 'string') throw new DecodeError('id must be a string');
    const sender = field('sender') ?? '';
    if (typeof sender !== 'string') throw new DecodeError('sender must be a string');
    const recipient = field('recipient') ?? null;
    if (recipient !== null && typeof recipient !== 'string') throw new DecodeError('recipient must be a string or nil');
    const ts = spans.get('topics');
    const topics = ts ? decodeTopics(bytes, ts[0]) : [];
    const taskId = field('task_id') ?? null;
    if (taskId !== null && typeof taskId !== 'string') throw new DecodeError('task_id must be a string or nil');
    const timestamp = field('timestamp');
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) throw new DecodeError('timestamp must be an integer');
    const signature = field('signature') ?? new Uint8Array(0);
    if (!(signature instanceof Uint8Array)) throw new DecodeError('signature must be bytes');
    if (signature.byteLength !== 0 && signature.byteLength !== 64) {
      throw new DecodeError(`signature must be 0 or 64 bytes, got ${signature.byteLength}`);
    }
    const ps = spans.get('payload');
    const rawPayload = ps ? bytes.slice(ps[0], ps[1]) : undefined;
    const payload = (ps ? decodeScanned(rawPayload!) : {}) as WireValue;
    return freeze(
      { id, sender, recipient, topics: Object.freeze(topics), payload, taskId, timestamp, signature: new Uint8Array(signature) },
      rawPayload,
    );
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed message: ${(err as Error).message}`, { cause: err });
  }
}

/** The payload bytes a decoded message arrived with, if it came off the wire. */
export function rawPayloadOf(msg: Message): Uint8Array | undefined {
  return rawPayloads.get(msg);
}
