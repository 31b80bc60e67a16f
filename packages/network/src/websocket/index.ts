/**
 * `@converge/network/websocket`: the WebSocket transport (needs the optional peer dependency `ws`).
 * @packageDocumentation
 */
export {
  WebSocketTransport, AGENT_HEADER, DEFAULT_MAX_WS_CLIENTS, type WebSocketTransportOptions,
} from './ws-transport.js';
export { DEFAULT_WS_HIGH_WATER_BYTES } from './ws-link.js';
