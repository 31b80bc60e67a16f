import { ValidationError } from '@converge/core';

/** Default capacity of a `ReplayCache` (ids). */
export const DEFAULT_REPLAY_CACHE_SIZE = 100_000;

/** Options of `ReplayCache`. */
export interface ReplayCacheOptions {
  /** Most ids remembered (default 100,000). */
  maxSize?: number;
  /** How long an id is remembered, in ms (required: the verifier passes twice its skew). */
  ttlMs: number;
  /** Clock in Unix ms (default `Date.now`). */
  clock?: () => number;
}

/**
 * Remembers recently seen message ids for `ttlMs`, up to `maxSize` of them. Entries are kept
 * in insertion order, which is expiry order since the TTL is fixed, so expiry is O(1)
 * amortised. When full of unexpired ids, the oldest is evicted (counted in `evictions`):
 * size the cache for the expected rate × TTL, as an evicted id could be replayed while its
 * timestamp is still inside the skew window.
 */
export class ReplayCache {
  /** Most ids remembered. */
  readonly maxSize: number;
  /** Time an id is remembered, in ms. */
  readonly ttlMs: number;
  readonly #clock: () => number;
  readonly #expiry = new Map<string, number>();
  #evictions = 0;

  constructor(options: ReplayCacheOptions) {
    this.maxSize = options.maxSize ?? DEFAULT_REPLAY_CACHE_SIZE;
    this.ttlMs = options.ttlMs;
    if (!Number.isSafeInteger(this.maxSize) || this.maxSize < 1) throw new ValidationError('replay cache maxSize must be a positive integer');
    if (!(this.ttlMs > 0)) throw new ValidationError('replay cache ttlMs must be positive');
    this.#clock = options.clock ?? Date.now;
  }

  /** Ids remembered right now (expired ones may linger until the next write). */
  get size(): number {
    return this.#expiry.size;
  }

  /** Unexpired ids evicted because the cache was full. */
  get evictions(): number {
    return this.#evictions;
  }

  /** Whether `key` was seen within the TTL. */
  has(key: string): boolean {
    const exp = this.#expiry.get(key);
    return exp !== undefined && exp > this.#clock();
  }

  /** Records `key`; returns `false` if it was already there (a replay), `true` if new. */
  add(key: string): boolean {
    const now = this.#clock();
    const exp = this.#expiry.get(key);
    if (exp !== undefined && exp > now) return false;
    if (exp !== undefined) this.#expiry.delete(key);
    this.#expire(now);
    if (this.#expiry.size >= this.maxSize) {
      const oldest = this.#expiry.keys().next().value as string;
      this.#expiry.delete(oldest);
      this.#evictions++;
    }
    this.#expiry.set(key, now + this.ttlMs);
    return true;
  }

  /** Forgets every id. */
  clear(): void {
    this.#expiry.clear();
  }

  #expire(now: number): void {
    for (const [k, exp] of this.#expiry) {
      if (exp > now) break;
      this.#expiry.delete(k);
    }
  }
}
