// Who may do what to a task: the checks every TaskManager transition that an agent asks for goes
// through (submit, claim, cancel). The pools are read through a `PoolDirectory` (by default a
// PoolManager on the TaskManager's own store: the application-level view of the pools, never
// their store keys), so a refusal is decided on the same records `joinPool` writes.
import { NotFoundError, PolicyError, type Pool } from '@converge/core';
import type { CallOptions } from '../common.js';
import type { TaskRecord } from './records.js';

/** Default time a TaskManager reuses a pool record it read for the access checks: 1 s. */
export const DEFAULT_POOL_CACHE_MS = 1_000;
/** Pool records a TaskManager keeps for the access checks: 1,024 (the oldest goes first). */
export const MAX_CACHED_POOLS = 1_024;

/** What a TaskManager needs to know of pools (`PoolManager` satisfies it). */
export interface PoolDirectory {
  /** The pool; `NotFoundError` when there is none. */
  getPool(poolId: string, options?: CallOptions): Promise<Pool>;
}

/**
 * A pool's governance over its tasks: decides whether `agentId`, who is neither the task's
 * submitter nor the pool's owner, may cancel `task`. `pool` is the task's pool (`null` for a
 * task in no pool, or when the TaskManager has no pool directory); read its `governance` spec
 * to decide per pool. Only `true` grants; anything else, or a throw, refuses.
 */
export interface TaskGovernance {
  /** Whether `agentId` may cancel `task` (of `pool`). */
  mayCancel(agentId: string, task: TaskRecord, pool: Pool | null): boolean | Promise<boolean>;
}

/**
 * Whether anyone who asks may join the pool (no admission policy, or `open` without a
 * `minTrust`). In such a pool membership is no barrier, so an agent need not have joined to
 * submit or claim; in any other pool (a trust threshold included: an agent below it must not
 * act as a member by never joining) it must be a member or the owner.
 */
export function isOpenPool(pool: Pool): boolean {
  const a = pool.admission;
  return a === undefined || a === null || (a.type === 'open' && a.minTrust === undefined);
}

/** Whether `agentId` may act in `pool` as a member: listed, the owner, or the pool is open. */
export function actsAsMember(agentId: string, pool: Pool): boolean {
  return isOpenPool(pool) || pool.owner === agentId || (Array.isArray(pool.agents) && pool.agents.includes(agentId));
}

/**
 * The access checks of one TaskManager. Every refusal is a typed error (`PolicyError`, or
 * `NotFoundError` for a pool that does not exist) and is counted through `onRefused`.
 */
export class TaskAccess {
  readonly #pools: PoolDirectory | null;
  readonly #governance: TaskGovernance | undefined;
  readonly #onRefused: () => void;
  readonly #cacheMs: number;
  readonly #clock: () => number;
  // Pool records read lately, by id, oldest first: every claim and submit needs its pool, and a
  // store round trip per task for a record that rarely changes was a measurable share of the
  // cost of a task. A membership change (or a deleted pool) is seen within `cacheMs`.
  readonly #cache = new Map<string, { pool: Pool; at: number }>();

  /** @param cacheMs - how long a pool record read is reused (0: never; the checks then read every time). */
  constructor(
    pools: PoolDirectory | null,
    governance: TaskGovernance | undefined,
    onRefused: () => void,
    cacheMs = DEFAULT_POOL_CACHE_MS,
    clock: () => number = Date.now,
  ) {
    this.#pools = pools;
    this.#governance = governance;
    this.#onRefused = onRefused;
    this.#cacheMs = cacheMs;
    this.#clock = clock;
  }

  /** Whether pools are checked (a directory is configured). */
  get checksPools(): boolean {
    return this.#pools !== null;
  }

  /**
   * Checks a submit: the task's pool must exist (when pools are checked), and `by`, the
   * submitting agent when an agent submits, must act as a member of it.
   */
  async checkSubmit(task: { id: string; poolId: string | null }, by: string | undefined, options: CallOptions): Promise<void> {
    const pool = await this.#existingPool(task.poolId, task.id, 'submitted to', options);
    if (pool !== null && by !== undefined && !(await this.#member(by, pool, options))) {
      throw this.#refuse(`${by} may not submit task ${task.id} to pool ${pool.id}: not a member (admission ${pool.admission?.type})`);
    }
  }

  /**
   * Checks a claim of `rec` by `agentId` holding `capabilities`: every required capability is
   * held, the pool exists and the agent acts as a member of it.
   */
  async checkClaim(rec: TaskRecord, agentId: string, capabilities: ReadonlySet<string>, options: CallOptions): Promise<void> {
    const required = rec.requiredCapabilities ?? [];
    const missing = required.filter((c) => !capabilities.has(c));
    if (missing.length > 0) throw this.#refuse(`${agentId} may not claim task ${rec.id}: it requires ${missing.join(', ')}, which the claimer does not have`);
    const pool = await this.#existingPool(rec.poolId, rec.id, 'claimed from', options);
    if (pool !== null && !(await this.#member(agentId, pool, options))) {
      throw this.#refuse(`${agentId} may not claim task ${rec.id} in pool ${pool.id}: not a member (admission ${pool.admission?.type})`);
    }
  }

  /**
   * Checks a cancel of `rec` by `by`: the task's submitter, the pool's owner, or whom the
   * governance hook grants. A pool gone since the submit only removes the owner's right.
   */
  async checkCancel(rec: TaskRecord, by: string, options: CallOptions): Promise<void> {
    if (rec.submittedBy !== undefined && rec.submittedBy !== null && rec.submittedBy === by) return;
    let pool: Pool | null = null;
    if (rec.poolId !== null && this.#pools !== null) {
      try {
        pool = await this.#getPool(rec.poolId, options);
      } catch (err) {
        if (!NotFoundError.is(err)) throw err;
      }
    }
    if (pool?.owner !== undefined && pool.owner === by) return;
    let granted = false;
    if (this.#governance !== undefined) {
      try {
        granted = (await this.#governance.mayCancel(by, rec, pool)) === true;
      } catch (err) {
        throw this.#refuse(`${by} may not cancel task ${rec.id}: the governance hook failed`, err);
      }
    }
    if (!granted) {
      throw this.#refuse(`${by} may not cancel task ${rec.id}: only its submitter, the pool's owner or whom the pool's governance allows may`);
    }
  }

  async #existingPool(poolId: string | null, taskId: string, verb: string, options: CallOptions): Promise<Pool | null> {
    if (poolId === null || this.#pools === null) return null;
    try {
      return await this.#getPool(poolId, options);
    } catch (err) {
      if (!NotFoundError.is(err)) throw err;
      this.#onRefused();
      throw new NotFoundError(`task ${taskId} cannot be ${verb} pool ${poolId}: no such pool`, { cause: err });
    }
  }

  // A refusal is never decided on a cached record: an agent that has just joined is let in at
  // once; only a removal can take up to the cache time to be seen.
  async #member(agentId: string, pool: Pool, options: CallOptions): Promise<boolean> {
    if (actsAsMember(agentId, pool)) return true;
    if (!this.#cache.has(pool.id)) return false;
    this.#cache.delete(pool.id);
    try {
      return actsAsMember(agentId, await this.#getPool(pool.id, options));
    } catch (err) {
      if (NotFoundError.is(err)) return false;
      throw err;
    }
  }

  /**
   * Whether `checkSubmit` passes on what is known without waiting (no pools checked, or a fresh
   * cached pool `by` acts as a member of): then the submit skips it, and its awaits. `false`
   * decides nothing: the caller runs `checkSubmit`. Measured: the awaits of a cached check put
   * the 'submitted' events of a batch into more worker turns (runtime.e2e_tasks).
   */
  passesSubmitNow(task: { poolId: string | null }, by: string | undefined): boolean {
    if (task.poolId === null || this.#pools === null) return true;
    const pool = this.#fresh(task.poolId, this.#clock());
    return pool !== undefined && (by === undefined || actsAsMember(by, pool));
  }

  /**
   * Whether `checkClaim` passes on what is known without waiting: every required capability
   * is held, and no pools are checked, or the task has none, or a fresh cached pool `agentId`
   * acts as a member of. `false` decides nothing: the caller runs `checkClaim` (which refuses).
   */
  passesClaimNow(rec: TaskRecord, agentId: string, capabilities: ReadonlySet<string>): boolean {
    const required = rec.requiredCapabilities ?? [];
    for (let i = 0; i < required.length; i++) if (!capabilities.has(required[i]!)) return false;
    if (rec.poolId === null || this.#pools === null) return true;
    const pool = this.#fresh(rec.poolId, this.#clock());
    return pool !== undefined && actsAsMember(agentId, pool);
  }

  /** The cached record of `poolId` if read less than the cache time before `now`. */
  #fresh(poolId: string, now: number): Pool | undefined {
    const hit = this.#cache.get(poolId);
    return hit !== undefined && now - hit.at < this.#cacheMs && now >= hit.at ? hit.pool : undefined;
  }

  // Only found pools are cached: a pool created a moment ago is usable at once.
  async #getPool(poolId: string, options: CallOptions): Promise<Pool> {
    const now = this.#clock();
    const hit = this.#fresh(poolId, now);
    if (hit !== undefined) return hit;
    const pool = await this.#pools!.getPool(poolId, options);
    if (this.#cacheMs > 0) {
      this.#cache.delete(poolId);
      if (this.#cache.size >= MAX_CACHED_POOLS) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(poolId, { pool, at: now });
    }
    return pool;
  }

  #refuse(message: string, cause?: unknown): PolicyError {
    this.#onRefused();
    return new PolicyError(message, cause === undefined ? undefined : { cause });
  }
}
