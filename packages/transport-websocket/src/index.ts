/**
 * `@converge/transport-websocket`: the Node WebSocket transport, server and dialer (needs the
 * optional peer dependency `ws`), and the WHATWG client (also on
 * `@converge/transport-websocket/client`, for browsers).
 * @packageDocumentation
 */
export { webSocket, type WebSocketInit } from './factories.js';
export { webSocketClient, type WebSocketClientInit } from './client-factory.js';
export { WebSocketTransport, AGENT_HEADER, DEFAULT_MAX_WS_CLIENTS, type WebSocketTransportOptions } from './ws-transport.js';
export { DEFAULT_WS_HIGH_WATER_BYTES } from './ws-link.js';
export {
  WS_AUTH_CHALLENGE_HEADER,
  WS_AUTH_CONTEXT,
  WS_AUTH_MAGIC,
  WS_AUTH_CLOSE_CODE,
  DEFAULT_WS_AUTH_TIMEOUT_MS,
  encodeAuthProof,
  verifyAuthProof,
  wsAuthSignedBytes,
  normalizeAuthUrl,
  WS_AUTH_PROTOCOL,
  WS_PLAIN_PROTOCOL,
  type WsAuthFailReason,
  type WsAuthResult,
  type WsAuthStats,
} from './ws-auth.js';
export {
  WebSocketClientTransport,
  DEFAULT_WS_CLIENT_HIGH_WATER_BYTES,
  type WebSocketClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketEventLike,
} from './ws-client.js';
export { authProofBytes, authSignedBytes, encodeChallengeMessage, readChallengeMessage } from './ws-auth-proof.js';
