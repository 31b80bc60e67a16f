// Encrypted message payloads: `{ "_encrypted": base64(nonce ‖ ciphertext ‖ tag) }` over the
// payload as Python's json.dumps writes it (the reference's format), optionally binding the
// message's id, sender and recipient as associated data (our default).
import { CryptoError, Identity, ValidationError, isIdentity, createMessage, type Message, type WireValue } from '@converge/core';
import { decrypt, encrypt } from './symmetric.js';
import { pythonJsonDumps, pythonJsonLoads } from './python-json.js';

/** The payload key the reference uses for an encrypted payload. */
export const ENCRYPTED_KEY = '_encrypted';
/** Label at the head of the associated data when metadata is bound (versions the format). */
export const METADATA_AD_LABEL = 'converge/encrypted-payload/v1';

/** Options of {@link encryptPayload}. */
export interface EncryptPayloadOptions {
  /**
   * Bind `id`, `sender` and `recipient` as associated data (default `true`), so that a
   * ciphertext cannot be replayed inside another message or re-addressed. The reference cannot
   * read such payloads: pass `false` when the receiver is the Python reference.
   */
  bindMetadata?: boolean;
  /**
   * The identity (or fingerprint) that will sign the message. Sets `sender` on the result;
   * needed when metadata is bound and the message has no sender yet, because `signMessage` sets
   * `sender` to the signer's fingerprint and the associated data must match it.
   */
  sender?: Identity | string;
  /** The 12-byte nonce; leave unset (random). For test vectors only. */
  nonce?: Uint8Array;
}

/** Options of {@link decryptPayload}. */
export interface DecryptPayloadOptions {
  /** Whether the payload was encrypted with metadata bound (default `true`, as `encryptPayload`). */
  bindMetadata?: boolean;
}

const enc = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The associated data bound when `bindMetadata` is on: the UTF-8 bytes of Python's
 * `json.dumps(["converge/encrypted-payload/v1", id, sender, recipient])` (recipient `null` when
 * broadcast). Documented so that other implementations can reproduce it.
 */
export function metadataAssociatedData(msg: Pick<Message, 'id' | 'sender' | 'recipient'>): Uint8Array {
  return enc.encode(pythonJsonDumps([METADATA_AD_LABEL, msg.id, msg.sender, msg.recipient]));
}

/**
 * Returns a new, unsigned message whose payload is `{ "_encrypted": base64(nonce ‖ ct ‖ tag) }`
 * of the payload in Python `json.dumps` form (AES-256-GCM, `key` used as is, 32 bytes).
 *
 * Encrypt, then sign: a message that is already signed is refused with `CryptoError`, since
 * the signature must cover the ciphertext. With `bindMetadata` (default) the message must have
 * a sender, or `options.sender` must name the identity that will sign it. Throws
 * `ValidationError` for a payload JSON cannot carry (bytes, functions, class instances) and
 * `CryptoError` for a key that is not 32 bytes.
 */
export function encryptPayload(message: Message, key: Uint8Array, options: EncryptPayloadOptions = {}): Message {
  if (message.signature.byteLength !== 0) {
    throw new CryptoError('encryptPayload refuses a signed message: encrypt first, then sign the result');
  }
  const bind = options.bindMetadata ?? true;
  const sender = isIdentity(options.sender) ? options.sender.fingerprint : (options.sender ?? message.sender);
  if (typeof sender !== 'string') throw new ValidationError('sender must be an Identity or a fingerprint string');
  if (options.sender !== undefined && message.sender !== '' && message.sender !== sender) {
    throw new ValidationError('options.sender differs from the message sender');
  }
  if (bind && sender === '') {
    throw new ValidationError('bindMetadata needs the sender: set message.sender or pass options.sender (the signing identity)');
  }
  const plaintext = enc.encode(pythonJsonDumps(message.payload));
  const target = { id: message.id, sender, recipient: message.recipient };
  const sealed = encrypt(key, plaintext, {
    nonce: options.nonce,
    associatedData: bind ? metadataAssociatedData(target) : undefined,
  });
  return createMessage({
    id: message.id,
    sender,
    recipient: message.recipient,
    topics: message.topics,
    taskId: message.taskId,
    timestamp: message.timestamp,
    payload: { [ENCRYPTED_KEY]: Buffer.from(sealed).toString('base64') },
  });
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `message`'s payload has the encrypted shape `{ "_encrypted": string }`. */
export function isEncryptedPayload(message: Pick<Message, 'payload'>): boolean {
  return sealedText(message.payload) !== undefined;
}

function sealedText(payload: WireValue): string | undefined {
  if (payload instanceof Map) {
    const v = payload.get(ENCRYPTED_KEY);
    return payload.size === 1 && typeof v === 'string' ? v : undefined;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || payload instanceof Uint8Array) return undefined;
  const keys = Object.keys(payload);
  const v = (payload as Record<string, WireValue>)[ENCRYPTED_KEY];
  return keys.length === 1 && typeof v === 'string' ? v : undefined;
}

/**
 * Decrypts an encrypted payload (ours or the reference's; signed or not — verify the signature
 * first, as the signature covers the ciphertext) and returns the original payload. Integers
 * beyond 2^53 come back as `bigint`, integer-valued floats (`2.0`) as `Float64`, other numbers
 * as plain numbers (see `pythonJsonLoads`). Pass `bindMetadata: false` for the reference's
 * payloads. Throws only `CryptoError`: not an encrypted payload, bad base64, wrong key,
 * tampered data, metadata that differs from what was bound, or plaintext that is not JSON.
 */
export function decryptPayload(message: Message, key: Uint8Array, options: DecryptPayloadOptions = {}): WireValue {
  const text = sealedText(message.payload);
  if (text === undefined) throw new CryptoError(`the payload is not of the form { "${ENCRYPTED_KEY}": base64 }`);
  if (!BASE64.test(text)) throw new CryptoError('the encrypted payload is not valid base64');
  const sealed = new Uint8Array(Buffer.from(text, 'base64'));
  const bind = options.bindMetadata ?? true;
  const plaintext = decrypt(key, sealed, { associatedData: bind ? metadataAssociatedData(message) : undefined });
  try {
    return pythonJsonLoads(utf8.decode(plaintext));
  } catch (err) {
    throw new CryptoError('the decrypted payload is not valid JSON', { cause: err });
  }
}
