/**
 * Token-bucket rate limiting: `RateLimiter` for one stream, `KeyedRateLimiter` for one bucket
 * per agent or peer with a bounded number of keys.
 */
import { AbortError, LimitExceededError, NotStartedError, ValidationError } from '@converge/core';
import { checkInteger, checkNumber, monotonicClock, type Clock } from './common.js';

/** Default largest number of callers waiting in `RateLimiter.remove`. */
export const DEFAULT_MAX_RATE_WAITERS = 10_000;
/** Default largest number of keys a `KeyedRateLimiter` tracks. */
export const DEFAULT_MAX_RATE_KEYS = 10_000;
/**
 * Least recently used buckets a `KeyedRateLimiter` looks at for an idle one to evict before it
 * refuses a new key: 64. The least recently used buckets have had the longest to refill, so
 * if none of them is full hardly any is; the bound keeps a refused call cheap however many
 * keys are tracked.
 */
export const RATE_KEY_EVICTION_SCAN = 64;

/** Options of `RateLimiter`. */
export interface RateLimiterOptions {
  /** Tokens added per second (> 0). */
  ratePerSecond: number;
  /** Bucket capacity: the largest burst (>= 1). The bucket starts full. */
  burst: number;
  /** Monotonic milliseconds (default `performance.now`). */
  clock?: Clock;
  /** Largest number of waiting `remove` calls (default 10 000); beyond it `remove` throws `LimitExceededError`. */
  maxWaiters?: number;
}

/** Options of a call that can wait. */
export interface WaitOptions {
  /** Aborts the wait with `AbortError`. */
  signal?: AbortSignal;
}

/** Counters of a `RateLimiter`. */
export interface RateLimiterStats {
  /** Tokens handed out. */
  granted: number;
  /** `tryRemove` calls refused. */
  refused: number;
  /** `remove` calls that had to wait. */
  waited: number;
  /** `remove` calls refused because too many callers were waiting. */
  waitersOverflow: number;
  /** Callers waiting now. */
  waiting: number;
}

interface Waiter {
  n: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

/**
 * A token bucket. `tryRemove(n)` takes `n` tokens if present; `remove(n)` waits for them,
 * with one timer set to when the first waiter can be served (no polling). Waiters are served
 * in arrival order, and `tryRemove` does not jump the queue.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #maxWaiters: number;
  #tokens: number;
  #last: number;
  readonly #waiters: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #stats = { granted: 0, refused: 0, waited: 0, waitersOverflow: 0 };

  /** @throws ConfigError on a non-positive rate or a burst below 1. */
  constructor(options: RateLimiterOptions) {
    this.#rate = checkNumber('ratePerSecond', options?.ratePerSecond, Number.MIN_VALUE);
    this.#burst = checkNumber('burst', options.burst, 1);
    this.#maxWaiters = checkInteger('maxWaiters', options.maxWaiters ?? DEFAULT_MAX_RATE_WAITERS, 0);
    this.#clock = options.clock ?? monotonicClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock();
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** The bucket capacity. */
  get burst(): number {
    return this.#burst;
  }

  /** A snapshot of the counters. */
  stats(): RateLimiterStats {
    return { ...this.#stats, waiting: this.#waiters.length };
  }

  /** Whether the bucket is full and nobody waits (an idle limiter equals a fresh one). */
  get idle(): boolean {
    return this.#waiters.length === 0 && this.available >= this.#burst;
  }

  /**
   * Takes `n` tokens if they are there and nobody is waiting ahead; returns whether it did.
   * @throws ValidationError when `n` is not a positive finite number or exceeds the burst.
   */
  tryRemove(n = 1): boolean {
    this.#checkN(n);
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= n) {
      this.#tokens -= n;
      this.#stats.granted += n;
      return true;
    }
    this.#stats.refused++;
    return false;
  }

  /**
   * Takes `n` tokens, waiting until they are there.
   * @throws ValidationError for a bad `n`; AbortError when `signal` aborts; LimitExceededError
   * when `maxWaiters` callers already wait; NotStartedError after `stop()`.
   */
  remove(n = 1, options: WaitOptions = {}): Promise<void> {
    try {
      this.#checkN(n);
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    if (this.#stopped) return Promise.reject(new NotStartedError('rate limiter is stopped'));
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= n) {
      this.#tokens -= n;
      this.#stats.granted += n;
      return Promise.resolve();
    }
    if (this.#waiters.length >= this.#maxWaiters) {
      this.#stats.waitersOverflow++;
      return Promise.reject(new LimitExceededError(`more than ${this.#maxWaiters} callers waiting for the rate limiter`));
    }
    this.#stats.waited++;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new AbortError(undefined, { cause: signal?.reason }));
        // The head may have changed: someone behind may be servable now.
        this.#serve();
      };
      const waiter: Waiter = {
        n,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#schedule();
    });
  }

  /** Re-enables waiting after `stop()`. */
  start(): void {
    this.#stopped = false;
  }

  /** Rejects every waiter with `NotStartedError` and clears the timer; later waits are refused until `start()`. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    for (const w of this.#waiters.splice(0)) {
      w.cleanup();
      w.reject(new NotStartedError('rate limiter stopped'));
    }
  }

  #checkN(n: number): void {
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new ValidationError(`token count must be a positive number, got ${String(n)}`);
    if (n > this.#burst) throw new ValidationError(`cannot take ${n} tokens from a bucket of ${this.#burst}`);
  }

  #refill(): void {
    const now = this.#clock();
    const elapsed = now - this.#last;
    // A clock that goes backwards adds nothing (and does not remove tokens either).
    if (elapsed > 0) this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
    this.#last = Math.max(this.#last, now);
  }

  #serve(): void {
    this.#refill();
    while (this.#waiters.length > 0 && this.#tokens >= this.#waiters[0].n) {
      const w = this.#waiters.shift()!;
      this.#tokens -= w.n;
      this.#stats.granted += w.n;
      w.cleanup();
      w.resolve();
    }
    this.#schedule();
  }

  #schedule(): void {
    this.#clearTimer();
    if (this.#waiters.length === 0) return;
    const deficit = this.#waiters[0].n - this.#tokens;
    // At least 1 ms, so that rounding can never spin the timer.
    const delay = Math.max(1, Math.ceil((deficit * 1000) / this.#rate));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#serve();
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Options of `KeyedRateLimiter`: one bucket per key, all with the same settings. */
export interface KeyedRateLimiterOptions extends RateLimiterOptions {
  /**
   * Largest number of keys tracked (default 10 000). Beyond it the least recently used *idle*
   * key (a full bucket, nobody waiting) is evicted; when no key is idle, a new key is refused.
   */
  maxKeys?: number;
}

/** Counters of a `KeyedRateLimiter`. */
export interface KeyedRateLimiterStats {
  /** Keys tracked now. */
  keys: number;
  /** Keys evicted to stay within `maxKeys`. */
  evictions: number;
  /** Calls refused (by `tryRemove`, or for a new key because no tracked key was idle and so none could be evicted). */
  refused: number;
  /** Of `refused`: calls for a new key refused because every tracked bucket was in use (not full, or with waiters). */
  keysFull: number;
}

/**
 * One token bucket per key (agent, peer), bounded by `maxKeys` with least-recently-used
 * eviction of idle buckets only. An idle bucket is full with nobody waiting: forgetting it
 * changes nothing, since a new bucket for that key starts full too. A bucket that is spent
 * (even partly) is never evicted: evicting it would hand its key a fresh burst, so touching
 * `maxKeys` throwaway keys would reset any key's limit. When every tracked bucket is in use, a
 * new key is refused (counted in `refused` and `keysFull`) until one refills; memory stays
 * bounded by `maxKeys` either way. `maxKeys` should exceed the keys active within one refill
 * period (`burst / ratePerSecond` seconds).
 */
export class KeyedRateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #maxKeys: number;
  readonly #limiters = new Map<string, RateLimiter>();
  #evictions = 0;
  #refused = 0;
  #keysFull = 0;

  /** @throws ConfigError on bad settings. */
  constructor(options: KeyedRateLimiterOptions) {
    const { maxKeys, ...rest } = options;
    this.#maxKeys = checkInteger('maxKeys', maxKeys ?? DEFAULT_MAX_RATE_KEYS, 1);
    // Validate once, here, rather than on the first key.
    new RateLimiter(rest);
    this.#options = rest;
  }

  /** Takes `n` tokens from `key`'s bucket if present. */
  tryRemove(key: string, n = 1): boolean {
    const limiter = this.#limiter(key);
    if (!limiter) {
      this.#refused++;
      this.#keysFull++;
      return false;
    }
    const ok = limiter.tryRemove(n);
    if (!ok) this.#refused++;
    return ok;
  }

  /** Takes `n` tokens from `key`'s bucket, waiting for them (see `RateLimiter.remove`). */
  async remove(key: string, n = 1, options: WaitOptions = {}): Promise<void> {
    const limiter = this.#limiter(key);
    if (!limiter) {
      this.#refused++;
      this.#keysFull++;
      throw new LimitExceededError(`every one of the ${this.#maxKeys} rate-limited keys is in use (spent or waited on); none can be forgotten`);
    }
    return limiter.remove(n, options);
  }

  /** Whether `key` has a bucket now. */
  has(key: string): boolean {
    return this.#limiters.has(key);
  }

  /** A snapshot of the counters. */
  stats(): KeyedRateLimiterStats {
    return { keys: this.#limiters.size, evictions: this.#evictions, refused: this.#refused, keysFull: this.#keysFull };
  }

  /** Rejects every waiter of every key and forgets all keys. */
  stop(): void {
    for (const l of this.#limiters.values()) l.stop();
    this.#limiters.clear();
  }

  #limiter(key: string): RateLimiter | undefined {
    if (typeof key !== 'string') throw new ValidationError('rate-limit key must be a string');
    let l = this.#limiters.get(key);
    if (l) {
      // Move to the most-recently-used end.
      this.#limiters.delete(key);
      this.#limiters.set(key, l);
      return l;
    }
    if (this.#limiters.size >= this.#maxKeys && !this.#evictOne()) return undefined;
    l = new RateLimiter(this.#options);
    this.#limiters.set(key, l);
    return l;
  }

  // Least recently used first (Map order). Only an idle bucket (full, no waiters) may go: the
  // key's next bucket starts full, so forgetting an idle one grants nothing.
  #evictOne(): boolean {
    let looked = 0;
    for (const [k, l] of this.#limiters) {
      if (++looked > RATE_KEY_EVICTION_SCAN) return false;
      if (l.idle) {
        this.#limiters.delete(k);
        this.#evictions++;
        return true;
      }
    }
    return false;
  }
}
