import { KeyWatchers, positiveIntOption, STORE_BRAND, StoreError, throwIfAborted, ValidationError } from '@converge/core';
import type { Store, StoreCallOptions, StoreEntry } from '@converge/core';
import { clonePlain, cloneTrusted } from './clone.js';
import { DEFAULT_MAX_KEY_LENGTH, checkRevision, validateStoreKey } from './validate.js';

/** Options of `MemoryStore`. */
export interface MemoryStoreOptions {
  /**
   * Largest number of keys held (default: unbounded, as the store holds the caller's data,
   * not a cache). A write of a new key beyond it throws `StoreError` `ERR_STORE_FULL`.
   */
  maxKeys?: number;
  /** Longest key in UTF-16 code units (default `DEFAULT_MAX_KEY_LENGTH`, 1024). */
  maxKeyLength?: number;
  /** Hears exceptions thrown by `watch` listeners (they are counted in `watchErrors` either way). */
  onWatchError?: (error: unknown, key: string) => void;
}

/** One stored value: a private deep copy, never handed out (reads return copies of it). */
interface Slot {
  value: unknown;
  revision: number;
}

/**
 * An in-process Store. Values are deep-copied on the way in and out, so a caller can never
 * change stored data by mutating an object it passed or received; values keep their exact
 * types (`Float64`, `bigint`, `Map`, `Uint8Array`).
 *
 * Fast paths: a key already held was validated when it was first written, so calls on it skip
 * the key checks; a read copies the store's private snapshot without re-validating it.
 */
export class MemoryStore implements Store {
  /** Brand (see `isStore` of `@converge/core`). */
  readonly [STORE_BRAND] = true as const;
  readonly #data = new Map<string, Slot>();
  readonly #watchers: KeyWatchers;
  readonly #maxKeys: number;
  readonly #maxKeyLength: number;
  // One counter for the whole store: revisions keep growing across delete and re-create,
  // so a stale compareAndSet can never succeed.
  #clock = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxKeys = positiveIntOption(options.maxKeys, Number.POSITIVE_INFINITY, 'maxKeys');
    this.#maxKeyLength = positiveIntOption(options.maxKeyLength, DEFAULT_MAX_KEY_LENGTH, 'maxKeyLength');
    this.#watchers = new KeyWatchers(options.onWatchError);
  }

  /** The value at `key`, a copy, or `undefined`. */
  async get<V = unknown>(key: string, options?: StoreCallOptions): Promise<V | undefined> {
    if (options?.signal) throwIfAborted(options.signal);
    const e = this.#slot(key);
    return e ? cloneTrusted(e.value as V) : undefined;
  }

  /** The value (a copy) and revision at `key`, or `undefined`. */
  async getEntry<V = unknown>(key: string, options?: StoreCallOptions): Promise<StoreEntry<V> | undefined> {
    if (options?.signal) throwIfAborted(options.signal);
    const e = this.#slot(key);
    return e ? { value: cloneTrusted(e.value as V), revision: e.revision } : undefined;
  }

  /** Writes a copy of `value`; returns the new revision. */
  async put(key: string, value: unknown, options?: StoreCallOptions): Promise<number> {
    if (options?.signal) throwIfAborted(options.signal);
    const before = this.#slot(key);
    const mark = this.#clock;
    const size = this.#data.size;
    const copy = copyValue(key, value);
    // The copy reads the caller's object, whose getters could touch the store: the slot is
    // looked up again unless nothing was written or deleted meanwhile.
    return this.#write(key, this.#unchanged(mark, size) ? before : this.#data.get(key), copy);
  }

  /** Writes a copy of `value` only if `key` has none; returns whether it wrote. */
  async putIfAbsent(key: string, value: unknown, options?: StoreCallOptions): Promise<boolean> {
    if (options?.signal) throwIfAborted(options.signal);
    this.#slot(key);
    const copy = copyValue(key, value);
    if (this.#data.has(key)) return false;
    this.#write(key, undefined, copy);
    return true;
  }

  /** Writes only if the revision of `key` is `expectedRevision` (`0`: absent); new revision or `null`. */
  async compareAndSet(key: string, value: unknown, expectedRevision: number, options?: StoreCallOptions): Promise<number | null> {
    if (options?.signal) throwIfAborted(options.signal);
    const before = this.#slot(key);
    checkRevision(expectedRevision);
    const mark = this.#clock;
    const size = this.#data.size;
    const copy = copyValue(key, value);
    // As in `put`: looked up again only if the copy may have changed the store.
    const e = this.#unchanged(mark, size) ? before : this.#data.get(key);
    if ((e?.revision ?? 0) !== expectedRevision) return null;
    return this.#write(key, e, copy);
  }

  /** Removes `key`; returns whether it existed. */
  async delete(key: string, options?: StoreCallOptions): Promise<boolean> {
    if (options?.signal) throwIfAborted(options.signal);
    if (!this.#slot(key)) return false;
    this.#data.delete(key);
    this.#watchers.emit(key);
    return true;
  }

  /** Keys starting with `prefix`, sorted in code-unit order. */
  async list(prefix = '', options?: StoreCallOptions): Promise<string[]> {
    throwIfAborted(options?.signal);
    if (typeof prefix !== 'string') throw new ValidationError('a list prefix is a string');
    const out: string[] = [];
    for (const k of this.#data.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort();
  }

  /** Calls `listener` with every key written or deleted under `prefix`; returns the unsubscribe function. */
  watch(prefix: string, listener: (key: string) => void): () => void {
    return this.#watchers.add(String(prefix), listener);
  }

  /** Number of keys held. */
  get size(): number {
    return this.#data.size;
  }

  /** Number of exceptions thrown by `watch` listeners so far. */
  get watchErrors(): number {
    return this.#watchers.failures;
  }

  /** The slot at `key`; a key not held is validated (one held was validated when written). */
  #slot(key: string): Slot | undefined {
    const e = this.#data.get(key);
    if (e === undefined) validateStoreKey(key, this.#maxKeyLength);
    return e;
  }

  /**
   * Whether the store is as it was when the clock read `mark` and the size `size`: every write
   * advances the clock and every removal shrinks the size (only a write could grow it back).
   */
  #unchanged(mark: number, size: number): boolean {
    return this.#clock === mark && this.#data.size === size;
  }

  #write(key: string, slot: Slot | undefined, copy: unknown): number {
    if (!slot && this.#data.size >= this.#maxKeys) {
      throw new StoreError(`store is full (${this.#maxKeys} keys)`, { key, code: 'ERR_STORE_FULL' });
    }
    const revision = ++this.#clock;
    if (slot) {
      slot.value = copy;
      slot.revision = revision;
    } else {
      this.#data.set(key, { value: copy, revision });
    }
    this.#watchers.emit(key);
    return revision;
  }
}

/** Copies a value for storing, or throws `ValidationError` when it is not plain data. */
function copyValue(key: string, value: unknown): unknown {
  if (value === undefined) throw new ValidationError(`value for ${key} is undefined (store null instead)`);
  try {
    return clonePlain(value);
  } catch (err) {
    throw new ValidationError(`value for ${key} is not plain data: ${(err as Error).message}`, { cause: err });
  }
}
