import { transportFactory, type TransportFactory, type TransportInit } from '@converge/core';
import type { WebSocketTransportOptions } from './ws-options.js';
import { WebSocketTransport } from './ws-transport.js';

/** Options of `webSocket(init)`: every `WebSocketTransportOptions` field but the components (identity, logger, metrics). */
export type WebSocketInit = TransportInit<WebSocketTransportOptions>;

/**
 * The Node WebSocket transport as a plugin, in the js-libp2p shape: `webSocket(init)` returns a
 * factory that builds a `WebSocketTransport` (a server, or with `url` a dialing client) from its
 * components (`identity`, and optionally `logger` and `metrics`, on which it registers its own
 * instruments). Needs the optional peer dependency `ws`. For browsers, `webSocketClient` of
 * `@converge/transport-websocket/client`.
 *
 * @example
 * ```ts
 * const server = webSocket({ port: 0, registry })({ identity, metrics });
 * await server.start();
 * ```
 */
export function webSocket(init: WebSocketInit = {}): TransportFactory<WebSocketTransport> {
  return transportFactory(init, (options) => new WebSocketTransport(options));
}
