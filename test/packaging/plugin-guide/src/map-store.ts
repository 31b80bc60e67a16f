import {
  KeyWatchers, STORE_BRAND, STORE_DEFAULT_MAX_KEY_LENGTH, checkStoreKey, checkStorePrefix, checkStoreRevision, decodeStoredValue,
  encodeStoredValue, type Store, type StoreEntry,
} from '@converge/core';

interface Row { bytes: Uint8Array; floats: Uint8Array | null; revision: number }

/**
 * A Store from scratch, in memory. Values are kept encoded (`encodeStoredValue`), so every read
 * is a fresh copy with its exact wire types, and a value that is not plain data is refused with
 * `ValidationError`; `checkStoreKey` refuses the keys every store refuses; `KeyWatchers` is the
 * change feed. `maxValueBytes` bounds one value (`StoreError` `ERR_STORE_VALUE_TOO_LARGE`).
 */
export class MapStore implements Store {
  /** Brand: `isStore` recognises this store from any copy of core. */
  readonly [STORE_BRAND] = true as const;
  readonly #rows = new Map<string, Row>();
  readonly #watchers = new KeyWatchers();
  // One counter for all keys: a revision is never reused, even after delete and re-create.
  #revision = 0;

  /** `maxValueBytes`: largest encoded value accepted (default 1 MiB). */
  constructor(readonly maxValueBytes = 1024 * 1024) {}

  /** The value at `key`, or `undefined`. */
  async get<V = unknown>(key: string): Promise<V | undefined> {
    return (await this.getEntry<V>(key))?.value;
  }

  /** The value and its revision, or `undefined`. */
  async getEntry<V = unknown>(key: string): Promise<StoreEntry<V> | undefined> {
    checkStoreKey(key, STORE_DEFAULT_MAX_KEY_LENGTH);
    const row = this.#rows.get(key);
    if (!row) return undefined;
    return { value: decodeStoredValue(key, row.bytes, row.floats, this.maxValueBytes) as V, revision: row.revision };
  }

  /** Writes unconditionally; returns the new revision. */
  async put(key: string, value: unknown): Promise<number> {
    return this.#write(key, value);
  }

  /** Writes only when the key has no value. */
  async putIfAbsent(key: string, value: unknown): Promise<boolean> {
    checkStoreKey(key, STORE_DEFAULT_MAX_KEY_LENGTH);
    const encoded = encodeStoredValue(key, value, this.maxValueBytes);
    if (this.#rows.has(key)) return false;
    this.#commit(key, encoded);
    return true;
  }

  /** Writes only at `expectedRevision` (`0`: the key must be absent); `null` on conflict. */
  async compareAndSet(key: string, value: unknown, expectedRevision: number): Promise<number | null> {
    checkStoreKey(key, STORE_DEFAULT_MAX_KEY_LENGTH);
    checkStoreRevision(expectedRevision);
    const encoded = encodeStoredValue(key, value, this.maxValueBytes);
    if ((this.#rows.get(key)?.revision ?? 0) !== expectedRevision) return null;
    return this.#commit(key, encoded);
  }

  /** Removes `key`; whether it existed. */
  async delete(key: string): Promise<boolean> {
    checkStoreKey(key, STORE_DEFAULT_MAX_KEY_LENGTH);
    if (!this.#rows.delete(key)) return false;
    this.#watchers.emit(key);
    return true;
  }

  /** Keys starting with `prefix`, in UTF-16 code-unit order. */
  async list(prefix = ''): Promise<string[]> {
    checkStorePrefix(prefix);
    // The default sort compares UTF-16 code units, which is the Store contract's order.
    return [...this.#rows.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Calls `listener` with each key written or deleted under `prefix`; returns the unsubscribe. */
  watch(prefix: string, listener: (key: string) => void): () => void {
    return this.#watchers.add(prefix, listener);
  }

  async #write(key: string, value: unknown): Promise<number> {
    checkStoreKey(key, STORE_DEFAULT_MAX_KEY_LENGTH);
    return this.#commit(key, encodeStoredValue(key, value, this.maxValueBytes));
  }

  #commit(key: string, encoded: { bytes: Uint8Array; floats: Uint8Array | null }): number {
    const revision = ++this.#revision;
    this.#rows.set(key, { ...encoded, revision });
    this.#watchers.emit(key);
    return revision;
  }
}
