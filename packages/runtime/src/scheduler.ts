import { AbortError } from '@converge/core';

// setTimeout fires at once for delays above 2^31-1 ms (with a warning); longer waits are capped.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Wakes the runtime loop when there is work: a message arrived, a task was submitted in one
 * of the agent's pools, a lease needs attention, or a timer fired. No fixed poll interval:
 * `notify()` resolves a pending `waitForWork` at once, and a notification that arrives while
 * the loop is busy is remembered, so none is lost.
 */
export class Scheduler {
  #pending = false;
  #waiter: (() => void) | undefined;
  // At most one wake-up timer: the earliest one asked for (a task retry time, say).
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  /** Whether a notification is waiting to be consumed by `waitForWork`. */
  get pending(): boolean {
    return this.#pending;
  }

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
   * Calls `notify()` at `at` (Unix ms, `Date.now` clock), e.g. when a task backing off becomes
   * claimable. Only the earliest requested time is kept (one timer, unref'd); a later request
   * is covered because the woken turn looks at everything that is due and asks again.
   */
  notifyAt(at: number): void {
    if (!Number.isFinite(at)) return;
    const delay = at - Date.now();
    if (delay <= 0) {
      this.notify();
      return;
    }
    if (at >= this.#timerAt) return;
    this.cancelTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.notify();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    this.#timer.unref?.();
  }

  /** Cancels the `notifyAt` timer, if any (the runtime calls it on stop). */
  cancelTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /**
   * Resolves `true` when work was signalled (at once if it already was), or `false` after
   * `timeoutMs` with nothing signalled. Rejects with `AbortError` when `signal` aborts.
   * One waiter at a time (the runtime loop); a second concurrent call replaces the first's
   * wake-up, which then resolves only on its timeout or abort.
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
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.#waiter === wake) this.#waiter = undefined;
      };
      const wake = () => {
        cleanup();
        this.#pending = false;
        resolve(true);
      };
      const onAbort = () => {
        cleanup();
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      this.#waiter = wake;
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(
          () => {
            cleanup();
            resolve(false);
          },
          Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS),
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
