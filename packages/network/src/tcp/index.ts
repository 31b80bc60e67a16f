/**
 * TCP transport (framing compatible with the reference implementation).
 * @packageDocumentation
 */
export {
  TcpTransport, TCP_TOPIC_NAMESPACE, DEFAULT_MAX_INBOUND_CONNECTIONS, DEFAULT_MAX_PEERS, tcpAddressOf,
  type TcpTransportOptions, type TcpAddress,
} from './tcp-transport.js';
export type { TcpTlsOptions } from './tcp-connection.js';
export { DEFAULT_IDLE_TIMEOUT_MS } from './tcp-idle.js';
export { MAX_COALESCED_WRITE_BYTES } from './tcp-peer.js';
export {
  DEFAULT_CONNECT_ATTEMPTS, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS, DEFAULT_CONNECT_TIMEOUT_MS, backoffDelay,
  resolveBackoff, type ReconnectOptions, type Backoff,
} from './backoff.js';
