import { TransportError } from '@converge/core';
import { dialWithBackoff, resolveBackoff, type Backoff, type NetInstruments, type ReconnectOptions } from '@converge/network/internal';

/** The sends waiting for a connection (a `WriteQueue`, a `WsLink`). */
export interface WaitingSends {
  /** Rejects every waiting send with `err`; returns how many. */
  failAll(err: TransportError): number;
}

/** What a `WsRedialer` dials with, and whom it tells. */
export interface WsRedialerOptions<S> {
  /** Attempts and delays of one cycle (`resolveBackoff` checks them). */
  reconnect: ReconnectOptions | undefined;
  /** Where failed attempts, reconnections and failed sends are counted. */
  instruments: NetInstruments;
  /** The address dialled last (for counters and errors). */
  remote(): string;
  /** One attempt: resolves with an open socket. */
  dialOnce(stop: AbortSignal): Promise<S>;
  /** The sends waiting now (read when a cycle fails, as a stop during the cycle replaces them). */
  waiting(): WaitingSends | undefined;
  /**
   * True ends a cycle at once (a refused proof does not get better by dialling again), and that
   * error is then the one the cycle fails with. Default: no error is final.
   */
  final?(err: unknown): boolean;
}

/**
 * The connection cycles of a dialling WebSocket transport (the `ws` client mode and the WHATWG
 * client): backoff between attempts, each failed attempt counted (`connectFailed`), and a
 * connection made after a failure or after an earlier connection counted as `reconnected`.
 */
export class WsRedialer<S> {
  /** Attempts and delays of one cycle. */
  readonly backoff: Backoff;
  readonly #o: WsRedialerOptions<S>;
  #everConnected = false;

  constructor(options: WsRedialerOptions<S>) {
    this.backoff = resolveBackoff(options.reconnect);
    this.#o = options;
  }

  /**
   * One cycle: calls `dialOnce` until a socket opens and resolves with it; `stop` aborted ends it
   * (`TransportError` `ERR_STOPPED`). With no socket after every attempt, rejects the waiting
   * sends (counted as `sendFailed('connect')`) and rejects with `TransportError` `ERR_CONNECT`,
   * or with the final error.
   */
  async dial(stop: AbortSignal): Promise<S> {
    const o = this.#o;
    const final = (err: unknown): boolean => o.final?.(err) ?? false;
    const r = await dialWithBackoff(
      this.backoff,
      stop,
      () => o.dialOnce(stop),
      (n, err) => o.instruments.connectFailed(o.remote(), n, err),
      final,
    );
    if ('attempt' in r) {
      if (this.#everConnected || r.attempt > 0) o.instruments.reconnected(o.remote());
      this.#everConnected = true;
      return r.socket;
    }
    const err =
      TransportError.is(r.lastErr) && final(r.lastErr)
        ? r.lastErr
        : new TransportError(`cannot connect to ${o.remote()} after ${this.backoff.maxAttempts} attempts`, { code: 'ERR_CONNECT', cause: r.lastErr });
    const n = o.waiting()?.failAll(err) ?? 0;
    if (n > 0) o.instruments.sendFailed('connect', err, o.remote(), n);
    throw err;
  }
}
