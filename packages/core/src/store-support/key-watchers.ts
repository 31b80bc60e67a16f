/**
 * Listeners on key prefixes, shared by the stores' `watch` implementations.
 */

/**
 * Listeners on key prefixes, called synchronously; a throwing listener is counted and reported,
 * never fatal. A Store's optional `watch(prefix, listener)` is `return watchers.add(prefix,
 * listener)`, and every write or delete that changed something ends with `watchers.emit(key)`
 * (after the change is visible, so a listener that reads the key sees it; not for a no-op write
 * such as a failed compareAndSet or a delete of a missing key).
 *
 * ```ts
 * readonly #watchers = new KeyWatchers((err, key) => logger.warn({ err, key }, 'watcher failed'));
 * watch(prefix: string, listener: (key: string) => void) { return this.#watchers.add(prefix, listener); }
 * ```
 */
export class KeyWatchers {
  readonly #listeners = new Set<{ prefix: string; listener: (key: string) => void }>();
  readonly #onError?: (error: unknown, key: string) => void;
  /** The listeners as an array, built on the first emit after a change (never mutated). */
  #snapshot: readonly { prefix: string; listener: (key: string) => void }[] | null = null;
  #failures = 0;

  /** `onError` hears every exception a listener throws (they are counted either way). */
  constructor(onError?: (error: unknown, key: string) => void) {
    this.#onError = onError;
  }

  /** Adds a listener; returns the function that removes it. Throws `TypeError` for a prefix that is not a string or a listener that is not a function. */
  add(prefix: string, listener: (key: string) => void): () => void {
    if (typeof prefix !== 'string') throw new TypeError('a watch prefix is a string');
    if (typeof listener !== 'function') throw new TypeError('a watch listener is a function');
    const entry = { prefix, listener };
    this.#listeners.add(entry);
    this.#snapshot = null;
    return () => {
      if (this.#listeners.delete(entry)) this.#snapshot = null;
    };
  }

  /**
   * Calls every listener whose prefix `key` starts with. A throwing listener does not stop the
   * others: its error is counted (`failures`) and passed to `onError`.
   */
  emit(key: string): void {
    if (this.#listeners.size === 0) return;
    // A snapshot, so a listener added while emitting does not hear this key. It is kept until
    // the listeners change (an add or a removal drops it): a write allocates nothing.
    const snapshot = (this.#snapshot ??= [...this.#listeners]);
    for (const { prefix, listener } of snapshot) {
      if (!key.startsWith(prefix)) continue;
      try {
        listener(key);
      } catch (err) {
        // A watcher's failure is its own; the write has happened and others must hear of it.
        this.#failures++;
        try {
          this.#onError?.(err, key);
        } catch {
          // An error reporter that throws has nobody left to report to; it is counted above.
        }
      }
    }
  }

  /** Number of listeners. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Number of exceptions thrown by listeners so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
    this.#snapshot = null;
  }
}
