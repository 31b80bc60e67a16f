/**
 * The wire codec's public surface: one encoder (`encodeValue`, over `MsgpackWriter`), one
 * decoder (`decodeValue` / `decodeScanned`, after `scanValue` validated the bytes), and their
 * limits. Messages are encoded and decoded by message-encode.ts and message-decode.ts,
 * exported through message.ts.
 */
export { MAX_DEPTH, scanValue } from './scan.js';
export { PROTO_KEY_REFUSAL, RawMsgpack, encodeValue } from './encode.js';
export { DEFAULT_MAX_MESSAGE_BYTES, decodeScanned, decodeValue, type DecodeLimits } from './decode.js';
