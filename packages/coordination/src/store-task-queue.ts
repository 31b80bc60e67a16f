// The portable `TaskQueue`: the contract of @converge/core's task-queue.ts over a TaskManager
// (its public API only) on any Store. Exactly-once, fencing, retries and deadlines are the
// TaskManager's; this file adds idempotent submit, batch and waiting claims, paging and watch.
import { ConflictError, NotFoundError, PolicyError, positiveIntOption, prepareSubmit, requireLease, requireReason, resolveClaim } from '@converge/core';
import { resolveList, resolveQueueDefaults, TASK_QUEUE_BRAND, throwIfAborted, ValidationError, waitForWake } from '@converge/core';
import type { ClaimedTask, ClaimRequest, ExpiredTask, ExpireOptions, ListTasksOptions, Pool, QueueCallOptions, QueuedTask } from '@converge/core';
import type { ResolvedClaim, Store, SubmitOptions, Task, TaskInit, TaskLease, TaskPage, TaskQueue, TaskQueueDefaults, TaskQueueEvent } from '@converge/core';
import type { WatchOptions, WireValue } from '@converge/core';
import { keySegment, type Clock } from './common.js';
import { TaskManager } from './tasks/manager.js';
import { actsAsMember, type PoolDirectory } from './tasks/access.js';
import { TASK_KEYS, parseIdKey, pendingPoolPrefix, recordKey, type TaskRecord } from './tasks/records.js';

/** Default interval at which a waiting claim looks again when no store notification came: 100 ms. */
export const DEFAULT_STORE_QUEUE_POLL_MS = 100;
/** Default cap on the records one `list` page reads while filtering (the page may come back short, with a cursor): 10,000. */
export const DEFAULT_STORE_QUEUE_LIST_SCAN = 10_000;
/** Key prefix of idempotency entries (`task-queue-idem:<key>` → the task first submitted with it). */
export const IDEMPOTENCY_PREFIX = 'task-queue-idem:';

/** Options of `new StoreTaskQueue`. */
export interface StoreTaskQueueOptions {
  /** Where tasks live (share it between processes to share the work). */
  store: Store;
  /** Wall clock, Unix ms (default `Date.now`). */
  clock?: Clock;
  /** Lease, retry and backoff defaults. */
  defaults?: TaskQueueDefaults;
  /** Tasks handled per `expire` sweep (the TaskManager's `sweepLimit`; default 10,000). */
  expireLimit?: number;
  /** Poll interval of waiting claims (default `DEFAULT_STORE_QUEUE_POLL_MS`); a store `watch` wakes them sooner. */
  pollMs?: number;
  /** Records one `list` page reads at most (default `DEFAULT_STORE_QUEUE_LIST_SCAN`). */
  listScanLimit?: number;
  /** Whether `start`/`stop` also start and stop the store (default false: the store is the caller's). */
  ownsStore?: boolean;
  /**
   * The application's pools (e.g. `new PoolManager({ store })`): with it, a task whose pool
   * does not exist is refused on submit and claim (`NotFoundError`) and a claiming agent must be
   * a member of the pool, its owner, or the pool open (`PolicyError`). Default: none, and
   * `poolId` is only a partition key, as core's `TaskQueue` contract (and the native engines)
   * have it. Required capabilities are enforced either way.
   */
  pools?: PoolDirectory;
}

/**
 * `TaskQueue` over a `TaskManager` on any `Store` (MemoryStore, FileStore, PostgresStore,
 * RedisStore...): the portable implementation, exactly-once across processes wherever the
 * store's compareAndSet is. Costs: a claim lists the pool's pending window and claims from
 * it (several store round trips per task); `list` walks record keys in order; `watch` sees
 * this instance's transitions only.
 */
export class StoreTaskQueue implements TaskQueue {
  /** Brand (see `isTaskQueue`). */
  readonly [TASK_QUEUE_BRAND] = true as const;
  /** The TaskManager doing the work (for its stats and events). */
  readonly manager: TaskManager;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #listScan: number;
  readonly #ownsStore: boolean;
  readonly #pools: PoolDirectory | undefined;

  constructor(options: StoreTaskQueueOptions) {
    if (!options?.store) throw new ValidationError('StoreTaskQueue needs a store');
    const d = resolveQueueDefaults(options.defaults);
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    this.#pollMs = positiveIntOption(options.pollMs, DEFAULT_STORE_QUEUE_POLL_MS, 'StoreTaskQueue pollMs', 'validation');
    this.#listScan = positiveIntOption(options.listScanLimit, DEFAULT_STORE_QUEUE_LIST_SCAN, 'StoreTaskQueue listScanLimit', 'validation');
    this.#ownsStore = options.ownsStore ?? false;
    this.#pools = options.pools;
    this.manager = new TaskManager({
      store: options.store,
      clock: this.#clock,
      defaults: {
        claimTtlMs: d.leaseMs,
        maxRetries: d.maxRetries,
        retryBaseMs: d.retryBaseMs,
        retryMaxMs: d.retryMaxMs,
        ...(options.expireLimit ? { sweepLimit: options.expireLimit } : {}),
      },
      pools: options.pools ?? null,
    });
  }

  /** Starts the store when this queue owns it. */
  async start(): Promise<void> {
    if (this.#ownsStore) await this.#store.start?.();
  }

  /** Ends every `watch`, releases the TaskManager's store watch, stops an owned store. */
  async stop(): Promise<void> {
    this.manager.stop();
    if (this.#ownsStore) await this.#store.stop?.();
  }

  /** See `TaskQueue.submit`. With a key, the first submit's task is written to the key's entry first, so a crash between the two writes is finished by the next submit. */
  async submit(init: TaskInit, options: SubmitOptions = {}): Promise<QueuedTask> {
    const task = prepareSubmit(init, this.#clock(), options);
    const sig = { signal: options.signal };
    if (options.idempotencyKey === undefined) return this.manager.submit(task, sig);
    const key = IDEMPOTENCY_PREFIX + keySegment(options.idempotencyKey);
    if (await this.#store.putIfAbsent(key, task, sig)) {
      try {
        return await this.manager.submit(task, sig);
      } catch (err) {
        // The id belongs to another task: this key must not point at it.
        await this.#store.delete(key, sig);
        throw err;
      }
    }
    const first = await this.#store.get<Task>(key, sig);
    if (first === undefined) return this.submit(init, options); // deleted by a failed first submit: race again
    try {
      return await this.manager.getTask(first.id, sig);
    } catch (err) {
      if (!NotFoundError.is(err)) throw err;
    }
    // The first submitter stopped between its two writes: finish its submit.
    try {
      return await this.manager.submit(first, sig);
    } catch (err) {
      if (ConflictError.is(err)) return this.manager.getTask(first.id, sig);
      throw err;
    }
  }

  /** See `TaskQueue.claim`. */
  async claim(request: ClaimRequest, options: QueueCallOptions = {}): Promise<ClaimedTask[]> {
    const req = resolveClaim(request);
    await this.#checkClaimer(req, options);
    const got = await this.#claimNow(req, options);
    if (got.length > 0 || req.waitMs === 0) return got;
    // Real time, whatever the queue's clock: this is how long the caller is kept waiting.
    const deadline = Date.now() + req.waitMs;
    for (let left = req.waitMs; left > 0; left = deadline - Date.now()) {
      await waitForWake(Math.min(this.#pollMs, left), (wake) => this.#store.watch?.(pendingPoolPrefix(req.poolId), wake) ?? (() => undefined), options.signal);
      const more = await this.#claimNow(req, options);
      if (more.length > 0) return more;
    }
    return [];
  }

  // Up front, so that a non-member or a missing pool is refused even when nothing is pending
  // (each claimed task is checked again by the manager).
  async #checkClaimer(req: ResolvedClaim, options: QueueCallOptions): Promise<void> {
    if (this.#pools === undefined) return;
    let pool: Pool;
    try {
      pool = await this.#pools.getPool(req.poolId, { signal: options.signal });
    } catch (err) {
      if (NotFoundError.is(err)) throw new NotFoundError(`${req.agentId} cannot claim from pool ${req.poolId}: no such pool`, { cause: err });
      throw err;
    }
    if (!actsAsMember(req.agentId, pool)) throw new PolicyError(`${req.agentId} may not claim in pool ${req.poolId}: not a member`);
  }

  async #claimNow(req: ResolvedClaim, options: QueueCallOptions): Promise<ClaimedTask[]> {
    const out: ClaimedTask[] = [];
    // A few rounds: a round's candidates can all be lost to rivals while others remain.
    for (let round = 0; round < 4 && out.length < req.max; round++) {
      throwIfAborted(options.signal);
      const candidates = await this.manager.listPendingTasksForAgent(req.agentId, [req.poolId], req.capabilities, {
        limit: Math.min(256, req.max * 4),
        signal: options.signal,
      });
      if (candidates.length === 0) break;
      // Start at a random place so that concurrent claimers do not all race for the oldest.
      const start = Math.floor(Math.random() * candidates.length);
      for (let i = 0; i < candidates.length && out.length < req.max; i++) {
        const candidate = candidates[(start + i) % candidates.length]!;
        try {
          // The manager checks the claim (capabilities, and pool membership with `pools`): a
          // refusal is a PolicyError, which ends the call rather than being taken for a lost race.
          const lease = await this.manager.claim(req.agentId, candidate.id, { signal: options.signal, capabilities: req.capabilities });
          out.push({ lease, task: await this.manager.getTask(candidate.id, options) });
        } catch (err) {
          if (!ConflictError.is(err)) throw err;
        }
      }
    }
    return out;
  }

  /** See `TaskQueue.extend`. */
  async extend(lease: TaskLease, options: QueueCallOptions = {}): Promise<TaskLease> {
    return this.manager.extendClaim(requireLease(lease, 'extend'), options);
  }

  /** See `TaskQueue.report`. */
  async report(lease: TaskLease, result: WireValue, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'report');
    return this.manager.report(l.agentId, l.taskId, result, l, options);
  }

  /** See `TaskQueue.fail`. */
  async fail(lease: TaskLease, reason: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'fail');
    return this.manager.fail(l.taskId, requireReason(reason), l.agentId, l, options);
  }

  /** See `TaskQueue.cancel`. */
  cancel(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    return this.manager.cancel(taskId, options);
  }

  /** See `TaskQueue.expire` (one `TaskManager.sweep`). */
  expire(options: ExpireOptions = {}): Promise<ExpiredTask[]> {
    return this.manager.sweep(undefined, options);
  }

  /** See `TaskQueue.get`. */
  get(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    return this.manager.getTask(taskId, options);
  }

  /**
   * See `TaskQueue.list`. Walks the record keys after the cursor in order, reading at most
   * `listScanLimit` records per page (a filtered page can come back short, with a cursor).
   */
  async list(options: ListTasksOptions = {}): Promise<TaskPage> {
    const { limit, cursor } = resolveList(options);
    const sig = { signal: options.signal };
    const keys = await this.#store.list(TASK_KEYS.record, sig);
    let i = cursor === null ? 0 : firstAfter(keys, recordKey(cursor));
    const tasks: QueuedTask[] = [];
    let read = 0;
    let last: string | null = null;
    for (; i < keys.length && tasks.length < limit && read < this.#listScan; i++) {
      const id = parseIdKey(TASK_KEYS.record, keys[i]!);
      if (id === null) continue;
      const rec = await this.#store.get<TaskRecord>(keys[i]!, sig);
      read++;
      last = id;
      if (rec === undefined || (options.state !== undefined && rec.state !== options.state) || (options.poolId !== undefined && rec.poolId !== options.poolId))
        continue;
      tasks.push(rec);
    }
    return { tasks, cursor: i < keys.length ? last : null };
  }

  /** See `TaskQueue.watch`: this instance's transitions (another process's are not seen; `TaskManager.watchPool`). */
  watch(options: WatchOptions = {}): AsyncIterable<TaskQueueEvent> {
    return this.manager.watchPool(options.poolId, options);
  }
}

/** Index of the first key greater than `key` in sorted `keys` (binary search). */
function firstAfter(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
