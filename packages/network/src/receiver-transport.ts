import { NotStartedError, TRANSPORT_BRAND, type Message, type ReceiveOptions } from '@converge/core';
import type { FrameReceiver } from './framing-receiver.js';
import { SingleFlight } from './single-flight.js';

/**
 * The receiving half every framed transport shares (TCP, the WebSocket server/dialer and the
 * WHATWG WebSocket client): an idempotent `start` (concurrent calls share one attempt),
 * `started`, `receive`, `tryReceive`, async iteration and the receive-queue gauges over the
 * transport's one bounded `FrameReceiver`, and the transport brand. A subclass says which
 * receiver is current (`undefined` while stopped) through `currentReceiver`, and starts in
 * `startOnce`.
 */
export abstract class ReceiverTransport {
  /** Brand (`isTransport`). */
  readonly [TRANSPORT_BRAND] = true as const;
  readonly #name: string;
  readonly #starting = new SingleFlight();

  /** @param name - the class name used in `NotStartedError` messages. */
  protected constructor(name: string) {
    this.#name = name;
  }

  /** The receive queue while started, `undefined` otherwise. */
  protected abstract get currentReceiver(): FrameReceiver | undefined;

  /** Acquires the transport's resources (see `startOnce` of each transport). Idempotent; concurrent calls share one attempt. */
  start(): Promise<void> {
    if (!this.#starting.pending && this.currentReceiver) return Promise.resolve();
    return this.#starting.run(() => this.startOnce());
  }

  /** One start attempt; it sets the receiver that `currentReceiver` returns. */
  protected abstract startOnce(): Promise<void>;

  /** The start attempt in progress, if any. */
  protected get pendingStart(): Promise<void> | undefined {
    return this.#starting.pending;
  }

  /** Whether `start()` has completed and `stop()` has not been called. */
  get started(): boolean {
    return this.currentReceiver !== undefined && this.#starting.pending === undefined;
  }

  /** Messages waiting in the receive queue. */
  get queued(): number {
    return this.currentReceiver?.size ?? 0;
  }

  /** Bytes (frame bodies) of the messages waiting in the receive queue (see `maxReceiveQueueBytes`). */
  get queuedBytes(): number {
    return this.currentReceiver?.bytes ?? 0;
  }

  /** The next message from any connection, `null` on timeout or stop; `AbortError` when `signal` aborts. */
  receive(options?: ReceiveOptions): Promise<Message | null> {
    const r = this.currentReceiver;
    if (!r) return Promise.reject(new NotStartedError(`${this.#name} is not started`));
    return r.receive(options);
  }

  /** The next queued message without waiting, or `null` (also when not started). */
  tryReceive(): Message | null {
    return this.currentReceiver?.tryReceive() ?? null;
  }

  /** Messages until the transport stops. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      const r = this.currentReceiver;
      if (!r) return;
      const m = await r.receive();
      if (m === null) return;
      yield m;
    }
  }
}
