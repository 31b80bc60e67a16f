/**
 * One attempt at a time: `run(fn)` starts `fn` unless an attempt is in flight, in which case it
 * returns that attempt's promise; the slot frees itself when the attempt settles. Used for
 * `start()` and for (re)connecting, where concurrent callers must share one dial.
 */
export class SingleFlight {
  #pending: Promise<void> | undefined;

  /** The attempt in flight, if any. */
  get pending(): Promise<void> | undefined {
    return this.#pending;
  }

  /** The attempt in flight, or a new one running `fn`. */
  run(fn: () => Promise<void>): Promise<void> {
    this.#pending ??= fn().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }
}
