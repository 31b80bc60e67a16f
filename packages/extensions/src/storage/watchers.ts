/** Listeners on key prefixes, shared by the stores' `watch` implementations. */
export class KeyWatchers {
  readonly #listeners = new Set<{ prefix: string; listener: (key: string) => void }>();

  /** Adds a listener; returns the function that removes it. */
  add(prefix: string, listener: (key: string) => void): () => void {
    const entry = { prefix, listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Calls every listener whose prefix `key` starts with. A throwing listener does not stop the others. */
  emit(key: string): void {
    for (const { prefix, listener } of this.#listeners) {
      if (!key.startsWith(prefix)) continue;
      try {
        listener(key);
      } catch {
        // A watcher's failure is its own; the write has happened and others must hear of it.
      }
    }
  }

  /** Number of listeners. */
  get size(): number {
    return this.#listeners.size;
  }
}
