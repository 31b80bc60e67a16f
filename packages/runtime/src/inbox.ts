import { QueueFullError, RingQueue, encodeMessage, overflowPolicy, requireInt, type Message, type OverflowPolicy } from '@converge/core';

/**
 * Why an inbox let a message go without delivering it: evicted (`drop-oldest`), discarded on
 * arrival (`drop-newest`), larger than the whole byte budget (`too-large`), or still queued
 * when the runtime stopped (`stopped`), or given up after `decide` threw on it every attempt
 * (`decide_failed`, see `AgentRuntimeOptions.maxDecideAttempts`). A refusal under `reject` is not a drop: `offer`
 * returns `false` and the caller keeps the message (the runtime retries it once there is room);
 * nor is one under `throw` (`QueueFullError`, the caller keeps it).
 */
export type InboxDropReason = 'drop-oldest' | 'drop-newest' | 'too-large' | 'stopped' | 'decide_failed';

/** A byte budget for queued messages (`ResourceLimits` from `@converge/policy` fits). */
export interface QueueByteBudget {
  /** Reserves `n` bytes; `false` when that would exceed the budget. */
  reserveQueueBytes(n: number): boolean;
  /** Returns `n` reserved bytes. */
  releaseQueueBytes(n: number): void;
}

/** Options of `Inbox`. */
export interface InboxOptions {
  /** Most messages held (default `DEFAULT_INBOX_SIZE`, 10,000). */
  maxSize?: number;
  /**
   * When full (core's `OverflowPolicy`): `reject` (default) refuses the message (`offer`
   * returns `false`) so the caller can push back on its source; `throw` refuses it with
   * `QueueFullError`; `drop-oldest` evicts the oldest queued message; `drop-newest` discards
   * the arriving one. Every drop is counted. The runtime's intake never overflows an inbox:
   * it takes from the transport only what fits (the transport's queue is the one that holds
   * the backlog and pushes back), so the policy concerns messages `offer`ed directly.
   */
  overflow?: OverflowPolicy;
  /**
   * Accounts each queued message's encoded size (`encodeMessage(m).byteLength`) against this
   * budget; a message that does not fit counts as the inbox being full. Without it, no message
   * is encoded (the size is not measured).
   */
  limits?: QueueByteBudget;
  /** Called for every message dropped (not for refusals under `reject`); the runtime counts them. */
  onDrop?: (reason: InboxDropReason, message: Message) => void;
}

/** Default most messages an inbox holds. */
export const DEFAULT_INBOX_SIZE = 10_000;

/**
 * A bounded FIFO of received messages between the transport and an agent's `decide`.
 * A ring buffer (core's `RingQueue`, weighted by encoded size when `limits` is given): push and
 * poll are O(1) and allocation-free (once grown). Bounded by count and, when `limits` is given,
 * by bytes (`bytes` is then the encoded size of the queued messages, 0 otherwise).
 */
export class Inbox extends RingQueue<Message> {
  readonly maxSize: number;
  /** The overflow policy in force. */
  readonly overflow: OverflowPolicy;
  readonly #limits: QueueByteBudget | undefined;
  #dropped = 0;
  #rejected = 0;
  #spaceWaiters: (() => void)[] = [];
  #held: Message[] = [];
  #onMessage: (() => void) | undefined;
  #onDrop: InboxOptions['onDrop'];

  /** @throws ConfigError on a bad `maxSize` or `overflow`. */
  constructor(options: InboxOptions = {}) {
    const maxSize = options.maxSize ?? DEFAULT_INBOX_SIZE;
    requireInt(maxSize, 'maxSize');
    super(options.limits !== undefined, Math.min(maxSize, 1024));
    this.maxSize = maxSize;
    this.overflow = overflowPolicy(options.overflow, 'reject');
    this.#limits = options.limits;
    this.#onDrop = options.onDrop;
  }

  /** Messages discarded: evicted by `drop-oldest`, discarded by `drop-newest`, too large, or left at stop. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Messages refused under `reject` or `throw`. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Whether the inbox is at its message capacity. */
  get full(): boolean {
    return this.size >= this.maxSize;
  }

  /** Called after every accepted message (the runtime wakes its loop with it). */
  set onMessage(listener: (() => void) | undefined) {
    this.#onMessage = listener;
  }

  /** Called for every message let go without delivery (replaces the constructor's `onDrop`). */
  set onDrop(listener: InboxOptions['onDrop']) {
    this.#onDrop = listener;
  }

  /**
   * Offers a message. Returns `true` if queued; `false` if it was refused (`reject`: counted
   * in `rejected`, the caller still holds it; `throw` throws `QueueFullError` instead), discarded (`drop-newest`), or is larger than
   * the whole byte budget. Under `drop-oldest` it queues, evicting the oldest messages until
   * it fits. Every drop and eviction is counted in `dropped` and reported to `onDrop`.
   */
  offer(message: Message): boolean {
    const n = this.#limits ? encodeMessage(message).byteLength : 0;
    while (!this.#fits(n)) {
      if (this.size === 0) {
        // Alone it exceeds the byte budget: it can never be queued, whatever the policy.
        this.#drop('too-large', message);
        return false;
      }
      if (this.overflow === 'reject' || this.overflow === 'throw') {
        this.#rejected++;
        if (this.overflow === 'throw') throw new QueueFullError(`inbox full (${this.size} messages, ${this.bytes} bytes)`);
        return false;
      }
      if (this.overflow === 'drop-newest') {
        this.#drop('drop-newest', message);
        return false;
      }
      this.#drop('drop-oldest', this.#shift()!);
    }
    this.enqueue(message, n);
    this.#onMessage?.();
    return true;
  }

  /** Removes and returns up to `max` messages, oldest first. */
  poll(max = Number.POSITIVE_INFINITY): Message[] {
    const n = Math.min(max, this.size);
    const out = new Array<Message>(n);
    for (let i = 0; i < n; i++) out[i] = this.#shift()!;
    if (n > 0) this.#releaseWaiters();
    return out;
  }

  /**
   * Hands out a batch of up to `max` messages that stays *held* by the inbox until `commit`:
   * first the messages still held from an earlier `take` (a batch whose `decide` threw), then
   * the oldest queued ones. Held messages leave the queue as `poll` takes them (they free its
   * capacity and bytes: at most one batch is held, in the runtime's hands as before), but they
   * are not lost when the turn fails: the next `take` returns them again.
   */
  take(max = Number.POSITIVE_INFINITY): Message[] {
    if (this.#held.length < max) {
      const more = this.poll(max - this.#held.length);
      for (const m of more) this.#held.push(m);
    }
    return this.#held.slice(0, Math.min(max, this.#held.length));
  }

  /** Messages held by `take` and not yet committed. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * Releases `messages` (a batch `take` returned) for good; returns how many were held. With
   * `dropReason`, each one is counted as dropped for that reason (`dropped`, `onDrop`).
   */
  commit(messages: readonly Message[], dropReason?: InboxDropReason): number {
    let n = 0;
    // Held messages are released in the order they were handed out.
    while (n < messages.length && this.#held[0] === messages[n]) {
      this.#held.shift();
      if (dropReason !== undefined) this.#drop(dropReason, messages[n]!);
      n++;
    }
    return n;
  }

  /**
   * Resolves when the inbox is below its message capacity (at once if it is), or when
   * `signal` aborts. A byte budget may still refuse the next message: `offer` is the final
   * judge, and `waitForPoll` waits for bytes to be freed.
   */
  waitForSpace(signal?: AbortSignal): Promise<void> {
    if (this.size < this.maxSize || signal?.aborted) return Promise.resolve();
    return this.#waitForPoll(signal);
  }

  /** Resolves at the next `poll` that removes a message (or when `signal` aborts). */
  waitForPoll(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return this.#waitForPoll(signal);
  }

  /** Removes every queued message and returns them. */
  drain(): Message[] {
    return this.poll();
  }

  /** Discards every queued and held message, counting each as dropped with `reason`; returns how many. */
  discard(reason: InboxDropReason = 'stopped'): number {
    const messages = this.#held.splice(0);
    for (const m of this.poll()) messages.push(m);
    for (const m of messages) this.#drop(reason, m);
    return messages.length;
  }

  // Whether a message of `n` encoded bytes fits; when it does, its bytes are reserved.
  #fits(n: number): boolean {
    if (this.size >= this.maxSize) return false;
    return !this.#limits || this.#limits.reserveQueueBytes(n);
  }

  #drop(reason: InboxDropReason, message: Message): void {
    this.#dropped++;
    this.#onDrop?.(reason, message);
  }

  #waitForPoll(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#spaceWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #shift(): Message | undefined {
    if (this.size === 0) return undefined;
    const n = this.headWeight;
    const m = this.dequeue();
    this.#limits?.releaseQueueBytes(n);
    return m;
  }

  #releaseWaiters(): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of waiters) w();
  }
}
