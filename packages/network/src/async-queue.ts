import { AbortError, QueueFullError, RingQueue, ValidationError, overflowPolicy, requireInt, type OverflowPolicy } from '@converge/core';

// The overflow vocabulary is core's (shared with the runtime's Inbox); re-exported for callers.
export type { OverflowPolicy } from '@converge/core';

/** Default capacity of an `AsyncQueue` (items). */
export const DEFAULT_QUEUE_CAPACITY = 10_000;

/** Options of `AsyncQueue`. */
export interface AsyncQueueOptions {
  /** Most items held (default `DEFAULT_QUEUE_CAPACITY` = 10,000). */
  maxSize?: number;
  /**
   * When full: `throw` (default) throws `QueueFullError`, `reject` makes `push` return
   * `false`, `drop-oldest` discards the oldest item (counted in `dropped`) and accepts the new
   * one, `drop-newest` discards the new one (counted in `dropped`, `push` returns `false`).
   */
  overflow?: OverflowPolicy;
  /**
   * Most bytes held, as weighed by the `bytes` argument of `push` (default: unbounded). A push
   * that would take the stored weight over it overflows exactly as a push into a full queue
   * (items handed straight to a waiting consumer are never stored, so never weighed).
   */
  maxBytes?: number;
}

/** Options of `shift`. */
export interface ShiftOptions {
  /** Rejects the pending `shift` with `AbortError` when aborted. */
  signal?: AbortSignal;
  /** Resolves `null` when nothing arrived within this many ms; `0` never waits. */
  timeoutMs?: number;
}

interface Waiter<T> {
  resolve: (value: T | null) => void;
  reject: (err: unknown) => void;
  // Always present (maybe undefined) so every waiter has one shape: keeps push() monomorphic.
  cleanup: (() => void) | undefined;
}

/**
 * A bounded FIFO queue whose consumers wait without polling. Items live in core's
 * `RingQueue`, a ring buffer that grows (by doubling) up to `maxSize`, so steady-state pushes
 * and shifts allocate nothing but the promise a waiting consumer gets.
 *
 * After `close()`, pending and later `shift` calls resolve `null` once the remaining items are
 * taken, and `push` returns `false` (or throws, under `throw`) without storing the item.
 */
export class AsyncQueue<T> extends RingQueue<T> {
  /** Most items held. */
  readonly maxSize: number;
  /** Overflow policy in force. */
  readonly overflow: OverflowPolicy;
  /** Most bytes held (`Infinity` when unbounded). */
  readonly maxBytes: number;
  #waiters: Waiter<T>[] = [];
  #waiterHead = 0;
  #closed = false;
  #dropped = 0;

  constructor(options: AsyncQueueOptions = {}) {
    const max = options.maxSize ?? DEFAULT_QUEUE_CAPACITY;
    requireInt(max, 'maxSize', { error: 'validation' });
    const maxBytes = options.maxBytes ?? Infinity;
    if (maxBytes !== Infinity && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
      throw new ValidationError('maxBytes must be a positive integer');
    }
    // Items are weighed (`bytes`: the weights given to `push`) only when maxBytes is finite.
    super(maxBytes !== Infinity);
    this.maxSize = max;
    this.overflow = overflowPolicy(options.overflow, 'throw');
    this.maxBytes = maxBytes;
  }

  /** Items discarded by the `drop-oldest` and `drop-newest` policies so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of consumers waiting in `shift`. */
  get waiting(): number {
    return this.#waiters.length - this.#waiterHead;
  }

  /** Whether `push` would accept `n` more items without overflowing. */
  hasRoom(n = 1): boolean {
    return this.size + n - this.waiting <= this.maxSize;
  }

  /**
   * Adds an item, handing it straight to a waiting consumer if there is one. Returns `true`
   * when stored or handed over; `false` when closed or (policy `reject`) full. Throws
   * `QueueFullError` when full under policy `throw`. `bytes` is the item's weight against
   * `maxBytes` (ignored when the queue is not byte-bounded).
   */
  push(item: T, bytes = 0): boolean {
    if (this.#closed) {
      if (this.overflow === 'throw') throw new QueueFullError('queue is closed');
      return false;
    }
    if (this.#waiterHead < this.#waiters.length) {
      const w = this.#nextWaiter()!;
      if (w.cleanup !== undefined) w.cleanup();
      w.resolve(item);
      return true;
    }
    const weighted = this.weighted;
    while (this.size >= this.maxSize || (weighted && this.size > 0 && this.bytes + bytes > this.maxBytes)) {
      if (this.overflow === 'drop-oldest') {
        this.dequeue();
        this.#dropped++;
      } else if (this.overflow === 'reject') return false;
      else if (this.overflow === 'drop-newest') {
        this.#dropped++;
        return false;
      } else {
        throw new QueueFullError(this.size >= this.maxSize ? `queue full (${this.maxSize} items)` : `queue full (${this.maxBytes} bytes)`);
      }
    }
    // One item heavier than maxBytes on its own still fits an empty queue (it was already
    // bounded by whoever produced it); the bound is on what accumulates.
    this.enqueue(item, bytes);
    return true;
  }

  /** Whether an item of weight `bytes` fits under `maxBytes` now (always `true` when unbounded). */
  hasRoomBytes(bytes: number): boolean {
    return !this.weighted || this.size === 0 || this.bytes + bytes <= this.maxBytes;
  }

  /** The next item without waiting, or `null` when empty. */
  tryShift(): T | null {
    return this.size > 0 ? this.dequeue() : null;
  }

  /**
   * The next item, waiting for one if needed. Resolves `null` on timeout or when the queue
   * is closed and empty; rejects with `AbortError` when `signal` aborts.
   */
  shift(options?: ShiftOptions): Promise<T | null> {
    if (this.size > 0) return Promise.resolve(this.dequeue());
    if (this.#closed) return Promise.resolve(null);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('receive aborted', { cause: signal.reason }));
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.resolve(null);
    if (!signal && timeoutMs === undefined) {
      // The common agent-loop case, kept allocation-light: one promise, one waiter object.
      return new Promise<T | null>((resolve, reject) => {
        this.#waiters.push({ resolve, reject, cleanup: undefined });
      });
    }
    return new Promise<T | null>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, cleanup: undefined };
      {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = (): void => {
          w.cleanup!();
          this.#removeWaiter(w);
          reject(new AbortError('receive aborted', { cause: signal!.reason }));
        };
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            w.cleanup!();
            this.#removeWaiter(w);
            resolve(null);
          }, timeoutMs);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
      }
      this.#waiters.push(w);
    });
  }

  /** Resolves every waiting `shift` with `null`; later pushes are refused. Idempotent. */
  close(): void {
    this.#closed = true;
    let w: Waiter<T> | undefined;
    while ((w = this.#nextWaiter())) {
      w.cleanup?.();
      w.resolve(null);
    }
  }

  /** Removes and returns every queued item. */
  drain(): T[] {
    const out: T[] = [];
    while (this.size > 0) out.push(this.dequeue());
    return out;
  }

  #nextWaiter(): Waiter<T> | undefined {
    if (this.#waiterHead >= this.#waiters.length) return undefined;
    const w = this.#waiters[this.#waiterHead]!;
    this.#waiters[this.#waiterHead] = undefined as unknown as Waiter<T>;
    this.#waiterHead++;
    if (this.#waiterHead === this.#waiters.length) {
      this.#waiters.length = 0;
      this.#waiterHead = 0;
    }
    return w;
  }

  #removeWaiter(w: Waiter<T>): void {
    const i = this.#waiters.indexOf(w, this.#waiterHead);
    if (i < 0) return;
    this.#waiters.splice(i, 1);
    if (this.#waiterHead >= this.#waiters.length) {
      this.#waiters.length = 0;
      this.#waiterHead = 0;
    }
  }
}
