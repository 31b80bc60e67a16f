import {
  ConflictError,
  LimitExceededError,
  NotFoundError,
  PolicyError,
  ValidationError,
  createPool,
  type ConvergeErrorOptions,
  type Pool,
  type PolicySpec,
  type Store,
  positiveIntOption,
} from '@converge/core';
import { TypedEmitter, keySegment, requireId, type CallOptions, type Listener } from './common.js';
import {
  AdmissionPendingError,
  DEFAULT_MAX_OPEN_QUESTIONS,
  DEFAULT_QUESTION_TIMEOUT_MS,
  NoGovernanceError,
  PoolQuestions,
  judge,
  parseChoice,
  poolQuestionId,
  votingMembers,
  type GovernanceResolver,
  type PoolGovernanceModel,
  type PoolQuestion,
  type PoolQuestionStats,
} from './pool-governance.js';
import type { TaskGovernance } from './tasks/access.js';
import type { TaskRecord } from './tasks/records.js';

export {
  AdmissionPendingError,
  NoGovernanceError,
  DEFAULT_MAX_OPEN_QUESTIONS,
  DEFAULT_QUESTION_TIMEOUT_MS,
  MAX_DECIDED_QUESTIONS,
  poolQuestionId,
  votingMembers,
  type GovernanceResolver,
  type PoolGovernanceModel,
  type PoolProposal,
  type PoolQuestion,
  type PoolQuestionKind,
  type PoolQuestionState,
  type PoolQuestionStats,
  type PoolVote,
} from './pool-governance.js';

/** An admission policy: decides whether an agent may join a pool. */
export interface AdmissionPolicy {
  /**
   * `true` admits; `false` refuses (the PoolManager then throws `PolicyError`); `'ask'` puts the
   * join to the pool's governance (an `admit` question; the join throws `AdmissionPendingError`).
   */
  admit(agentId: string, context: Record<string, unknown> | undefined, pool: Pool): boolean | 'ask' | Promise<boolean | 'ask'>;
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
  /**
   * Resolves a pool's `governance` spec into a model that decides the pool's questions
   * (e.g. `(spec) => governanceFromSpec(spec, { trust })` from `@converge/policy`). Without it,
   * no question can be asked: an `ask` admission refuses (`NoGovernanceError`).
   */
  governance?: GovernanceResolver;
  /**
   * Trust scores for a pool's `admission.minTrust` (a policy `TrustModel` fits). A pool with
   * `minTrust` and no trust source refuses every join (fails closed).
   */
  trust?: { score(agentId: string): number };
  /** Most questions open at once, over all pools (default `DEFAULT_MAX_OPEN_QUESTIONS`). */
  maxOpenQuestions?: number;
  /** How long a question stays open, ms (default `DEFAULT_QUESTION_TIMEOUT_MS`); then it expires, not approved. */
  questionTimeoutMs?: number;
  /** Wall clock for question expiry (default `Date.now`). */
  clock?: () => number;
}

/** A join refused because the agent's trust score is below the pool's `admission.minTrust`. */
export class TrustTooLowError extends PolicyError {
  /** The agent's score when it asked. */
  readonly score: number;
  /** The pool's threshold. */
  readonly minTrust: number;
  constructor(message: string, score: number, minTrust: number, options?: ConvergeErrorOptions) {
    super(message, { ...options, code: 'ERR_TRUST_TOO_LOW' });
    this.name = 'TrustTooLowError';
    this.score = score;
    this.minTrust = minTrust;
  }
}

/** Events of a PoolManager. */
export interface PoolManagerEvents {
  /** A question closed (approved, rejected, expired or failed): tell its voters. */
  decided: PoolQuestion;
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
  /** Joins put to the pool's governance (an `ask` admission). */
  asked: number;
  /** Joins refused for a trust score below the pool's `minTrust` (also in `refused`). */
  trustRefused: number;
  /** The pool questions. */
  questions: PoolQuestionStats;
}

/** Store key prefixes of the PoolManager. */
export const POOL_KEYS = { pool: 'pool:', member: 'pool-member:' } as const;

const poolKey = (id: string) => POOL_KEYS.pool + keySegment(id);
const memberPrefix = (agentId: string) => `${POOL_KEYS.member}${keySegment(agentId)}:`;
const memberKey = (agentId: string, poolId: string) => memberPrefix(agentId) + keySegment(poolId);

/**
 * Pools persisted in a Store. Membership changes are compare-and-set on the pool record
 * (no lost updates when agents join and leave concurrently, in any process); a membership
 * index lets `getPoolsForAgent` read only that agent's entries. With a `governance` resolver,
 * a pool's members decide its questions (an `ask` join, a removal, a governed cancel) by vote;
 * with a `trust` source, a pool's `admission.minTrust` bars agents trusted less. The questions
 * are held in this instance's memory (bounded), the pools in the store.
 */
export class PoolManager {
  readonly #store: Store;
  readonly #resolver: AdmissionResolver | undefined;
  readonly #maxMembers: number;
  readonly #casRounds: number;
  readonly #governance: GovernanceResolver | undefined;
  readonly #trust: { score(agentId: string): number } | undefined;
  readonly #questions: PoolQuestions;
  readonly #events = new TypedEmitter<PoolManagerEvents>();
  readonly #stats = { created: 0, joined: 0, left: 0, refused: 0, casRetries: 0, asked: 0, trustRefused: 0 };

  constructor(options: PoolManagerOptions) {
    if (!options?.store) throw new ValidationError('PoolManager needs a store');
    this.#store = options.store;
    this.#resolver = options.admission;
    this.#maxMembers = positiveIntOption(options.maxMembers, DEFAULT_MAX_POOL_MEMBERS, 'maxMembers', 'validation');
    this.#casRounds = positiveIntOption(options.maxCasRounds, DEFAULT_POOL_CAS_ROUNDS, 'maxCasRounds', 'validation');
    if (options.governance !== undefined && typeof options.governance !== 'function')
      throw new ValidationError('PoolManager governance must be a function (spec) => model');
    if (options.trust !== undefined && typeof options.trust?.score !== 'function') throw new ValidationError('PoolManager trust must have score(agentId)');
    this.#governance = options.governance;
    this.#trust = options.trust;
    this.#questions = new PoolQuestions(
      positiveIntOption(options.maxOpenQuestions, DEFAULT_MAX_OPEN_QUESTIONS, 'maxOpenQuestions', 'validation'),
      positiveIntOption(options.questionTimeoutMs, DEFAULT_QUESTION_TIMEOUT_MS, 'questionTimeoutMs', 'validation'),
      options.clock ?? Date.now,
      (q) => this.#events.emit('decided', q),
    );
  }

  /** A snapshot of the counters. */
  stats(): PoolManagerStats {
    return { ...this.#stats, questions: { ...this.#questions.stats } };
  }

  /** Subscribes to an event; returns the unsubscribe function. Listeners run synchronously. */
  on<K extends keyof PoolManagerEvents>(event: K, listener: Listener<PoolManagerEvents[K]>): () => void {
    return this.#events.on(event, listener);
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
    return this.#addMember(agentId, requireId(poolId, 'poolId'), options, (pool) => this.#admit(agentId, context, pool));
  }

  // `admit` runs once, before the first write; a join the governance approved passes none.
  async #addMember(agentId: string, poolId: string, options: CallOptions, admit?: (pool: Pool) => Promise<void>): Promise<Pool> {
    const key = poolKey(poolId);
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
        if (admit) await admit(pool);
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
    this.#checkTrust(agentId, pool);
    let verdict: boolean | 'ask';
    if (!spec || spec.type === 'open') verdict = true;
    else if (spec.type === 'whitelist') verdict = Array.isArray(spec.agents) && spec.agents.includes(agentId);
    else if (spec.type === 'ask') verdict = 'ask';
    else if (this.#resolver) {
      let policy: AdmissionPolicy;
      try {
        policy = this.#resolver(spec);
      } catch (err) {
        this.#stats.refused++;
        throw new PolicyError(`pool ${pool.id}: cannot resolve admission policy ${spec.type}`, { cause: err });
      }
      const v = await policy.admit(agentId, context, pool);
      verdict = v === 'ask' ? 'ask' : v === true;
    } else {
      this.#stats.refused++;
      throw new PolicyError(`pool ${pool.id}: no resolver for admission policy ${JSON.stringify(spec.type)}; refusing ${agentId}`);
    }
    if (verdict === 'ask') {
      let q: PoolQuestion;
      try {
        this.#model(pool);
        q = this.#questions.open(pool, 'admit', agentId, agentId);
      } catch (err) {
        this.#stats.refused++;
        throw err;
      }
      this.#stats.asked++;
      throw new AdmissionPendingError(`pool ${pool.id}: ${agentId}'s join is put to the members (question ${q.id})`, q.id);
    }
    if (!verdict) {
      this.#stats.refused++;
      throw new PolicyError(`pool ${pool.id}: admission policy ${spec?.type ?? 'open'} refused ${agentId}`);
    }
  }

  // The reference's trust threshold on joining: checked before any policy, and before a join is
  // put to the members (an agent below the threshold is not worth a vote).
  #checkTrust(agentId: string, pool: Pool): void {
    const min = pool.admission?.minTrust;
    if (min === undefined) return;
    if (!this.#trust) {
      this.#stats.refused++;
      throw new PolicyError(`pool ${pool.id} requires trust ${String(min as unknown)} but this PoolManager has no trust source; refusing ${agentId}`);
    }
    const score = this.#trust.score(agentId);
    if (!(typeof score === 'number' && score >= (min as number))) {
      this.#stats.refused++;
      this.#stats.trustRefused++;
      throw new TrustTooLowError(
        `pool ${pool.id}: ${agentId}'s trust ${String(score)} is below the pool's minTrust ${String(min as unknown)}`,
        score,
        min as number,
      );
    }
  }

  #model(pool: Pool): PoolGovernanceModel {
    if (!pool.governance) throw new NoGovernanceError(`pool ${pool.id} has no governance to put the question to`);
    if (!this.#governance) throw new NoGovernanceError(`pool ${pool.id}: this PoolManager has no governance resolver`);
    try {
      return this.#governance(pool.governance);
    } catch (err) {
      throw new NoGovernanceError(`pool ${pool.id}: cannot resolve governance ${String(pool.governance.type)}`, { cause: err });
    }
  }

  /** The question `id` (open, or among the recently decided), or `undefined`. */
  question(id: string): PoolQuestion | undefined {
    return this.#questions.get(requireId(id, 'question id'));
  }

  /** Whether `id` names a question open or recently decided here (a `Vote` decision on it comes to `vote`). */
  hasQuestion(id: string): boolean {
    return typeof id === 'string' && this.#questions.live(id) !== undefined;
  }

  /** The open questions, of `poolId` if given, oldest first. */
  openQuestions(poolId?: string): PoolQuestion[] {
    return this.#questions.list(poolId);
  }

  /**
   * Asks the members of `poolId` to remove `member`; `proposer` must be a member (or the owner).
   * Returns the (open) question; members vote on it with `vote`. No governance → `NoGovernanceError`.
   */
  async proposeRemoval(proposer: string, poolId: string, member: string, options: CallOptions = {}): Promise<PoolQuestion> {
    requireId(proposer, 'proposer');
    requireId(member, 'member');
    const pool = await this.getPool(poolId, options);
    if (!votingMembers(pool).includes(proposer)) throw new PolicyError(`${proposer} is not a member of pool ${poolId} and cannot propose a removal`);
    if (!pool.agents.includes(member)) throw new NotFoundError(`${member} is not a member of pool ${poolId}`);
    this.#model(pool);
    return { ...this.#questions.open(pool, 'remove', member, proposer) };
  }

  /**
   * Casts `voter`'s vote on question `ballotId` (`choice`: `yes`, `no` or `veto`; a claimed
   * weight is ignored: the governance weighs). Fits the runtime's `BallotsPort`, so a `Vote`
   * decision reaches it and its outcome's result is the question after the vote. When the vote
   * decides, the action is carried out (the agent admitted, the member removed, the cancel
   * granted) and `decided` is emitted. Refusals are typed: `NotFoundError` (no such question),
   * `ConflictError` (closed, or voted already), `PolicyError` (not a member), `ValidationError`.
   */
  async vote(ballotId: string, voter: string, choice: string, _weight?: number, options: CallOptions = {}): Promise<PoolQuestion> {
    requireId(ballotId, 'ballotId');
    requireId(voter, 'voter');
    let vote: ReturnType<typeof parseChoice>;
    try {
      vote = parseChoice(voter, choice);
    } catch (err) {
      throw this.#questions.refuseVote(err as Error);
    }
    const live = this.#questions.openForVote(ballotId, voter);
    const pool = await this.getPool(live.poolId, options);
    const model = this.#model(pool);
    const members = votingMembers(pool);
    const q = this.#questions.addVote(ballotId, vote, members);
    const verdict = judge(model, q, members);
    if (verdict.state !== 'open') q.decidedBy = voter;
    if (verdict.state === 'rejected') this.#questions.close(q, 'rejected', verdict.reason);
    else if (verdict.state === 'approved') {
      // Closed before the action, so a concurrent vote cannot carry it out a second time.
      this.#questions.close(q, 'approved', verdict.reason, false);
      try {
        if (q.kind === 'admit') await this.#addMember(q.subject, q.poolId, options);
        else if (q.kind === 'remove') await this.leavePool(q.subject, q.poolId, options);
      } catch (err) {
        this.#questions.fail(q, `approved, but ${q.kind} failed: ${(err as Error).message}`);
        throw err;
      }
      // Announced once it took effect: a voter told "approved" finds the member in the pool.
      this.#questions.announce(q);
    }
    return { ...q, votes: q.votes.map((v) => ({ ...v })) };
  }

  /**
   * The adapter for `TaskManager`'s `governance` option: a member who is neither a task's
   * submitter nor the pool's owner may cancel it once the pool's governance approved a `cancel`
   * question on that task asked by that member. The first refused cancel opens the question;
   * once approved, the next `cancel` by the same member goes through (the grant is used once).
   */
  taskGovernance(): TaskGovernance {
    return {
      mayCancel: (agentId: string, task: TaskRecord, pool: Pool | null): boolean => {
        if (pool === null || !pool.governance || !votingMembers(pool).includes(agentId)) return false;
        const q = this.#questions.live(poolQuestionId('cancel', pool.id, task.id));
        if (q !== undefined && q.state === 'approved' && q.proposer === agentId && q.used !== true) {
          q.used = true;
          return true;
        }
        // An unused grant stays until its holder uses it: another member's cancel does not
        // replace it with a question of its own.
        const granted = q !== undefined && q.state === 'approved' && q.used !== true;
        if (!granted && (q === undefined || q.state !== 'open')) {
          this.#model(pool);
          this.#questions.open(pool, 'cancel', task.id, agentId);
        }
        return false;
      },
    };
  }
}

function validateAdmission(pool: Pool): void {
  const spec = pool.admission;
  if (spec === undefined) return;
  if (typeof spec !== 'object' || spec === null || typeof spec.type !== 'string') {
    throw new ValidationError(`pool ${pool.id}: admission must be { type: string, ... }`);
  }
  if (spec.minTrust !== undefined && (typeof spec.minTrust !== 'number' || !Number.isFinite(spec.minTrust))) {
    throw new ValidationError(`pool ${pool.id}: admission minTrust must be a finite number`);
  }
  if (spec.type === 'whitelist' && (!Array.isArray(spec.agents) || spec.agents.some((a) => typeof a !== 'string'))) {
    throw new ValidationError(`pool ${pool.id}: whitelist admission needs agents: string[]`);
  }
}
