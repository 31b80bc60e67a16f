import { TransportError } from '@converge/core';
import { dialWithBackoff, resolveBackoff, type Backoff, type NetInstruments, type ReconnectOptions } from '@converge/network/internal';

/** The sends waiting for a connection (a `WriteQueue`, a `WsLink`). */
export interface WaitingSends {
  /** Rejects every waiting send with `err`; returns how many. */
  failAll(err: TransportError): number;
}

/** What a `WsRedialer` dials with: the transport's side of a connection cycle. */
export interface WsDialTarget<S> {
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
  readonly #instruments: NetInstruments;
  readonly #target: WsDialTarget<S>;
  #everConnected = false;

  /** `reconnect`: attempts and delays of one cycle (checked); `instruments`: where attempts, reconnections and failed sends are counted. */
  constructor(reconnect: ReconnectOptions | undefined, instruments: NetInstruments, target: WsDialTarget<S>) {
    this.backoff = resolveBackoff(reconnect);
    this.#instruments = instruments;
    this.#target = target;
  }

  /**
   * One cycle: calls `dialOnce` until a socket opens and resolves with it; `stop` aborted ends it
   * (`TransportError` `ERR_STOPPED`). With no socket after every attempt, rejects the waiting
   * sends (counted as `sendFailed('connect')`) and rejects with `TransportError` `ERR_CONNECT`,
   * or with the final error.
   */
  async dial(stop: AbortSignal): Promise<S> {
    const target = this.#target;
    const instruments = this.#instruments;
    const final = (err: unknown): boolean => target.final?.(err) ?? false;
    const r = await dialWithBackoff(
      this.backoff,
      stop,
      () => target.dialOnce(stop),
      (n, err) => instruments.connectFailed(target.remote(), n, err),
      final,
    );
    if ('attempt' in r) {
      if (this.#everConnected || r.attempt > 0) instruments.reconnected(target.remote());
      this.#everConnected = true;
      return r.socket;
    }
    const err =
      TransportError.is(r.lastErr) && final(r.lastErr)
        ? r.lastErr
        : new TransportError(`cannot connect to ${target.remote()} after ${this.backoff.maxAttempts} attempts`, { code: 'ERR_CONNECT', cause: r.lastErr });
    const n = target.waiting()?.failAll(err) ?? 0;
    if (n > 0) instruments.sendFailed('connect', err, target.remote(), n);
    throw err;
  }
}
