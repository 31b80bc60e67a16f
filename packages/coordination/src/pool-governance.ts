// Pool-level questions decided by a pool's governance: admitting an agent whose admission says
// "ask", removing a member, letting a member cancel another's task. The models themselves live
// in @converge/policy (`governanceFromSpec`); this file only needs their `decide` shape, so the
// coordination package does not depend on the policy package.
import { ConflictError, LimitExceededError, NotFoundError, PolicyError, ValidationError, errorClass } from '@converge/core';
import type { ConvergeErrorOptions, PolicySpec, Pool } from '@converge/core';
import { keySegment } from './common.js';

/** Default most open questions a PoolManager holds at once, over all pools: 1,024. */
export const DEFAULT_MAX_OPEN_QUESTIONS = 1_024;
/** Default time a question stays open before it expires (not approved): 5 minutes. */
export const DEFAULT_QUESTION_TIMEOUT_MS = 300_000;
/** Decided questions kept for lookup (`PoolManager.question`), oldest forgotten first: 1,024. */
export const MAX_DECIDED_QUESTIONS = 1_024;

/** What a pool question asks. */
export type PoolQuestionKind = 'admit' | 'remove' | 'cancel';
/** Where a question stands. `failed`: approved, but carrying it out failed (e.g. the pool is full). */
export type PoolQuestionState = 'open' | 'approved' | 'rejected' | 'expired' | 'failed';

/** One counted vote (the shape `@converge/policy`'s `GovernanceVote` has). */
export interface PoolVote {
  /** The voting member. */
  voter: string;
  /** For or against. */
  approve: boolean;
  /** A veto (counts as one only from a veto holder of a `veto` governance). */
  veto?: boolean;
}

/** What a governance model needs to say about a question (`GovernanceProposal` of `@converge/policy`). */
export interface PoolProposal {
  /** The question id. */
  id: string;
  /** `pool.admit`, `pool.remove` or `pool.cancel`. */
  action: string;
  /** Who asked. */
  proposer: string;
  /** The votes so far, in order. */
  votes: readonly PoolVote[];
}

/** A governance model: any `GovernanceModel` of `@converge/policy` fits. */
export interface PoolGovernanceModel {
  /** Whether `proposal` passes among `members`; pure. */
  decide(proposal: PoolProposal, members: readonly string[]): { approved: boolean; reason: string };
}

/** Turns a pool's `governance` spec into a model, e.g. `(spec) => governanceFromSpec(spec, { trust })`. */
export type GovernanceResolver = (spec: PolicySpec) => PoolGovernanceModel;

/** A question put to a pool's members (a copy; changing it changes nothing). */
export interface PoolQuestion {
  /** `<kind>:<pool>:<subject>` (each part key-escaped): the `ballotId` of a `Vote` decision on it. */
  id: string;
  /** The pool asked. */
  poolId: string;
  /** What is asked. */
  kind: PoolQuestionKind;
  /** The agent to admit or remove, or the task to cancel. */
  subject: string;
  /** Who asked (the joining agent, the member proposing a removal, the would-be canceller). */
  proposer: string;
  /** Where it stands. */
  state: PoolQuestionState;
  /** The governance's last word (or why it expired or failed). */
  reason: string;
  /** The counted votes, in order. */
  votes: PoolVote[];
  /** Unix ms it was opened. */
  openedAt: number;
  /** Unix ms it expires unless decided. */
  expiresAt: number;
  /** For an approved `cancel`: whether the grant was used (it is good for one cancel). */
  used?: boolean;
  /** The voter whose vote decided it (absent while open, and for an expired question). */
  decidedBy?: string;
}

/** Counters of the pool questions of a PoolManager. */
export interface PoolQuestionStats {
  /** Questions opened. */
  opened: number;
  /** Questions approved (and carried out, or granted). */
  approved: number;
  /** Questions rejected: no remaining votes could make them pass. */
  rejected: number;
  /** Questions that timed out undecided. */
  expired: number;
  /** Questions approved whose action then failed. */
  failed: number;
  /** Questions refused because `maxOpenQuestions` were open. */
  refusedFull: number;
  /** Votes counted. */
  votes: number;
  /** Votes refused (non-member, second vote, closed or unknown question, bad choice). */
  votesRefused: number;
}

/** A join that the pool's members must first approve: the question is open (`questionId`). */
export class AdmissionPendingError extends errorClass('AdmissionPendingError', 'ERR_ADMISSION_PENDING', undefined, PolicyError) {
  /** The question the members vote on. */
  readonly questionId: string;
  constructor(message: string, questionId: string, options?: ConvergeErrorOptions) {
    super(message, options);
    this.questionId = questionId;
  }
}

/** A pool question that cannot be asked: the pool has no governance, or it cannot be resolved. */
export class NoGovernanceError extends errorClass('NoGovernanceError', 'ERR_NO_GOVERNANCE', undefined, PolicyError) {}

/** The id of the question of `kind` about `subject` in `poolId` (what a `Vote` decision names). */
export function poolQuestionId(kind: PoolQuestionKind, poolId: string, subject: string): string {
  return `${kind}:${keySegment(poolId)}:${keySegment(subject)}`;
}

/** The members whose votes count: the listed agents and the owner. */
export function votingMembers(pool: Pool): string[] {
  const members = new Set(Array.isArray(pool.agents) ? pool.agents : []);
  if (typeof pool.owner === 'string' && pool.owner.length > 0) members.add(pool.owner);
  return [...members];
}

/** A `Vote` decision's choice as a vote: `yes`/`approve`, `no`/`reject`, or `veto`. */
export function parseChoice(voter: string, choice: unknown): PoolVote {
  switch (choice) {
    case 'yes':
    case 'approve':
      return { voter, approve: true };
    case 'no':
    case 'reject':
      return { voter, approve: false };
    case 'veto':
      return { voter, approve: false, veto: true };
    default:
      throw new ValidationError(`a pool question takes yes, no or veto, not ${JSON.stringify(choice)}`);
  }
}

/**
 * The open and recently decided questions of one PoolManager, in memory (bounded: at most
 * `maxOpen` open, `MAX_DECIDED_QUESTIONS` decided). Expiry is checked on every access, oldest
 * first, so no timer runs.
 */
export class PoolQuestions {
  readonly #maxOpen: number;
  readonly #timeoutMs: number;
  readonly #clock: () => number;
  readonly #onClose: (q: PoolQuestion) => void;
  // Insertion order is opening order; every question has the same timeout, so the first is the
  // next to expire.
  readonly #open = new Map<string, PoolQuestion>();
  readonly #decided = new Map<string, PoolQuestion>();
  /** The counters (mutated by the PoolManager too). */
  readonly stats: PoolQuestionStats = { opened: 0, approved: 0, rejected: 0, expired: 0, failed: 0, refusedFull: 0, votes: 0, votesRefused: 0 };

  /** @param onClose - called with every question as it closes (decided, expired or failed). */
  constructor(maxOpen: number, timeoutMs: number, clock: () => number, onClose: (q: PoolQuestion) => void = () => {}) {
    this.#maxOpen = maxOpen;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
    this.#onClose = onClose;
  }

  /** Expires every open question past its time. */
  sweep(): void {
    const now = this.#clock();
    for (const q of this.#open.values()) {
      if (q.expiresAt > now) break;
      this.close(q, 'expired', `no decision within ${this.#timeoutMs} ms`);
    }
  }

  /** The question, open or decided (a copy), or `undefined`. */
  get(id: string): PoolQuestion | undefined {
    this.sweep();
    const q = this.#open.get(id) ?? this.#decided.get(id);
    return q === undefined ? undefined : copy(q);
  }

  /** The live record (not a copy), for the PoolManager. */
  live(id: string): PoolQuestion | undefined {
    this.sweep();
    return this.#open.get(id) ?? this.#decided.get(id);
  }

  /** Open questions, of `poolId` if given (copies, oldest first). */
  list(poolId?: string): PoolQuestion[] {
    this.sweep();
    const out: PoolQuestion[] = [];
    for (const q of this.#open.values()) if (poolId === undefined || q.poolId === poolId) out.push(copy(q));
    return out;
  }

  /** Opens a question, or returns the one already open on the same thing. Past the cap → `LimitExceededError`. */
  open(pool: Pool, kind: PoolQuestionKind, subject: string, proposer: string): PoolQuestion {
    this.sweep();
    const id = poolQuestionId(kind, pool.id, subject);
    const existing = this.#open.get(id);
    if (existing) return existing;
    if (this.#open.size >= this.#maxOpen) {
      this.stats.refusedFull++;
      throw new LimitExceededError(`pool ${pool.id}: ${this.#maxOpen} questions are open; cannot ask ${kind} ${subject}`);
    }
    const now = this.#clock();
    const q: PoolQuestion = {
      id,
      poolId: pool.id,
      kind,
      subject,
      proposer,
      state: 'open',
      reason: 'open',
      votes: [],
      openedAt: now,
      expiresAt: now + this.#timeoutMs,
    };
    this.#decided.delete(id);
    this.#open.set(id, q);
    this.stats.opened++;
    return q;
  }

  /** Adds `vote` to the open question `id`; a refusal is a typed error and counted. */
  addVote(id: string, vote: PoolVote, members: readonly string[]): PoolQuestion {
    const q = this.openForVote(id, vote.voter);
    if (!members.includes(vote.voter)) throw this.#refuseVote(new PolicyError(`${vote.voter} is not a member of pool ${q.poolId} and cannot vote on ${id}`));
    if (q.votes.some((v) => v.voter === vote.voter))
      throw this.#refuseVote(new ConflictError(`${vote.voter} already voted on ${id}`, { currentState: 'open' }));
    q.votes.push(vote);
    this.stats.votes++;
    return q;
  }

  /** The open question `id`; unknown → `NotFoundError`, closed → `ConflictError` (both counted). */
  openForVote(id: string, voter: string): PoolQuestion {
    const q = this.live(id);
    if (q === undefined) throw this.#refuseVote(new NotFoundError(`no pool question ${id}`));
    if (q.state !== 'open') throw this.#refuseVote(new ConflictError(`pool question ${id} is ${q.state}; ${voter} cannot vote`, { currentState: q.state }));
    return q;
  }

  /** Counts a vote refused before it reached `addVote` (a bad choice). */
  refuseVote(err: Error): Error {
    return this.#refuseVote(err);
  }

  /**
   * Closes `q` as `state`, keeping it (bounded) among the decided, and announces it unless
   * `announce` is false (an approval is announced once its action is done: `announce(q)`).
   */
  close(q: PoolQuestion, state: Exclude<PoolQuestionState, 'open'>, reason: string, announce = true): void {
    q.state = state;
    q.reason = reason;
    this.stats[state]++;
    this.#open.delete(q.id);
    this.#decided.delete(q.id);
    this.#decided.set(q.id, q);
    if (this.#decided.size > MAX_DECIDED_QUESTIONS) this.#decided.delete(this.#decided.keys().next().value!);
    if (announce) this.#onClose(copy(q));
  }

  /** Announces a closed question (see `close`). */
  announce(q: PoolQuestion): void {
    this.#onClose(copy(q));
  }

  /** An approved question whose action then failed: moved from `approved` to `failed`. */
  fail(q: PoolQuestion, reason: string): void {
    q.state = 'failed';
    q.reason = reason;
    this.stats.approved--;
    this.stats.failed++;
    this.#onClose(copy(q));
  }

  #refuseVote(err: Error): Error {
    this.stats.votesRefused++;
    return err;
  }
}

/**
 * What the governance says now: `approved`, `rejected` (even if every member who has not voted
 * voted yes it would not pass: a veto, a dictator's no, a majority against), or still `open`.
 */
export function judge(model: PoolGovernanceModel, q: PoolQuestion, members: readonly string[]): { state: 'approved' | 'rejected' | 'open'; reason: string } {
  const proposal = { id: q.id, action: `pool.${q.kind}`, proposer: q.proposer, votes: q.votes };
  const now = model.decide(proposal, members);
  if (now.approved === true) return { state: 'approved', reason: now.reason };
  const voted = new Set(q.votes.map((v) => v.voter));
  const rest = members.filter((m) => !voted.has(m)).map((voter) => ({ voter, approve: true }));
  const best = rest.length === 0 ? now : model.decide({ ...proposal, votes: [...q.votes, ...rest] }, members);
  return best.approved === true ? { state: 'open', reason: now.reason } : { state: 'rejected', reason: now.reason };
}

function copy(q: PoolQuestion): PoolQuestion {
  return { ...q, votes: q.votes.map((v) => ({ ...v })) };
}
