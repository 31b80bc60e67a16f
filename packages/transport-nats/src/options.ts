import type { Logger, Metrics } from '@converge/core';

/** Default largest encoded message: 1 MiB, the NATS server's default `max_payload`. */
export const DEFAULT_NATS_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Default capacity of the receive queue (messages). */
export const DEFAULT_NATS_MAX_QUEUE = 10_000;
/** Default attempts to reach a server in `start()` before it fails. */
export const DEFAULT_CONNECT_ATTEMPTS = 3;
/** Default pause between two connection attempts in `start()` (ms). */
export const DEFAULT_CONNECT_RETRY_DELAY_MS = 250;
/** Default timeout of one connection attempt (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** Default reconnection attempts per server after a connection is lost (nats.js `maxReconnectAttempts`). */
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = 60;
/** Default wait between reconnection attempts (ms; nats.js `reconnectTimeWait`). */
export const DEFAULT_RECONNECT_TIME_WAIT_MS = 1_000;
/**
 * Default bytes published between two flushes. `send` waits for the flush of the window
 * before the current one, so at most about two windows are unconfirmed at any time.
 */
export const DEFAULT_FLUSH_WINDOW_BYTES = 256 * 1024;

/** JetStream settings (used when `durable` is set or `directed` is `'jetstream'`). */
export interface NatsJetStreamOptions {
  /** Stream name (default: the prefix upper-cased, non-name characters as `_`, + `_AGENTS`). */
  stream?: string;
  /** Stream size bound in bytes (default 256 MiB; the oldest messages go first). */
  maxBytes?: number;
  /** Stream message age bound in ms (default 24 h). */
  maxAgeMs?: number;
  /** Consumer ack wait in ms (default 30 s): an un-acked message is redelivered after it. */
  ackWaitMs?: number;
  /** Consumer `max_ack_pending` (default 1,000). */
  maxAckPending?: number;
  /** Messages per pull request (default 100). */
  pullBatch?: number;
}

/** Default settings of a durable consumer (`jetstream.ackWaitMs`, `jetstream.maxAckPending`, `jetstream.pullBatch`), frozen. */
export const NATS_CONSUMER_DEFAULTS = Object.freeze({ ackWaitMs: 30_000, maxAckPending: 1_000, pullBatch: 100 });
/** Default time the server waits for an ack before redelivering (ms). */
export const DEFAULT_ACK_WAIT_MS = NATS_CONSUMER_DEFAULTS.ackWaitMs;
/** Default most un-acked messages the server hands to one durable consumer. */
export const DEFAULT_MAX_ACK_PENDING = NATS_CONSUMER_DEFAULTS.maxAckPending;
/** Default messages pulled per JetStream pull request. */
export const DEFAULT_PULL_BATCH = NATS_CONSUMER_DEFAULTS.pullBatch;

/** Default bounds of the JetStream stream (`jetstream.maxBytes`, `jetstream.maxAgeMs`), frozen. */
export const NATS_STREAM_DEFAULTS = Object.freeze({ maxBytes: 256 * 1024 * 1024, maxAgeMs: 24 * 60 * 60 * 1000 });
/** Default upper bound of the JetStream stream, in bytes. */
export const DEFAULT_STREAM_MAX_BYTES = NATS_STREAM_DEFAULTS.maxBytes;
/** Default age after which the stream discards a message (24 h, in ms). */
export const DEFAULT_STREAM_MAX_AGE_MS = NATS_STREAM_DEFAULTS.maxAgeMs;

/** Options of `NatsTransport`. */
export interface NatsTransportOptions {
  /** Server URL(s), e.g. `'nats://127.0.0.1:4222'`. */
  servers: string | string[];
  /** This agent's id (its fingerprint): the `recipient` that reaches it; one subject token. */
  agentId: string;
  /** First subject levels of every subject (default `'converge'`). */
  subjectPrefix?: string;
  /**
   * Queue group for topic subscriptions: transports with the same group share the messages of
   * a topic subject (each goes to one member) instead of each receiving all of them.
   */
  queueGroup?: string;
  /**
   * JetStream mode: the name of this agent's durable consumer. Directed messages to this agent
   * are read from the stream with explicit acks, so they survive the receiver being stopped.
   */
  durable?: string;
  /**
   * How `send` publishes directed messages: `'core'` (default without `durable`) or
   * `'jetstream'` (default with `durable`: published to the stream and confirmed by a PubAck).
   */
  directed?: 'core' | 'jetstream';
  /**
   * JetStream mode: ack a message when `receive`/`tryReceive`/the iterator hands it out
   * (default `true`). With `false`, call `ack(messageId)`; un-acked messages are redelivered.
   */
  autoAck?: boolean;
  /** JetStream stream and consumer settings. */
  jetstream?: NatsJetStreamOptions;
  /**
   * Largest encoded message (default 1 MiB). The limit in force is the smaller of this and
   * the server's `max_payload`, read at `start()` (see `maxMessageBytes`).
   */
  maxMessageBytes?: number;
  /** Receive queue capacity (default 10,000 messages). */
  maxQueue?: number;
  /** Connection attempts in `start()` (default 3). */
  connectAttempts?: number;
  /** Pause between connection attempts (default 250 ms). */
  connectRetryDelayMs?: number;
  /** Timeout of one connection attempt (default 2,000 ms). */
  connectTimeoutMs?: number;
  /** Reconnection attempts after a connection loss (default 60; then the connection closes). */
  maxReconnectAttempts?: number;
  /** Wait between reconnection attempts (default 1,000 ms). */
  reconnectTimeWaitMs?: number;
  /** Bytes published between flushes (default 256 KiB); see `DEFAULT_FLUSH_WINDOW_BYTES`. */
  flushWindowBytes?: number;
  /** Connection name shown by the server (default `converge-<agentId>`). */
  name?: string;
  /** Logs connection status events, drops and malformed payloads (default `noopLogger`). */
  logger?: Logger;
  /**
   * Counts drops and status events: `converge_transport_dropped_total{transport="nats",reason}`
   * and `converge_transport_nats_events_total{event}` (default `noopMetrics`; `prometheusMetrics()`
   * of `@converge/observability` fits).
   */
  metrics?: Metrics;
}

/** Counters of a `NatsTransport` (always kept, with or without `metrics`). */
export interface NatsTransportStats {
  /** Messages accepted by `send`. */
  sent: number;
  /** Messages whose deferred publish failed after `send` resolved (the next `send` rejects). */
  publishFailed: number;
  /** Messages put into the receive queue. */
  received: number;
  /** Core-NATS messages dropped because the receive queue was full. */
  droppedQueueFull: number;
  /** Payloads that were not a valid message (dropped; JetStream ones are terminated). */
  malformed: number;
  /** Messages still queued (core NATS) when the transport stopped. */
  droppedOnStop: number;
  /** Own broadcast/topic messages that came back and were skipped (not errors). */
  ownSkipped: number;
  /** JetStream messages acked. */
  acked: number;
  /** JetStream messages given back for redelivery with `nak(messageId)`. */
  nakked: number;
}
