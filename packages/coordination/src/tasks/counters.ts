// The counters of one TaskManager (`stats()`): private, only ever incremented through `count`.
import type { TaskManagerStats } from './options.js';

/** A counter a TaskManager part may increment (the listener errors are the emitter's). */
export type TaskCounter = Exclude<keyof TaskManagerStats, 'listenerErrors'>;

/** The counters of one TaskManager; a snapshot is a copy. */
export class TaskCounters {
  readonly #counts: Record<TaskCounter, number> = {
    submitted: 0, claims: 0, conflicts: 0, casRetries: 0, completed: 0, failed: 0, retried: 0, deadLettered: 0,
    released: 0, returned: 0, expired: 0, cancelled: 0, extended: 0, indexRepairs: 0, indexWriteFailures: 0,
    purged: 0, refused: 0,
  };

  /** Adds one to `counter`. */
  count(counter: TaskCounter): void {
    this.#counts[counter]++;
  }

  /** A copy of the counters, with the emitter's `listenerErrors`. */
  snapshot(listenerErrors: number): TaskManagerStats {
    return { ...this.#counts, listenerErrors };
  }
}
