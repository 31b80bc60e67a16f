import type { Topic } from './topic.js';
import type { WireValue } from './value.js';
import { uuid4 } from './uuid.js';
import { Identity, isIdentity } from './identity.js';
import { DEFAULT_ED25519_BACKEND, ed25519Verify, type Ed25519Backend } from './ed25519.js';
import { utf8ByteLength } from '#platform';
import { EncodeError, KeyError, ValidationError } from './errors.js';
import { encodeEnvelope, payloadBytesOf, signingBytesOf, writeSigningBytes } from './wire/message-encode.js';
import { sealMessage } from './message-slot.js';
import { acquireWriter, releaseWriter, type MsgpackWriter } from './wire/encode.js';
import { MAX_MESSAGE_ID_BYTES } from './wire/message-decode.js';

/**
 * A message between agents. Immutable (frozen); `signMessage` returns a new one. Messages
 * made by `createMessage`, `signMessage` and `decodeMessage` keep their payload's msgpack
 * encoding once it is known, so the payload is encoded at most once.
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

// Every unsigned message shares one empty signature (zero-length, so it cannot be mutated).
const EMPTY_SIGNATURE = new Uint8Array(0);

/**
 * Builds a message with defaults: UUID v4 id, empty sender, no recipient, `{}` payload, now.
 * Throws `ValidationError` for an id over `MAX_MESSAGE_ID_BYTES`.
 */
export function createMessage(fields: MessageInit = {}): Message {
  const timestamp = fields.timestamp ?? Date.now();
  if (!Number.isSafeInteger(timestamp)) throw new ValidationError('timestamp must be an integer number of ms');
  const id = fields.id ?? uuid4();
  if (typeof id === 'string' && (id.length > MAX_MESSAGE_ID_BYTES || (id.length * 3 > MAX_MESSAGE_ID_BYTES && utf8ByteLength(id) > MAX_MESSAGE_ID_BYTES))) {
    throw new ValidationError(`a message id is at most ${MAX_MESSAGE_ID_BYTES} UTF-8 bytes`);
  }
  const signature = fields.signature ?? EMPTY_SIGNATURE;
  if (signature.byteLength !== 0 && signature.byteLength !== 64) throw new ValidationError('a signature is 0 or 64 bytes');
  return sealMessage({
    id,
    sender: fields.sender ?? '',
    recipient: fields.recipient ?? null,
    topics: Object.freeze(fields.topics ? [...fields.topics] : []),
    payload: fields.payload === undefined ? {} : fields.payload,
    taskId: fields.taskId ?? null,
    timestamp,
    signature,
  });
}

// Malformed message objects (not made by createMessage) surface as EncodeError, not TypeError.
function asEncodeError(err: unknown): never {
  if (err instanceof EncodeError) throw err;
  throw new EncodeError(`cannot encode message: ${(err as Error).message}`, { cause: err });
}

/**
 * The bytes a signature covers: a msgpack map of `id, sender, recipient, topics (as strings),
 * payload, task_id, timestamp`, in that order. The payload is encoded once per message and
 * its bytes reused (for a decoded message: the bytes it arrived with).
 */
export function signingBytes(msg: Message): Uint8Array {
  try {
    return signingBytesOf(msg);
  } catch (err) {
    return asEncodeError(err);
  }
}

/**
 * Returns a copy of `msg` with `sender` set to the signer's fingerprint and signed.
 * The payload is encoded here (once), and that encoding is what the message is sent with:
 * mutating the payload object afterwards changes neither the signature nor the wire bytes.
 */
export function signMessage(msg: Message, identity: Identity): Message {
  if (!identity.canSign) throw new KeyError('signing needs an identity with a secret key');
  const sender = identity.fingerprint;
  let payload: Uint8Array;
  try {
    payload = payloadBytesOf(msg);
  } catch (err) {
    return asEncodeError(err);
  }
  // The signed bytes live in the writer's scratch buffer only while they are signed.
  const w = acquireWriter();
  let signature: Uint8Array;
  try {
    try {
      writeSigningBytes(w, msg, sender, payload);
    } catch (err) {
      asEncodeError(err);
    }
    signature = identity.sign(w.view());
  } finally {
    releaseWriter(w);
  }
  // The eight fields, in createMessage's order (one object shape for every message).
  const { id, recipient, topics, taskId, timestamp } = msg;
  return sealMessage({ id, sender, recipient, topics, payload: msg.payload, taskId, timestamp, signature }, payload);
}

/**
 * Whether `msg` carries a valid signature by `publicKey` (raw 32 bytes or an `Identity`).
 * Never throws: a malformed key, signature or message is simply `false`. A decoded message is
 * checked against the payload bytes it arrived with, never a re-encoding.
 */
export function verifyMessage(msg: Message, publicKey: Uint8Array | Identity, options: { backend?: Ed25519Backend } = {}): boolean {
  let w: MsgpackWriter | undefined;
  try {
    const key = isIdentity(publicKey) ? publicKey.publicKey : publicKey;
    if (!(key instanceof Uint8Array) || key.byteLength !== 32) return false;
    const signature = msg.signature;
    if (!(signature instanceof Uint8Array) || signature.byteLength !== 64) return false;
    const payload = payloadBytesOf(msg);
    w = acquireWriter();
    writeSigningBytes(w, msg, msg.sender, payload);
    return ed25519Verify(signature, w.view(), key, options.backend ?? DEFAULT_ED25519_BACKEND);
  } catch {
    return false;
  } finally {
    if (w) releaseWriter(w);
  }
}

/** Encodes a message as the reference's `Message.to_bytes()` does. */
export function encodeMessage(msg: Message): Uint8Array {
  try {
    return encodeEnvelope(msg);
  } catch (err) {
    return asEncodeError(err);
  }
}

export { rawPayloadOf } from './message-slot.js';
export { decodeMessage, MAX_MESSAGE_ID_BYTES } from './wire/message-decode.js';
