import type net from 'node:net';
import { ValidationError } from '@converge/core';
import type { Logger, MetricCounter, Metrics } from '@converge/core';

/** Default time an inbound connection may stay silent (nothing received, e.g. holding a partial frame) before it is closed: 120,000 ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/**
 * Closes inbound sockets that stay idle for `timeoutMs` (`socket.setTimeout`: any byte read
 * or written restarts the clock), so idle or stalled connections cannot hold the
 * `maxInboundConnections` (TCP) or `maxClients` (WebSocket server, armed after the upgrade)
 * slots. A peer trickling bytes restarts the clock: the frame-progress check of
 * `InboundBudget` catches that. Counted in `closed` and
 * `converge_transport_idle_closed_total{transport}`; logged at `warn`. `0` disables it.
 */
export class IdleReaper {
  /** The timeout in milliseconds (0: disabled). */
  readonly timeoutMs: number;
  /** Inbound connections closed for being idle. */
  closed = 0;
  readonly #transport: string;
  readonly #logger: Logger | undefined;
  readonly #counter: MetricCounter | undefined;

  constructor(transport: string, timeoutMs: number | undefined, logger?: Logger, metrics?: Metrics) {
    const ms = timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) throw new ValidationError('idleTimeoutMs must be an integer between 0 and 2^31-1');
    this.timeoutMs = ms;
    this.#transport = transport;
    this.#logger = logger;
    this.#counter =
      ms > 0
        ? metrics?.counter({
            name: 'converge_transport_idle_closed_total',
            help: 'Inbound connections closed after idleTimeoutMs without traffic',
            labelNames: ['transport'],
          })
        : undefined;
  }

  /** Arms the timeout on an inbound socket (a raw socket: with TLS, this also bounds the handshake). */
  arm(socket: net.Socket): void {
    if (this.timeoutMs === 0) return;
    socket.setTimeout(this.timeoutMs, () => {
      if (socket.destroyed) return;
      this.closed++;
      this.#counter?.inc({ transport: this.#transport });
      this.#logger?.warn(
        { transport: this.#transport, remote: `${socket.remoteAddress}:${socket.remotePort}`, idleTimeoutMs: this.timeoutMs },
        'idle inbound connection closed',
      );
      socket.destroy();
    });
  }
}
