// The counters of one TaskManager (`stats()`): private, only ever incremented through `count`.
// Held in a typed array indexed by `COUNTER`: one increment site seeing every counter name
// would be a megamorphic keyed store, measured at ~20% of a claim + report on a MemoryStore.
import type { TaskManagerStats } from './options.js';

/** A counter a TaskManager part may increment (the listener errors are the emitter's). */
export type TaskCounter = Exclude<keyof TaskManagerStats, 'listenerErrors'>;

/** The slot of each counter (pass `COUNTER.claims` to `count`). */
export const COUNTER: Readonly<Record<TaskCounter, number>> = Object.freeze({
  submitted: 0,
  claims: 1,
  conflicts: 2,
  casRetries: 3,
  completed: 4,
  failed: 5,
  retried: 6,
  deadLettered: 7,
  released: 8,
  returned: 9,
  expired: 10,
  cancelled: 11,
  extended: 12,
  indexRepairs: 13,
  indexWriteFailures: 14,
  purged: 15,
  refused: 16,
});

const NAMES = Object.keys(COUNTER) as TaskCounter[];

/** The counters of one TaskManager; a snapshot is a copy. */
export class TaskCounters {
  readonly #counts = new Float64Array(NAMES.length);

  /** Adds one to the counter in slot `slot` (a `COUNTER` value). */
  count(slot: number): void {
    this.#counts[slot]!++;
  }

  /** A copy of the counters, with the emitter's `listenerErrors`. */
  snapshot(listenerErrors: number): TaskManagerStats {
    const out = {} as TaskManagerStats;
    for (const name of NAMES) out[name] = this.#counts[COUNTER[name]]!;
    out.listenerErrors = listenerErrors;
    return out;
  }
}
