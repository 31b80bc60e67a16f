import type { TransportComponents, TransportFactory } from '@converge/core';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';

/** Options of `tcp(init)`: every `TcpTransportOptions` field but the components (identity, logger, metrics). */
export type TcpInit = Omit<TcpTransportOptions, 'identity' | 'agentId' | 'logger' | 'metrics'>;

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
  return (components: TransportComponents) =>
    new TcpTransport({
      ...init,
      identity: components.identity,
      logger: components.logger,
      metrics: components.metrics,
    });
}
