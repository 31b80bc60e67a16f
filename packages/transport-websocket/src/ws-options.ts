import type { Identity } from '@converge/core';
import type { Logger, Metrics } from '@converge/core';
import type { InboundBudgetOptions } from '@converge/network/internal';
import type { ReconnectOptions } from '@converge/network/internal';
import type { NetTlsOptions } from '@converge/network/internal';
import type { IdentityRegistry } from '@converge/network';

/** Header a converge client sends on the upgrade request to name its agent (server-side routing). */
export const AGENT_HEADER = 'x-converge-agent';

/** Default most simultaneous WebSocket clients a server accepts: 1,024. */
export const DEFAULT_MAX_WS_CLIENTS = 1_024;

/**
 * Options of `WebSocketTransport`: give `url` (client) or `host`/`port` (server). The inbound
 * budget options (`maxInboundBytes`, `maxConnectionBytes`, `frameProgressTimeoutMs`,
 * `frameProgressMinBytes`, `maxFrameTimeMs`; see `InboundBudget`) apply to a server's clients.
 */
export interface WebSocketTransportOptions extends InboundBudgetOptions {
  /**
   * Client mode: the server to connect to (`ws://…` or `wss://…`), or a function returning it,
   * called at each dial (for a server whose address is known only later).
   */
  url?: string | (() => string);
  /** Server mode: address to listen on (default `127.0.0.1`). */
  host?: string;
  /** Server mode: port; `0` (default) picks a free one, read back as `.port`. */
  port?: number;
  /** Server: https options (`key`, `cert`, `ca`, `requestCert`, `rejectUnauthorized`) for `wss`. Client: `ca`, `cert`, `key`, `rejectUnauthorized`, `servername`. */
  tls?: NetTlsOptions;
  /** Largest frame body (default 10 MiB); the `ws` `maxPayload` is this + 4. */
  maxFrameBytes?: number;
  /** Client: time allowed for the opening handshake (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Most frames waiting to be written per connection (default 8,192). */
  maxQueuePerPeer?: number;
  /** Most bytes waiting to be written per connection (default 64 MiB). */
  maxQueueBytesPerPeer?: number;
  /** `bufferedAmount` above which sending waits (default 4 MiB). */
  highWaterBytes?: number;
  /** Capacity of the receive queue (default 10,000 messages). */
  maxReceiveQueue?: number;
  /** Most bytes (frame bodies) in the receive queue (default 64 MiB). */
  maxReceiveQueueBytes?: number;
  /** Server: clients receiving nothing for this long are closed and counted (default 120,000 ms; 0 disables). */
  idleTimeoutMs?: number;
  /**
   * Server with `requireAuth`: most bytes a client may send before its proof has been accepted
   * (default 1,024; the proof is 110 bytes on the wire). Over it the connection is destroyed and
   * counted `over_budget`, before `ws` can buffer a large message.
   */
  preAuthMaxBytes?: number;
  /** Server: most simultaneous clients (default 1,024). */
  maxClients?: number;
  /** Client: dial attempts and backoff (defaults: 5 attempts, 50 ms doubling to at most 2,000 ms, jittered). */
  reconnect?: ReconnectOptions;
  /** Logs rejections, connection events and send failures. */
  logger?: Logger;
  /** Metrics (see `NetInstruments`; label `transport="websocket"`). */
  metrics?: Metrics;
  /** This node's identity: its fingerprint is `agentId`. */
  identity?: Identity;
  /** This node's agent id, when no `identity` is given. A client sends it in the `x-converge-agent` header. */
  agentId?: string;
  /**
   * Server: require every client to prove its key before anything is routed to it (see
   * `ws-auth.ts`): the 101 response carries a 32-byte challenge, the client's first message must
   * be its public key and an Ed25519 signature over `"converge-ws-auth-v1" ‖ challenge ‖ authUrl`,
   * and the key's fingerprint must be the `x-converge-agent` it announced (and, with `registry`,
   * the key registered under it); otherwise the connection closes with 1008 and is counted.
   * Only authenticated ids are routed to; `sender`s of its messages are not learned.
   * Default: `true` when `registry` is given, otherwise `false` (reference-compatible: the Python
   * reference's client sends no proof). A client answers automatically when it has an `identity`.
   */
  requireAuth?: boolean;
  /** Server: the registry a client's key must be registered in (implies `requireAuth` unless set to `false`). */
  registry?: IdentityRegistry;
  /** Server: time a client has to send its proof after the upgrade (default 10,000 ms). */
  authTimeoutMs?: number;
  /**
   * Server: the URL clients dial, bound into their signature (default `listenUrl`; set it when
   * clients use another name or address, e.g. behind a proxy or when listening on `0.0.0.0`).
   */
  authUrl?: string;
}
