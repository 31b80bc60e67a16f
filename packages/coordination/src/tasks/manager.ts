import type { Task, TaskInit, TaskQueueEvent, WatchOptions, WireValue } from '@converge/core';
import { requireId, type CallOptions, type Listener } from '../common.js';
import { recordKey, type Lease, type ReleasedClaim, type TaskRecord } from './records.js';
import type {
  CancelTaskOptions,
  ClaimTaskOptions,
  ListOptions,
  SubmitTaskOptions,
  TaskManagerEvents,
  TaskManagerOptions,
  TaskManagerStats,
  TaskPageOptions,
  TaskRecordPage,
} from './options.js';
import { TaskCore } from './core.js';
import { claimTask, extendLease } from './claims.js';
import { cancelTask, failTask, releaseTask, reportTask, startTask, submitTask } from './lifecycle.js';
import { releaseExpiredClaims, sweep } from './sweep.js';
import { listDeadLetters, listPending, listPendingForAgent } from './listing.js';
import { purgeTasks, type PurgeOptions } from './purge.js';

export {
  DEFAULT_AGENT_LIST_LIMIT,
  DEFAULT_CLAIM_TTL_MS,
  DEFAULT_MAX_CAS_ROUNDS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_SWEEP_LIMIT,
  TASK_MANAGER_DEFAULTS,
  type CancelTaskOptions,
  type ClaimTaskOptions,
  type SubmitTaskOptions,
  type ListOptions,
  type TaskManagerDefaults,
  type TaskManagerEvents,
  type TaskManagerOptions,
  type TaskManagerStats,
  type TaskPageOptions,
  type TaskRecordPage,
} from './options.js';
export { DEFAULT_PAGE_LIMIT, DEFAULT_PAGE_SCAN, MAX_PAGE_LIMIT, POOL_BUCKET_MS } from './pages.js';
export { PURGE_PAGE_SIZE, type PurgeOptions, type TerminalTaskState } from './purge.js';
export { DEFAULT_POOL_CACHE_MS, MAX_CACHED_POOLS, actsAsMember, isOpenPool, type PoolDirectory, type TaskGovernance } from './access.js';

// The public face of the task lifecycle. The work is done by functions of one `TaskCore` (the
// shared state and CAS engine, core.ts): claims (leases), lifecycle (submit, start → report/
// fail/release/cancel), retry (retry, dead-letter, deadline), sweep, listing (pending, dead
// letters), pages (`listTasks`), watch (`watchPool`), purge (retention).
/**
 * Leased, exactly-once task lifecycle on a shared Store.
 *
 * Every transition reads the task record and writes it back with `compareAndSet`, so any
 * number of TaskManagers, in any number of processes, on the same store never both win a
 * claim. Index entries (`task-pending:`, `task-claimed:`, `task-dead:`, `task-pool:`) are written around the
 * record's CAS; the record is the source of truth and the indexes are repaired lazily.
 *
 * State machine: pending → assigned (claim) → running (start) → completed (report);
 * assigned|running → pending (fail with retries left, or an expired lease) or failed
 * (dead-lettered); any non-terminal → cancelled (cancel) or failed (deadline).
 *
 * Access: a task's pool must exist (looked up through `pools`, by default the PoolManager
 * records of the same store); an agent submitting or claiming must be a member of it, its
 * owner, or the pool open; a claimer must hold every required capability; only the submitter,
 * the pool's owner or whom `governance` allows may cancel. Refusals are `PolicyError` (or
 * `NotFoundError` for a missing pool), counted in `stats().refused`. Every call of a claim's
 * holder (`start`, `report`, `fail`, `release`, `extendClaim`) must carry its lease.
 */
export class TaskManager {
  readonly #core: TaskCore;

  constructor(options: TaskManagerOptions) {
    this.#core = new TaskCore(options);
  }

  /** Subscribes to an event; returns the unsubscribe function. Listeners run synchronously and must not throw. */
  on<K extends keyof TaskManagerEvents>(event: K, listener: Listener<TaskManagerEvents[K]>): () => void {
    return this.#core.events.on(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof TaskManagerEvents>(event: K, listener: Listener<TaskManagerEvents[K]>): void {
    this.#core.events.off(event, listener);
  }

  /** A snapshot of the counters. */
  stats(): TaskManagerStats {
    return this.#core.stats();
  }

  /** Releases the store watch used by the listing cache (the store itself is the caller's). */
  stop(): void {
    this.#core.watchers.closeAll();
    this.#core.index.stop();
    this.#core.own.clear();
  }

  /**
   * Stores a new pending task. Throws `ConflictError` if the id exists, `ValidationError` on
   * bad constraints, a non-pending state or a deadline already past, `NotFoundError` when its
   * pool does not exist, `PolicyError` when `options.by` (the submitting agent, recorded as
   * `submittedBy`) is not a member of the pool.
   */
  submit(task: Task | TaskInit, options: SubmitTaskOptions = {}): Promise<TaskRecord> {
    return submitTask(this.#core, task, options);
  }

  /**
   * Claims a pending task for `agentId` (exactly once across every TaskManager on the store)
   * and returns its lease. A claimed task whose lease ran out is taken back first (counted as
   * a failed attempt). Throws `NotFoundError`, or `ConflictError` with `currentState` when the
   * task is not claimable (claimed, terminal, backing off, past its deadline, or lost race).
   * `PolicyError` when the task requires a capability not in `options.capabilities` (none when
   * omitted) or the agent is not a member of the task's pool; `NotFoundError` when the pool is gone.
   */
  claim(agentId: string, taskId: string, options: ClaimTaskOptions = {}): Promise<Lease> {
    return claimTask(this.#core, agentId, taskId, options);
  }

  /** Heartbeat: extends a valid lease by the task's TTL from now. Stale or expired lease → `ConflictError`; no lease → `ValidationError`. */
  extendClaim(lease: Lease, options: CallOptions = {}): Promise<Lease> {
    return extendLease(this.#core, lease, options);
  }

  /** Marks a claimed task running (assigned → running). The lease is required (`ValidationError` without it). */
  start(agentId: string, taskId: string, lease: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    return startTask(this.#core, agentId, taskId, lease, options);
  }

  /**
   * Completes a claimed task (assigned or running) with `result`. Only the holder of the
   * current, unexpired lease may report, and must pass that lease (`ValidationError` without
   * it); a stale lease or anyone else gets `ConflictError` naming the state and the assignee
   * (and the `fenced` event).
   */
  report(agentId: string, taskId: string, result: WireValue, lease: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    return reportTask(this.#core, agentId, taskId, result, lease, options);
  }

  /**
   * Reports a failed attempt of a claimed task. With retries left (`maxRetries` constraint or
   * default), the task goes back to pending with `notBefore` = now + exponential backoff;
   * otherwise it is dead-lettered (state `failed`, `deadLettered: true`). Fenced like `report`:
   * `agentId` and its `lease` are required (`ValidationError` without them). A coordinator that
   * wants a task gone uses `cancel`; a holder that vanished is taken back by the sweep.
   */
  fail(taskId: string, reason: string, agentId: string, lease: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    return failTask(this.#core, taskId, reason, agentId, lease, options);
  }

  /**
   * Hands a claimed task back to pending without counting a failure (e.g. a worker stopping
   * gracefully). Only the holder of the current lease may, passing it.
   */
  release(agentId: string, taskId: string, lease: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    return releaseTask(this.#core, agentId, taskId, lease, options);
  }

  /**
   * Cancels a task from any non-terminal state; a terminal task → `ConflictError`. With
   * `options.by` (an agent asking) only the task's submitter, its pool's owner, or whom
   * `governance` allows may: anyone else gets `PolicyError`. A holder's lease is void after it
   * (its report, fail or heartbeat → `ConflictError`).
   */
  cancel(taskId: string, options: CancelTaskOptions = {}): Promise<TaskRecord> {
    return cancelTask(this.#core, taskId, options);
  }

  /**
   * Takes back every claim whose lease ran out by `now` (default: the clock): the task goes
   * back to pending, or is dead-lettered when out of retries, or fails when past its deadline.
   * Also repairs the claim index. Returns what it released (at most `sweepLimit` entries).
   */
  releaseExpiredClaims(now?: number, options: CallOptions = {}): Promise<ReleasedClaim[]> {
    return releaseExpiredClaims(this.#core, now, options);
  }

  /**
   * Full maintenance pass: `releaseExpiredClaims`, then fails pending tasks past their
   * deadline. Returns everything it changed.
   */
  sweep(now?: number, options: CallOptions = {}): Promise<ReleasedClaim[]> {
    return sweep(this.#core, now, options);
  }

  /** The stored record of a task (a copy). Unknown id → `NotFoundError`. */
  async getTask(taskId: string, options: CallOptions = {}): Promise<TaskRecord> {
    return (await this.#core.read(recordKey(requireId(taskId, 'taskId')), taskId, options)).value;
  }

  /**
   * Every pending task, from the pending index (not a store scan), including those waiting
   * for a retry time. Returned records are frozen snapshots (do not mutate). At most `sweepLimit`.
   */
  listPendingTasks(options: CallOptions = {}): Promise<TaskRecord[]> {
    return listPending(this.#core, options);
  }

  /**
   * Pending tasks that `agentId` may claim now: in one of `poolIds` (or in no pool), not
   * waiting for a retry, not past their deadline, and whose `requiredCapabilities` are all in
   * `capabilities`. Reads only the pending index of those pools; with a store that has
   * `watch`, an in-memory cache makes repeated calls cost no store reads. Returns the oldest
   * such tasks this manager knows of, at most `options.limit` (default `agentListLimit`,
   * capped by `sweepLimit`), so a call costs the same whatever the backlog.
   */
  listPendingTasksForAgent(agentId: string, poolIds: readonly string[], capabilities: Iterable<string>, options: ListOptions = {}): Promise<TaskRecord[]> {
    return listPendingForAgent(this.#core, agentId, poolIds, capabilities, options);
  }

  /**
   * One page of a pool's tasks (`poolId: null`: the tasks in no pool), optionally only those in
   * `state`, in submit order; pass the returned `cursor` for the next page. A page costs a
   * listing of the pool's bucket directory (one key per second in which the pool received
   * tasks) and of the buckets from the cursor on, and at most `DEFAULT_PAGE_SCAN` record reads,
   * whatever the number of tasks in the store: a page filtered by `state` can come back short,
   * with a cursor. Tasks submitted before this index existed are not listed. `ValidationError`
   * on bad options or a foreign cursor.
   */
  listTasks(options: TaskPageOptions): Promise<TaskRecordPage> {
    return this.#core.poolIndex.page(options);
  }

  /**
   * The transitions this manager makes (submit, claim, start, report, fail, release, cancel,
   * expiry) as a bounded async iterable, of `poolId` only (`undefined`: of every pool). A
   * consumer more than `bufferSize` (default 1,024) events behind gets `QueueFullError`, never
   * a silent gap; aborting `signal` (or `stop()`) ends the iteration. Another process's
   * transitions are not seen: read those with `getTask`/`listTasks`.
   */
  watchPool(poolId: string | undefined, options: Omit<WatchOptions, 'poolId'> = {}): AsyncIterable<TaskQueueEvent> {
    if (poolId !== undefined) requireId(poolId, 'poolId');
    return this.#core.watchers.open({ ...options, ...(poolId === undefined ? {} : { poolId }) });
  }

  /** Dead-lettered tasks (at most `sweepLimit`). */
  listDeadLetters(options: CallOptions = {}): Promise<TaskRecord[]> {
    return listDeadLetters(this.#core, options);
  }

  /**
   * Deletes terminal task records (`completed`, `cancelled`, `failed`, or only `states`) last
   * updated before `olderThan` (Unix ms), with their index entries; at most `limit` (default
   * 10,000) per call. Returns how many records it removed (also counted in `stats().purged`).
   * Live tasks are never touched. `ValidationError` on bad options; `AbortError` on `signal`.
   */
  purge(options: PurgeOptions): Promise<number> {
    return purgeTasks(this.#core, options);
  }
}
