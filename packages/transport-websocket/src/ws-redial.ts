import { TransportError } from '@converge/core';
import { dialWithBackoff, resolveBackoff, type Backoff, type NetInstruments, type ReconnectOptions } from '@converge/network/internal';

/** The sends waiting for a connection (a `WriteQueue`, a `WsLink`). */
export interface WaitingSends {
  /** Rejects every waiting send with `err`; returns how many. */
  failAll(err: TransportError): number;
}

/**
 * The connection cycles of a dialling WebSocket transport (the `ws` client mode and the WHATWG
 * client): backoff between attempts, each failed attempt counted (`connectFailed`), and a
 * connection made after a failure or after an earlier connection counted as `reconnected`.
 */
export class WsRedialer {
  /** Attempts and delays of one cycle. */
  readonly backoff: Backoff;
  readonly #instruments: NetInstruments;
  readonly #remote: () => string;
  readonly #final: (err: unknown) => boolean;
  #everConnected = false;

  /**
   * `remote` names the address dialled last (for counters and errors); `final(err)` true ends a
   * cycle at once (a refused proof does not get better by dialling again), and that error is
   * then the one the cycle fails with.
   */
  constructor(reconnect: ReconnectOptions | undefined, instruments: NetInstruments, remote: () => string, final: (err: unknown) => boolean = () => false) {
    this.backoff = resolveBackoff(reconnect);
    this.#instruments = instruments;
    this.#remote = remote;
    this.#final = final;
  }

  /**
   * One cycle: calls `dialOnce` until a socket opens and resolves with it; `stop` aborted ends it
   * (`TransportError` `ERR_STOPPED`). With no socket after every attempt, rejects the `waiting`
   * sends (counted as `sendFailed('connect')`) and rejects with `TransportError` `ERR_CONNECT`,
   * or with the final error.
   */
  async dial<S>(stop: AbortSignal, dialOnce: (stop: AbortSignal) => Promise<S>, waiting: WaitingSends | undefined): Promise<S> {
    const r = await dialWithBackoff(
      this.backoff,
      stop,
      () => dialOnce(stop),
      (n, err) => this.#instruments.connectFailed(this.#remote(), n, err),
      this.#final,
    );
    if ('attempt' in r) {
      if (this.#everConnected || r.attempt > 0) this.#instruments.reconnected(this.#remote());
      this.#everConnected = true;
      return r.socket;
    }
    const err =
      TransportError.is(r.lastErr) && this.#final(r.lastErr)
        ? r.lastErr
        : new TransportError(`cannot connect to ${this.#remote()} after ${this.backoff.maxAttempts} attempts`, { code: 'ERR_CONNECT', cause: r.lastErr });
    const n = waiting?.failAll(err) ?? 0;
    if (n > 0) this.#instruments.sendFailed('connect', err, this.#remote(), n);
    throw err;
  }
}
