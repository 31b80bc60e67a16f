/**
 * `@converge/transport-websocket/client`: the WebSocket client transport on the WHATWG
 * `WebSocket` API, for browsers (no `ws`, no `Buffer`, no `node:*` behind this entry) and any
 * runtime with a standard WebSocket. The server (`WebSocketTransport`) is in
 * `@converge/transport-websocket` (Node).
 * @packageDocumentation
 */
export { webSocketClient, type WebSocketClientInit } from './client-factory.js';
export {
  WebSocketClientTransport,
  DEFAULT_WS_CLIENT_HIGH_WATER_BYTES,
  WS_CLIENT_DRAIN_POLL_MS,
  type WebSocketClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketEventLike,
} from './ws-client.js';
export {
  WS_AUTH_PROTOCOL,
  WS_PLAIN_PROTOCOL,
  WS_AUTH_CHALLENGE_HEADER,
  WS_AUTH_CONTEXT,
  WS_AUTH_CLOSE_CODE,
  WS_AUTH_CHALLENGE_BYTES,
  WS_AUTH_MAGIC_BYTES,
  WS_CHALLENGE_MAGIC_BYTES,
  WS_AUTH_PROOF_BYTES,
  DEFAULT_WS_AUTH_TIMEOUT_MS,
  normalizeAuthUrl,
  authSignedBytes,
  authProofBytes,
  encodeChallengeMessage,
  readChallengeMessage,
} from './ws-auth-proof.js';
export type { NetTransportStats } from '@converge/network/internal';
export type { ReconnectOptions } from '@converge/network/internal';
