/**
 * `decodeMessage`: one pass over the envelope. The scanner validates every value (structure,
 * truncation, declared lengths against the bytes present, depth, string keys) before
 * anything is built; the fixed fields (strings, ints, nil, bin) are then read straight from
 * the bytes, and only the payload goes through the general decoder. The payload's raw bytes
 * are kept with the message, so verifying it never re-encodes the payload. An envelope in the
 * canonical layout (what this codec and the reference write) is read by the one-pass fast path
 * of canonical-decode.ts first; whatever that path does not take comes here.
 */
import type { Message } from '../message.js';
import type { WireValue } from '../value.js';
import { DecodeError } from '../errors.js';
import { sealMessage } from '../message-slot.js';
import { copyRange } from '../alloc.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decodeScanned, type DecodeLimits } from './decode.js';
import { scanForDecode, scanValue } from './scan.js';
import { decodeCanonical } from './canonical-decode.js';
import { ID, PAYLOAD, RECIPIENT, SENDER, SIGNATURE, TASK_ID, TIMESTAMP, TOPICS, keyAt } from './envelope-keys.js';
import { MAX_MESSAGE_ID_BYTES, optionalStrAt, signatureAt, strAt } from './message-fields.js';
import { topicsAt } from './topic-decode.js';
import { intAt, mapAt, spanEnd, strSpan } from './read.js';

export { MAX_MESSAGE_ID_BYTES } from './message-fields.js';

// Fields whose whole value decodeEnvelope decodes (so every string in it is UTF-8-checked then).
const FULLY_DECODED = new Uint8Array(8);
for (const f of [ID, SENDER, RECIPIENT, PAYLOAD, TASK_ID]) FULLY_DECODED[f] = 1;

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
  // The canonical layout first; anything else (or anything it refuses) takes the general path.
  let fast: Message | undefined;
  try {
    fast = decodeCanonical(bytes);
  } catch {
    fast = undefined;
  }
  if (fast !== undefined) return fast;
  try {
    return decodeEnvelope(bytes);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed message: ${(err as Error).message}`, { cause: err });
  }
}
