// The guide's TaskQueue: reads a task's record, decides with the pure transitions of
// src/task-records.ts, and writes the result back with compareAndSet.
import {
  ConflictError, NotFoundError, TASK_QUEUE_BRAND, TaskEventChannel, ValidationError, newQueuedTask, prepareSubmit, requireLease,
  requireReason, resolveClaim, resolveList, resolveQueueDefaults, throwIfAborted, waitForWake,
  type ClaimRequest, type ClaimedTask, type ExpiredTask, type ListTasksOptions, type QueueCallOptions, type QueuedTask,
  type ResolvedClaim, type ResolvedQueueDefaults, type Store, type StoreEntry, type SubmitOptions, type TaskInit, type TaskLease,
  type TaskPage, type TaskQueue, type TaskQueueDefaults, type TaskQueueEvent, type WatchOptions, type WireValue,
} from '@converge/core';
import {
  QueueKeys, cancelled, claimed, completed, extended, failed, isClaimable, isFinished, leaseOf, swept, type TaskRecord,
} from './task-records.js';

/** Options of `new GuideTaskQueue`. */
export interface GuideTaskQueueOptions {
  /** Where the tasks live: share one store (a FileStore, a server store) to share the work between processes. */
  store: Store;
  /** Wall clock, Unix ms (default `Date.now`). */
  clock?: () => number;
  /** Lease, retry and backoff defaults. */
  defaults?: TaskQueueDefaults;
  /** Prefix of this queue's keys (default `'guide-queue/'`). */
  namespace?: string;
  /** How often a waiting claim looks again when the store's `watch` did not wake it (default 50 ms). */
  pollMs?: number;
  /** Most tasks one `expire` sweep changes (default 1,000). */
  expireLimit?: number;
  /** Whether `start`/`stop` also start and stop the store (default false: the store is the caller's). */
  ownsStore?: boolean;
}

/** Rounds of read-decide-compareAndSet before an update gives up (each lost round means another client changed the task). */
const MAX_UPDATE_ROUNDS = 32;

/**
 * A `TaskQueue` over any `Store`, written with the Store's public API only. Every change of a
 * task is a compareAndSet of its record at the revision it was read at, so two clients (in one
 * process or several) can never both win the same claim, and a stale lease can never overwrite
 * a newer attempt. `watch` reports this instance's transitions.
 */
export class GuideTaskQueue implements TaskQueue {
  /** Brand (see `isTaskQueue`). */
  readonly [TASK_QUEUE_BRAND] = true as const;
  readonly #store: Store;
  readonly #clock: () => number;
  readonly #d: ResolvedQueueDefaults;
  readonly #keys: QueueKeys;
  readonly #pollMs: number;
  readonly #expireLimit: number;
  readonly #ownsStore: boolean;
  readonly #channels = new Set<TaskEventChannel>();
  // Aborted by stop(), so that waiting claims end with it.
  #stopped = new AbortController();

  constructor(options: GuideTaskQueueOptions) {
    if (!options?.store) throw new ValidationError('GuideTaskQueue needs a store');
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    this.#d = resolveQueueDefaults(options.defaults);
    this.#keys = new QueueKeys(options.namespace ?? 'guide-queue/');
    this.#pollMs = positive(options.pollMs ?? 50, 'pollMs');
    this.#expireLimit = positive(options.expireLimit ?? 1_000, 'expireLimit');
    this.#ownsStore = options.ownsStore ?? false;
  }

  /** Starts the store when this queue owns it. */
  async start(): Promise<void> {
    if (this.#stopped.signal.aborted) this.#stopped = new AbortController();
    if (this.#ownsStore) await this.#store.start?.();
  }

  /** Ends every `watch` and waiting claim; stops the store when this queue owns it. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    for (const channel of [...this.#channels]) channel.close();
    if (this.#ownsStore) await this.#store.stop?.();
  }

  // --- submit ---------------------------------------------------------------------------------

  /** See `TaskQueue.submit`. */
  async submit(init: TaskInit, options: SubmitOptions = {}): Promise<QueuedTask> {
    const now = this.#clock();
    const task = newQueuedTask(prepareSubmit(init, now, options), now);
    const key = options.idempotencyKey;
    const io = { signal: options.signal };
    if (key === undefined) {
      if (!(await this.#create({ task, idempotencyKey: null }, io))) throw duplicateId(task.id);
      return task;
    }
    const idemKey = this.#keys.idempotency(key);
    // The first submit with this key is the one whose putIfAbsent wins; it then writes its task.
    if (await this.#store.putIfAbsent(idemKey, task, io)) {
      if (await this.#create({ task, idempotencyKey: key }, io)) return task;
      const existing = await this.#entry(task.id, io);
      if (existing.value.idempotencyKey === key) return existing.value.task; // a racing submit finished ours
      await this.#store.delete(idemKey, io); // the id is another task's: free the key again
      throw duplicateId(task.id);
    }
    const first = await this.#store.get<QueuedTask>(idemKey, io);
    if (first === undefined) throw new ConflictError(`the first submit with idempotency key ${key} was refused just now; submit again`);
    // No record yet: the first submitter is between its two writes, or died there. Finish its
    // submit, writing the very task it would have written (whichever of us is second finds it).
    if ((await this.#store.get(this.#keys.record(first.id), io)) === undefined) await this.#create({ task: first, idempotencyKey: key }, io);
    const rec = (await this.#entry(first.id, io)).value;
    if (rec.idempotencyKey !== key) throw new ConflictError(`the first submit with idempotency key ${key} was refused: task id ${first.id} is taken`);
    return rec.task;
  }

  /**
   * Writes a new task: its live-index entry first, then the record (putIfAbsent). In that order
   * a pending task always has its entry, even if this process dies in between (an entry without
   * a record is skipped by claims). Returns false when the id is taken.
   */
  async #create(rec: TaskRecord, options: QueueCallOptions): Promise<boolean> {
    await this.#store.put(this.#keys.liveEntry(rec.task), rec.task.id, options);
    if (!(await this.#store.putIfAbsent(this.#keys.record(rec.task.id), rec, options))) return false;
    this.#emit(rec.task);
    return true;
  }

  // --- claim ----------------------------------------------------------------------------------

  /** See `TaskQueue.claim`. A waiting claim looks again when the store reports a write, and every `pollMs`. */
  async claim(request: ClaimRequest, options: QueueCallOptions = {}): Promise<ClaimedTask[]> {
    const req = resolveClaim(request);
    const stopped = this.#stopped.signal;
    // A waiting claim ends with the caller's signal or with stop(), whichever comes first.
    const signal = req.waitMs === 0 ? options.signal : options.signal ? AbortSignal.any([options.signal, stopped]) : stopped;
    // Real time, whatever the queue's clock: this is how long the caller is kept waiting.
    const waitUntil = Date.now() + req.waitMs;
    for (;;) {
      const got = await this.#claimNow(req, signal);
      const left = waitUntil - Date.now();
      if (got.length > 0 || left <= 0) return got;
      await waitForWake(Math.min(this.#pollMs, left), (wake) => this.#store.watch?.(this.#keys.records, wake) ?? (() => undefined), signal);
    }
  }

  /** One pass over the pool's live tasks, oldest first, claiming up to `max` of them. */
  async #claimNow(req: ResolvedClaim, signal: AbortSignal | undefined): Promise<ClaimedTask[]> {
    const out: ClaimedTask[] = [];
    // A lost compareAndSet means a rival took that task; look again, as others may remain.
    for (let round = 0, lost = true; lost && round < 4 && out.length < req.max; round++) {
      lost = false;
      for (const key of await this.#store.list(this.#keys.livePool(req.poolId), { signal })) {
        if (out.length >= req.max) break;
        throwIfAborted(signal);
        const entry = await this.#liveTask(key, signal);
        const now = this.#clock();
        if (!entry || !isClaimable(entry.value.task, req.capabilities, now)) continue;
        const task = claimed(entry.value.task, req.agentId, now, this.#d);
        if (await this.#store.compareAndSet(this.#keys.record(task.id), { ...entry.value, task }, entry.revision, { signal }) === null) {
          lost = true;
          continue;
        }
        this.#emit(task);
        out.push({ task, lease: leaseOf(task) });
      }
    }
    return out;
  }

  /**
   * The record a live-index entry points at, or `undefined`. An entry whose task is finished, or
   * that is not the task's own entry (left by a refused duplicate submit), is removed: neither
   * can become live again. An entry without a record (a submit in progress) is kept.
   */
  async #liveTask(key: string, signal?: AbortSignal): Promise<StoreEntry<TaskRecord> | undefined> {
    const entry = await this.#store.getEntry<TaskRecord>(this.#keys.record(this.#keys.idOfLiveEntry(key)), { signal });
    if (entry === undefined) return undefined;
    const { task } = entry.value;
    if (!isFinished(task.state) && this.#keys.liveEntry(task) === key) return entry;
    await this.#store.delete(key, { signal });
    return undefined;
  }

  // --- the holder's calls, cancel and the sweep --------------------------------------------------

  /** See `TaskQueue.extend`. */
  async extend(lease: TaskLease, options: QueueCallOptions = {}): Promise<TaskLease> {
    const l = requireLease(lease, 'extend');
    return leaseOf(await this.#update(l.taskId, (task, now) => extended(task, l, now, this.#d), options));
  }

  /** See `TaskQueue.report`. */
  async report(lease: TaskLease, result: WireValue, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'report');
    return this.#update(l.taskId, (task, now) => completed(task, l, result, now), options);
  }

  /** See `TaskQueue.fail`. */
  async fail(lease: TaskLease, reason: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    const l = requireLease(lease, 'fail');
    const why = requireReason(reason);
    return this.#update(l.taskId, (task, now) => failed(task, l, why, now, this.#d), options);
  }

  /** See `TaskQueue.cancel`. */
  async cancel(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    return this.#update(taskId, (task, now) => cancelled(task, now), options);
  }

  /**
   * Read the record, let `change` decide (it throws to refuse, e.g. a fenced lease), write it
   * back with compareAndSet at the revision read; when another client wrote in between, decide
   * again on its version.
   */
  async #update(id: string, change: (task: QueuedTask, now: number) => QueuedTask, options: QueueCallOptions): Promise<QueuedTask> {
    for (let round = 0; round < MAX_UPDATE_ROUNDS; round++) {
      const entry = await this.#entry(id, options);
      const task = change(entry.value.task, this.#clock());
      if (await this.#store.compareAndSet(this.#keys.record(id), { ...entry.value, task }, entry.revision, options) !== null) {
        await this.#settled(entry.value.task, task, options);
        return task;
      }
    }
    throw new ConflictError(`task ${id} kept changing under ${MAX_UPDATE_ROUNDS} updates in a row; try again`);
  }

  /** See `TaskQueue.expire`: one pass over every pool's live tasks. */
  async expire(options: QueueCallOptions = {}): Promise<ExpiredTask[]> {
    const out: ExpiredTask[] = [];
    for (const key of await this.#store.list(this.#keys.live, options)) {
      if (out.length >= this.#expireLimit) break;
      throwIfAborted(options.signal);
      const entry = await this.#liveTask(key, options.signal);
      const due = entry && swept(entry.value.task, this.#clock(), this.#d);
      if (!entry || !due) continue;
      // Lost to another client (a report just in time, another sweep): that one's version stands.
      if (await this.#store.compareAndSet(this.#keys.record(due.task.id), { ...entry.value, task: due.task }, entry.revision, options) === null) continue;
      await this.#settled(entry.value.task, due.task, options);
      out.push(due.report);
    }
    return out;
  }

  /** After a successful write: report the transition, and drop a finished task from the live index. */
  async #settled(before: QueuedTask, after: QueuedTask, options: QueueCallOptions): Promise<void> {
    if (before.state !== after.state || before.attempts !== after.attempts) this.#emit(after);
    // A crash before this delete only leaves an entry that the next claim or sweep removes.
    if (isFinished(after.state)) await this.#store.delete(this.#keys.liveEntry(after), options);
  }

  // --- reading ----------------------------------------------------------------------------------

  /** See `TaskQueue.get`. */
  async get(taskId: string, options: QueueCallOptions = {}): Promise<QueuedTask> {
    return (await this.#entry(taskId, options)).value.task;
  }

  async #entry(id: string, options: QueueCallOptions): Promise<StoreEntry<TaskRecord>> {
    if (typeof id !== 'string' || id.length === 0) throw new ValidationError('a task id is a non-empty string');
    const entry = await this.#store.getEntry<TaskRecord>(this.#keys.record(id), options);
    if (entry === undefined) throw new NotFoundError(`no task ${id}`);
    return entry;
  }

  /**
   * See `TaskQueue.list`: the record keys in id order from the cursor on, reading records until
   * the page is full. Cost: one key listing of the whole queue per page.
   */
  async list(options: ListTasksOptions = {}): Promise<TaskPage> {
    const { limit, cursor } = resolveList(options);
    const io = { signal: options.signal };
    const ids = (await this.#store.list(this.#keys.records, io)).map((k) => k.slice(this.#keys.records.length));
    const tasks: QueuedTask[] = [];
    let i = cursor === null ? 0 : ids.findIndex((id) => id > cursor);
    if (i < 0) i = ids.length;
    for (; i < ids.length && tasks.length < limit; i++) {
      const task = (await this.#store.get<TaskRecord>(this.#keys.record(ids[i]!), io))?.task;
      if (!task || (options.state !== undefined && task.state !== options.state) || (options.poolId !== undefined && task.poolId !== options.poolId)) continue;
      tasks.push(task);
    }
    return { tasks, cursor: i < ids.length ? ids[i - 1]! : null };
  }

  /** See `TaskQueue.watch`: the transitions this instance makes (not other clients'). */
  watch(options: WatchOptions = {}): AsyncIterable<TaskQueueEvent> {
    const channel: TaskEventChannel = new TaskEventChannel(options, () => this.#channels.delete(channel));
    if (this.#stopped.signal.aborted) channel.close();
    else this.#channels.add(channel);
    return channel;
  }

  #emit(task: QueuedTask): void {
    const event: TaskQueueEvent = { taskId: task.id, poolId: task.poolId ?? '', state: task.state, attempt: task.attempts };
    for (const channel of this.#channels) channel.push(event);
  }
}

/** The guide's queue over `store` (a MapStore in one process; a FileStore or server store across processes). */
export function createTaskQueue(store: Store, options: Omit<GuideTaskQueueOptions, 'store'> = {}): GuideTaskQueue {
  return new GuideTaskQueue({ ...options, store });
}

function duplicateId(id: string): ConflictError {
  return new ConflictError(`a task with id ${id} already exists`);
}

function positive(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new ValidationError(`GuideTaskQueue ${name} must be a positive integer`);
  return v;
}
