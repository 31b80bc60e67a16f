import {
  DEFAULT_MAX_MESSAGE_BYTES,
  FrameTooLargeError,
  NotStartedError,
  QueueFullError,
  TransportError,
  ValidationError,
  type Message,
  hasBrand,
  requireInt,
} from '@converge/core';
import type { Startable } from '@converge/core';
import type { Logger, MetricCounter, Metrics } from '@converge/core';
import { AsyncQueue, DEFAULT_QUEUE_CAPACITY } from './async-queue.js';
import { exactSizeIfOver } from './local-size.js';
import { TRANSPORT_BRAND, type ReceiveOptions, type SendOptions, type Transport } from '@converge/core';

/** Brand of a `LocalHub` (`isLocalHub` checks it; the same symbol in every copy of the package). */
export const LOCAL_HUB_BRAND: unique symbol = Symbol.for('@converge/local-hub') as never;

/** Whether `value` is a `LocalHub` from any copy of the package (the cross-copy form of `instanceof`). */
export function isLocalHub(value: unknown): value is LocalHub {
  return hasBrand(value, LOCAL_HUB_BRAND);
}

/** Options of `LocalHub`. */
export interface LocalHubOptions {
  /**
   * Largest message accepted, measured as `encodeMessage(msg).byteLength` (default 10 MiB,
   * as on the wire). Messages travel by reference; the size is checked with a cheap upper
   * bound, and only messages the bound cannot clear are encoded to measure them exactly.
   */
  maxMessageBytes?: number;
  /** Logs refused and dropped messages. */
  logger?: Logger;
  /** Counts drops: `converge_transport_dropped_total{transport="local",reason}`. */
  metrics?: Metrics;
}

/** Counters of a `LocalHub` (always kept, with or without a `MetricsCollector`). */
export interface LocalHubStats {
  /** Messages accepted by `send`. */
  sent: number;
  /** Deliveries into a recipient queue (a broadcast to n agents counts n). */
  delivered: number;
  /** Oldest messages discarded from full queues of `drop-oldest` transports. */
  droppedOverflow: number;
  /** Messages still queued at a transport when it stopped. */
  droppedOnStop: number;
  /** Broadcasts that had no other agent to reach. */
  noRecipients: number;
  /** `send` calls refused (unknown recipient, full queue, too large). */
  refused: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * An in-process switchboard for `LocalTransport`s. Create one per group of agents that
 * should see each other (there is no module-level default hub).
 *
 * Routing of a message sent by agent S: to `recipient` when set (an unknown recipient is a
 * `TransportError` with code `ERR_UNKNOWN_RECIPIENT`); otherwise to every agent but S that
 * subscribed to one of the message's topic namespaces; otherwise to every agent but S.
 */
export class LocalHub {
  /** Brand (see `isLocalHub`). */
  readonly [LOCAL_HUB_BRAND] = true as const;
  /** Largest accepted encoded message size in bytes. */
  readonly maxMessageBytes: number;
  /** Counters; see `LocalHubStats`. */
  readonly stats: LocalHubStats = { sent: 0, delivered: 0, droppedOverflow: 0, droppedOnStop: 0, noRecipients: 0, refused: 0 };
  readonly #agents = new Map<string, LocalTransport>();
  // Size bound per message object: a message sent again (or to many) is measured once.
  readonly #sizeBounds = new WeakMap<Message, number>();
  readonly #subscribers = new Map<string, Set<LocalTransport>>();
  readonly #logger: Logger | undefined;
  readonly #dropped: MetricCounter | undefined;

  constructor(options: LocalHubOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    requireInt(max, 'maxMessageBytes', { error: 'validation' });
    this.maxMessageBytes = max;
    this.#logger = options.logger;
    this.#dropped = options.metrics?.counter({
      name: 'converge_transport_dropped_total',
      help: 'Messages a transport discarded (overflow under drop-oldest, queued at stop)',
      labelNames: ['transport', 'reason'],
    });
  }

  /** Ids of the agents currently attached (started transports). */
  agents(): string[] {
    return [...this.#agents.keys()];
  }

  /** Whether an agent with this id is attached. */
  has(agentId: string): boolean {
    return this.#agents.has(agentId);
  }

  /** @internal Called by `LocalTransport.start`. */
  attach(t: LocalTransport): void {
    const current = this.#agents.get(t.agentId);
    if (current && current !== t) {
      throw new TransportError(`agent ${t.agentId} is already attached to this hub`, { code: 'ERR_DUPLICATE_AGENT' });
    }
    this.#agents.set(t.agentId, t);
  }

  /** @internal Called by `LocalTransport.stop`. */
  detach(t: LocalTransport, pending: number): void {
    if (this.#agents.get(t.agentId) === t) this.#agents.delete(t.agentId);
    for (const [ns, set] of this.#subscribers) {
      set.delete(t);
      if (set.size === 0) this.#subscribers.delete(ns);
    }
    if (pending > 0) this.#countDrop('stopped', pending, t.agentId);
  }

  /** @internal */
  subscribe(t: LocalTransport, namespace: string): void {
    let set = this.#subscribers.get(namespace);
    if (!set) this.#subscribers.set(namespace, (set = new Set()));
    set.add(t);
  }

  /** @internal */
  unsubscribe(t: LocalTransport, namespace: string): void {
    const set = this.#subscribers.get(namespace);
    if (!set) return;
    set.delete(t);
    if (set.size === 0) this.#subscribers.delete(namespace);
  }

  /** @internal Routes a message; throws a typed error when it cannot be accepted. */
  route(msg: Message, from: LocalTransport): void {
    const over = exactSizeIfOver(msg, this.maxMessageBytes, this.#sizeBounds);
    if (over >= 0) {
      this.stats.refused++;
      throw new FrameTooLargeError(over, this.maxMessageBytes);
    }
    if (msg.recipient !== null) {
      const to = this.#agents.get(msg.recipient);
      if (!to) {
        this.stats.refused++;
        throw new TransportError(`unknown recipient ${msg.recipient}`, { code: 'ERR_UNKNOWN_RECIPIENT' });
      }
      if (!to.canAccept()) {
        this.stats.refused++;
        throw new QueueFullError(`receive queue of agent ${to.agentId} is full`);
      }
      if (to.enqueue(msg)) this.#countDrop('overflow', 1, to.agentId);
      this.stats.delivered++;
      this.stats.sent++;
      return;
    }
    let targets: Set<LocalTransport> | undefined;
    if (this.#subscribers.size > 0) {
      for (const t of msg.topics) {
        const subs = this.#subscribers.get(t.namespace);
        if (!subs) continue;
        for (const s of subs) if (s !== from) (targets ??= new Set()).add(s);
      }
    }
    const list = targets ? [...targets] : [...this.#agents.values()].filter((a) => a !== from);
    // All or nothing: a full queue refuses the whole send, so no agent gets a partial broadcast.
    for (const t of list) {
      if (!t.canAccept()) {
        this.stats.refused++;
        throw new QueueFullError(`receive queue of agent ${t.agentId} is full`);
      }
    }
    for (const t of list) this.#deliver(t, msg);
    if (list.length === 0) {
      this.stats.noRecipients++;
      this.#logger?.debug({ id: msg.id }, 'local broadcast had no other agent to reach');
    }
    this.stats.sent++;
  }

  #deliver(to: LocalTransport, msg: Message): void {
    const dropped = to.enqueue(msg);
    this.stats.delivered++;
    if (dropped) this.#countDrop('overflow', 1, to.agentId);
  }

  #countDrop(reason: 'overflow' | 'stopped', n: number, agentId: string): void {
    if (reason === 'overflow') this.stats.droppedOverflow += n;
    else this.stats.droppedOnStop += n;
    this.#dropped?.inc({ transport: 'local', reason }, n);
    this.#logger?.warn({ agent: agentId, reason, count: n }, 'local transport dropped messages');
  }
}

/** Options of `LocalTransport`. */
export interface LocalTransportOptions {
  /** The hub shared by the agents that talk to each other. */
  hub: LocalHub;
  /** Capacity of this agent's receive queue (default 10,000 messages). */
  maxQueue?: number;
  /**
   * What a sender sees when this agent's queue is full: `reject` (default) makes its `send`
   * reject with `QueueFullError`; `drop-oldest` discards this agent's oldest queued message
   * (counted in `LocalHub.stats.droppedOverflow` and `converge_transport_dropped_total`).
   */
  overflow?: 'reject' | 'drop-oldest';
}

/**
 * An in-process transport: messages are handed over by reference (they are frozen) through
 * a `LocalHub`, into a bounded per-agent queue. Passes `@converge/compliance/transport`.
 */
export class LocalTransport implements Transport, Startable {
  /** Brand (`isTransport`). */
  readonly [TRANSPORT_BRAND] = true as const;
  /** This agent's id (its fingerprint), the `recipient` that reaches it. */
  readonly agentId: string;
  /** The hub this transport attaches to. */
  readonly hub: LocalHub;
  readonly #maxQueue: number;
  readonly #overflow: 'reject' | 'drop-oldest';
  #queue: AsyncQueue<Message> | undefined;
  readonly #namespaces = new Set<string>();

  constructor(agentId: string, options: LocalTransportOptions) {
    if (typeof agentId !== 'string' || agentId === '') throw new ValidationError('agentId must be a non-empty string');
    if (!isLocalHub(options?.hub)) throw new ValidationError('LocalTransport needs a LocalHub ({ hub })');
    this.agentId = agentId;
    this.hub = options.hub;
    this.#maxQueue = options.maxQueue ?? DEFAULT_QUEUE_CAPACITY;
    this.#overflow = options.overflow ?? 'reject';
    requireInt(this.#maxQueue, 'maxQueue', { error: 'validation' });
  }

  /** Whether the transport is attached to its hub. */
  get started(): boolean {
    return this.#queue !== undefined;
  }

  /** Messages waiting in this agent's queue. */
  get queued(): number {
    return this.#queue?.size ?? 0;
  }

  /** Attaches to the hub (throws `TransportError` `ERR_DUPLICATE_AGENT` if the id is taken). */
  async start(): Promise<void> {
    if (this.#queue) return;
    const queue = new AsyncQueue<Message>({ maxSize: this.#maxQueue, overflow: this.#overflow === 'drop-oldest' ? 'drop-oldest' : 'reject' });
    this.hub.attach(this);
    this.#queue = queue;
    for (const ns of this.#namespaces) this.hub.subscribe(this, ns);
  }

  /** Detaches; pending receives resolve `null`; messages still queued are discarded and counted. */
  async stop(): Promise<void> {
    const q = this.#queue;
    if (!q) return;
    this.#queue = undefined;
    const pending = q.drain().length;
    q.close();
    this.hub.detach(this, pending);
  }

  /**
   * Hands the message to its recipient(s). Resolves once queued. Rejects with
   * `NotStartedError`, `FrameTooLargeError`, `TransportError` (`ERR_UNKNOWN_RECIPIENT`) or
   * `QueueFullError`. Not `async` on purpose: the hot path returns a shared resolved promise.
   */
  send(message: Message, _options?: SendOptions): Promise<void> {
    if (!this.#queue) return Promise.reject(new NotStartedError('LocalTransport is not started'));
    try {
      this.hub.route(message, this);
    } catch (err) {
      return Promise.reject(err);
    }
    return RESOLVED;
  }

  /** The next message, `null` on timeout or stop; `AbortError` when `signal` aborts. */
  receive(options?: ReceiveOptions): Promise<Message | null> {
    const q = this.#queue;
    if (!q) return Promise.reject(new NotStartedError('LocalTransport is not started'));
    return q.shift(options);
  }

  /** The next queued message without waiting, or `null`. */
  tryReceive(): Message | null {
    return this.#queue?.tryShift() ?? null;
  }

  /** Messages until the transport stops. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      if (!this.#queue) return;
      const m = await this.#queue.shift();
      if (m === null) return;
      yield m;
    }
  }

  /** Receives messages (without a recipient) whose topics include `namespace`. */
  subscribe(namespace: string): void {
    this.#namespaces.add(namespace);
    if (this.#queue) this.hub.subscribe(this, namespace);
  }

  /** Stops receiving topic-routed messages for `namespace`. */
  unsubscribe(namespace: string): void {
    this.#namespaces.delete(namespace);
    this.hub.unsubscribe(this, namespace);
  }

  /** @internal Whether one more message fits (always true under `drop-oldest`). */
  canAccept(): boolean {
    const q = this.#queue;
    return q !== undefined && (this.#overflow === 'drop-oldest' || q.hasRoom(1));
  }

  /** @internal Queues a message; returns whether an old one was dropped to make room. */
  enqueue(msg: Message): boolean {
    const q = this.#queue!;
    const before = q.dropped;
    if (!q.push(msg)) throw new QueueFullError(`receive queue of agent ${this.agentId} is full`);
    return q.dropped !== before;
  }
}
