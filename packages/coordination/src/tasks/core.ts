import {
  ConflictError,
  NotFoundError,
  ValidationError,
  type Store,
  type StoreEntry,
  cloneWireValue,
  nonNegativeOption,
  positiveIntOption,
} from '@converge/core';
import { TypedEmitter, requireId, type CallOptions, type Clock } from '../common.js';
import { frozenCopy, isTerminal, pastDeadline, recordKey, type TaskRecord } from './records.js';
import { DEFAULT_CACHE_SIZE, PendingIndex } from './pending-index.js';
import { OwnWrites, type OwnWrite } from './own-writes.js';
import { resolveTaskLimits, type TaskManagerEvents, type TaskManagerOptions, type TaskManagerStats } from './options.js';
import { expire } from './retry.js';
import { DEFAULT_POOL_CACHE_MS, TaskAccess } from './access.js';
import { PoolManager } from '../pool-manager.js';
import { TaskMeters } from './metrics.js';
import { COUNTER, TaskCounters } from './counters.js';
import { PoolIndex } from './pages.js';
import { TaskWatchers } from './watch.js';

/** A record mutation inside a transition: changes `rec` in place, or throws (nothing is written then). */
export type Mutation = (rec: TaskRecord, now: number) => void;

/**
 * The state one TaskManager shares between its parts (claims, retries, sweeps, listings), and
 * the compare-and-set transition engine they all go through. Internal: not exported by the
 * package; `TaskManager` is its only owner.
 */
export class TaskCore {
  readonly store: Store;
  readonly clock: Clock;
  /** Lease length when a task has no `claimTtlMs` constraint. */
  readonly ttl: number;
  readonly maxRetries: number;
  readonly retryBase: number;
  readonly retryMax: number;
  readonly casRounds: number;
  readonly sweepLimit: number;
  readonly agentListLimit: number;
  readonly events = new TypedEmitter<TaskManagerEvents>();
  readonly index: PendingIndex;
  /** The records this manager wrote last (see `OwnWrites`). */
  readonly own: OwnWrites;
  readonly #counters = new TaskCounters();
  /** Every task of a pool, by submit second (`listTasks`). */
  readonly poolIndex: PoolIndex;
  /** The open `watchPool` iterables. */
  readonly watchers: TaskWatchers;
  /** The access checks of submit, claim and cancel. */
  readonly access: TaskAccess;
  /** The manager's metrics (`TaskManagerOptions.metrics`; no-ops by default). */
  readonly meters: TaskMeters;

  /** Adds one to a counter of `stats()` (its slot: `COUNTER.claims`, ...). */
  count(slot: number): void {
    this.#counters.count(slot);
  }

  /** A snapshot of the counters (`TaskManager.stats`). */
  stats(): TaskManagerStats {
    return this.#counters.snapshot(this.events.listenerErrors);
  }

  /**
   * Runs an index write that follows a decisive compare-and-set. The transition has happened
   * and must not be reported as failed (the caller would retry into a ConflictError and never
   * learn, say, that it holds a lease); the index is only a hint that listing and sweeps
   * repair, so a failure here is counted, not thrown.
   */
  async tidy(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch {
      this.count(COUNTER.indexWriteFailures);
    }
  }

  /** Validates the options (throws `ValidationError`) and resolves the defaults. */
  constructor(options: TaskManagerOptions) {
    if (!options?.store) throw new ValidationError('TaskManager needs a store');
    const d = options.defaults ?? {};
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    ({
      claimTtlMs: this.ttl,
      maxRetries: this.maxRetries,
      retryBaseMs: this.retryBase,
      retryMaxMs: this.retryMax,
      maxCasRounds: this.casRounds,
      sweepLimit: this.sweepLimit,
      agentListLimit: this.agentListLimit,
    } = resolveTaskLimits(d));
    this.own = new OwnWrites(positiveIntOption(d.cacheSize, DEFAULT_CACHE_SIZE, 'defaults.cacheSize', 'validation'));
    this.index = new PendingIndex(this.store, d.cacheSize, () => this.count(COUNTER.indexRepairs), this.clock);
    // Default: the pools a PoolManager on the same store keeps (read through its public API).
    const pools = options.pools === undefined ? new PoolManager({ store: this.store }) : options.pools;
    if (pools !== null && typeof pools?.getPool !== 'function') throw new ValidationError('TaskManager pools must have getPool(poolId), or be null');
    if (options.governance !== undefined && typeof options.governance?.mayCancel !== 'function')
      throw new ValidationError('TaskManager governance must have mayCancel(agentId, task, pool)');
    const poolCacheMs = nonNegativeOption(d.poolCacheMs, DEFAULT_POOL_CACHE_MS, 'defaults.poolCacheMs', 'validation');
    // Real time, not the injected clock: the cache bounds how stale a pool record may be, and a
    // test clock that jumps (or stands still) must not make it live forever.
    this.access = new TaskAccess(pools, options.governance, () => this.count(COUNTER.refused), poolCacheMs);
    this.meters = new TaskMeters(options.metrics);
    this.poolIndex = new PoolIndex(this.store, this.clock);
    this.watchers = new TaskWatchers(this.events);
  }

  /** The stored entry of a task; unknown id → `NotFoundError`. */
  async read(key: string, taskId: string, options: CallOptions): Promise<StoreEntry<TaskRecord>> {
    const entry = await this.store.getEntry<TaskRecord>(key, options);
    if (!entry) throw new NotFoundError(`no task ${taskId}`);
    return entry;
  }

  /**
   * Read → check (deadline first) → mutate → CAS, retried on lost rounds. `mutate` changes the
   * record in place or throws (nothing is written then).
   */
  async transition(taskId: string, options: CallOptions, mutate: Mutation): Promise<TaskRecord> {
    const own = this.own.get(requireId(taskId, 'taskId'));
    const key = own?.key ?? recordKey(taskId);
    if (own !== undefined) {
      const rec = await this.#transitionOwn(taskId, key, own, options, mutate);
      if (rec !== null) return rec;
    }
    for (let round = 0; round < this.casRounds; round++) {
      const entry = await this.read(key, taskId, options);
      const now = this.clock();
      if (pastDeadline(entry.value, now)) {
        await expire(this, key, entry, now, options);
        continue;
      }
      const rec = entry.value;
      const was = rec.state;
      try {
        mutate(rec, now);
      } catch (err) {
        if (ConflictError.is(err)) this.count(COUNTER.conflicts);
        throw err;
      }
      const revision = await this.store.compareAndSet(key, rec, entry.revision, options);
      if (revision !== null) {
        this.remember(rec, revision);
        this.meters.moved(was, rec, now);
        return rec;
      }
      this.count(COUNTER.casRetries);
    }
    throw this.conflict(`task ${taskId}: gave up after ${this.casRounds} contended rounds`, undefined);
  }

  /**
   * `transition` from the record this manager wrote last, fenced by a CAS on its revision.
   * Returns the new record (the remembered object when still live: copy it with `out`), or `null` when the store must decide:
   * the CAS lost (someone wrote since), the task is past its deadline, or `mutate` refused
   * (a refusal is only ever made on a fresh read).
   */
  async #transitionOwn(taskId: string, key: string, own: OwnWrite, options: CallOptions, mutate: Mutation): Promise<TaskRecord | null> {
    const now = this.clock();
    if (pastDeadline(own.rec, now)) return null;
    const was = own.rec.state;
    const rec: TaskRecord = { ...own.rec };
    try {
      mutate(rec, now);
    } catch {
      this.own.delete(taskId);
      return null;
    }
    // The only member a transition replaces with the caller's data: a remembered record keeps
    // its own copy, so that what is remembered is exactly what is written.
    const keep = !isTerminal(rec);
    if (keep && rec.result !== own.rec.result) rec.result = cloneWireValue(rec.result);
    const revision = await this.store.compareAndSet(key, rec, own.revision, options);
    // A terminal record is forgotten, and its members (private to the entry until now) pass to
    // the caller; a live one stays remembered, and `out` copies it for the caller.
    this.own.delete(taskId);
    if (revision === null) return null;
    if (keep) this.own.set(taskId, key, rec, revision);
    this.meters.moved(was, rec, now);
    return rec;
  }

  /**
   * Remembers a record this manager just wrote at `revision` under `key` (default: its record
   * key), as a private frozen copy, which it returns; or forgets a terminal one (`undefined`).
   * Transitions copy the remembered record's top level only: its members stay frozen and shared.
   */
  remember(rec: TaskRecord, revision: number, key?: string): TaskRecord | undefined {
    if (isTerminal(rec)) {
      this.own.delete(rec.id);
      return undefined;
    }
    const copy = frozenCopy(rec);
    this.own.set(rec.id, key ?? recordKey(rec.id), copy, revision);
    return copy;
  }

  /** What callers and listeners get: the record, or a copy of it when it is the remembered one. */
  out(rec: TaskRecord): TaskRecord {
    return this.own.get(rec.id)?.rec === rec ? cloneWireValue(rec) : rec;
  }

  /** Deletes a stale index entry, counting it as a repair when it was there. */
  async repairDelete(indexKey: string, options: CallOptions): Promise<void> {
    if (await this.store.delete(indexKey, { signal: options.signal })) this.count(COUNTER.indexRepairs);
  }

  /** A counted `ConflictError` (for refusals outside `transition`, which counts its own). */
  conflict(message: string, state: string | undefined): ConflictError {
    this.count(COUNTER.conflicts);
    return conflictError(message, state);
  }
}

/** A `ConflictError` naming the task's current state (uncounted: `transition` counts refusals). */
export function conflictError(message: string, state: string | undefined): ConflictError {
  return new ConflictError(state ? `${message} (current state: ${state})` : message, { currentState: state });
}
