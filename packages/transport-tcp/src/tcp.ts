import { transportFactory, type TransportFactory, type TransportInit } from '@converge/core';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';

/** Options of `tcp(init)`: every `TcpTransportOptions` field but the components (identity, logger, metrics). */
export type TcpInit = TransportInit<TcpTransportOptions>;

/**
 * The TCP transport as a plugin, in the js-libp2p shape: `tcp(init)` returns a factory that
 * builds a `TcpTransport` from its components (`identity`, and optionally `logger` and
 * `metrics`, on which it registers its own instruments).
 *
 * @example
 * ```ts
 * const transport = tcp({ port: 7000 })({ identity, metrics });
 * await transport.start();
 * ```
 */
export function tcp(init: TcpInit = {}): TransportFactory<TcpTransport> {
  return transportFactory(init, (options) => new TcpTransport(options));
}
