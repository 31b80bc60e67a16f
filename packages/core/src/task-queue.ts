/**
 * The task-queue contract: leased, fenced, exactly-once work distribution, as every engine
 * implements it (the portable one over any `Store`, and the native ones on PostgreSQL, Redis
 * and JetStream). Also the small pieces every implementation shares: argument checks, the
 * retry backoff, and a bounded event channel for `watch`.
 *
 * Lifecycle: `submit` → pending → `claim` → assigned (a lease: attempt number + expiry) →
 * `report` → completed; `fail` → pending again after a backoff, or dead-lettered (state
 * `failed`, `deadLettered: true`) once past `maxRetries`; `cancel` from any live state; an
 * expired lease is taken back by `expire` (counted as a failed attempt, retried at once); a
 * task past its `deadline` fails (`failureReason: 'deadline'`).
 *
 * Fencing: `report`, `fail` and `extend` take the lease and are refused with `ConflictError`
 * when its attempt is not the task's current one, its agent is not the holder, or it expired.
 */
import { exponentialBackoff } from './backoff.js';
import { ConflictError, QueueFullError, ValidationError, throwIfAborted, AbortError } from './errors.js';
import { createTask, type Task, type TaskInit, type TaskState } from './task.js';
import type { WireValue } from './value.js';

/** Brand carried by every task queue (`isTaskQueue` checks it; survives duplicate package copies). */
export const TASK_QUEUE_BRAND: unique symbol = Symbol.for('@converge/task-queue') as never;

/** Default lease length when a task has no `claimTtlMs` constraint: 30 s. */
export const DEFAULT_QUEUE_LEASE_MS = 30_000;
/** Default retries after the first failed attempt before a task is dead-lettered: 3. */
export const DEFAULT_QUEUE_MAX_RETRIES = 3;
/** Default first retry delay after `fail`: 1 s (doubled per further failure). */
export const DEFAULT_QUEUE_RETRY_BASE_MS = 1_000;
/** Default cap on the retry delay: 60 s. */
export const DEFAULT_QUEUE_RETRY_MAX_MS = 60_000;
/** Most tasks one `claim` call may take (`max`): 256. */
export const MAX_CLAIM_BATCH = 256;
/** Default page size of `list`: 100. */
export const DEFAULT_LIST_LIMIT = 100;
/** Largest page size of `list`: 1,000. */
export const MAX_LIST_LIMIT = 1_000;
/** Default cap on the tasks one `expire` sweep handles: 1,000. */
export const DEFAULT_EXPIRE_LIMIT = 1_000;
/** Events one `watch` iterator buffers before it fails with `QueueFullError`: 1,024. */
export const DEFAULT_WATCH_BUFFER = 1_024;
/** Longest `claim` wait (`waitMs`): 60 s. */
export const MAX_CLAIM_WAIT_MS = 60_000;

/** A task as a queue holds it: the `Task` fields plus lease and retry bookkeeping. */
export interface QueuedTask extends Task {
  /** Unix ms at which the current lease runs out (`null` when unclaimed). */
  leaseExpiresAt: number | null;
  /** A pending task is not claimable before this Unix ms (retry backoff), or `null`. */
  notBefore: number | null;
  /** Failed attempts so far (`fail` calls and expired leases). */
  failures: number;
  /** Whether the task ran out of retries (state `failed`). */
  deadLettered: boolean;
  /** Reason of the latest failure (`'deadline'`, `'lease-expired'` or the worker's reason). */
  failureReason: string | null;
  /** Unix ms of `submit`. */
  submittedAt: number;
  /** Unix ms of the latest transition. */
  updatedAt: number;
}

/** Proof of a claim. `attempt` is the task's `attempts` after the claim; an older one is fenced off. */
export interface TaskLease {
  taskId: string;
  agentId: string;
  attempt: number;
  /** Unix ms at which the lease runs out unless extended. */
  expiresAt: number;
}

/** One task won by `claim`, with its lease. */
export interface ClaimedTask {
  task: QueuedTask;
  lease: TaskLease;
}

/** What a `claim` asks for. */
export interface ClaimRequest {
  /** The claiming agent (becomes `assignedTo`). */
  agentId: string;
  /** The pool to take from (every queued task belongs to exactly one pool). */
  poolId: string;
  /** What the agent can do: only tasks whose `requiredCapabilities` are all in here are taken. */
  capabilities?: readonly string[];
  /** Most tasks to take in this call (default 1, at most `MAX_CLAIM_BATCH`). */
  max?: number;
  /**
   * When nothing is claimable now, wait up to this many ms for a task to arrive (default 0:
   * answer at once). Returns `[]` when none came. At most `MAX_CLAIM_WAIT_MS`.
   */
  waitMs?: number;
}

/** Options of any queue call that can wait. */
export interface QueueCallOptions {
  /** Aborts the call (`AbortError`). */
  signal?: AbortSignal;
}

/** Options of `submit`. */
export interface SubmitOptions extends QueueCallOptions {
  /**
   * Makes the submit idempotent: a later submit with the same key returns the task the first
   * one created (whatever its own fields), instead of creating another.
   */
  idempotencyKey?: string;
}

/** Options of `expire` (how many tasks one sweep handles is the implementation's `expireLimit` option, default `DEFAULT_EXPIRE_LIMIT`). */
export type ExpireOptions = QueueCallOptions;

/** What `expire` did to one task. */
export interface ExpiredTask {
  taskId: string;
  /** The agent whose lease ran out (`null` for a pending task past its deadline). */
  agentId: string | null;
  /** The attempt that ended. */
  attempt: number;
  /** `pending`: back in the pool; `dead-lettered`: out of retries; `expired`: past its deadline. */
  outcome: 'pending' | 'dead-lettered' | 'expired';
}

/** Options of `list`. */
export interface ListTasksOptions extends QueueCallOptions {
  /** Only tasks in this state. */
  state?: TaskState;
  /** Only tasks of this pool. */
  poolId?: string;
  /** Where the previous page ended (its `cursor`); omit for the first page. */
  cursor?: string;
  /** Page size (default `DEFAULT_LIST_LIMIT`, at most `MAX_LIST_LIMIT`). */
  limit?: number;
}

/** One page of `list`, in task-id order. */
export interface TaskPage {
  tasks: QueuedTask[];
  /** Pass as `cursor` for the next page; `null` when this was the last. */
  cursor: string | null;
}

/** A task's transition, as `watch` reports it. */
export interface TaskQueueEvent {
  taskId: string;
  poolId: string;
  /** The state the task entered. */
  state: TaskState;
  /** The task's attempt counter after the transition. */
  attempt: number;
}

/** Options of `watch`. */
export interface WatchOptions {
  /** Ends the iteration (the loop just stops). */
  signal?: AbortSignal;
  /** Only this pool's events. */
  poolId?: string;
  /** Events buffered before the iterator fails with `QueueFullError` (default `DEFAULT_WATCH_BUFFER`). */
  bufferSize?: number;
}

/**
 * A leased, fenced, exactly-once task queue. Errors are core's: `ValidationError` (bad input),
 * `NotFoundError` (unknown task), `ConflictError` (stale lease, illegal transition, duplicate
 * id), `AbortError` (signal).
 */
export interface TaskQueue {
  /** Brand (see `isTaskQueue`). */
  readonly [TASK_QUEUE_BRAND]: true;
  /** Acquires connections, creates schema. Idempotent. */
  start(): Promise<void>;
  /** Releases every resource this queue made; pending `watch` iterators end. */
  stop(): Promise<void>;
  /** Queues a pending task (`poolId` required). A duplicate id without a matching idempotency key → `ConflictError`. */
  submit(task: TaskInit, options?: SubmitOptions): Promise<QueuedTask>;
  /** Takes up to `max` claimable tasks of a pool, each exactly once across every client of the queue. */
  claim(request: ClaimRequest, options?: QueueCallOptions): Promise<ClaimedTask[]>;
  /** Heartbeat: pushes the lease's expiry to now + the task's lease length. Fenced. */
  extend(lease: TaskLease, options?: QueueCallOptions): Promise<TaskLease>;
  /** Completes the task with `result`. Fenced. */
  report(lease: TaskLease, result: WireValue, options?: QueueCallOptions): Promise<QueuedTask>;
  /** Ends the attempt as failed: retried after a backoff, or dead-lettered once past `maxRetries`. Fenced. */
  fail(lease: TaskLease, reason: string, options?: QueueCallOptions): Promise<QueuedTask>;
  /** Cancels a live task; a terminal one → `ConflictError`. */
  cancel(taskId: string, options?: QueueCallOptions): Promise<QueuedTask>;
  /** Sweep: takes back expired leases and fails tasks past their deadline. */
  expire(options?: ExpireOptions): Promise<ExpiredTask[]>;
  /** The task's current record. */
  get(taskId: string, options?: QueueCallOptions): Promise<QueuedTask>;
  /** A page of tasks in id order. */
  list(options?: ListTasksOptions): Promise<TaskPage>;
  /** Transitions from now on, until `signal` aborts or the queue stops. */
  watch(options?: WatchOptions): AsyncIterable<TaskQueueEvent>;
}

/** Whether `value` is a task queue (carries `TASK_QUEUE_BRAND`). */
export function isTaskQueue(value: unknown): value is TaskQueue {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TASK_QUEUE_BRAND] === true;
}

/** Tunable defaults every implementation accepts. */
export interface TaskQueueDefaults {
  /** Lease length when a task has no `claimTtlMs` (default `DEFAULT_QUEUE_LEASE_MS`). */
  leaseMs?: number;
  /** Retries when a task has no `maxRetries` (default `DEFAULT_QUEUE_MAX_RETRIES`). */
  maxRetries?: number;
  /** First retry delay (default `DEFAULT_QUEUE_RETRY_BASE_MS`). */
  retryBaseMs?: number;
  /** Largest retry delay (default `DEFAULT_QUEUE_RETRY_MAX_MS`). */
  retryMaxMs?: number;
}

/** `TaskQueueDefaults` with every member filled in. */
export type ResolvedQueueDefaults = Required<TaskQueueDefaults>;

/** Fills in and checks the defaults; `ValidationError` on a non-positive (or negative retries) value. */
export function resolveQueueDefaults(d: TaskQueueDefaults = {}): ResolvedQueueDefaults {
  const out: ResolvedQueueDefaults = {
    leaseMs: d.leaseMs ?? DEFAULT_QUEUE_LEASE_MS,
    maxRetries: d.maxRetries ?? DEFAULT_QUEUE_MAX_RETRIES,
    retryBaseMs: d.retryBaseMs ?? DEFAULT_QUEUE_RETRY_BASE_MS,
    retryMaxMs: d.retryMaxMs ?? DEFAULT_QUEUE_RETRY_MAX_MS,
  };
  for (const [k, v] of Object.entries(out)) {
    const min = k === 'maxRetries' ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < min) throw new ValidationError(`task queue default ${k} must be an integer >= ${min}`);
  }
  return out;
}

/** Retry delay after the `failures`-th failure: base × 2^(failures−1), capped. */
export function retryDelayMs(failures: number, defaults: ResolvedQueueDefaults): number {
  return exponentialBackoff(failures - 1, defaults.retryBaseMs, defaults.retryMaxMs);
}

/**
 * Builds and checks the task of a `submit` (a pending task with a non-empty `poolId`, sane
 * constraints, no deadline already past). `ValidationError` otherwise.
 */
export function prepareSubmit(init: TaskInit, now: number, options: SubmitOptions = {}): Task {
  if (init === null || typeof init !== 'object') throw new ValidationError('submit needs a task');
  const t = createTask(init);
  if (typeof t.id !== 'string' || t.id.length === 0 || t.id.length > 512)
    throw new ValidationError('task id must be a non-empty string of at most 512 characters');
  if (t.state !== 'pending') throw new ValidationError(`task ${t.id}: a submitted task must be pending, got ${t.state}`);
  if (typeof t.poolId !== 'string' || t.poolId.length === 0) throw new ValidationError(`task ${t.id}: a queued task needs a poolId`);
  if (!t.requiredCapabilities.every((c) => typeof c === 'string')) throw new ValidationError(`task ${t.id}: requiredCapabilities must be strings`);
  const c = t.constraints;
  if (c.claimTtlMs !== undefined && (!Number.isSafeInteger(c.claimTtlMs) || c.claimTtlMs <= 0))
    throw new ValidationError(`task ${t.id}: constraints.claimTtlMs must be a positive integer`);
  if (c.maxRetries !== undefined && (!Number.isSafeInteger(c.maxRetries) || c.maxRetries < 0))
    throw new ValidationError(`task ${t.id}: constraints.maxRetries must be an integer >= 0`);
  if (c.deadline !== undefined) {
    if (typeof c.deadline !== 'number' || !Number.isFinite(c.deadline))
      throw new ValidationError(`task ${t.id}: constraints.deadline must be a Unix ms number`);
    if (now >= c.deadline) throw new ValidationError(`task ${t.id}: deadline ${c.deadline} already passed`);
  }
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 512))
    throw new ValidationError('idempotencyKey must be a non-empty string of at most 512 characters');
  return t;
}

/** A fresh pending record of a prepared task. */
export function newQueuedTask(t: Task, now: number): QueuedTask {
  return {
    ...t,
    assignedTo: null,
    claimedAt: null,
    attempts: 0,
    result: t.result ?? null,
    leaseExpiresAt: null,
    notBefore: null,
    failures: 0,
    deadLettered: false,
    failureReason: null,
    submittedAt: now,
    updatedAt: now,
  };
}

/** A checked claim request with its defaults: `max` 1, `waitMs` 0, no capabilities. */
export interface ResolvedClaim {
  agentId: string;
  poolId: string;
  capabilities: string[];
  max: number;
  waitMs: number;
}

/** Checks a claim request (`ValidationError`) and fills in its defaults. */
export function resolveClaim(req: ClaimRequest): ResolvedClaim {
  if (req === null || typeof req !== 'object') throw new ValidationError('claim needs a request');
  if (typeof req.agentId !== 'string' || req.agentId.length === 0) throw new ValidationError('claim needs an agentId');
  if (typeof req.poolId !== 'string' || req.poolId.length === 0) throw new ValidationError('claim needs a poolId');
  const capabilities = [...(req.capabilities ?? [])];
  if (!capabilities.every((c) => typeof c === 'string')) throw new ValidationError('capabilities must be strings');
  const max = req.max ?? 1;
  if (!Number.isSafeInteger(max) || max < 1 || max > MAX_CLAIM_BATCH) throw new ValidationError(`claim max must be an integer in 1..${MAX_CLAIM_BATCH}`);
  const waitMs = req.waitMs ?? 0;
  if (!Number.isFinite(waitMs) || waitMs < 0 || waitMs > MAX_CLAIM_WAIT_MS) throw new ValidationError(`claim waitMs must be in 0..${MAX_CLAIM_WAIT_MS}`);
  return { agentId: req.agentId, poolId: req.poolId, capabilities, max, waitMs };
}

/** Checks the lease of `report`, `fail` or `extend` (it is mandatory): `ValidationError` when missing or malformed. */
export function requireLease(lease: TaskLease | undefined, call: string): TaskLease {
  if (lease === null || typeof lease !== 'object') throw new ValidationError(`${call} needs the lease of the claim`);
  if (typeof lease.taskId !== 'string' || lease.taskId.length === 0) throw new ValidationError(`${call}: lease.taskId must be a non-empty string`);
  if (typeof lease.agentId !== 'string' || lease.agentId.length === 0) throw new ValidationError(`${call}: lease.agentId must be a non-empty string`);
  if (!Number.isSafeInteger(lease.attempt) || lease.attempt < 1) throw new ValidationError(`${call}: lease.attempt must be a positive integer`);
  return lease;
}

/** Checks a `fail` reason (`ValidationError`). */
export function requireReason(reason: string): string {
  if (typeof reason !== 'string') throw new ValidationError('fail reason must be a string');
  return reason.length > 1024 ? reason.slice(0, 1024) : reason;
}

/** A task id argument (`get`, `cancel`): a non-empty string, else `ValidationError`. */
export function requireTaskId(id: string): string {
  if (typeof id !== 'string' || id.length === 0) throw new ValidationError('taskId must be a non-empty string');
  return id;
}

/** Resolves `list` paging: the limit (`ValidationError` when out of range) and the cursor. */
export function resolveList(options: ListTasksOptions = {}): { limit: number; cursor: string | null } {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new ValidationError(`list limit must be an integer in 1..${MAX_LIST_LIMIT}`);
  if (options.cursor !== undefined && typeof options.cursor !== 'string') throw new ValidationError('list cursor must be a string');
  return { limit, cursor: options.cursor ?? null };
}

/**
 * Why a fenced call on `task` by `lease` is refused at `now`, as a `ConflictError` (with the
 * task's state), or `null` when the lease is the task's current, unexpired one.
 */
export function fenceError(task: QueuedTask, lease: TaskLease, now: number): ConflictError | null {
  const state = task.state;
  if (state !== 'assigned' && state !== 'running') return new ConflictError(`task ${task.id} is ${state}, not claimed`, { currentState: state });
  if (lease.attempt !== task.attempts) {
    return new ConflictError(`stale lease on task ${task.id}: attempt ${lease.attempt}, current attempt ${task.attempts}`, { currentState: state });
  }
  if (task.assignedTo !== lease.agentId)
    return new ConflictError(`task ${task.id} is assigned to ${task.assignedTo}, not ${lease.agentId}`, { currentState: state });
  if (task.leaseExpiresAt !== null && task.leaseExpiresAt <= now) {
    return new ConflictError(`lease on task ${task.id} (attempt ${task.attempts}) expired at ${task.leaseExpiresAt}`, { currentState: state });
  }
  const d = task.constraints.deadline;
  if (typeof d === 'number' && now >= d) return new ConflictError(`task ${task.id} passed its deadline ${d}`, { currentState: state });
  return null;
}

/**
 * A bounded, single-consumer async iterable of queue events, for `watch` implementations:
 * `push` from the engine's feed, `close` when the feed ends. When the consumer falls more than
 * `bufferSize` events behind, the iteration fails with `QueueFullError` (no silent drop).
 * An aborted `signal` ends the iteration.
 */
export class TaskEventChannel implements AsyncIterable<TaskQueueEvent> {
  readonly #buffer: TaskQueueEvent[] = [];
  readonly #capacity: number;
  readonly #poolId: string | undefined;
  #waiter: (() => void) | null = null;
  #closed = false;
  #overflow = false;
  readonly #onClose: () => void;

  /** @param onClose - called once when the iteration ends (release the engine's subscription there). */
  constructor(options: WatchOptions, onClose: () => void) {
    const size = options.bufferSize ?? DEFAULT_WATCH_BUFFER;
    if (!Number.isSafeInteger(size) || size < 1) throw new ValidationError('watch bufferSize must be a positive integer');
    this.#capacity = size;
    this.#poolId = options.poolId;
    this.#onClose = onClose;
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Offers an event (dropped here when it is of another pool than the watched one). */
  push(event: TaskQueueEvent): void {
    if (this.#closed || (this.#poolId !== undefined && event.poolId !== this.#poolId)) return;
    if (this.#buffer.length >= this.#capacity) {
      this.#overflow = true;
      this.close();
      return;
    }
    this.#buffer.push(event);
    this.#wake();
  }

  /** Ends the iteration after the buffered events. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TaskQueueEvent> {
    try {
      for (;;) {
        if (this.#overflow) throw new QueueFullError(`watch fell more than ${this.#capacity} events behind`);
        const next = this.#buffer.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((resolve) => (this.#waiter = resolve));
      }
    } finally {
      this.close();
    }
  }
}

/**
 * Waits up to `ms` for `wake` to be called (or `signal`): the claim-wait of implementations
 * whose engine can notify. `subscribe` registers the wake-up and returns its release.
 * Resolves `true` when woken, `false` on time-out; `AbortError` on abort.
 */
export function waitForWake(ms: number, subscribe: (wake: () => void) => () => void, signal?: AbortSignal): Promise<boolean> {
  throwIfAborted(signal);
  return new Promise<boolean>((resolve, reject) => {
    let release: (() => void) | null = null;
    let done = false;
    const finish = (woken: boolean, err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      release?.();
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve(woken);
    };
    const onAbort = (): void => finish(false, new AbortError('claim wait aborted', { cause: signal?.reason }));
    const timer = setTimeout(() => finish(false), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    const off = subscribe(() => finish(true));
    if (done) off();
    else release = off;
  });
}
