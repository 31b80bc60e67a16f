import {
  ConflictError, LimitExceededError, NotFoundError, PolicyError, ValidationError, createPool,
  type Pool, type PolicySpec, type Store,
} from '@converge/core';
import { keySegment, positiveInt, requireId, type CallOptions } from './common.js';

/** An admission policy: decides whether an agent may join a pool. */
export interface AdmissionPolicy {
  /** `true` admits; `false` refuses (the PoolManager then throws `PolicyError`). */
  admit(agentId: string, context: Record<string, unknown> | undefined, pool: Pool): boolean | Promise<boolean>;
}

/** Turns a pool's stored `admission` spec into a policy (e.g. `@converge/policy`'s resolver). */
export type AdmissionResolver = (spec: PolicySpec) => AdmissionPolicy;

/** Default cap on the members of one pool: 10,000. */
export const DEFAULT_MAX_POOL_MEMBERS = 10_000;
/** Default compare-and-set rounds per membership change under contention: 100 (one round in each is won, so this many concurrent changes to one pool always get through). */
export const DEFAULT_POOL_CAS_ROUNDS = 100;

/** Options of `new PoolManager`. */
export interface PoolManagerOptions {
  /** Where pools live (`pool:<id>`, membership index `pool-member:<agent>:<pool>`). */
  store: Store;
  /**
   * Resolves admission specs other than `open` and `whitelist` (which are built in). Without
   * it, a pool with any other admission type refuses every join with `PolicyError`.
   */
  admission?: AdmissionResolver;
  /** Largest number of members of one pool (default `DEFAULT_MAX_POOL_MEMBERS`). */
  maxMembers?: number;
  /** CAS rounds per membership change (default `DEFAULT_POOL_CAS_ROUNDS`). */
  maxCasRounds?: number;
}

/** Counters of a PoolManager. */
export interface PoolManagerStats {
  created: number;
  joined: number;
  left: number;
  /** Joins refused by an admission policy (or for want of one). */
  refused: number;
  /** Compare-and-set rounds lost to a concurrent writer (each retried). */
  casRetries: number;
}

/** Store key prefixes of the PoolManager. */
export const POOL_KEYS = { pool: 'pool:', member: 'pool-member:' } as const;

const poolKey = (id: string) => POOL_KEYS.pool + keySegment(id);
const memberPrefix = (agentId: string) => `${POOL_KEYS.member}${keySegment(agentId)}:`;
const memberKey = (agentId: string, poolId: string) => memberPrefix(agentId) + keySegment(poolId);

/**
 * Pools persisted in a Store. Membership changes are compare-and-set on the pool record
 * (no lost updates when agents join and leave concurrently, in any process); a membership
 * index lets `getPoolsForAgent` read only that agent's entries.
 */
export class PoolManager {
  readonly #store: Store;
  readonly #resolver: AdmissionResolver | undefined;
  readonly #maxMembers: number;
  readonly #casRounds: number;
  readonly #stats: PoolManagerStats = { created: 0, joined: 0, left: 0, refused: 0, casRetries: 0 };

  constructor(options: PoolManagerOptions) {
    if (!options?.store) throw new ValidationError('PoolManager needs a store');
    this.#store = options.store;
    this.#resolver = options.admission;
    this.#maxMembers = positiveInt(options.maxMembers, DEFAULT_MAX_POOL_MEMBERS, 'maxMembers');
    this.#casRounds = positiveInt(options.maxCasRounds, DEFAULT_POOL_CAS_ROUNDS, 'maxCasRounds');
  }

  /** A snapshot of the counters. */
  stats(): PoolManagerStats {
    return { ...this.#stats };
  }

  /**
   * Creates and stores a pool. An existing id → `ConflictError`; a malformed spec → `ValidationError`.
   * `spec.owner` (the creating agent, if any) counts as a member for tasks and may cancel any
   * task of the pool; it is not added to `agents`.
   */
  async createPool(spec: Partial<Pool> = {}, options: CallOptions = {}): Promise<Pool> {
    const pool = createPool(spec);
    requireId(pool.id, 'pool id');
    if (!Array.isArray(pool.agents) || pool.agents.some((a) => typeof a !== 'string' || a.length === 0)) {
      throw new ValidationError(`pool ${pool.id}: agents must be non-empty strings`);
    }
    pool.agents = [...new Set(pool.agents)];
    if (pool.owner !== undefined && (typeof pool.owner !== 'string' || pool.owner.length === 0)) {
      throw new ValidationError(`pool ${pool.id}: owner must be a non-empty string`);
    }
    if (pool.agents.length > this.#maxMembers) throw new LimitExceededError(`pool ${pool.id}: more than ${this.#maxMembers} members`);
    validateAdmission(pool);
    const sig = { signal: options.signal };
    if (!(await this.#store.putIfAbsent(poolKey(pool.id), pool, sig))) throw new ConflictError(`pool ${pool.id} already exists`);
    for (const a of pool.agents) await this.#store.put(memberKey(a, pool.id), 1, sig);
    this.#stats.created++;
    return pool;
  }

  /** The pool, or `NotFoundError`. */
  async getPool(poolId: string, options: CallOptions = {}): Promise<Pool> {
    const pool = await this.#store.get<Pool>(poolKey(requireId(poolId, 'poolId')), { signal: options.signal });
    if (!pool) throw new NotFoundError(`no pool ${poolId}`);
    return pool;
  }

  /** Every pool (reads the `pool:` prefix only). */
  async listPools(options: CallOptions = {}): Promise<Pool[]> {
    const out: Pool[] = [];
    for (const k of await this.#store.list(POOL_KEYS.pool, { signal: options.signal })) {
      const p = await this.#store.get<Pool>(k, { signal: options.signal });
      if (p) out.push(p);
    }
    return out;
  }

  /** The pools `agentId` belongs to, read through the membership index (verified against each pool record). */
  async getPoolsForAgent(agentId: string, options: CallOptions = {}): Promise<Pool[]> {
    const prefix = memberPrefix(requireId(agentId, 'agentId'));
    const out: Pool[] = [];
    for (const k of await this.#store.list(prefix, { signal: options.signal })) {
      let poolId: string;
      try {
        poolId = decodeURIComponent(k.slice(prefix.length));
      } catch {
        continue;
      }
      const p = await this.#store.get<Pool>(poolKey(poolId), { signal: options.signal });
      // The index may be ahead of the record (a join in flight) or stale: the record decides.
      if (p?.agents.includes(agentId)) out.push(p);
    }
    return out;
  }

  /**
   * Adds `agentId` to the pool after its admission policy admits it (`context` is passed to
   * the policy, e.g. `{ token }`). Already a member → returns the pool unchanged. Refusal,
   * or an admission type with no resolver → `PolicyError`; unknown pool → `NotFoundError`.
   */
  async joinPool(agentId: string, poolId: string, context?: Record<string, unknown>, options: CallOptions = {}): Promise<Pool> {
    requireId(agentId, 'agentId');
    const key = poolKey(requireId(poolId, 'poolId'));
    const sig = { signal: options.signal };
    let admitted = false;
    for (let round = 0; round < this.#casRounds; round++) {
      const entry = await this.#store.getEntry<Pool>(key, sig);
      if (!entry) throw new NotFoundError(`no pool ${poolId}`);
      const pool = entry.value;
      if (pool.agents.includes(agentId)) {
        await this.#store.put(memberKey(agentId, poolId), 1, sig);
        return pool;
      }
      if (!admitted) {
        await this.#admit(agentId, context, pool);
        admitted = true;
        // Index before the record: a crash in between leaves an entry the record disowns,
        // never a member the index cannot find.
        await this.#store.put(memberKey(agentId, poolId), 1, sig);
      }
      if (pool.agents.length >= this.#maxMembers) throw new LimitExceededError(`pool ${poolId} is full (${this.#maxMembers} members)`);
      pool.agents.push(agentId);
      if ((await this.#store.compareAndSet(key, pool, entry.revision, sig)) !== null) {
        // Again after the CAS, in case a concurrent leave deleted the entry in between.
        await this.#store.put(memberKey(agentId, poolId), 1, sig);
        this.#stats.joined++;
        return pool;
      }
      this.#stats.casRetries++;
    }
    throw new ConflictError(`pool ${poolId}: join gave up after ${this.#casRounds} contended rounds`);
  }

  /** Removes `agentId` from the pool; returns whether it was a member. Unknown pool → `NotFoundError`. */
  async leavePool(agentId: string, poolId: string, options: CallOptions = {}): Promise<boolean> {
    requireId(agentId, 'agentId');
    const key = poolKey(requireId(poolId, 'poolId'));
    const sig = { signal: options.signal };
    for (let round = 0; round < this.#casRounds; round++) {
      const entry = await this.#store.getEntry<Pool>(key, sig);
      if (!entry) throw new NotFoundError(`no pool ${poolId}`);
      const pool = entry.value;
      const i = pool.agents.indexOf(agentId);
      if (i < 0) {
        await this.#store.delete(memberKey(agentId, poolId), sig);
        return false;
      }
      pool.agents.splice(i, 1);
      if ((await this.#store.compareAndSet(key, pool, entry.revision, sig)) !== null) {
        await this.#store.delete(memberKey(agentId, poolId), sig);
        // A join may have landed between our CAS and the delete: restore its index entry.
        const now = await this.#store.get<Pool>(key, sig);
        if (now?.agents.includes(agentId)) await this.#store.put(memberKey(agentId, poolId), 1, sig);
        this.#stats.left++;
        return true;
      }
      this.#stats.casRetries++;
    }
    throw new ConflictError(`pool ${poolId}: leave gave up after ${this.#casRounds} contended rounds`);
  }

  async #admit(agentId: string, context: Record<string, unknown> | undefined, pool: Pool): Promise<void> {
    const spec = pool.admission;
    let ok: boolean;
    if (!spec || spec.type === 'open') ok = true;
    else if (spec.type === 'whitelist') ok = Array.isArray(spec.agents) && spec.agents.includes(agentId);
    else if (this.#resolver) {
      let policy: AdmissionPolicy;
      try {
        policy = this.#resolver(spec);
      } catch (err) {
        this.#stats.refused++;
        throw new PolicyError(`pool ${pool.id}: cannot resolve admission policy ${spec.type}`, { cause: err });
      }
      ok = (await policy.admit(agentId, context, pool)) === true;
    } else {
      this.#stats.refused++;
      throw new PolicyError(`pool ${pool.id}: no resolver for admission policy ${JSON.stringify(spec.type)}; refusing ${agentId}`);
    }
    if (!ok) {
      this.#stats.refused++;
      throw new PolicyError(`pool ${pool.id}: admission policy ${spec?.type ?? 'open'} refused ${agentId}`);
    }
  }
}

function validateAdmission(pool: Pool): void {
  const spec = pool.admission;
  if (spec === undefined) return;
  if (typeof spec !== 'object' || spec === null || typeof spec.type !== 'string') {
    throw new ValidationError(`pool ${pool.id}: admission must be { type: string, ... }`);
  }
  if (spec.type === 'whitelist' && (!Array.isArray(spec.agents) || spec.agents.some((a) => typeof a !== 'string'))) {
    throw new ValidationError(`pool ${pool.id}: whitelist admission needs agents: string[]`);
  }
}
