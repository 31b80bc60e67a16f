import {
  ConflictError, NotFoundError, ValidationError, createTask, throwIfAborted,
  type Store, type StoreEntry, type Task, type TaskInit, type WireValue,
} from '@converge/core';
import { TypedEmitter, nonNegative, positiveInt, requireId, type CallOptions, type Clock, type Listener } from './common.js';
import {
  TASK_KEYS, claimedKey, deadKey, deepFreeze, isClaimed, isTerminal, parseClaimedKey, parseIdKey, parsePendingKey,
  pastDeadline, pendingKey, pendingPoolPrefix, recordKey, copyPlainData, validateConstraints,
  type Lease, type ReleasedClaim, type TaskRecord,
} from './task-record.js';
import { DEFAULT_CACHE_SIZE, PendingIndex } from './pending-index.js';
import { OwnWrites, type OwnWrite } from './own-writes.js';

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
  /** Event listener calls that threw. */
  listenerErrors: number;
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

/**
 * Leased, exactly-once task lifecycle on a shared Store.
 *
 * Every transition reads the task record and writes it back with `compareAndSet`, so any
 * number of TaskManagers, in any number of processes, on the same store never both win a
 * claim. Index entries (`task-pending:`, `task-claimed:`, `task-dead:`) are written around the
 * record's CAS; the record is the source of truth and the indexes are repaired lazily.
 *
 * State machine: pending → assigned (claim) → running (start) → completed (report);
 * assigned|running → pending (fail with retries left, or an expired lease) or failed
 * (dead-lettered); any non-terminal → cancelled (cancel) or failed (deadline).
 */
export class TaskManager {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #maxRetries: number;
  readonly #retryBase: number;
  readonly #retryMax: number;
  readonly #casRounds: number;
  readonly #sweepLimit: number;
  readonly #agentListLimit: number;
  readonly #events = new TypedEmitter<TaskManagerEvents>();
  readonly #index: PendingIndex;
  readonly #own: OwnWrites;
  readonly #stats: Omit<TaskManagerStats, 'listenerErrors'> = {
    submitted: 0, claims: 0, conflicts: 0, casRetries: 0, completed: 0, failed: 0, retried: 0, deadLettered: 0,
    released: 0, returned: 0, expired: 0, cancelled: 0, extended: 0, indexRepairs: 0,
  };

  constructor(options: TaskManagerOptions) {
    if (!options?.store) throw new ValidationError('TaskManager needs a store');
    const d = options.defaults ?? {};
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    this.#ttl = positiveInt(d.claimTtlMs, DEFAULT_CLAIM_TTL_MS, 'defaults.claimTtlMs');
    this.#maxRetries = d.maxRetries === undefined ? DEFAULT_MAX_RETRIES : nonNegativeInt(d.maxRetries, 'defaults.maxRetries');
    this.#retryBase = nonNegative(d.retryBaseMs, DEFAULT_RETRY_BASE_MS, 'defaults.retryBaseMs');
    this.#retryMax = nonNegative(d.retryMaxMs, DEFAULT_RETRY_MAX_MS, 'defaults.retryMaxMs');
    this.#casRounds = positiveInt(d.maxCasRounds, DEFAULT_MAX_CAS_ROUNDS, 'defaults.maxCasRounds');
    this.#sweepLimit = positiveInt(d.sweepLimit, DEFAULT_SWEEP_LIMIT, 'defaults.sweepLimit');
    this.#agentListLimit = Math.min(this.#sweepLimit, positiveInt(d.agentListLimit, DEFAULT_AGENT_LIST_LIMIT, 'defaults.agentListLimit'));
    this.#own = new OwnWrites(positiveInt(d.cacheSize, DEFAULT_CACHE_SIZE, 'defaults.cacheSize'));
    this.#index = new PendingIndex(this.#store, d.cacheSize, () => this.#stats.indexRepairs++);
  }

  /** Subscribes to an event; returns the unsubscribe function. Listeners run synchronously and must not throw. */
  on<K extends keyof TaskManagerEvents>(event: K, listener: Listener<TaskManagerEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof TaskManagerEvents>(event: K, listener: Listener<TaskManagerEvents[K]>): void {
    this.#events.off(event, listener);
  }

  /** A snapshot of the counters. */
  stats(): TaskManagerStats {
    return { ...this.#stats, listenerErrors: this.#events.listenerErrors };
  }

  /** Releases the store watch used by the listing cache (the store itself is the caller's). */
  stop(): void {
    this.#index.stop();
    this.#own.clear();
  }

  /**
   * Stores a new pending task. Throws `ConflictError` if the id exists, `ValidationError` on
   * bad constraints, a non-pending state or a deadline already past.
   */
  async submit(task: Task | TaskInit, options: CallOptions = {}): Promise<TaskRecord> {
    const t = createTask(task);
    requireId(t.id, 'task id');
    if (t.state !== 'pending') throw new ValidationError(`task ${t.id}: a submitted task must be pending, got ${t.state}`);
    validateConstraints(t);
    const now = this.#clock();
    if (t.constraints.deadline !== undefined && now >= t.constraints.deadline) {
      throw new ValidationError(`task ${t.id}: deadline ${t.constraints.deadline} already passed`);
    }
    // Spelled out rather than `{ ...t, more }`: V8 gives a spread followed by new members a
    // hidden class of its own per object (measured: ~50x slower to build, and every later
    // access to such records megamorphic). One literal = one shape for every record.
    const rec: TaskRecord = {
      id: t.id, objective: t.objective, inputs: t.inputs, outputs: t.outputs, constraints: t.constraints,
      evaluator: t.evaluator, state: t.state, assignedTo: null, result: t.result ?? null, claimedAt: null,
      poolId: t.poolId, topic: t.topic, requiredCapabilities: t.requiredCapabilities, attempts: 0,
      leaseExpiresAt: null, notBefore: null, failures: 0, deadLettered: false, failureReason: null, submittedAt: now, updatedAt: now,
    };
    const sig: CallOptions = options; // the store reads `signal` only
    // Revision 0 = "must not exist" (putIfAbsent), and the answer is the revision to remember.
    const revision = await this.#store.compareAndSet(recordKey(rec.id), rec, 0, sig);
    if (revision === null) {
      const existing = await this.#store.get<TaskRecord>(recordKey(rec.id), sig);
      throw this.#conflict(`task ${rec.id} already exists`, existing?.state);
    }
    this.#remember(rec, revision);
    // Record first, index second: an index entry never points at a record that was never written.
    await this.#store.put(pendingKey(rec.poolId, rec.id), 1, sig);
    this.#stats.submitted++;
    this.#events.emit('submitted', rec);
    return rec;
  }

  /**
   * Claims a pending task for `agentId` (exactly once across every TaskManager on the store)
   * and returns its lease. A claimed task whose lease ran out is taken back first (counted as
   * a failed attempt). Throws `NotFoundError`, or `ConflictError` with `currentState` when the
   * task is not claimable (claimed, terminal, backing off, past its deadline, or lost race).
   */
  async claim(agentId: string, taskId: string, options: CallOptions = {}): Promise<Lease> {
    requireId(agentId, 'agentId');
    const own = this.#own.get(requireId(taskId, 'taskId'));
    // The remembered key string is built and hashed once, not on every call.
    const key = own?.key ?? recordKey(taskId);
    const sig: CallOptions = options; // the store reads `signal` only
    if (own !== undefined) {
      const lease = await this.#claimOwn(agentId, taskId, key, own, sig);
      if (lease !== null) return lease;
    }
    for (let round = 0; round < this.#casRounds; round++) {
      const entry = await this.#read(key, taskId, options);
      const rec = entry.value;
      const now = this.#clock();
      if (pastDeadline(rec, now)) {
        await this.#expire(key, entry, now, options);
        continue;
      }
      if (isClaimed(rec) && rec.leaseExpiresAt !== null && rec.leaseExpiresAt <= now) {
        await this.#release(key, entry, now, options);
        continue;
      }
      if (rec.state !== 'pending') {
        throw this.#conflict(`task ${taskId} is ${rec.state}${rec.assignedTo ? ` (assigned to ${rec.assignedTo})` : ''}`, rec.state);
      }
      if (rec.notBefore !== null && rec.notBefore > now) {
        throw this.#conflict(`task ${taskId} is pending a retry, claimable from ${rec.notBefore}`, rec.state);
      }
      const attempt = rec.attempts + 1;
      const expiresAt = now + (rec.constraints.claimTtlMs ?? this.#ttl);
      rec.state = 'assigned';
      rec.assignedTo = agentId;
      rec.attempts = attempt;
      rec.claimedAt = now;
      rec.leaseExpiresAt = expiresAt;
      rec.notBefore = null;
      rec.updatedAt = now;
      // The claim index is written before the CAS so that a crash right after it never leaves
      // an unindexed claim (which the sweep could then never release).
      await this.#store.put(claimedKey(taskId, attempt), agentId, sig);
      const revision = await this.#store.compareAndSet(key, rec, entry.revision, sig);
      if (revision === null) {
        this.#stats.casRetries++;
        continue;
      }
      this.#remember(rec, revision);
      return this.#claimed(rec, attempt, expiresAt, sig);
    }
    throw this.#conflict(`task ${taskId}: gave up after ${this.#casRounds} contended rounds`, undefined);
  }

  /**
   * Claim from the record this manager wrote last, without reading it back: the CAS against
   * its revision fails if anyone wrote the task since. `null` = decide from the store instead
   * (a refusal is always decided on a fresh read).
   */
  async #claimOwn(agentId: string, taskId: string, key: string, own: OwnWrite, sig: CallOptions): Promise<Lease | null> {
    const cur = own.rec;
    const now = this.#clock();
    if (cur.state !== 'pending' || (cur.notBefore !== null && cur.notBefore > now) || pastDeadline(cur, now)) return null;
    const rec: TaskRecord = { ...cur };
    const attempt = cur.attempts + 1;
    const expiresAt = now + (cur.constraints.claimTtlMs ?? this.#ttl);
    rec.state = 'assigned';
    rec.assignedTo = agentId;
    rec.attempts = attempt;
    rec.claimedAt = now;
    rec.leaseExpiresAt = expiresAt;
    rec.notBefore = null;
    rec.updatedAt = now;
    // As in `claim`: the claim index first. If the CAS then fails, the entry names an attempt
    // the record has passed or will reach through a rival's claim, and the sweep clears it.
    await this.#store.put(claimedKey(taskId, attempt), agentId, sig);
    const revision = await this.#store.compareAndSet(key, rec, own.revision, sig);
    if (revision === null) {
      this.#own.delete(taskId);
      return null;
    }
    this.#own.set(taskId, key, rec, revision);
    return this.#claimed(rec, attempt, expiresAt, sig);
  }

  async #claimed(rec: TaskRecord, attempt: number, expiresAt: number, sig: CallOptions): Promise<Lease> {
    await this.#store.delete(pendingKey(rec.poolId, rec.id), sig);
    this.#stats.claims++;
    const lease: Lease = { taskId: rec.id, agentId: rec.assignedTo!, attempt, expiresAt };
    if (this.#events.hasListeners('claimed')) this.#events.emit('claimed', { task: this.#out(rec), lease });
    return lease;
  }

  /** Heartbeat: extends a valid lease by the task's TTL from now. Stale or expired lease → `ConflictError`. */
  async extendClaim(lease: Lease, options: CallOptions = {}): Promise<Lease> {
    if (!lease || typeof lease !== 'object') throw new ValidationError('extendClaim needs a lease');
    let out: Lease | undefined;
    await this.#transition(lease.taskId, options, (rec, now) => {
      this.#checkHolder(rec, lease.agentId, lease, now);
      rec.leaseExpiresAt = now + (rec.constraints.claimTtlMs ?? this.#ttl);
      rec.updatedAt = now;
      out = { taskId: rec.id, agentId: lease.agentId, attempt: rec.attempts, expiresAt: rec.leaseExpiresAt };
    });
    this.#stats.extended++;
    return out!;
  }

  /** Marks a claimed task running (assigned → running). */
  async start(agentId: string, taskId: string, lease?: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    requireId(agentId, 'agentId');
    const rec = await this.#transition(taskId, options, (r, now) => {
      if (r.state !== 'assigned') throw conflictError(`task ${taskId} is ${r.state}, not assigned`, r.state);
      this.#checkHolder(r, agentId, lease, now);
      r.state = 'running';
      r.updatedAt = now;
    });
    const out = this.#out(rec);
    this.#events.emit('started', out);
    return out;
  }

  /**
   * Completes a claimed task (assigned or running) with `result`. Only the holder of the
   * current, unexpired lease may report; anyone else gets `ConflictError` naming the state and
   * the assignee.
   */
  async report(agentId: string, taskId: string, result: WireValue, lease?: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    requireId(agentId, 'agentId');
    let attempt = 0;
    const rec = await this.#transition(taskId, options, (r, now) => {
      this.#checkHolder(r, agentId, lease, now);
      attempt = r.attempts;
      r.state = 'completed';
      r.result = result === undefined ? null : result;
      r.leaseExpiresAt = null;
      r.updatedAt = now;
    });
    await this.#store.delete(claimedKey(taskId, attempt), options);
    this.#stats.completed++;
    const out = this.#out(rec);
    if (this.#events.hasListeners('completed')) this.#events.emit('completed', out);
    return out;
  }

  /**
   * Reports a failed attempt of a claimed task. With retries left (`maxRetries` constraint or
   * default), the task goes back to pending with `notBefore` = now + exponential backoff;
   * otherwise it is dead-lettered (state `failed`, `deadLettered: true`). Pass `agentId`
   * (and `lease`) to be fenced like `report`; without them the call is a coordinator's.
   */
  async fail(taskId: string, reason: string, agentId?: string, lease?: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    if (typeof reason !== 'string') throw new ValidationError('fail reason must be a string');
    const who = agentId ?? lease?.agentId;
    let attempt = 0;
    const rec = await this.#transition(taskId, options, (r, now) => {
      if (!isClaimed(r)) throw conflictError(`task ${taskId} is ${r.state}; only a claimed task can fail`, r.state);
      if (who !== undefined) this.#checkHolder(r, who, lease, now);
      attempt = r.attempts;
      this.#failAttempt(r, reason, now, true);
    });
    await this.#afterFailOrRelease(rec, attempt, options);
    this.#stats.failed++;
    if (rec.deadLettered) this.#stats.deadLettered++;
    else this.#stats.retried++;
    const out = this.#out(rec);
    this.#events.emit('failed', { task: out, reason, deadLettered: rec.deadLettered, retryAt: rec.deadLettered ? null : rec.notBefore });
    return out;
  }

  /**
   * Hands a claimed task back to pending without counting a failure (e.g. a worker stopping
   * gracefully). Only the holder of the current lease may.
   */
  async release(agentId: string, taskId: string, lease?: Lease, options: CallOptions = {}): Promise<TaskRecord> {
    requireId(agentId, 'agentId');
    let attempt = 0;
    const rec = await this.#transition(taskId, options, (r, now) => {
      this.#checkHolder(r, agentId, lease, now);
      attempt = r.attempts;
      r.state = 'pending';
      r.assignedTo = null;
      r.claimedAt = null;
      r.leaseExpiresAt = null;
      r.notBefore = null;
      r.updatedAt = now;
    });
    await this.#afterFailOrRelease(rec, attempt, options);
    this.#stats.returned++;
    const out = this.#out(rec);
    this.#events.emit('released', out);
    return out;
  }

  /** Cancels a task from any non-terminal state; a terminal task → `ConflictError`. */
  async cancel(taskId: string, options: CallOptions = {}): Promise<TaskRecord> {
    let before: TaskRecord['state'] = 'pending';
    const rec = await this.#transition(taskId, options, (r, now) => {
      if (isTerminal(r)) throw conflictError(`task ${taskId} is already ${r.state}`, r.state);
      before = r.state;
      r.state = 'cancelled';
      r.leaseExpiresAt = null;
      r.updatedAt = now;
    });
    const sig: CallOptions = options; // the store reads `signal` only
    if (before === 'pending') await this.#store.delete(pendingKey(rec.poolId, taskId), sig);
    else await this.#store.delete(claimedKey(taskId, rec.attempts), sig);
    this.#stats.cancelled++;
    const out = this.#out(rec);
    this.#events.emit('cancelled', out);
    return out;
  }

  /**
   * Takes back every claim whose lease ran out by `now` (default: the clock): the task goes
   * back to pending, or is dead-lettered when out of retries, or fails when past its deadline.
   * Also repairs the claim index. Returns what it released (at most `sweepLimit` entries).
   */
  async releaseExpiredClaims(now?: number, options: CallOptions = {}): Promise<ReleasedClaim[]> {
    const sig: CallOptions = options; // the store reads `signal` only
    const released: ReleasedClaim[] = [];
    const keys = await this.#store.list(TASK_KEYS.claimed, sig);
    for (const ik of keys) {
      if (released.length >= this.#sweepLimit) break;
      throwIfAborted(options.signal);
      const parsed = parseClaimedKey(ik);
      if (!parsed) continue;
      const key = recordKey(parsed.taskId);
      const entry = await this.#store.getEntry<TaskRecord>(key, sig);
      if (!entry) {
        await this.#repairDelete(ik, options);
        continue;
      }
      const rec = entry.value;
      const t = now ?? this.#clock();
      if (rec.attempts === parsed.attempt && pastDeadline(rec, t)) {
        if (await this.#expire(key, entry, t, options, false)) {
          released.push({ taskId: rec.id, agentId: rec.assignedTo, attempt: rec.attempts, outcome: 'expired' });
        }
      } else if (isClaimed(rec) && rec.attempts === parsed.attempt) {
        if (rec.leaseExpiresAt !== null && rec.leaseExpiresAt <= t) {
          const r = await this.#release(key, entry, t, options);
          if (r) released.push(r);
        }
      } else if (rec.state === 'pending' && rec.attempts === parsed.attempt) {
        // A release that stopped between its CAS and its index writes: finish them.
        await this.#store.put(pendingKey(rec.poolId, rec.id), 1, sig);
        await this.#repairDelete(ik, options);
      } else if (isTerminal(rec) || rec.attempts > parsed.attempt) {
        await this.#repairDelete(ik, options);
      }
      // attempts < entry's attempt on a live task: a claim in flight wrote the entry; keep it.
    }
    return released;
  }

  /**
   * Full maintenance pass: `releaseExpiredClaims`, then fails pending tasks past their
   * deadline. Returns everything it changed.
   */
  async sweep(now?: number, options: CallOptions = {}): Promise<ReleasedClaim[]> {
    const out = await this.releaseExpiredClaims(now, options);
    const keys = await this.#store.list(TASK_KEYS.pending, { signal: options.signal });
    for (const ik of keys) {
      if (out.length >= this.#sweepLimit) break;
      throwIfAborted(options.signal);
      const parsed = parsePendingKey(ik);
      if (!parsed) continue;
      const key = recordKey(parsed.taskId);
      const entry = await this.#store.getEntry<TaskRecord>(key, { signal: options.signal });
      const t = now ?? this.#clock();
      if (entry && entry.value.state === 'pending' && pastDeadline(entry.value, t)) {
        if (await this.#expire(key, entry, t, options, false)) {
          out.push({ taskId: entry.value.id, agentId: null, attempt: entry.value.attempts, outcome: 'expired' });
        }
      }
    }
    return out;
  }

  /** The stored record of a task (a copy). Unknown id → `NotFoundError`. */
  async getTask(taskId: string, options: CallOptions = {}): Promise<TaskRecord> {
    return (await this.#read(recordKey(requireId(taskId, 'taskId')), taskId, options)).value;
  }

  /**
   * Every pending task, from the pending index (not a store scan), including those waiting
   * for a retry time. Returned records are frozen snapshots (do not mutate). At most `sweepLimit`.
   */
  async listPendingTasks(options: CallOptions = {}): Promise<TaskRecord[]> {
    return this.#index.list([TASK_KEYS.pending], this.#sweepLimit, options, () => true);
  }

  /**
   * Pending tasks that `agentId` may claim now: in one of `poolIds` (or in no pool), not
   * waiting for a retry, not past their deadline, and whose `requiredCapabilities` are all in
   * `capabilities`. Reads only the pending index of those pools; with a store that has
   * `watch`, an in-memory cache makes repeated calls cost no store reads. Returns the oldest
   * such tasks this manager knows of, at most `options.limit` (default `agentListLimit`,
   * capped by `sweepLimit`), so a call costs the same whatever the backlog.
   */
  async listPendingTasksForAgent(agentId: string, poolIds: readonly string[], capabilities: Iterable<string>, options: ListOptions = {}): Promise<TaskRecord[]> {
    requireId(agentId, 'agentId');
    const caps = capabilities instanceof Set ? (capabilities as Set<string>) : new Set(capabilities);
    const prefixes = [pendingPoolPrefix(null)];
    for (const p of poolIds) prefixes.push(pendingPoolPrefix(p));
    const now = this.#clock();
    const limit = options.limit === undefined ? this.#agentListLimit : Math.min(this.#sweepLimit, positiveInt(options.limit, 1, 'limit'));
    return this.#index.list(prefixes, limit, options, (r) => {
      if ((r.notBefore !== null && r.notBefore > now) || pastDeadline(r, now)) return false;
      const need = r.requiredCapabilities;
      for (let i = 0; i < need.length; i++) if (!caps.has(need[i]!)) return false;
      return true;
    });
  }

  /** Dead-lettered tasks (at most `sweepLimit`). */
  async listDeadLetters(options: CallOptions = {}): Promise<TaskRecord[]> {
    const keys = await this.#store.list(TASK_KEYS.dead, { signal: options.signal });
    const out: TaskRecord[] = [];
    for (const k of keys) {
      if (out.length >= this.#sweepLimit) break;
      const id = parseIdKey(TASK_KEYS.dead, k);
      if (id === null) continue;
      const rec = await this.#store.get<TaskRecord>(recordKey(id), { signal: options.signal });
      if (rec?.deadLettered) out.push(rec);
    }
    return out;
  }

  // ---- internals ----

  async #read(key: string, taskId: string, options: CallOptions): Promise<StoreEntry<TaskRecord>> {
    const entry = await this.#store.getEntry<TaskRecord>(key, options);
    if (!entry) throw new NotFoundError(`no task ${taskId}`);
    return entry;
  }

  /**
   * Read → check (deadline first) → mutate → CAS, retried on lost rounds. `mutate` changes the
   * record in place or throws (nothing is written then).
   */
  async #transition(taskId: string, options: CallOptions, mutate: (rec: TaskRecord, now: number) => void): Promise<TaskRecord> {
    const own = this.#own.get(requireId(taskId, 'taskId'));
    const key = own?.key ?? recordKey(taskId);
    if (own !== undefined) {
      const rec = await this.#transitionOwn(taskId, key, own, options, mutate);
      if (rec !== null) return rec;
    }
    for (let round = 0; round < this.#casRounds; round++) {
      const entry = await this.#read(key, taskId, options);
      const now = this.#clock();
      if (pastDeadline(entry.value, now)) {
        await this.#expire(key, entry, now, options);
        continue;
      }
      const rec = entry.value;
      try {
        mutate(rec, now);
      } catch (err) {
        if (err instanceof ConflictError) this.#stats.conflicts++;
        throw err;
      }
      const revision = await this.#store.compareAndSet(key, rec, entry.revision, options);
      if (revision !== null) {
        this.#remember(rec, revision);
        return rec;
      }
      this.#stats.casRetries++;
    }
    throw this.#conflict(`task ${taskId}: gave up after ${this.#casRounds} contended rounds`, undefined);
  }

  /**
   * `#transition` from the record this manager wrote last, fenced by a CAS on its revision.
   * Returns the new record (the remembered object when still live: copy it with `#out`), or `null` when the store must decide:
   * the CAS lost (someone wrote since), the task is past its deadline, or `mutate` refused
   * (a refusal is only ever made on a fresh read).
   */
  async #transitionOwn(taskId: string, key: string, own: OwnWrite, options: CallOptions, mutate: (rec: TaskRecord, now: number) => void): Promise<TaskRecord | null> {
    const now = this.#clock();
    if (pastDeadline(own.rec, now)) return null;
    const rec: TaskRecord = { ...own.rec };
    try {
      mutate(rec, now);
    } catch {
      this.#own.delete(taskId);
      return null;
    }
    // The only member a transition replaces with the caller's data: a remembered record keeps
    // its own copy, so that what is remembered is exactly what is written.
    const keep = !isTerminal(rec);
    if (keep && rec.result !== own.rec.result) rec.result = copyPlainData(rec.result);
    const revision = await this.#store.compareAndSet(key, rec, own.revision, options);
    // A terminal record is forgotten, and its members (private to the entry until now) pass to
    // the caller; a live one stays remembered, and `#out` copies it for the caller.
    this.#own.delete(taskId);
    if (revision === null) return null;
    if (keep) this.#own.set(taskId, key, rec, revision);
    return rec;
  }

  /** Remembers a record this manager just wrote at `revision` (a private copy), or forgets a terminal one. */
  #remember(rec: TaskRecord, revision: number): void {
    if (isTerminal(rec)) this.#own.delete(rec.id);
    else this.#own.set(rec.id, recordKey(rec.id), copyPlainData(rec), revision);
  }

  /** What callers and listeners get: the record, or a copy of it when it is the remembered one. */
  #out(rec: TaskRecord): TaskRecord {
    return this.#own.get(rec.id)?.rec === rec ? copyPlainData(rec) : rec;
  }

  /** Fencing: the caller must hold the current, unexpired claim (and `lease`, if given, must be it). */
  #checkHolder(rec: TaskRecord, agentId: string, lease: Lease | undefined, now: number): void {
    if (!isClaimed(rec)) throw new ConflictError(`task ${rec.id} is ${rec.state}, not claimed`, { currentState: rec.state });
    if (lease !== undefined) {
      if (lease.taskId !== rec.id) throw new ValidationError(`lease is for task ${lease.taskId}, not ${rec.id}`);
      if (lease.agentId !== agentId) throw new ConflictError(`lease belongs to ${lease.agentId}, not ${agentId}`, { currentState: rec.state });
      if (lease.attempt !== rec.attempts) {
        throw new ConflictError(`stale lease on task ${rec.id}: attempt ${lease.attempt}, current attempt ${rec.attempts} (${rec.state}, assigned to ${rec.assignedTo})`, { currentState: rec.state });
      }
    }
    if (rec.assignedTo !== agentId) {
      throw new ConflictError(`task ${rec.id} is ${rec.state} and assigned to ${rec.assignedTo}, not ${agentId}`, { currentState: rec.state });
    }
    if (rec.leaseExpiresAt !== null && rec.leaseExpiresAt <= now) {
      throw new ConflictError(`lease on task ${rec.id} (attempt ${rec.attempts}) expired at ${rec.leaseExpiresAt}`, { currentState: rec.state });
    }
  }

  /** Applies one failed attempt to a claimed record: back to pending with backoff, or dead-letter. */
  #failAttempt(r: TaskRecord, reason: string, now: number, backoff: boolean): void {
    r.failures += 1;
    r.failureReason = reason;
    r.leaseExpiresAt = null;
    r.updatedAt = now;
    const maxRetries = r.constraints.maxRetries ?? this.#maxRetries;
    if (r.failures > maxRetries) {
      r.state = 'failed';
      r.deadLettered = true;
      return;
    }
    r.state = 'pending';
    r.assignedTo = null;
    r.claimedAt = null;
    r.notBefore = backoff ? now + Math.min(this.#retryMax, this.#retryBase * 2 ** (r.failures - 1)) : null;
  }

  /** Index writes after a claimed record went back to pending or to the dead letters. */
  async #afterFailOrRelease(rec: TaskRecord, attempt: number, options: CallOptions): Promise<void> {
    const sig: CallOptions = options; // the store reads `signal` only
    if (rec.deadLettered) await this.#store.put(deadKey(rec.id), 1, sig);
    else await this.#store.put(pendingKey(rec.poolId, rec.id), 1, sig);
    // Deleted last: until then the sweep can finish an interrupted release from this entry.
    await this.#store.delete(claimedKey(rec.id, attempt), sig);
  }

  /** Takes back an expired claim (one CAS). Returns what happened, or `null` if another writer won. */
  async #release(key: string, entry: StoreEntry<TaskRecord>, now: number, options: CallOptions): Promise<ReleasedClaim | null> {
    const rec = entry.value;
    const attempt = rec.attempts;
    const agentId = rec.assignedTo;
    this.#failAttempt(rec, 'lease-expired', now, false);
    this.#own.delete(rec.id);
    if ((await this.#store.compareAndSet(key, rec, entry.revision, { signal: options.signal })) === null) {
      this.#stats.casRetries++;
      return null;
    }
    await this.#afterFailOrRelease(rec, attempt, options);
    this.#stats.released++;
    if (rec.deadLettered) this.#stats.deadLettered++;
    this.#events.emit('released', rec);
    return { taskId: rec.id, agentId, attempt, outcome: rec.deadLettered ? 'dead-lettered' : 'pending' };
  }

  /**
   * Fails a task past its deadline (reason `'deadline'`). With `raise`, then throws the
   * `ConflictError` the touching call owes its caller; returns whether this call expired it.
   */
  async #expire(key: string, entry: StoreEntry<TaskRecord>, now: number, options: CallOptions, raise = true): Promise<boolean> {
    const rec = entry.value;
    const was = rec.state;
    rec.state = 'failed';
    rec.failureReason = 'deadline';
    rec.leaseExpiresAt = null;
    rec.updatedAt = now;
    this.#own.delete(rec.id);
    const won = (await this.#store.compareAndSet(key, rec, entry.revision, { signal: options.signal })) !== null;
    if (won) {
      const sig: CallOptions = options; // the store reads `signal` only
      if (was === 'pending') await this.#store.delete(pendingKey(rec.poolId, rec.id), sig);
      else await this.#store.delete(claimedKey(rec.id, rec.attempts), sig);
      this.#stats.expired++;
      this.#events.emit('failed', { task: rec, reason: 'deadline', deadLettered: false, retryAt: null });
    } else {
      this.#stats.casRetries++;
    }
    if (raise && won) throw this.#conflict(`task ${rec.id} passed its deadline ${rec.constraints.deadline} and failed`, 'failed');
    return won;
  }

  async #repairDelete(indexKey: string, options: CallOptions): Promise<void> {
    if (await this.#store.delete(indexKey, { signal: options.signal })) this.#stats.indexRepairs++;
  }

  /** A counted `ConflictError` (for refusals outside `#transition`, which counts its own). */
  #conflict(message: string, state: string | undefined): ConflictError {
    this.#stats.conflicts++;
    return conflictError(message, state);
  }
}

function conflictError(message: string, state: string | undefined): ConflictError {
  return new ConflictError(state ? `${message} (current state: ${state})` : message, { currentState: state });
}

function nonNegativeInt(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new ValidationError(`${what} must be an integer >= 0`);
  return v;
}
