import {
  AbortError, FrameTooLargeError, NotStartedError, QueueFullError, TRANSPORT_BRAND, TransportError, encodeMessage,
  type Message, type ReceiveOptions, type Transport,
} from '@converge/core';

/** The in-process switchboard a group of `HubTransport`s share. */
export class Hub {
  /** Started transports by agent id. */
  readonly agents = new Map<string, HubTransport>();
  /** Subscribers by topic namespace. */
  readonly subscribers = new Map<string, Set<HubTransport>>();
  /** Largest accepted message, as `encodeMessage(m).byteLength`. */
  constructor(readonly maxMessageBytes = 1024 * 1024) {}
}

interface Waiter { settle(m: Message | null, err?: unknown): void }

/**
 * A Transport from scratch: directed, topic and broadcast routing through a `Hub`, into a
 * bounded inbox per agent. Every refusal is a typed error; nothing is dropped silently.
 */
export class HubTransport implements Transport {
  /** Brand (`isTransport`). */
  readonly [TRANSPORT_BRAND] = true as const;
  #started = false;
  readonly #inbox: Message[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #namespaces = new Set<string>();

  /** `maxQueue` bounds the inbox: a send to a full inbox rejects `QueueFullError`. */
  constructor(readonly agentId: string, readonly hub: Hub, readonly maxQueue = 10_000) {}

  /** Whether `start()` completed and `stop()` was not called since. */
  get started(): boolean {
    return this.#started;
  }

  /** Attaches to the hub. Idempotent. */
  async start(): Promise<void> {
    if (this.#started) return;
    if (this.hub.agents.has(this.agentId)) throw new TransportError(`agent ${this.agentId} is attached already`, { code: 'ERR_DUPLICATE_AGENT' });
    this.#started = true;
    this.hub.agents.set(this.agentId, this);
    for (const ns of this.#namespaces) this.#join(ns);
  }

  /** Detaches; pending receives resolve `null`. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.hub.agents.delete(this.agentId);
    for (const set of this.hub.subscribers.values()) set.delete(this);
    this.#inbox.length = 0;
    for (const w of [...this.#waiters]) w.settle(null);
  }

  /** Routes by recipient, else to the subscribers of the message's topics, else to everyone else. */
  async send(message: Message): Promise<void> {
    if (!this.#started) throw new NotStartedError('HubTransport is not started');
    const size = encodeMessage(message).byteLength;
    if (size > this.hub.maxMessageBytes) throw new FrameTooLargeError(size, this.hub.maxMessageBytes);
    let targets: HubTransport[];
    if (message.recipient !== null) {
      const to = this.hub.agents.get(message.recipient);
      if (!to) throw new TransportError(`unknown recipient ${message.recipient}`, { code: 'ERR_UNKNOWN_RECIPIENT' });
      targets = [to];
    } else {
      const subs = new Set<HubTransport>();
      for (const t of message.topics) for (const s of this.hub.subscribers.get(t.namespace) ?? []) if (s !== this) subs.add(s);
      targets = subs.size > 0 ? [...subs] : [...this.hub.agents.values()].filter((a) => a !== this);
    }
    // All or nothing: refuse before delivering anywhere.
    for (const t of targets) if (!t.#hasRoom()) throw new QueueFullError(`inbox of ${t.agentId} is full`);
    for (const t of targets) t.#deliver(message);
  }

  /** The next message; `null` on timeout or stop; rejects `AbortError` when `signal` aborts. */
  receive(options: ReceiveOptions = {}): Promise<Message | null> {
    if (!this.#started) return Promise.reject(new NotStartedError('HubTransport is not started'));
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(new AbortError('receive aborted', { cause: signal.reason }));
    if (this.#inbox.length > 0) return Promise.resolve(this.#inbox.shift()!);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => w.settle(null, new AbortError('receive aborted', { cause: signal?.reason }));
      const w: Waiter = {
        settle: (m, err) => {
          this.#waiters.delete(w);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(m);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => w.settle(null), timeoutMs);
      this.#waiters.add(w);
    });
  }

  /** Messages until the transport stops. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (this.#started) {
      const m = await this.receive();
      if (m === null) return;
      yield m;
    }
  }

  /** Receives recipient-less messages whose topics include `namespace`. */
  subscribe(namespace: string): void {
    this.#namespaces.add(namespace);
    if (this.#started) this.#join(namespace);
  }

  /** Stops receiving them. */
  unsubscribe(namespace: string): void {
    this.#namespaces.delete(namespace);
    this.hub.subscribers.get(namespace)?.delete(this);
  }

  #join(ns: string): void {
    let set = this.hub.subscribers.get(ns);
    if (!set) this.hub.subscribers.set(ns, (set = new Set()));
    set.add(this);
  }

  #hasRoom(): boolean {
    return this.#inbox.length < this.maxQueue;
  }

  #deliver(message: Message): void {
    const [w] = this.#waiters;
    if (w) w.settle(message);
    else this.#inbox.push(message);
  }
}
