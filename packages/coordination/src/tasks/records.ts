import { ValidationError, cloneWireValue, type QueuedTask, type Task } from '@converge/core';
import { keySegment, parseKeySegment } from '../common.js';

/**
 * A task as the TaskManager stores it: core's `QueuedTask` (the `Task` fields plus lease and retry
 * bookkeeping) and who submitted it. Plain data only, so every Store can hold it and any process
 * can read it back.
 */
export interface TaskRecord extends QueuedTask {
  /**
   * The agent that submitted the task (`submit` with `by`), which may cancel it; `null` when the
   * application submitted it directly. Records written before this field existed lack it: read
   * as `null`.
   */
  submittedBy?: string | null;
}

/**
 * Proof of a claim, handed to the worker. `attempt` is the task's `attempts` counter after the
 * claim: a report, fail or heartbeat carrying an older attempt is refused (fencing).
 */
export interface Lease {
  taskId: string;
  agentId: string;
  attempt: number;
  /** Unix ms at which the lease runs out unless extended. */
  expiresAt: number;
}

/** What `releaseExpiredClaims` did with one expired claim. */
export interface ReleasedClaim {
  taskId: string;
  /** The agent whose lease ran out. */
  agentId: string | null;
  /** The attempt that expired. */
  attempt: number;
  /** `pending`: back in the pool; `dead-lettered`: out of retries; `expired`: past its deadline. */
  outcome: 'pending' | 'dead-lettered' | 'expired';
}

/** Store key prefixes used by the TaskManager (all under `task`). */
export const TASK_KEYS = {
  /** `task:<taskId>` — the task record, the source of truth. */
  record: 'task:',
  /** `task-pending:<poolId|#>:<taskId>` — index of pending tasks by pool (`#` = no pool). */
  pending: 'task-pending:',
  /** `task-claimed:<taskId>:<attempt>` — index of claims, for the expiry sweep. */
  claimed: 'task-claimed:',
  /** `task-dead:<taskId>` — index of dead-lettered tasks. */
  dead: 'task-dead:',
  /** `task-pool:<poolId|#>:<bucket>:<taskId>` — every task of a pool, by submit second (see `listTasks`). */
  pool: 'task-pool:',
  /** `task-pool-dir:<poolId|#>:<bucket>` — the submit seconds (buckets) in which a pool received tasks. */
  poolBuckets: 'task-pool-dir:',
} as const;

// `#` is always escaped by encodeURIComponent, so it can never be a real pool id's segment.
const NO_POOL = '#';

/** Key of a task record. */
export function recordKey(taskId: string): string {
  return TASK_KEYS.record + keySegment(taskId);
}

/** The key segment of a pool id (`null`: tasks without a pool). */
export function poolSegment(poolId: string | null): string {
  return poolId === null ? NO_POOL : keySegment(poolId);
}

/** Prefix of the pending index of one pool (`null`: tasks without a pool). */
export function pendingPoolPrefix(poolId: string | null): string {
  return `${TASK_KEYS.pending}${poolSegment(poolId)}:`;
}

/** Key of a task's pending-index entry. */
export function pendingKey(poolId: string | null, taskId: string): string {
  return pendingPoolPrefix(poolId) + keySegment(taskId);
}

/** Key of a claim-index entry. */
export function claimedKey(taskId: string, attempt: number): string {
  return `${TASK_KEYS.claimed}${keySegment(taskId)}:${attempt}`;
}

/** Key of a dead-letter-index entry. */
export function deadKey(taskId: string): string {
  return TASK_KEYS.dead + keySegment(taskId);
}

/** Parses a pending-index key into pool segment and task id, or `null`. */
export function parsePendingKey(key: string): { poolSegment: string; taskId: string } | null {
  const rest = key.slice(TASK_KEYS.pending.length);
  const i = rest.indexOf(':');
  if (i < 0) return null;
  try {
    return { poolSegment: rest.slice(0, i), taskId: parseKeySegment(rest.slice(i + 1)) };
  } catch {
    return null;
  }
}

/** Parses a claim-index key, or `null`. */
export function parseClaimedKey(key: string): { taskId: string; attempt: number } | null {
  const rest = key.slice(TASK_KEYS.claimed.length);
  const i = rest.lastIndexOf(':');
  if (i < 0) return null;
  const attempt = Number(rest.slice(i + 1));
  if (!Number.isSafeInteger(attempt)) return null;
  try {
    return { taskId: parseKeySegment(rest.slice(0, i)), attempt };
  } catch {
    return null;
  }
}

/** Parses a record or dead-letter key (`<prefix><taskId>`), or `null`. */
export function parseIdKey(prefix: string, key: string): string | null {
  try {
    return parseKeySegment(key.slice(prefix.length));
  } catch {
    return null;
  }
}

/** Checks the constraint keys the TaskManager enforces; throws `ValidationError`. */
export function validateConstraints(task: Task): void {
  const c = task.constraints ?? {};
  if (c.claimTtlMs !== undefined && (!Number.isSafeInteger(c.claimTtlMs) || c.claimTtlMs <= 0)) {
    throw new ValidationError(`task ${task.id}: constraints.claimTtlMs must be a positive integer`);
  }
  if (c.maxRetries !== undefined && (!Number.isSafeInteger(c.maxRetries) || c.maxRetries < 0)) {
    throw new ValidationError(`task ${task.id}: constraints.maxRetries must be an integer >= 0`);
  }
  if (c.deadline !== undefined && (typeof c.deadline !== 'number' || !Number.isFinite(c.deadline))) {
    throw new ValidationError(`task ${task.id}: constraints.deadline must be a Unix ms number`);
  }
  if (!Array.isArray(task.requiredCapabilities) || task.requiredCapabilities.some((x) => typeof x !== 'string')) {
    throw new ValidationError(`task ${task.id}: requiredCapabilities must be an array of strings`);
  }
  if (task.poolId !== null && (typeof task.poolId !== 'string' || task.poolId.length === 0)) {
    throw new ValidationError(`task ${task.id}: poolId must be a non-empty string or null`);
  }
}

/** Whether a task holds a claim (assigned or running). */
export function isClaimed(rec: TaskRecord): boolean {
  return rec.state === 'assigned' || rec.state === 'running';
}

/** Whether a non-terminal task is past its deadline at `now`. */
export function pastDeadline(rec: TaskRecord, now: number): boolean {
  const d = rec.constraints?.deadline;
  return typeof d === 'number' && now >= d && !isTerminal(rec);
}

/** Whether a task's state is terminal. */
export function isTerminal(rec: TaskRecord): boolean {
  return rec.state === 'completed' || rec.state === 'failed' || rec.state === 'cancelled';
}

/** Freezes plain objects and arrays in place (typed arrays, Maps and Float64 are left as they are). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (ArrayBuffer.isView(value) || value instanceof Map) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return value;
  Object.freeze(value);
  // Walked without allocating a value list (records are frozen once per listing read).
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeMember(value[i]);
  } else if (cleanObjectProto()) {
    const obj = value as Record<string, unknown>;
    for (const k in obj) freezeMember(obj[k]);
  } else {
    for (const v of Object.values(value as object)) freezeMember(v);
  }
  return value;
}

/**
 * A frozen deep copy of plain data in one pass: what `deepFreeze(cloneWireValue(value))` gives
 * (plain objects and arrays copied and frozen; typed arrays, Maps and Float64 copied, not
 * frozen; anything else kept as is), without walking the copy a second time to freeze it.
 */
export function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value) && (proto === Array.prototype || proto === null)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = frozenCopy(value[i]);
    return Object.freeze(out) as T;
  }
  if ((proto !== Object.prototype && proto !== null) || !cleanObjectProto()) return deepFreeze(cloneWireValue(value));
  // A spread keeps V8's fast properties (see `cloneWireValue`); nested members are replaced in place.
  const out = { ...value } as Record<string, unknown>;
  for (const k in out) {
    const v = out[k];
    if (typeof v === 'object' && v !== null) out[k] = frozenCopy(v);
  }
  return Object.freeze(out) as T;
}

function freezeMember(v: unknown): void {
  if (typeof v === 'object' && v !== null) deepFreeze(v);
}

function cleanObjectProto(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}
