import { ConfigError, type Message } from '@converge/core';

/** What an `Inbox` does when a message arrives and it is full. */
export type InboxOverflow = 'reject' | 'drop-oldest' | 'drop-newest';

/** Options of `Inbox`. */
export interface InboxOptions {
  /** Most messages held (default 10,000). */
  maxSize?: number;
  /**
   * When full: `reject` (default) refuses the message so the caller can push back on its
   * source — the runtime then stops reading from the transport until there is room, and the
   * transport's own bounded queue pushes back on senders; `drop-oldest` evicts the oldest
   * queued message; `drop-newest` discards the arriving one. Every drop is counted.
   */
  overflow?: InboxOverflow;
}

/** Default most messages an inbox holds. */
export const DEFAULT_INBOX_SIZE = 10_000;

/**
 * A bounded FIFO of received messages between the transport and an agent's `decide`.
 * A ring buffer: push and poll are O(1) and allocation-free.
 */
export class Inbox {
  readonly maxSize: number;
  readonly overflow: InboxOverflow;
  #buf: (Message | undefined)[];
  #head = 0;
  #size = 0;
  #dropped = 0;
  #rejected = 0;
  #spaceWaiters: (() => void)[] = [];
  #onMessage: (() => void) | undefined;

  constructor(options: InboxOptions = {}) {
    this.maxSize = options.maxSize ?? DEFAULT_INBOX_SIZE;
    this.overflow = options.overflow ?? 'reject';
    if (!Number.isInteger(this.maxSize) || this.maxSize < 1) throw new ConfigError('inbox maxSize must be a positive integer', { key: 'maxSize' });
    if (!['reject', 'drop-oldest', 'drop-newest'].includes(this.overflow)) {
      throw new ConfigError(`inbox overflow must be reject, drop-oldest or drop-newest, got ${String(this.overflow)}`, { key: 'overflow' });
    }
    this.#buf = new Array(Math.min(this.maxSize, 1024));
  }

  /** Number of queued messages. */
  get size(): number {
    return this.#size;
  }

  /** Messages discarded by `drop-oldest` / `drop-newest`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Messages refused under `reject`. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Whether the inbox is at capacity. */
  get full(): boolean {
    return this.#size >= this.maxSize;
  }

  /** Called after every accepted message (the runtime wakes its loop with it). */
  set onMessage(listener: (() => void) | undefined) {
    this.#onMessage = listener;
  }

  /**
   * Offers a message. Returns `true` if queued; `false` if it was refused (`reject`) or
   * discarded (`drop-newest`). Under `drop-oldest` it always queues, evicting the oldest.
   */
  offer(message: Message): boolean {
    if (this.#size >= this.maxSize) {
      if (this.overflow === 'reject') {
        this.#rejected++;
        return false;
      }
      if (this.overflow === 'drop-newest') {
        this.#dropped++;
        return false;
      }
      this.#shift();
      this.#dropped++;
    }
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) % this.#buf.length] = message;
    this.#size++;
    this.#onMessage?.();
    return true;
  }

  /** Removes and returns up to `max` messages, oldest first. */
  poll(max = Number.POSITIVE_INFINITY): Message[] {
    const n = Math.min(max, this.#size);
    const out = new Array<Message>(n);
    for (let i = 0; i < n; i++) out[i] = this.#shift()!;
    if (n > 0) this.#releaseWaiters();
    return out;
  }

  /** Resolves when there is room for at least one message (at once if there is). */
  waitForSpace(signal?: AbortSignal): Promise<void> {
    if (this.#size < this.maxSize || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#spaceWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Removes every queued message and returns them. */
  drain(): Message[] {
    return this.poll();
  }

  #shift(): Message | undefined {
    if (this.#size === 0) return undefined;
    const m = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#size--;
    return m;
  }

  #grow(): void {
    const next = new Array<Message | undefined>(Math.min(this.maxSize, this.#buf.length * 2));
    for (let i = 0; i < this.#size; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length];
    this.#buf = next;
    this.#head = 0;
  }

  #releaseWaiters(): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of waiters) w();
  }
}
