// How the guide's task queue lays out its tasks in a Store, and what each transition does to a
// task, as pure functions (no I/O here: src/task-queue.ts reads, decides with these, and writes).
import {
  ConflictError, fenceError, retryDelayMs,
  type ExpiredTask, type QueuedTask, type ResolvedQueueDefaults, type TaskLease, type TaskState, type WireValue,
} from '@converge/core';

/** What the store holds per task: the task, and the idempotency key of the submit that made it. */
export interface TaskRecord {
  task: QueuedTask;
  /** Lets a racing submit with the same key tell "my task" from "another task with this id". */
  idempotencyKey: string | null;
}

/**
 * The store keys of one queue, all under `namespace`:
 * - `task/<id>`: the task's record, the one source of truth, only ever changed by compareAndSet;
 * - `live/<pool>/<submittedAt>/<id>`: an index of the tasks that are not finished yet, so that a
 *   claim lists its pool's live tasks, oldest first, instead of every task ever submitted;
 * - `idem/<key>`: the task first submitted with an idempotency key.
 */
export class QueueKeys {
  /** Prefix of every task record. */
  readonly records: string;
  /** Prefix of the live index. */
  readonly live: string;
  readonly #idempotency: string;

  /** @param namespace - prefix of every key of this queue (several queues can share a store). */
  constructor(namespace: string) {
    this.records = `${namespace}task/`;
    this.live = `${namespace}live/`;
    this.#idempotency = `${namespace}idem/`;
  }

  /** The record key of task `id`. */
  record(id: string): string {
    return this.records + id;
  }

  /** Prefix of the live-index entries of one pool (the pool id is encoded: it may hold a `/`). */
  livePool(poolId: string): string {
    return `${this.live}${encodeURIComponent(poolId)}/`;
  }

  /** The live-index entry of `task`; zero-padded time first, so keys sort oldest first. */
  liveEntry(task: QueuedTask): string {
    return `${this.livePool(task.poolId ?? '')}${String(task.submittedAt).padStart(16, '0')}/${task.id}`;
  }

  /** The task id of a live-index key: what follows the pool and the 16-digit time. */
  idOfLiveEntry(key: string): string {
    const rest = key.slice(this.live.length);
    return rest.slice(rest.indexOf('/') + 1 + 16 + 1);
  }

  /** The key of an idempotency entry. */
  idempotency(key: string): string {
    return this.#idempotency + key;
  }
}

/** Whether a task in `state` is finished for good (it never changes again). */
export function isFinished(state: TaskState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** The lease length of `task`: its `claimTtlMs`, or the queue's default. */
function leaseMsOf(task: QueuedTask, d: ResolvedQueueDefaults): number {
  return task.constraints.claimTtlMs ?? d.leaseMs;
}

/** Whether `now` is at or past the task's deadline (a task without one never is). */
function pastDeadline(task: QueuedTask, now: number): boolean {
  const deadline = task.constraints.deadline;
  return typeof deadline === 'number' && now >= deadline;
}

/** Whether an agent with `capabilities` may claim `task` at `now`. */
export function isClaimable(task: QueuedTask, capabilities: readonly string[], now: number): boolean {
  return task.state === 'pending'
    && (task.notBefore === null || task.notBefore <= now)
    && !pastDeadline(task, now)
    && task.requiredCapabilities.every((c) => capabilities.includes(c));
}

/** `task` claimed by `agentId`: a new attempt, with a lease that runs out after the lease length. */
export function claimed(task: QueuedTask, agentId: string, now: number, d: ResolvedQueueDefaults): QueuedTask {
  return {
    ...task, state: 'assigned', assignedTo: agentId, attempts: task.attempts + 1, claimedAt: now,
    leaseExpiresAt: now + leaseMsOf(task, d), notBefore: null, updatedAt: now,
  };
}

/** The lease of a claimed task. */
export function leaseOf(task: QueuedTask): TaskLease {
  return { taskId: task.id, agentId: task.assignedTo ?? '', attempt: task.attempts, expiresAt: task.leaseExpiresAt ?? 0 };
}

/** Throws core's `ConflictError` unless `lease` is the task's current, unexpired lease. */
export function checkFence(task: QueuedTask, lease: TaskLease, now: number): void {
  const refused = fenceError(task, lease, now);
  if (refused) throw refused;
}

/** `task` with its lease pushed to `now` + the lease length (fenced). */
export function extended(task: QueuedTask, lease: TaskLease, now: number, d: ResolvedQueueDefaults): QueuedTask {
  checkFence(task, lease, now);
  return { ...task, leaseExpiresAt: now + leaseMsOf(task, d), updatedAt: now };
}

/** `task` completed with `result` (fenced). */
export function completed(task: QueuedTask, lease: TaskLease, result: WireValue, now: number): QueuedTask {
  checkFence(task, lease, now);
  return { ...task, state: 'completed', result, leaseExpiresAt: null, updatedAt: now };
}

/**
 * `task` after a failed attempt: pending again, claimable after `retryAt`, or dead-lettered once
 * it failed more often than its `maxRetries` allows.
 */
function afterFailure(task: QueuedTask, reason: string, retryAt: number | null, now: number, d: ResolvedQueueDefaults): QueuedTask {
  const failures = task.failures + 1;
  const ended = { ...task, failures, failureReason: reason, assignedTo: null, claimedAt: null, leaseExpiresAt: null, updatedAt: now };
  if (failures > (task.constraints.maxRetries ?? d.maxRetries)) return { ...ended, state: 'failed', deadLettered: true, notBefore: null };
  return { ...ended, state: 'pending', notBefore: retryAt };
}

/** `task` failed by its worker (fenced): retried after the doubling backoff, or dead-lettered. */
export function failed(task: QueuedTask, lease: TaskLease, reason: string, now: number, d: ResolvedQueueDefaults): QueuedTask {
  checkFence(task, lease, now);
  return afterFailure(task, reason, now + retryDelayMs(task.failures + 1, d), now, d);
}

/** `task` cancelled; a finished task cannot be (`ConflictError`). */
export function cancelled(task: QueuedTask, now: number): QueuedTask {
  if (isFinished(task.state)) throw new ConflictError(`task ${task.id} is ${task.state}: it cannot be cancelled`, { currentState: task.state });
  return { ...task, state: 'cancelled', leaseExpiresAt: null, notBefore: null, updatedAt: now };
}

/**
 * What the sweep does to `task` at `now`, or `null` when nothing is due: past its deadline it
 * fails (`'deadline'`); a lease that ran out is a failed attempt, retried at once (a crashed
 * worker is not the task's fault, so there is no backoff) or dead-lettered.
 */
export function swept(task: QueuedTask, now: number, d: ResolvedQueueDefaults): { task: QueuedTask; report: ExpiredTask } | null {
  const live = task.state === 'pending' || task.state === 'assigned' || task.state === 'running';
  if (!live) return null;
  const holder = task.state === 'pending' ? null : task.assignedTo;
  if (pastDeadline(task, now)) {
    const next: QueuedTask = { ...task, state: 'failed', failureReason: 'deadline', leaseExpiresAt: null, notBefore: null, updatedAt: now };
    return { task: next, report: { taskId: task.id, agentId: holder, attempt: task.attempts, outcome: 'expired' } };
  }
  if (task.state === 'pending' || task.leaseExpiresAt === null || task.leaseExpiresAt > now) return null;
  const next = afterFailure(task, 'lease-expired', null, now, d);
  const outcome = next.state === 'pending' ? 'pending' : 'dead-lettered';
  return { task: next, report: { taskId: task.id, agentId: holder, attempt: task.attempts, outcome } };
}
