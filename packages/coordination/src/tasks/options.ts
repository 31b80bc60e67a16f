// The public configuration surface of a TaskManager: default limits, options, counters and
// events (re-exported by manager.ts).
import { nonNegativeIntOption, nonNegativeOption, positiveIntOption, type Metrics, type Store, type TaskState } from '@converge/core';
import type { CallOptions, Clock } from '../common.js';
import type { Lease, TaskRecord } from './records.js';
import type { PoolDirectory, TaskGovernance } from './access.js';

/**
 * The package defaults of a `TaskManager`'s lease, retry and listing limits (the fields of its
 * `defaults` option of the same names), frozen.
 */
export const TASK_MANAGER_DEFAULTS = Object.freeze({
  claimTtlMs: 30_000,
  maxRetries: 3,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  maxCasRounds: 16,
  sweepLimit: 10_000,
  agentListLimit: 256,
});
/** Default lease length of a claim when the task has no `claimTtlMs` constraint: 30 s. */
export const DEFAULT_CLAIM_TTL_MS = TASK_MANAGER_DEFAULTS.claimTtlMs;
/** Default retries after the first failed attempt, before a task is dead-lettered: 3. */
export const DEFAULT_MAX_RETRIES = TASK_MANAGER_DEFAULTS.maxRetries;
/** Default first retry delay after `fail`: 1 s (doubled on each further failure). */
export const DEFAULT_RETRY_BASE_MS = TASK_MANAGER_DEFAULTS.retryBaseMs;
/** Default cap on the retry delay: 60 s. */
export const DEFAULT_RETRY_MAX_MS = TASK_MANAGER_DEFAULTS.retryMaxMs;
/** Default number of compare-and-set rounds one call tries before giving up with `ConflictError`: 16. */
export const DEFAULT_MAX_CAS_ROUNDS = TASK_MANAGER_DEFAULTS.maxCasRounds;
/** Default cap on the tasks one sweep or one listing handles: 10,000. */
export const DEFAULT_SWEEP_LIMIT = TASK_MANAGER_DEFAULTS.sweepLimit;
/**
 * Default cap on the tasks one `listPendingTasksForAgent` call returns: 256 (an agent takes a
 * few dozen per turn; the window keeps a turn's cost independent of the backlog).
 */
export const DEFAULT_AGENT_LIST_LIMIT = TASK_MANAGER_DEFAULTS.agentListLimit;

/** The lease, retry and listing limits of a `TaskManager`, resolved from its `defaults`: every field of `TASK_MANAGER_DEFAULTS`. */
export type ResolvedTaskLimits = { -readonly [K in keyof typeof TASK_MANAGER_DEFAULTS]: number };

/** Checks `defaults` (`ValidationError`) and fills in the package defaults of the limits. */
export function resolveTaskLimits(d: TaskManagerDefaults): ResolvedTaskLimits {
  const D = TASK_MANAGER_DEFAULTS;
  const sweepLimit = positiveIntOption(d.sweepLimit, D.sweepLimit, 'defaults.sweepLimit', 'validation');
  return {
    claimTtlMs: positiveIntOption(d.claimTtlMs, D.claimTtlMs, 'defaults.claimTtlMs', 'validation'),
    maxRetries: nonNegativeIntOption(d.maxRetries, D.maxRetries, 'defaults.maxRetries', 'validation'),
    retryBaseMs: nonNegativeOption(d.retryBaseMs, D.retryBaseMs, 'defaults.retryBaseMs', 'validation'),
    retryMaxMs: nonNegativeOption(d.retryMaxMs, D.retryMaxMs, 'defaults.retryMaxMs', 'validation'),
    maxCasRounds: positiveIntOption(d.maxCasRounds, D.maxCasRounds, 'defaults.maxCasRounds', 'validation'),
    sweepLimit,
    agentListLimit: Math.min(sweepLimit, positiveIntOption(d.agentListLimit, D.agentListLimit, 'defaults.agentListLimit', 'validation')),
  };
}

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
  /**
   * How long a pool record read for the access checks is reused, ms (default
   * `DEFAULT_POOL_CACHE_MS`, 1 s; 0 = read it on every submit and claim): a member removed
   * from a pool, or a pool deleted, is refused at the latest this long after.
   */
  poolCacheMs?: number;
}

/** Options of `new TaskManager`. */
export interface TaskManagerOptions {
  /** Where tasks live; share it between processes to share the work. */
  store: Store;
  /** Wall clock, Unix ms (default `Date.now`). Leases and retry times are absolute, so they survive restarts. */
  clock?: Clock;
  /** Default limits. */
  defaults?: TaskManagerDefaults;
  /**
   * Where pools are looked up for the access checks of `submit`, `claim` and `cancel` (default:
   * a `PoolManager` on `store`, i.e. the pools a PoolManager on the same store created). A task
   * whose pool does not exist is refused (`NotFoundError`); a submitting or claiming agent must
   * be a member of the pool, its owner, or the pool open. `null` turns the pool checks off
   * (`poolId` is then only a partition key, as in core's `TaskQueue`); capabilities and cancel
   * rights are checked either way.
   */
  pools?: PoolDirectory | null;
  /**
   * The pools' governance over cancels: who, besides a task's submitter and its pool's owner,
   * may cancel it (default: nobody else).
   */
  governance?: TaskGovernance;
  /**
   * Where the manager registers its metrics (tasks by state, claim and run latencies, retries,
   * dead letters; see `TaskMeters`). Default: none recorded.
   */
  metrics?: Metrics;
}

/** Options of `TaskManager.submit`. */
export interface SubmitTaskOptions extends CallOptions {
  /**
   * The agent submitting (the runtime passes the deciding agent): it must act as a member of
   * the task's pool, and is recorded as `submittedBy` (who may cancel the task). Omitted: the
   * application submits (the pool must still exist).
   */
  by?: string;
}

/** Options of `TaskManager.claim`. */
export interface ClaimTaskOptions extends CallOptions {
  /**
   * What the claiming agent can do: a task is claimed only when every one of its
   * `requiredCapabilities` is in here (default: none, so only tasks requiring nothing).
   */
  capabilities?: Iterable<string>;
}

/** Options of `TaskManager.cancel`. */
export interface CancelTaskOptions extends CallOptions {
  /**
   * The agent asking (the runtime passes the deciding agent): it must be the task's submitter,
   * its pool's owner, or allowed by `governance`; anyone else gets `PolicyError`. Omitted: the
   * application itself cancels (an operator, or core's `TaskQueue.cancel`).
   */
  by?: string;
}

/** Options of `listPendingTasksForAgent`. */
export interface ListOptions extends CallOptions {
  /** Most tasks returned (default: the manager's `agentListLimit`). */
  limit?: number;
}

/** Options of `TaskManager.listTasks`. */
export interface TaskPageOptions extends CallOptions {
  /** The pool whose tasks are listed (`null`: the tasks in no pool). */
  poolId: string | null;
  /** Only tasks in this state (a page can then come back short, with a cursor). */
  state?: TaskState;
  /** Page size (default `DEFAULT_PAGE_LIMIT`, 100; at most `MAX_PAGE_LIMIT`, 1,000). */
  limit?: number;
  /** Where the previous page ended (its `cursor`); omit for the first page. */
  cursor?: string;
}

/** One page of `TaskManager.listTasks`: tasks in submit order (by second, then by id). */
export interface TaskRecordPage {
  tasks: TaskRecord[];
  /** Pass as `cursor` for the next page; `null` when this was the last. */
  cursor: string | null;
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
  /**
   * Submits, claims and cancels refused by the access checks: `PolicyError` (not a member,
   * missing capability, no cancel right) or `NotFoundError` (the task's pool does not exist).
   */
  refused: number;
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
  /**
   * A report refused because the reporter's lease was void (stale attempt, expired, or the task
   * is no longer its own): the fencing at work, and a mark against the reporter's trust.
   */
  fenced: { taskId: string; agentId: string; attempt: number; reason: string };
}
