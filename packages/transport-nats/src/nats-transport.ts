import { NotStartedError, ValidationError, type Message } from '@converge/core';
import type { Startable } from '@converge/core';
import { TRANSPORT_BRAND, type ReceiveOptions, type SendOptions, type Transport } from '@converge/core';
import type { NatsTransportOptions, NatsTransportStats } from './options.js';
import { resolveConfig, type NatsConfig } from './config.js';
import { closeSession, openSession, subscribeTopic, type Session } from './session.js';
import { Publisher } from './publisher.js';
import { Receiver } from './receiver.js';
import { noop, RESOLVED } from './shared.js';

// The public face of the transport. The parts: config (options), session (connection
// lifecycle), publisher (send side, batching), receiver (receive side, JetStream acks).
/**
 * A `Transport` over NATS. Subjects (under `subjectPrefix`, default `converge`):
 * `<prefix>.agent.<agentId>` for directed messages, `<prefix>.topic.<namespace>` for
 * recipient-less messages with topics (received after `subscribe(namespace)`, shared within
 * `queueGroup` when set), `<prefix>.broadcast` for recipient-less messages without topics
 * (every transport but the sender's receives them). The NATS payload is exactly
 * `encodeMessage(message)`.
 *
 * Core NATS is at-most-once with no backpressure towards publishers: when the receive queue
 * is full, an incoming message is dropped, counted and logged. With `durable` set (JetStream
 * mode), directed messages go through a stream and a durable pull consumer with explicit
 * acks: the transport stops pulling when its queue is full, and a message stays on the server
 * until it is acked (see `ack`, `autoAck`). Passes `@converge/compliance/transport`.
 */
export class NatsTransport implements Transport, Startable {
  /** Brand (`isTransport`). */
  readonly [TRANSPORT_BRAND] = true as const;
  /** This agent's id, the `recipient` that reaches it. */
  readonly agentId: string;
  /** First levels of every subject. */
  readonly subjectPrefix: string;
  /** Counters; see `NatsTransportStats`. */
  readonly stats: NatsTransportStats;
  readonly #cfg: NatsConfig;
  readonly #publisher: Publisher;
  readonly #receiver: Receiver;
  readonly #namespaces = new Set<string>();
  #session: Session | undefined;
  #starting: Promise<void> | undefined;

  constructor(options: NatsTransportOptions) {
    const cfg = resolveConfig(options);
    this.#cfg = cfg;
    this.agentId = cfg.agentId;
    this.subjectPrefix = cfg.subjectPrefix;
    this.stats = cfg.stats;
    this.#publisher = new Publisher(cfg);
    this.#receiver = new Receiver(cfg);
  }

  /** Whether `start()` has completed and `stop()` has not been called. */
  get started(): boolean {
    return this.#session !== undefined && !this.#session.stopping;
  }

  /**
   * The largest encoded message `send` accepts: the `maxMessageBytes` option, lowered to the
   * server's `max_payload` once started.
   */
  get maxMessageBytes(): number {
    return this.#session?.limit ?? this.#cfg.maxMessageBytes;
  }

  /** Messages waiting in the receive queue. */
  get queued(): number {
    return this.#session?.queue.size ?? 0;
  }

  /** The JetStream stream name, when JetStream is used. */
  get streamName(): string | undefined {
    return this.#cfg.stream?.name;
  }

  /**
   * Connects (up to `connectAttempts` tries, `connectRetryDelayMs` apart; then a
   * `TransportError` with code `ERR_CONNECT`), subscribes, and in JetStream mode ensures the
   * stream and durable consumer. Resolves once the server has registered the subscriptions.
   * Idempotent. `signal` aborts the connection attempts (`AbortError`).
   */
  start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#session && !this.#session.stopping) return RESOLVED;
    this.#starting ??= this.#start(options.signal).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(signal: AbortSignal | undefined): Promise<void> {
    this.#session = await openSession(this.#cfg, this.#receiver, this.#namespaces, signal);
  }

  /**
   * Drains the subscriptions and the connection, then closes it. Pending receives resolve
   * `null`; queued core-NATS messages are discarded (counted in `droppedOnStop`); queued and
   * un-acked JetStream messages stay un-acked on the server, which redelivers them (to this
   * durable consumer, e.g. after a restart) once `jetstream.ackWaitMs` has passed.
   */
  async stop(): Promise<void> {
    if (this.#starting) await this.#starting.catch(noop);
    const s = this.#session;
    if (!s || s.stopping) return;
    await closeSession(s, this.#publisher, this.#receiver);
    if (this.#session === s) this.#session = undefined;
  }

  /**
   * Publishes the message: to `<prefix>.agent.<recipient>` (or the JetStream stream), else to
   * the topic subject of each distinct topic namespace, else to the broadcast subject.
   * Rejects with `NotStartedError`, `FrameTooLargeError` (before publishing), or
   * `TransportError` (connection closed, invalid recipient, no stream / failed PubAck).
   *
   * Core NATS: resolves once the message is in the connection's outbound buffer; every
   * `flushWindowBytes` the transport flushes, and a send waits for the flush of the previous
   * window, so unconfirmed data stays bounded and a lost connection surfaces as an error.
   * JetStream directed messages resolve on the stream's PubAck.
   */
  send(message: Message, _options?: SendOptions): Promise<void> {
    const s = this.#session;
    if (!s || s.stopping) return Promise.reject(new NotStartedError('NatsTransport is not started'));
    return this.#publisher.send(s, message);
  }

  /**
   * Waits until the server has processed everything this transport sent so far, including
   * subscriptions made with `subscribe` after `start`. Rejects with `TransportError` when the
   * connection closes, `AbortError` when `signal` aborts.
   */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    const s = this.#session;
    if (!s || s.stopping) return Promise.reject(new NotStartedError('NatsTransport is not started'));
    return this.#publisher.flush(s, options);
  }

  /**
   * The next message, `null` on timeout or stop; `AbortError` when `signal` aborts. In
   * JetStream mode with `autoAck` (default) the message is acked as it is handed out here.
   */
  receive(options?: ReceiveOptions): Promise<Message | null> {
    const s = this.#session;
    if (!s || s.stopping) return Promise.reject(new NotStartedError('NatsTransport is not started'));
    if (!s.pull) return s.queue.shift(options);
    return s.queue.shift(options).then((m) => (m === null ? null : this.#receiver.handOut(s, m)));
  }

  /** The next queued message without waiting, or `null` (acked as `receive` does). */
  tryReceive(): Message | null {
    const s = this.#session;
    if (!s) return null;
    const m = s.queue.tryShift();
    return m !== null && s.pull ? this.#receiver.handOut(s, m) : m;
  }

  /** Messages until the transport stops. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      if (!this.started) return;
      const m = await this.receive();
      if (m === null) return;
      yield m;
    }
  }

  /**
   * JetStream mode with `autoAck: false`: acknowledges a message handed out by `receive`, so
   * the server will not redeliver it. Returns `false` when no un-acked message has this id.
   */
  ack(messageId: string): boolean {
    return this.#receiver.ack(this.#session, messageId);
  }

  /**
   * JetStream mode with `autoAck: false`: gives a handed-out message back for redelivery
   * (after `delayMs`, default at once). Returns `false` when no un-acked message has this id.
   */
  nak(messageId: string, delayMs?: number): boolean {
    return this.#receiver.nak(this.#session, messageId, delayMs);
  }

  /** Ids of handed-out JetStream messages not yet acked (`autoAck: false`). */
  unacked(): string[] {
    return [...(this.#session?.unacked.keys() ?? [])];
  }

  /**
   * Receives recipient-less messages whose topics include `namespace`. After `start`, the
   * subscription reaches the server asynchronously; `await flush()` to be sure it is in place.
   */
  subscribe(namespace: string): void {
    if (typeof namespace !== 'string' || namespace === '') throw new ValidationError('namespace must be a non-empty string');
    this.#namespaces.add(namespace);
    const s = this.#session;
    if (s && !s.stopping && !s.topicSubs.has(namespace)) subscribeTopic(this.#cfg, this.#receiver, s, namespace);
  }

  /** Stops receiving topic-routed messages for `namespace`. */
  unsubscribe(namespace: string): void {
    this.#namespaces.delete(namespace);
    const sub = this.#session?.topicSubs.get(namespace);
    if (sub) {
      this.#session!.topicSubs.delete(namespace);
      sub.unsubscribe();
    }
  }
}
