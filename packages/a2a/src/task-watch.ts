/**
 * One `TaskQueue.watch({ poolId })` per served pool, shared by every followed task: each event
 * wakes the followers of its task id, so a transition is published at once. While the watch is
 * live a follower still re-reads its task every `resyncMs` (a slow safety net for events a feed
 * loses, e.g. while PostgreSQL LISTEN or NATS reconnects); while it is down (unsupported: the
 * call throws, or failing) followers re-read every `pollMs`. A watch that fell behind
 * (`QueueFullError`) is restarted at once and every followed task is read again, so no
 * transition is lost; any other end is retried after a backoff.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { QueueFullError, type TaskQueue } from '@converge/core';

/** Default intervals of a `TaskWatcher` (its `resyncMs` and `retryMs` options), frozen. */
export const TASK_WATCH_DEFAULTS = Object.freeze({ resyncMs: 2_000, retryMs: 1_000 });
/** Default re-read interval of a followed task while the queue's watch is live (the safety net): 2 s. */
export const DEFAULT_A2A_RESYNC_MS = TASK_WATCH_DEFAULTS.resyncMs;
/** Default first delay before a failed (or unsupported) watch is tried again: 1 s, doubled per failure. */
export const DEFAULT_A2A_WATCH_RETRY_MS = TASK_WATCH_DEFAULTS.retryMs;
/** Longest delay between attempts to restart a failing watch: 30 s. */
export const MAX_A2A_WATCH_RETRY_MS = 30_000;

/** Counters of a `TaskWatcher`. */
export interface TaskWatchStats {
  /** Whether the queue's watch is live now. */
  watching: boolean;
  /** Watch events received. */
  watchEvents: number;
  /** Watches restarted at once because they fell behind (`QueueFullError`). */
  watchRestarts: number;
  /** Watches that threw (or could not be opened) or ended while the server runs (each logged once per run of failures). */
  watchFailures: number;
}

/** Options of `TaskWatcher`. */
export interface TaskWatcherOptions {
  queue: TaskQueue;
  poolId: string;
  /** Re-read interval while the watch is down (default 100 ms, the executor's `DEFAULT_A2A_POLL_MS`). */
  pollMs: number;
  /** Re-read interval while the watch is live (default `DEFAULT_A2A_RESYNC_MS`). */
  resyncMs?: number;
  /** First retry delay of a failed watch (default `DEFAULT_A2A_WATCH_RETRY_MS`). */
  retryMs?: number;
  /** Where watch failures are logged (pino-style). */
  logger?: { warn(obj: object, msg: string): void };
}

/** A follower's wake-up: `wait` returns at the next event of its task (or one that came since the last `wait`), or after the re-read interval. */
export interface TaskWaiter {
  /** Marks the task as changed (wakes a pending `wait`, or makes the next one return at once). */
  wake(): void;
  /** Waits for a change or the re-read interval. */
  wait(): Promise<void>;
  /** Stops waking this follower. */
  close(): void;
}

/** The shared watch of one pool's tasks (see the module comment). */
export class TaskWatcher {
  readonly #o: TaskWatcherOptions;
  readonly #resyncMs: number;
  readonly #retryMs: number;
  readonly #waiters = new Map<string, Set<TaskWaiter>>();
  readonly #stop = new AbortController();
  #current: AbortController | null = null;
  #running = false;
  readonly #stats: TaskWatchStats = { watching: false, watchEvents: 0, watchRestarts: 0, watchFailures: 0 };

  constructor(options: TaskWatcherOptions) {
    this.#o = options;
    this.#resyncMs = options.resyncMs ?? TASK_WATCH_DEFAULTS.resyncMs;
    this.#retryMs = options.retryMs ?? TASK_WATCH_DEFAULTS.retryMs;
  }

  /** A snapshot of the counters. */
  stats(): TaskWatchStats {
    return { ...this.#stats };
  }

  /** A waiter for `taskId` (starts the pool's watch on first use). Register it before the task can change. */
  subscribe(taskId: string): TaskWaiter {
    if (!this.#running && !this.#stop.signal.aborted) {
      this.#running = true;
      void this.#run();
    }
    let woken = false;
    let resolve: (() => void) | null = null;
    let set = this.#waiters.get(taskId);
    if (!set) this.#waiters.set(taskId, (set = new Set()));
    const waiter: TaskWaiter = {
      wake: () => {
        woken = true;
        const r = resolve;
        resolve = null;
        r?.();
      },
      wait: () => {
        if (woken || this.#stop.signal.aborted) {
          woken = false;
          return Promise.resolve();
        }
        return new Promise<void>((done) => {
          const timer = setTimeout(
            () => {
              resolve = null;
              done();
            },
            this.#stats.watching ? this.#resyncMs : this.#o.pollMs,
          );
          resolve = () => {
            clearTimeout(timer);
            woken = false;
            done();
          };
        });
      },
      close: () => {
        set.delete(waiter);
        if (set.size === 0 && this.#waiters.get(taskId) === set) this.#waiters.delete(taskId);
      },
    };
    set.add(waiter);
    return waiter;
  }

  /** Wakes the followers of `taskId` (a cancel through this server, or a change another feed saw). */
  wake(taskId: string): void {
    for (const w of [...(this.#waiters.get(taskId) ?? [])]) w.wake();
  }

  /** Wakes every follower (each reads its task again). */
  wakeAll(): void {
    for (const set of [...this.#waiters.values()]) for (const w of [...set]) w.wake();
  }

  /** Ends the watch and wakes every follower. */
  stop(): void {
    this.#stop.abort();
    this.#current?.abort();
    this.wakeAll();
  }

  async #run(): Promise<void> {
    let delay = this.#retryMs;
    let failing = false;
    while (!this.#stop.signal.aborted) {
      const ac = new AbortController();
      this.#current = ac;
      try {
        const events = this.#o.queue.watch({ poolId: this.#o.poolId, signal: ac.signal });
        this.#stats.watching = true;
        // Opened: whatever changed while no watch was open is read now.
        this.wakeAll();
        for await (const e of events) {
          this.#stats.watchEvents++;
          failing = false;
          delay = this.#retryMs;
          // A submit: its follower holds that record already (registered before the submit).
          if (e.state === 'pending' && e.attempt === 0) continue;
          this.wake(e.taskId);
        }
        if (this.#stop.signal.aborted) return;
        throw new Error('the queue ended the watch');
      } catch (err) {
        this.#stats.watching = false;
        if (this.#stop.signal.aborted) return;
        if (QueueFullError.is(err)) {
          // Fell behind: start again at once; the wake-up of the new watch re-reads every followed task.
          this.#stats.watchRestarts++;
          this.#o.logger?.warn({ poolId: this.#o.poolId, err: err.message }, 'a2a task watch fell behind; restarted');
          continue;
        }
        this.#stats.watchFailures++;
        if (!failing)
          this.#o.logger?.warn(
            { poolId: this.#o.poolId, err: err instanceof Error ? err.message : String(err) },
            `a2a task watch failed; followed tasks are read every ${this.#o.pollMs} ms until it is back`,
          );
        failing = true;
      } finally {
        this.#stats.watching = false;
        ac.abort();
      }
      // Down: followers re-read at `pollMs` now; each follower's pending wait is cut so it uses that interval.
      this.wakeAll();
      await sleep(delay, this.#stop.signal);
      delay = Math.min(delay * 2, Math.max(MAX_A2A_WATCH_RETRY_MS, this.#retryMs));
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => pause(ms, undefined, { signal }).catch(() => undefined);
