/**
 * The Store interface: an async key-value store with revisions.
 *
 * Values are plain data (what the wire codec can carry: null, booleans, numbers, bigint,
 * strings, Uint8Array, arrays, plain objects, Map, Float64). A store serializes them itself
 * and never stores or revives code. `compareAndSet` is what makes task claims exactly-once
 * across processes.
 */

import { STORE_BRAND, hasBrand } from './brand.js';

/** A stored value together with its revision. */
export interface StoreEntry<V = unknown> {
  /** The value, a copy: mutating it never changes the store. */
  value: V;
  /** Revision of this value; it grows by at least one on every write of the key. */
  revision: number;
}

/** Options accepted by every store call that can wait. */
export interface StoreCallOptions {
  /** Aborts the call where the store can do so. */
  signal?: AbortSignal;
}

/**
 * An async key-value store with per-key revisions. Implementations carry the brand
 * (`readonly [STORE_BRAND] = true as const`) so that `isStore` recognises them from any copy of core.
 */
export interface Store {
  /** Brand (see `isStore`); optional so that a plain object can still be passed as a store. */
  readonly [STORE_BRAND]?: true;
  /** The value at `key`, or `undefined` when there is none. */
  get<V = unknown>(key: string, options?: StoreCallOptions): Promise<V | undefined>;
  /** The value and revision at `key`, or `undefined`. */
  getEntry<V = unknown>(key: string, options?: StoreCallOptions): Promise<StoreEntry<V> | undefined>;
  /** Writes `value` unconditionally; returns the new revision. */
  put(key: string, value: unknown, options?: StoreCallOptions): Promise<number>;
  /** Writes `value` only if `key` has no value; returns whether it wrote. */
  putIfAbsent(key: string, value: unknown, options?: StoreCallOptions): Promise<boolean>;
  /**
   * Writes `value` only if the current revision of `key` is `expectedRevision`
   * (`0` means "the key must not exist"). Returns the new revision, or `null` on conflict.
   */
  compareAndSet(key: string, value: unknown, expectedRevision: number, options?: StoreCallOptions): Promise<number | null>;
  /** Removes `key`; returns whether it existed. */
  delete(key: string, options?: StoreCallOptions): Promise<boolean>;
  /** Keys that start with `prefix`, sorted in code-unit order. */
  list(prefix?: string, options?: StoreCallOptions): Promise<string[]>;
  /** Optional lifecycle: acquires resources (connections, directories). */
  start?(): Promise<void>;
  /** Optional lifecycle: releases every resource. */
  stop?(): Promise<void>;
  /**
   * Optional change feed: calls `listener` with each key written or deleted under `prefix`,
   * by this process or (where the store can see it) by others. Returns an unsubscribe function.
   */
  watch?(prefix: string, listener: (key: string) => void): () => void;
}

/**
 * Whether `value` carries the store brand (`Symbol.for('@converge/store')`): the cross-copy form
 * of an `instanceof` check. An object with the methods but without the brand is refused.
 */
export function isStore(value: unknown): value is Store {
  return hasBrand(value, STORE_BRAND);
}
