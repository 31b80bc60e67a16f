/** Listeners on key prefixes, called synchronously; a throwing listener is counted, never fatal. */
export class KeyWatchers {
  readonly #listeners = new Set<{ prefix: string; listener: (key: string) => void }>();
  readonly #onError: (error: unknown, key: string) => void;

  /** `onError` hears every exception a listener throws. */
  constructor(onError: (error: unknown, key: string) => void) {
    this.#onError = onError;
  }

  /** Adds a listener; returns the function that removes it. */
  add(prefix: string, listener: (key: string) => void): () => void {
    if (typeof prefix !== 'string') throw new TypeError('a watch prefix is a string');
    if (typeof listener !== 'function') throw new TypeError('a watch listener is a function');
    const entry = { prefix, listener };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Calls every listener whose prefix `key` starts with. */
  emit(key: string): void {
    if (this.#listeners.size === 0) return;
    for (const { prefix, listener } of [...this.#listeners]) {
      if (!key.startsWith(prefix)) continue;
      try {
        listener(key);
      } catch (err) {
        // The write has happened and the other listeners must hear of it.
        try {
          this.#onError(err, key);
        } catch {
          // Nobody left to report to.
        }
      }
    }
  }

  /** Number of listeners. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
