import { transportFactory, type TransportFactory, type TransportInit } from '@converge/core';
import { WebSocketClientTransport, type WebSocketClientOptions } from './ws-client.js';

/** Options of `webSocketClient(init)`: every `WebSocketClientOptions` field but the components (identity, logger, metrics). */
export type WebSocketClientInit = TransportInit<WebSocketClientOptions>;

/**
 * The WHATWG WebSocket client transport (browsers, any runtime with a standard `WebSocket`) as
 * a plugin, in the js-libp2p shape: `webSocketClient(init)` returns a factory that builds a
 * `WebSocketClientTransport` from its components (`identity`, which answers the server's
 * challenge, and optionally `logger` and `metrics`).
 *
 * @example
 * ```ts
 * const client = webSocketClient({ url: 'ws://127.0.0.1:7001' })({ identity });
 * await client.start();
 * ```
 */
export function webSocketClient(init: WebSocketClientInit): TransportFactory<WebSocketClientTransport> {
  return transportFactory(init, (options) => new WebSocketClientTransport(options));
}
