// The public configuration surface of a TaskManager: default limits, options, counters and
// events (re-exported by task-manager.ts).
import type { Store } from '@converge/core';
import type { CallOptions, Clock } from './common.js';
import type { Lease, TaskRecord } from './task-record.js';

/** Default lease length of a claim when the task has no `claimTtlMs` constraint: 30 s. */
export const DEFAULT_CLAIM_TTL_MS = 30_000;
/** Default retries after the first failed attempt, before a task is dead-lettered: 3. */
export const DEFAULT_MAX_RETRIES = 3;
/** Default first retry delay after `fail`: 1 s (doubled on each further failure). */
export const DEFAULT_RETRY_BASE_MS = 1_000;
/** Default cap on the retry delay: 60 s. */
export const DEFAULT_RETRY_MAX_MS = 60_000;
/** Default number of compare-and-set rounds one call tries before giving up with `ConflictError`: 16. */
export const DEFAULT_MAX_CAS_ROUNDS = 16;
/** Default cap on the tasks one sweep or one listing handles: 10,000. */
export const DEFAULT_SWEEP_LIMIT = 10_000;
/**
 * Default cap on the tasks one `listPendingTasksForAgent` call returns: 256 (an agent takes a
 * few dozen per turn; the window keeps a turn's cost independent of the backlog).
 */
export const DEFAULT_AGENT_LIST_LIMIT = 256;

/** Tunable defaults of a `TaskManager`. */
export interface TaskManagerDefaults {
  /** Lease length when a task has no `claimTtlMs` constraint (default `DEFAULT_CLAIM_TTL_MS`). */
  claimTtlMs?: number;
  /** Retries when a task has no `maxRetries` constraint (default `DEFAULT_MAX_RETRIES`). */
  maxRetries?: number;
  /** First retry delay (default `DEFAULT_RETRY_BASE_MS`). */
  retryBaseMs?: number;
  /** Largest retry delay (default `DEFAULT_RETRY_MAX_MS`). */
  retryMaxMs?: number;
  /** CAS rounds per call under contention (default `DEFAULT_MAX_CAS_ROUNDS`). */
  maxCasRounds?: number;
  /** Tasks handled per sweep or listing (default `DEFAULT_SWEEP_LIMIT`). */
  sweepLimit?: number;
  /** Tasks returned by one `listPendingTasksForAgent` call (default `DEFAULT_AGENT_LIST_LIMIT`, at most `sweepLimit`). */
  agentListLimit?: number;
  /**
   * Task records cached (default `DEFAULT_CACHE_SIZE` in pending-index): for listings when the
   * store has `watch`, and, separately, the records this manager wrote last (so that its next
   * transition of a task can compare-and-set without reading it back).
   */
  cacheSize?: number;
}

/** Options of `new TaskManager`. */
export interface TaskManagerOptions {
  /** Where tasks live; share it between processes to share the work. */
  store: Store;
  /** Wall clock, Unix ms (default `Date.now`). Leases and retry times are absolute, so they survive restarts. */
  clock?: Clock;
  /** Default limits. */
  defaults?: TaskManagerDefaults;
}

/** Options of `listPendingTasksForAgent`. */
export interface ListOptions extends CallOptions {
  /** Most tasks returned (default: the manager's `agentListLimit`). */
  limit?: number;
}

/** Counters of one TaskManager (this process's view), exported by the runtime as metrics. */
export interface TaskManagerStats {
  /** Tasks submitted. */
  submitted: number;
  /** Claims won. */
  claims: number;
  /** Calls refused with `ConflictError` (lost races, illegal transitions, stale leases). */
  conflicts: number;
  /** Compare-and-set rounds lost to a concurrent writer (each retried). */
  casRetries: number;
  /** Tasks completed. */
  completed: number;
  /** Failed attempts reported through `fail`. */
  failed: number;
  /** Failed attempts sent back to pending with a retry time. */
  retried: number;
  /** Tasks dead-lettered (out of retries). */
  deadLettered: number;
  /** Expired claims taken back (by the sweep or by a claim taking over). */
  released: number;
  /** Claims handed back by their holder through `release` (not counted as failures). */
  returned: number;
  /** Tasks failed because they passed their deadline. */
  expired: number;
  /** Tasks cancelled. */
  cancelled: number;
  /** Leases extended. */
  extended: number;
  /** Stale index entries removed or missing ones restored. */
  indexRepairs: number;
  /**
   * Index writes that failed after the transition they follow had been decided (the
   * transition stands; listing and sweeps repair the index).
   */
  indexWriteFailures: number;
  /** Event listener calls that threw. */
  listenerErrors: number;
  /** Terminal task records deleted by `purge`. */
  purged: number;
}

/** Events of a TaskManager (transitions made by this instance). */
export interface TaskManagerEvents {
  submitted: TaskRecord;
  claimed: { task: TaskRecord; lease: Lease };
  started: TaskRecord;
  completed: TaskRecord;
  /** A failed attempt (`retryAt` set when it will be retried), a dead-letter, or a deadline expiry. */
  failed: { task: TaskRecord; reason: string; deadLettered: boolean; retryAt: number | null };
  /** A claimed task taken back (expired lease, or `release`): the record after the change. */
  released: TaskRecord;
  cancelled: TaskRecord;
}
