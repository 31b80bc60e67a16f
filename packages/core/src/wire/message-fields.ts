/**
 * Readers of the envelope's fixed fields (strings, the signature), shared by the general
 * message decoder and its fast path. Like read.ts they read only bytes a scan has bounded.
 * @internal
 */
import { DecodeError } from '../errors.js';
import { copyRange } from '../alloc.js';
import { binSpan, spanEnd, strSpan, utf8At } from './read.js';

/**
 * Longest message id accepted, in UTF-8 bytes (a UUID is 36). Bounds what a receiver's replay
 * cache holds per message; `decodeMessage` refuses longer ids (`DecodeError`) and
 * `createMessage` longer ones (`ValidationError`).
 */
export const MAX_MESSAGE_ID_BYTES = 128;

/** The str at `pos`; `DecodeError` (naming `what`) when it is not a str or not valid UTF-8. */
export function strAt(b: Uint8Array, pos: number, what: string): string {
  const s = strSpan(b, pos);
  if (s < 0) throw new DecodeError(`${what} must be a string`);
  return utf8At(b, s, spanEnd, what);
}

/** `strAt`, or `null` for nil or an absent field (`pos` < 0). */
export function optionalStrAt(b: Uint8Array, pos: number, what: string): string | null {
  return pos < 0 || b[pos] === 0xc0 ? null : strAt(b, pos, what + ' or nil');
}

/** The signature at `pos` (nil: empty), as a copy; `DecodeError` unless it is bin of 0 or 64 bytes. */
export function signatureAt(b: Uint8Array, pos: number): Uint8Array {
  if (b[pos] === 0xc0) return new Uint8Array(0);
  const start = binSpan(b, pos);
  if (start < 0) throw new DecodeError('signature must be bytes');
  const len = spanEnd - start;
  if (len !== 0 && len !== 64) throw new DecodeError(`signature must be 0 or 64 bytes, got ${len}`);
  return copyRange(b, start, spanEnd);
}
