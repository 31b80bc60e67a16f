import { StoreError, ValidationError, type Store, type StoreEntry } from '@converge/core';
import { clonePlain } from './clone.js';
import { KeyWatchers } from './watchers.js';

/** Options of `MemoryStore`. */
export interface MemoryStoreOptions {
  /** Largest number of keys held (default: unbounded, as the store is the caller's data). */
  maxKeys?: number;
}

/**
 * An in-process Store. Values are deep-copied on the way in and out, so a caller can never
 * change stored data by mutating an object it passed or received.
 */
export class MemoryStore implements Store {
  readonly #data = new Map<string, { value: unknown; revision: number }>();
  readonly #watchers = new KeyWatchers();
  readonly #maxKeys: number;
  // Revisions keep growing across delete and re-create, so a stale CAS can never succeed.
  #clock = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? Number.POSITIVE_INFINITY;
  }

  async get<V = unknown>(key: string): Promise<V | undefined> {
    const e = this.#data.get(checkKey(key));
    return e ? clonePlain(e.value as V) : undefined;
  }

  async getEntry<V = unknown>(key: string): Promise<StoreEntry<V> | undefined> {
    const e = this.#data.get(checkKey(key));
    return e ? { value: clonePlain(e.value as V), revision: e.revision } : undefined;
  }

  async put(key: string, value: unknown): Promise<number> {
    return this.#write(checkKey(key), value);
  }

  async putIfAbsent(key: string, value: unknown): Promise<boolean> {
    if (this.#data.has(checkKey(key))) return false;
    this.#write(key, value);
    return true;
  }

  async compareAndSet(key: string, value: unknown, expectedRevision: number): Promise<number | null> {
    const current = this.#data.get(checkKey(key))?.revision ?? 0;
    if (current !== expectedRevision) return null;
    return this.#write(key, value);
  }

  async delete(key: string): Promise<boolean> {
    const had = this.#data.delete(checkKey(key));
    if (had) this.#watchers.emit(key);
    return had;
  }

  async list(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    for (const k of this.#data.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort();
  }

  watch(prefix: string, listener: (key: string) => void): () => void {
    return this.#watchers.add(prefix, listener);
  }

  /** Number of keys held. */
  get size(): number {
    return this.#data.size;
  }

  #write(key: string, value: unknown): number {
    let copy: unknown;
    try {
      copy = clonePlain(value);
    } catch (err) {
      throw new ValidationError(`value for ${key} is not plain data: ${(err as Error).message}`, { cause: err });
    }
    if (!this.#data.has(key) && this.#data.size >= this.#maxKeys) {
      throw new StoreError(`store is full (${this.#maxKeys} keys)`, { key, code: 'ERR_STORE_FULL' });
    }
    const revision = ++this.#clock;
    this.#data.set(key, { value: copy, revision });
    this.#watchers.emit(key);
    return revision;
  }
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new ValidationError('a store key is a non-empty string');
  return key;
}
