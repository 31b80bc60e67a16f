import {
  AbortError, decodeMessage, encodeMessage, FrameTooLargeError, NotStartedError, TransportError, ValidationError,
  type Message,
} from '@converge/core';
import { AsyncQueue, type ReceiveOptions, type SendOptions, type Transport } from '@converge/network';
import type { Logger } from '@converge/observability';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import {
  DEFAULT_ACK_WAIT_MS, DEFAULT_CONNECT_ATTEMPTS, DEFAULT_CONNECT_RETRY_DELAY_MS, DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FLUSH_WINDOW_BYTES, DEFAULT_MAX_ACK_PENDING, DEFAULT_MAX_RECONNECT_ATTEMPTS, DEFAULT_NATS_MAX_MESSAGE_BYTES,
  DEFAULT_NATS_MAX_QUEUE, DEFAULT_PULL_BATCH, DEFAULT_RECONNECT_TIME_WAIT_MS, DEFAULT_STREAM_MAX_AGE_MS,
  DEFAULT_STREAM_MAX_BYTES, type NatsTransportOptions, type NatsTransportStats,
} from './options.js';
import { checkPrefix, defaultStreamName, isSubjectToken, subjectsFor, type Subjects } from './subjects.js';
import { ensureConsumer, ensureStream, PullLoop, type ConsumerSpec, type StreamSpec } from './jetstream.js';
import { createInstruments, type Instruments } from './instruments.js';

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new ValidationError(`${name} must be a positive integer`);
  return v;
}

function publishError(err: unknown, what: string): TransportError {
  if (err instanceof TransportError) return err;
  const name = (err as { name?: string })?.name;
  const code = name === 'ClosedConnectionError' || name === 'DrainingConnectionError' ? 'ERR_CONNECTION_CLOSED'
    : name === 'NoRespondersError' ? 'ERR_NO_RESPONDERS' : 'ERR_TRANSPORT';
  return new TransportError(`${what}: ${(err as Error)?.message ?? String(err)}`, { code, cause: err });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Everything a started transport holds; replaced as a whole on each start.
interface Session {
  nc: NatsConnection;
  queue: AsyncQueue<Message>;
  js: JetStreamClient | undefined;
  limit: number;
  topicSubs: Map<string, Subscription>;
  pull: PullLoop | undefined;
  // JetStream messages queued but not yet handed out, and handed out but not yet acked.
  inQueue: WeakMap<Message, JsMsg>;
  unacked: Map<string, JsMsg>;
  roomWaiter: (() => void) | undefined;
  statusLoop: Promise<void>;
  unflushed: number;
  flushing: Promise<void> | undefined;
  // Publishes coalesced until the next macrotask (see #publish), as parallel arrays.
  batchSubjects: string[];
  batchData: Uint8Array[];
  batchScheduled: boolean;
  // A publish that failed after its send resolved: the next send rejects with it.
  deferredError: TransportError | undefined;
  stopping: boolean;
}

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
export class NatsTransport implements Transport {
  /** This agent's id, the `recipient` that reaches it. */
  readonly agentId: string;
  /** First levels of every subject. */
  readonly subjectPrefix: string;
  /** Counters; see `NatsTransportStats`. */
  readonly stats: NatsTransportStats = {
    sent: 0, publishFailed: 0, received: 0, droppedQueueFull: 0, malformed: 0, droppedOnStop: 0, ownSkipped: 0, acked: 0, nakked: 0,
  };
  readonly #opts: NatsTransportOptions;
  readonly #subjects: Subjects;
  readonly #maxMessageBytes: number;
  readonly #maxQueue: number;
  readonly #flushWindow: number;
  readonly #directedJs: boolean;
  readonly #autoAck: boolean;
  readonly #stream: StreamSpec | undefined;
  readonly #consumer: ConsumerSpec | undefined;
  readonly #logger: Logger | undefined;
  readonly #metrics: Instruments;
  readonly #namespaces = new Set<string>();
  #session: Session | undefined;
  #starting: Promise<void> | undefined;

  constructor(options: NatsTransportOptions) {
    const o = options;
    if (!o || (typeof o.servers !== 'string' && !Array.isArray(o.servers)) || o.servers.length === 0) {
      throw new ValidationError('NatsTransport needs servers');
    }
    if (typeof o.agentId !== 'string' || !isSubjectToken(o.agentId)) {
      throw new ValidationError('agentId must be a non-empty string without whitespace, ".", "*" or ">"');
    }
    if (o.queueGroup !== undefined && !isSubjectToken(o.queueGroup)) throw new ValidationError('queueGroup is not a valid NATS queue name');
    if (o.durable !== undefined && !/^[A-Za-z0-9_-]+$/.test(o.durable)) throw new ValidationError('durable must match [A-Za-z0-9_-]+');
    this.#opts = o;
    this.agentId = o.agentId;
    this.subjectPrefix = checkPrefix(o.subjectPrefix ?? 'converge');
    this.#subjects = subjectsFor(this.subjectPrefix);
    this.#maxMessageBytes = positiveInt('maxMessageBytes', o.maxMessageBytes, DEFAULT_NATS_MAX_MESSAGE_BYTES);
    this.#maxQueue = positiveInt('maxQueue', o.maxQueue, DEFAULT_NATS_MAX_QUEUE);
    this.#flushWindow = positiveInt('flushWindowBytes', o.flushWindowBytes, DEFAULT_FLUSH_WINDOW_BYTES);
    positiveInt('connectAttempts', o.connectAttempts, DEFAULT_CONNECT_ATTEMPTS);
    this.#directedJs = (o.directed ?? (o.durable !== undefined ? 'jetstream' : 'core')) === 'jetstream';
    this.#autoAck = o.autoAck ?? true;
    const j = o.jetstream ?? {};
    if (this.#directedJs || o.durable !== undefined) {
      this.#stream = {
        name: j.stream ?? defaultStreamName(this.subjectPrefix), subject: this.#subjects.jsWildcard,
        maxBytes: positiveInt('jetstream.maxBytes', j.maxBytes, DEFAULT_STREAM_MAX_BYTES),
        maxAgeMs: positiveInt('jetstream.maxAgeMs', j.maxAgeMs, DEFAULT_STREAM_MAX_AGE_MS),
      };
    }
    if (o.durable !== undefined) {
      this.#consumer = {
        durable: o.durable, filterSubject: this.#subjects.jsAgent(this.agentId),
        ackWaitMs: positiveInt('jetstream.ackWaitMs', j.ackWaitMs, DEFAULT_ACK_WAIT_MS),
        maxAckPending: positiveInt('jetstream.maxAckPending', j.maxAckPending, DEFAULT_MAX_ACK_PENDING),
      };
      positiveInt('jetstream.pullBatch', j.pullBatch, DEFAULT_PULL_BATCH);
    }
    this.#logger = o.logger;
    this.#metrics = createInstruments(o.metrics);
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
    return this.#session?.limit ?? this.#maxMessageBytes;
  }

  /** Messages waiting in the receive queue. */
  get queued(): number {
    return this.#session?.queue.size ?? 0;
  }

  /** The JetStream stream name, when JetStream is used. */
  get streamName(): string | undefined {
    return this.#stream?.name;
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

  async #connect(signal: AbortSignal | undefined): Promise<NatsConnection> {
    const o = this.#opts;
    const attempts = o.connectAttempts ?? DEFAULT_CONNECT_ATTEMPTS;
    let last: unknown;
    for (let i = 1; i <= attempts; i++) {
      if (signal?.aborted) throw new AbortError('NATS connect aborted', { cause: signal.reason });
      try {
        return await connect({
          servers: o.servers, name: o.name ?? `converge-${this.agentId}`,
          timeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          maxReconnectAttempts: o.maxReconnectAttempts ?? DEFAULT_MAX_RECONNECT_ATTEMPTS,
          reconnectTimeWait: o.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_TIME_WAIT_MS,
        });
      } catch (err) {
        last = err;
        this.#logger?.warn({ attempt: i, attempts, err: (err as Error)?.message }, 'NATS connection attempt failed');
        if (i < attempts) await sleep(o.connectRetryDelayMs ?? DEFAULT_CONNECT_RETRY_DELAY_MS);
      }
    }
    throw new TransportError(`cannot connect to NATS at ${String(o.servers)} after ${attempts} attempts`, { code: 'ERR_CONNECT', cause: last });
  }

  async #start(signal: AbortSignal | undefined): Promise<void> {
    const nc = await this.#connect(signal);
    const serverMax = nc.info?.max_payload ?? this.#maxMessageBytes;
    if (serverMax < this.#maxMessageBytes) {
      this.#logger?.warn({ maxMessageBytes: this.#maxMessageBytes, serverMaxPayload: serverMax }, 'maxMessageBytes lowered to the server max_payload');
    }
    const s: Session = {
      nc, queue: new AsyncQueue<Message>({ maxSize: this.#maxQueue, overflow: 'reject' }), js: undefined,
      limit: Math.min(this.#maxMessageBytes, serverMax), topicSubs: new Map(), pull: undefined,
      inQueue: new WeakMap(), unacked: new Map(), roomWaiter: undefined, statusLoop: RESOLVED, unflushed: 0,
      flushing: undefined, batchSubjects: [], batchData: [], batchScheduled: false, deferredError: undefined, stopping: false,
    };
    s.statusLoop = this.#watchStatus(s);
    try {
      nc.subscribe(this.#subjects.agent(this.agentId), { callback: (_e, m) => this.#onDirected(s, m) });
      nc.subscribe(this.#subjects.broadcast, { callback: (_e, m) => this.#onShared(s, m, undefined) });
      for (const ns of this.#namespaces) this.#subscribeTopic(s, ns);
      if (this.#stream) {
        const jsm = await ensureStream(nc, this.#stream);
        s.js = jetstream(nc);
        if (this.#consumer) {
          await ensureConsumer(jsm, this.#stream.name, this.#consumer);
          const consumer = await s.js.consumers.get(this.#stream.name, this.#consumer.durable);
          const batch = this.#opts.jetstream?.pullBatch ?? DEFAULT_PULL_BATCH;
          const messages = await consumer.consume({ max_messages: batch });
          s.pull = new PullLoop(messages, {
            accept: (jm) => this.#onPulled(s, jm),
            hasRoom: () => s.queue.hasRoom(1),
            waitForRoom: () => new Promise<void>((r) => { s.roomWaiter = r; }),
            failed: (err) => this.#logger?.error({ err: (err as Error)?.message }, 'JetStream pull loop failed'),
          });
        }
      }
      await nc.flush();
    } catch (err) {
      s.stopping = true;
      s.queue.close();
      await s.pull?.stop();
      await nc.close().catch(noop);
      await s.statusLoop;
      throw err instanceof TransportError || err instanceof ValidationError ? err : publishError(err, 'NATS start failed');
    }
    this.#session = s;
  }

  async #watchStatus(s: Session): Promise<void> {
    const closed = s.nc.closed().then((err) => {
      if (s.stopping) return;
      this.#logger?.error({ err: err instanceof Error ? err.message : undefined }, 'NATS connection closed unexpectedly');
      this.#metrics.event('closed');
      s.queue.close();
    });
    for await (const st of s.nc.status()) {
      if (st.type === 'ping') continue;
      this.#metrics.event(st.type);
      if (st.type === 'disconnect' || st.type === 'staleConnection' || st.type === 'slowConsumer' || st.type === 'error') {
        this.#logger?.warn({ event: st.type, ...('server' in st ? { server: st.server } : {}), ...('error' in st ? { err: st.error.message } : {}) }, 'NATS status');
      } else {
        this.#logger?.info({ event: st.type, ...('server' in st ? { server: st.server } : {}) }, 'NATS status');
      }
    }
    await closed;
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
    s.stopping = true;
    this.#publishBatch(s);
    const left = s.queue.drain();
    s.queue.close();
    s.roomWaiter?.();
    await s.pull?.stop();
    // Queued and handed-out-but-un-acked JetStream messages are left un-acked: the server
    // redelivers them after the consumer's ack wait. (A nak here is not safe: the server may
    // route the redelivery to this connection's pull request, which outlives the iterator.)
    let dropped = 0;
    for (const m of left) if (!s.inQueue.has(m)) dropped++;
    s.unacked.clear();
    if (dropped > 0) this.#countDrop('stopped', dropped);
    try {
      await s.nc.drain();
    } catch {
      await s.nc.close().catch(noop);
    }
    await s.statusLoop;
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
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(message);
    } catch (err) {
      return Promise.reject(err);
    }
    if (bytes.byteLength > s.limit) return Promise.reject(new FrameTooLargeError(bytes.byteLength, s.limit));
    const recipient = message.recipient;
    if (recipient !== null && !isSubjectToken(recipient)) {
      return Promise.reject(new TransportError(`recipient ${JSON.stringify(recipient)} cannot be a NATS subject token`, { code: 'ERR_INVALID_RECIPIENT' }));
    }
    if (recipient !== null && this.#directedJs) return this.#sendJs(s, recipient, bytes);
    if (s.deferredError) {
      const err = s.deferredError;
      s.deferredError = undefined;
      return Promise.reject(err);
    }
    if (s.nc.isClosed() || s.nc.isDraining()) {
      return Promise.reject(new TransportError('NATS connection is closed', { code: 'ERR_CONNECTION_CLOSED' }));
    }
    if (recipient !== null) this.#publish(s, this.#subjects.agent(recipient), bytes);
    else if (message.topics.length === 0) this.#publish(s, this.#subjects.broadcast, bytes);
    else {
      const seen = message.topics.length > 1 ? new Set<string>() : undefined;
      for (const t of message.topics) {
        if (seen) {
          if (seen.has(t.namespace)) continue;
          seen.add(t.namespace);
        }
        this.#publish(s, this.#subjects.topic(t.namespace), bytes);
      }
    }
    this.stats.sent++;
    s.unflushed += bytes.byteLength;
    if (s.unflushed < this.#flushWindow) return RESOLVED;
    s.unflushed = 0;
    const err = this.#publishBatch(s);
    if (err) return Promise.reject(err);
    const previous = s.flushing;
    const f = s.nc.flush().catch((e: unknown) => {
      throw publishError(e, 'NATS flush failed');
    });
    f.catch(noop); // observed by the next window's send; never an unhandled rejection
    s.flushing = f;
    return previous ?? RESOLVED;
  }

  // nats.js writes its outbound buffer to the socket in a microtask after the first publish
  // into an empty buffer; an agent loop that awaits each send would then make one socket
  // write per message. Publishes are coalesced until the next macrotask (or the end of a flush
  // window) and handed to nats.js together: one write for the whole batch.
  #publish(s: Session, subject: string, bytes: Uint8Array): void {
    s.batchSubjects.push(subject);
    s.batchData.push(bytes);
    if (!s.batchScheduled) {
      s.batchScheduled = true;
      setImmediate(this.#flushBatchSoon, s);
    }
  }

  readonly #flushBatchSoon = (s: Session): void => {
    s.batchScheduled = false;
    const err = this.#publishBatch(s);
    if (err) s.deferredError = err;
  };

  // Hands the coalesced publishes to nats.js, in order. A failure (the connection closed since
  // the sends resolved) is counted, logged and returned.
  #publishBatch(s: Session): TransportError | undefined {
    const subjects = s.batchSubjects;
    const data = s.batchData;
    const n = subjects.length;
    if (n === 0) return undefined;
    let i = 0;
    try {
      for (; i < n; i++) s.nc.publish(subjects[i]!, data[i]!);
      return undefined;
    } catch (err) {
      const lost = n - i;
      this.#metrics.dropped('publish_failed', lost);
      this.stats.publishFailed += lost;
      this.#logger?.error({ agent: this.agentId, count: lost, err: (err as Error)?.message }, 'NATS publish failed; messages lost');
      return publishError(err, `NATS publish failed (${lost} messages lost)`);
    } finally {
      subjects.length = 0;
      data.length = 0;
    }
  }

  async #sendJs(s: Session, recipient: string, bytes: Uint8Array): Promise<void> {
    try {
      await s.js!.publish(this.#subjects.jsAgent(recipient), bytes);
    } catch (err) {
      throw publishError(err, 'JetStream publish failed');
    }
    this.stats.sent++;
  }

  /**
   * Waits until the server has processed everything this transport sent so far, including
   * subscriptions made with `subscribe` after `start`. Rejects with `TransportError` when the
   * connection closes, `AbortError` when `signal` aborts.
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    const s = this.#session;
    if (!s || s.stopping) throw new NotStartedError('NatsTransport is not started');
    const err = this.#publishBatch(s) ?? s.deferredError;
    s.deferredError = undefined;
    if (err) throw err;
    const f = s.nc.flush().catch((err: unknown) => {
      throw publishError(err, 'NATS flush failed');
    });
    const signal = options.signal;
    if (!signal) return f;
    if (signal.aborted) throw new AbortError('flush aborted', { cause: signal.reason });
    let onAbort = noop;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortError('flush aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    f.catch(noop);
    try {
      await Promise.race([f, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The next message, `null` on timeout or stop; `AbortError` when `signal` aborts. In
   * JetStream mode with `autoAck` (default) the message is acked as it is handed out here.
   */
  receive(options?: ReceiveOptions): Promise<Message | null> {
    const s = this.#session;
    if (!s || s.stopping) return Promise.reject(new NotStartedError('NatsTransport is not started'));
    if (!s.pull) return s.queue.shift(options);
    return s.queue.shift(options).then((m) => (m === null ? null : this.#handOut(s, m)));
  }

  /** The next queued message without waiting, or `null` (acked as `receive` does). */
  tryReceive(): Message | null {
    const s = this.#session;
    if (!s) return null;
    const m = s.queue.tryShift();
    return m !== null && s.pull ? this.#handOut(s, m) : m;
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
    const jm = this.#session?.unacked.get(messageId);
    if (!jm) return false;
    this.#session!.unacked.delete(messageId);
    jm.ack();
    this.stats.acked++;
    return true;
  }

  /**
   * JetStream mode with `autoAck: false`: gives a handed-out message back for redelivery
   * (after `delayMs`, default at once). Returns `false` when no un-acked message has this id.
   */
  nak(messageId: string, delayMs?: number): boolean {
    const jm = this.#session?.unacked.get(messageId);
    if (!jm) return false;
    this.#session!.unacked.delete(messageId);
    this.#nak(jm, delayMs);
    return true;
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
    if (s && !s.stopping && !s.topicSubs.has(namespace)) this.#subscribeTopic(s, namespace);
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

  #subscribeTopic(s: Session, ns: string): void {
    const sub = s.nc.subscribe(this.#subjects.topic(ns), {
      queue: this.#opts.queueGroup, callback: (_e, m) => this.#onShared(s, m, ns),
    });
    s.topicSubs.set(ns, sub);
  }

  #decode(data: Uint8Array, subject: string): Message | undefined {
    try {
      return decodeMessage(data, { maxBytes: this.#maxMessageBytes });
    } catch (err) {
      this.stats.malformed++;
      this.#metrics.dropped('malformed', 1);
      if (this.stats.malformed === 1 || this.stats.malformed % 1000 === 0) {
        this.#logger?.warn({ subject, size: data.byteLength, total: this.stats.malformed, err: (err as Error)?.message }, 'NATS payload is not a valid message; dropped');
      }
      return undefined;
    }
  }

  #enqueue(s: Session, m: Message): void {
    if (s.queue.push(m)) {
      this.stats.received++;
      return;
    }
    if (s.stopping || s.queue.closed) {
      this.#countDrop('stopped', 1);
      return;
    }
    this.stats.droppedQueueFull++;
    this.#metrics.dropped('queue_full', 1);
    if (this.stats.droppedQueueFull === 1 || this.stats.droppedQueueFull % 1000 === 0) {
      this.#logger?.warn({ agent: this.agentId, total: this.stats.droppedQueueFull, maxQueue: this.#maxQueue }, 'NATS receive queue full; message dropped');
    }
  }

  #onDirected(s: Session, msg: Msg): void {
    const m = this.#decode(msg.data, msg.subject);
    if (m) this.#enqueue(s, m);
  }

  // Broadcast (ns undefined) and topic subjects: skip our own messages; a message with several
  // of our namespaces arrives once per namespace and is kept only from the first of them.
  #onShared(s: Session, msg: Msg, ns: string | undefined): void {
    const m = this.#decode(msg.data, msg.subject);
    if (!m) return;
    if (m.sender === this.agentId) {
      this.stats.ownSkipped++;
      return;
    }
    if (ns !== undefined && m.topics.length > 1) {
      for (const t of m.topics) {
        if (t.namespace === ns) break;
        if (s.topicSubs.has(t.namespace)) return;
      }
    }
    this.#enqueue(s, m);
  }

  #onPulled(s: Session, jm: JsMsg): boolean {
    const m = this.#decode(jm.data, jm.subject);
    if (!m) {
      jm.term('malformed converge message');
      return false;
    }
    s.inQueue.set(m, jm);
    if (!s.queue.push(m)) {
      s.inQueue.delete(m); // stopping: left un-acked, redelivered after the ack wait
      return false;
    }
    this.stats.received++;
    return true;
  }

  #handOut(s: Session, m: Message): Message {
    const jm = s.inQueue.get(m);
    if (jm) {
      s.inQueue.delete(m);
      if (this.#autoAck) {
        jm.ack();
        this.stats.acked++;
      } else {
        s.unacked.set(m.id, jm);
      }
    }
    const w = s.roomWaiter;
    if (w) {
      s.roomWaiter = undefined;
      w();
    }
    return m;
  }

  #nak(jm: JsMsg, delayMs?: number): void {
    try {
      jm.nak(delayMs);
      this.stats.nakked++;
    } catch (err) {
      this.#logger?.warn({ err: (err as Error)?.message }, 'JetStream nak failed; the server redelivers after ack wait');
    }
  }

  #countDrop(reason: 'stopped', n: number): void {
    this.stats.droppedOnStop += n;
    this.#metrics.dropped(reason, n);
    this.#logger?.warn({ agent: this.agentId, reason, count: n }, 'NATS transport dropped queued messages');
  }
}
