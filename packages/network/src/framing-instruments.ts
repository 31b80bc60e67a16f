import { registerMetrics, type Logger, type MetricHandles, type MetricRow, type Metrics } from '@converge/core';

/** Why an inbound frame or WS message was refused (the `reason` label). */
export type FrameRejectReason = 'oversize' | 'malformed' | 'truncated' | 'short' | 'over_budget' | 'slow';

/** Why a `send` failed (the `reason` label of `converge_transport_send_errors_total`). */
export type SendErrorReason = 'no_route' | 'connect' | 'socket' | 'queue_full' | 'oversize' | 'stopped' | 'aborted' | 'endpoint_refused';

/**
 * Counters every network transport keeps (always, with or without a `MetricsCollector`), so
 * that tests and operators can read them directly.
 */
export interface NetTransportStats {
  /** Frames handed to a socket. */
  framesSent: number;
  /** Bytes handed to a socket (prefixes included). */
  bytesSent: number;
  /** Frames decoded into messages and queued for `receive`. */
  framesReceived: number;
  /** Bytes read from sockets. */
  bytesReceived: number;
  /** Connections opened (inbound and outbound). */
  connectionsOpened: number;
  /** Connections closed (inbound and outbound, for any reason). */
  connectionsClosed: number;
  /** Dial attempts that failed (refused, timed out, TLS failure). */
  connectFailures: number;
  /** Connections re-established after a loss or a failed attempt. */
  reconnects: number;
  /** Inbound frames refused: length prefix over the limit (connection closed). */
  rejectedOversize: number;
  /** Inbound frames whose body is not a valid message (dropped; the connection continues). */
  rejectedMalformed: number;
  /** Connections that ended in the middle of a frame (the partial frame is discarded). */
  rejectedTruncated: number;
  /** WebSocket messages shorter than the 4-byte prefix or whose prefix disagrees with their size. */
  rejectedShort: number;
  /**
   * Connections closed because an unfinished frame would take the transport over its inbound
   * byte budget (`maxInboundBytes`, all connections) or the connection over `maxConnectionBytes`.
   */
  rejectedOverBudget: number;
  /** Connections closed because an unfinished frame progressed slower than `frameProgressMinBytes` per `frameProgressTimeoutMs`. */
  rejectedSlow: number;
  /** Errors emitted by sockets (TCP, TLS, WebSocket; any direction and state), handled and counted. */
  socketErrors: number;
  /** WebSocket text messages (accepted as UTF-8 bytes, as the reference does). */
  textFrames: number;
  /** `send` calls that rejected. */
  sendErrors: number;
  /** Decoded messages discarded because the receive queue was full (see `maxReceiveQueue`, `maxReceiveQueueBytes`). */
  droppedReceiveQueueFull: number;
}

/** A fresh, zeroed `NetTransportStats`. */
export function emptyStats(): NetTransportStats {
  return {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectFailures: 0,
    reconnects: 0,
    rejectedOversize: 0,
    rejectedMalformed: 0,
    rejectedTruncated: 0,
    rejectedShort: 0,
    rejectedOverBudget: 0,
    rejectedSlow: 0,
    socketErrors: 0,
    textFrames: 0,
    sendErrors: 0,
    droppedReceiveQueueFull: 0,
  };
}

// A counter of a transport: labelled by `transport`, then by `label` when given.
function transportCounter(name: string, help: string, label?: 'reason' | 'direction'): MetricRow & { readonly kind: 'counter' } {
  return { kind: 'counter', name, help, labelNames: label === undefined ? ['transport'] : ['transport', label] };
}

/** The metrics of a transport, registered by `NetInstruments` (every one labelled by `transport`). */
const NET_METRICS = {
  sent: transportCounter('converge_transport_frames_sent_total', 'Frames written to sockets'),
  received: transportCounter('converge_transport_frames_received_total', 'Frames received and queued'),
  rejected: transportCounter('converge_frames_rejected_total', 'Inbound frames refused, by reason', 'reason'),
  opened: transportCounter('converge_transport_connections_opened_total', 'Connections opened', 'direction'),
  closed: transportCounter('converge_transport_connections_closed_total', 'Connections closed', 'direction'),
  connectFailures: transportCounter('converge_transport_connect_failures_total', 'Failed dial attempts'),
  reconnects: transportCounter('converge_transport_reconnects_total', 'Connections re-established'),
  sendErrors: transportCounter('converge_transport_send_errors_total', 'Sends that rejected, by reason', 'reason'),
  socketErrors: transportCounter('converge_transport_socket_errors_total', 'Socket errors handled, by direction', 'direction'),
  bytesSent: transportCounter('converge_transport_bytes_sent_total', 'Bytes written to sockets (length prefixes included)'),
  bytesReceived: transportCounter('converge_transport_bytes_received_total', 'Bytes read from sockets'),
  open: { kind: 'gauge', name: 'converge_transport_connections', help: 'Connections open now, by direction', labelNames: ['transport', 'direction'] },
  dropped: transportCounter('converge_transport_dropped_total', 'Messages a transport discarded (overflow under drop-oldest, queued at stop)', 'reason'),
} as const;

const REJECT_FIELD: Record<FrameRejectReason, keyof NetTransportStats> = {
  oversize: 'rejectedOversize',
  malformed: 'rejectedMalformed',
  truncated: 'rejectedTruncated',
  short: 'rejectedShort',
  over_budget: 'rejectedOverBudget',
  slow: 'rejectedSlow',
};

/**
 * Stats, metrics and logs of one transport instance. Metric names (label `transport` is
 * `tcp` or `websocket`):
 * - `converge_transport_frames_sent_total{transport}`, `converge_transport_frames_received_total{transport}`
 * - `converge_frames_rejected_total{transport,reason}` (reason: oversize, malformed, truncated, short,
 *   over_budget, slow)
 * - `converge_transport_socket_errors_total{transport,direction}` (direction: inbound, outbound)
 * - `converge_transport_connections_opened_total{transport,direction}` and
 *   `converge_transport_connections_closed_total{transport,direction}` (direction: inbound, outbound)
 * - `converge_transport_connect_failures_total{transport}`, `converge_transport_reconnects_total{transport}`
 * - `converge_transport_send_errors_total{transport,reason}` (see `SendErrorReason`)
 * - `converge_transport_dropped_total{transport,reason="receive_queue_full"}`
 * - `converge_transport_bytes_sent_total{transport}`, `converge_transport_bytes_received_total{transport}`
 * - `converge_transport_connections{transport,direction}` (gauge: connections open now)
 */
export class NetInstruments {
  /** Counters of this transport. */
  readonly stats: NetTransportStats = emptyStats();
  /** The `transport` label value. */
  readonly transport: string;
  readonly #logger: Logger | undefined;
  readonly #m: MetricHandles<typeof NET_METRICS> | undefined;
  readonly #labels: { transport: string };

  constructor(transport: string, logger?: Logger, metrics?: Metrics) {
    this.transport = transport;
    this.#labels = { transport };
    this.#logger = logger;
    if (metrics) this.#m = registerMetrics(metrics, NET_METRICS);
  }

  /** Counts `n` frames (`bytes` bytes) handed to a socket. */
  sent(n: number, bytes: number): void {
    this.stats.framesSent += n;
    this.stats.bytesSent += bytes;
    this.#m?.sent.inc(this.#labels, n);
    this.#m?.bytesSent.inc(this.#labels, bytes);
  }

  /** Counts `bytes` read from a socket. */
  receivedBytes(bytes: number): void {
    this.stats.bytesReceived += bytes;
    this.#m?.bytesReceived.inc(this.#labels, bytes);
  }

  /** Counts `n` frames queued for `receive`. */
  received(n: number): void {
    this.stats.framesReceived += n;
    this.#m?.received.inc(this.#labels, n);
  }

  /** Counts and logs (warn) a refused inbound frame. */
  rejected(reason: FrameRejectReason, detail: Record<string, unknown>, err?: unknown): void {
    this.stats[REJECT_FIELD[reason]]++;
    this.#m?.rejected.inc({ transport: this.transport, reason });
    this.#logger?.warn({ transport: this.transport, reason, ...detail, err }, 'inbound frame rejected');
  }

  /** Counts an opened connection. */
  opened(direction: 'inbound' | 'outbound', remote: string): void {
    this.stats.connectionsOpened++;
    this.#m?.opened.inc({ transport: this.transport, direction });
    this.#m?.open.inc({ transport: this.transport, direction });
    this.#logger?.debug({ transport: this.transport, direction, remote }, 'connection opened');
  }

  /** Counts a closed connection. */
  closed(direction: 'inbound' | 'outbound', remote: string, err?: unknown): void {
    this.stats.connectionsClosed++;
    this.#m?.closed.inc({ transport: this.transport, direction });
    this.#m?.open.dec({ transport: this.transport, direction });
    this.#logger?.debug({ transport: this.transport, direction, remote, err }, 'connection closed');
  }

  /** Counts and logs a failed dial attempt. */
  connectFailed(remote: string, attempt: number, err: unknown): void {
    this.stats.connectFailures++;
    this.#m?.connectFailures.inc(this.#labels);
    this.#logger?.warn({ transport: this.transport, remote, attempt, err }, 'connect failed');
  }

  /** Counts a re-established connection. */
  reconnected(remote: string): void {
    this.stats.reconnects++;
    this.#m?.reconnects.inc(this.#labels);
    this.#logger?.info({ transport: this.transport, remote }, 'reconnected');
  }

  /** Counts `count` rejected sends that failed for one reason, and logs them once (warn). */
  sendFailed(reason: SendErrorReason, err: unknown, remote?: string, count = 1): void {
    this.stats.sendErrors += count;
    this.#m?.sendErrors.inc({ transport: this.transport, reason }, count);
    this.#logger?.warn({ transport: this.transport, reason, remote, count, err }, 'send failed');
  }

  /** Counts and logs (error) a message dropped because the receive queue was full (by count or by bytes). */
  droppedQueueFull(remote: string, detail?: Record<string, unknown>): void {
    this.stats.droppedReceiveQueueFull++;
    this.#m?.dropped.inc({ transport: this.transport, reason: 'receive_queue_full' });
    this.#logger?.error({ transport: this.transport, remote, ...detail }, 'receive queue full: message dropped');
  }

  /**
   * Counts and logs (debug) an error a socket emitted. Every socket of a transport has a
   * listener that ends here, from its creation to its close, so no socket error is ever thrown.
   */
  socketError(direction: 'inbound' | 'outbound', remote: string, err: unknown): void {
    this.stats.socketErrors++;
    this.#m?.socketErrors.inc({ transport: this.transport, direction });
    this.#logger?.debug({ transport: this.transport, direction, remote, err }, 'socket error');
  }

  /** Counts a WS text message (accepted). */
  text(): void {
    this.stats.textFrames++;
  }

  /** Logs at debug level. */
  debug(detail: Record<string, unknown>, msg: string): void {
    this.#logger?.debug({ transport: this.transport, ...detail }, msg);
  }
}
