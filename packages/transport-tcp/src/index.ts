/**
 * `@converge/transport-tcp`: the TCP transport (optionally TLS; framing compatible with the
 * reference implementation).
 * @packageDocumentation
 */
export { tcp, type TcpInit } from './tcp.js';
export { TcpTransport, DEFAULT_MAX_INBOUND_CONNECTIONS, DEFAULT_MAX_PEERS, type TcpTransportOptions } from './tcp-transport.js';
export { TCP_TOPIC_NAMESPACE, tcpAddressOf, type TcpAddress } from '@converge/network';
export type { TcpTlsOptions } from './tcp-connection.js';
export { MAX_COALESCED_WRITE_BYTES } from './tcp-peer.js';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_CONNECT_ATTEMPTS,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type ReconnectOptions,
  type NetTransportStats,
} from '@converge/network/internal';
