import { AbortError } from '@converge/core';

/**
 * Wakes the runtime loop when there is work: a message arrived, a task was submitted in one
 * of the agent's pools, a lease needs renewing, or a timer fired. No fixed poll interval:
 * `notify()` resolves a pending `waitForWork` at once, and a notification that arrives while
 * the loop is busy is remembered, so none is lost.
 */
export class Scheduler {
  #pending = false;
  #waiter: (() => void) | undefined;

  /** Signals that there is work. Cheap; safe to call from any event handler. */
  notify(): void {
    this.#pending = true;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w();
    }
  }

  /**
   * Resolves `true` when work was signalled (at once if it already was), or `false` after
   * `timeoutMs` with nothing signalled. Rejects with `AbortError` when `signal` aborts.
   */
  waitForWork(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    const { timeoutMs, signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (worked: boolean) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiter = undefined;
        if (worked) this.#pending = false;
        resolve(worked);
      };
      const onAbort = () => {
        if (timer) clearTimeout(timer);
        this.#waiter = undefined;
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      this.#waiter = () => finish(true);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
