/**
 * The client half of WebSocket authentication, without `Buffer` or `node:*` (it runs in
 * browsers, see `ws-client.ts`): the constants, the bytes a client signs, its proof, and the
 * in-band challenge a server sends to clients that cannot read response headers.
 *
 * A browser's `WebSocket` can neither set request headers nor read the 101 response's headers,
 * so it cannot see `x-converge-auth-challenge`. Such a client offers the subprotocol
 * `WS_AUTH_PROTOCOL`; a server that requires authentication selects it and sends the challenge
 * again as the first WebSocket message (`"CVGCHAL1" ‖ challenge`, 40 bytes; its first 4 bytes,
 * read as a frame length, announce over 1 GiB, so it can never pass for a converge frame). A
 * server that does not require authentication selects `WS_PLAIN_PROTOCOL` (or, like the
 * reference, none): the client then knows no challenge is coming. The proof the client answers with is the same in both cases.
 */
import { concatBytes, type Identity } from '@converge/core';

/**
 * Response header of the 101 upgrade in which a server that requires client authentication
 * sends its challenge (32 random bytes, base64). A client without it (a reference client, a
 * server in reference-compatible mode) skips the exchange.
 */
export const WS_AUTH_CHALLENGE_HEADER = 'x-converge-auth-challenge';

/** Domain-separation prefix of the bytes a client signs: `"converge-ws-auth-v1" ‖ challenge ‖ url`. */
export const WS_AUTH_CONTEXT = 'converge-ws-auth-v1';

/**
 * Subprotocol a client offers to get the challenge in-band (the first WebSocket message), for
 * clients that cannot read response headers (browsers). Selected only by servers that require
 * authentication.
 */
export const WS_AUTH_PROTOCOL = 'converge-auth.v1';

/**
 * Subprotocol a client offers beside `WS_AUTH_PROTOCOL`: a server that does not require
 * authentication selects it (strict clients such as `ws` refuse a server that selects none of
 * the offered subprotocols; browsers accept that too, as "no proof needed").
 */
export const WS_PLAIN_PROTOCOL = 'converge.v1';

/** Default time a client has, after the upgrade, to send its proof: 10,000 ms. */
export const DEFAULT_WS_AUTH_TIMEOUT_MS = 10_000;

/** WebSocket close code used when authentication fails (1008, policy violation). */
export const WS_AUTH_CLOSE_CODE = 1008;

/** Bytes of a challenge: 32. */
export const WS_AUTH_CHALLENGE_BYTES = 32;

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const utf8 = new TextEncoder();

/** First 8 bytes of the proof message, `"CVGAUTH1"`, as bytes. */
export const WS_AUTH_MAGIC_BYTES = latin1('CVGAUTH1');

/** First 8 bytes of the in-band challenge message, `"CVGCHAL1"`, as bytes. */
export const WS_CHALLENGE_MAGIC_BYTES = latin1('CVGCHAL1');

/** Bytes of a proof message: magic (8) + public key (32) + signature (64) = 104. */
export const WS_AUTH_PROOF_BYTES = WS_AUTH_MAGIC_BYTES.byteLength + 32 + 64;

/**
 * The URL both sides bind into the signature: `scheme://host[:port]` of the server, lower
 * case, default port and path dropped (so `ws://127.0.0.1:80/` and `ws://127.0.0.1` agree).
 */
export function normalizeAuthUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

/** The bytes a client signs, as a `Uint8Array`: `"converge-ws-auth-v1" ‖ challenge ‖ UTF-8(normalized server URL)`. */
export function authSignedBytes(challenge: Uint8Array, url: string): Uint8Array {
  return concatBytes(utf8.encode(WS_AUTH_CONTEXT), challenge, utf8.encode(normalizeAuthUrl(url)));
}

/**
 * The proof answering `challenge` for the server at `url`, as a `Uint8Array`:
 * `"CVGAUTH1" ‖ public key (32) ‖ Ed25519 signature (64)` over `authSignedBytes`.
 * Throws `KeyError` when `identity` has no secret key.
 */
export function authProofBytes(identity: Identity, challenge: Uint8Array, url: string): Uint8Array {
  return concatBytes(WS_AUTH_MAGIC_BYTES, identity.publicKey, identity.sign(authSignedBytes(challenge, url)));
}

/** Server: the in-band challenge message, `"CVGCHAL1" ‖ challenge` (40 bytes). */
export function encodeChallengeMessage(challenge: Uint8Array): Uint8Array {
  return concatBytes(WS_CHALLENGE_MAGIC_BYTES, challenge);
}

/** Client: the challenge in an in-band challenge message, or `undefined` when `data` is not one. */
export function readChallengeMessage(data: Uint8Array): Uint8Array | undefined {
  const m = WS_CHALLENGE_MAGIC_BYTES;
  if (data.byteLength !== m.byteLength + WS_AUTH_CHALLENGE_BYTES) return undefined;
  for (let i = 0; i < m.byteLength; i++) if (data[i] !== m[i]) return undefined;
  return data.slice(m.byteLength);
}
