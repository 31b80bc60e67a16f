import { ConflictError, LimitExceededError, NotFoundError, PolicyError, ValidationError, uuid4, positiveIntOption } from '@converge/core';
import { requireId } from './common.js';

/**
 * One vote. `weight` is what the voter claims it weighs: kept for the record, never counted
 * (a voter cannot vouch for itself; the weighted rules take weights from a `WeightSource`).
 */
export interface VoteCast {
  voter: string;
  choice: string;
  weight?: number;
}

/** Votes (or weight) per choice. A null-prototype object, so any choice string is a safe key. */
export type Tally = Record<string, number>;

/**
 * The result of a vote. A tie is explicit (never `null`): `tied` lists the choices sharing the
 * highest tally, sorted in code-unit order.
 */
export type VoteResult =
  | { outcome: 'winner'; winner: string; tally: Tally }
  | { outcome: 'tie'; tied: string[]; tally: Tally }
  | { outcome: 'no-majority' | 'no-quorum'; tally: Tally };

/** Options of `majorityVote`. */
export interface MajorityOptions {
  /** Minimum number of votes for a valid result (default 1). */
  quorum?: number;
  /** When given, only these voters may vote; any other → `PolicyError`. */
  members?: readonly string[];
}

/** Weight per voter. Voters missing from a given table weigh 0. */
export type Weights = Record<string, number> | ReadonlyMap<string, number>;

/**
 * Where the weighted rules get a voter's weight: a table (`Weights`), or a function of the
 * voter, e.g. a trust model's score (`(voter) => trust.score(voter)`). Never the vote itself.
 */
export type WeightSource = Weights | ((voter: string) => number);

/**
 * Majority rule: a choice wins with more than half of the votes cast (`> total / 2`).
 * Otherwise: `tie` when two or more choices share the highest tally, else `no-majority`.
 * Fewer votes than `quorum` → `no-quorum`. One vote per voter (a second → `ValidationError`).
 */
export function majorityVote(votes: readonly VoteCast[], options: MajorityOptions = {}): VoteResult {
  const { tally, total, count } = tallyVotes(votes, options.members, () => 1);
  if (count < quorumOf(options.quorum)) return { outcome: 'no-quorum', tally };
  return decide(tally, total, true);
}

/** Plurality rule: the choice with the highest tally wins; a shared highest tally is a `tie`. No votes → `no-quorum`. */
export function pluralityVote(votes: readonly VoteCast[], options: MajorityOptions = {}): VoteResult {
  const { tally, total, count } = tallyVotes(votes, options.members, () => 1);
  if (count < quorumOf(options.quorum)) return { outcome: 'no-quorum', tally };
  return decide(tally, total, false);
}

/**
 * Weighted majority: like `majorityVote` with each vote counted at its voter's weight, taken
 * from `weights` (a table: voters missing from it weigh 0; or a function such as a trust
 * model's score). A vote's own `weight` is ignored: a voter claiming 1e300 would otherwise
 * outvote everyone. Weights must be finite and >= 0; no `weights` → `ValidationError`.
 */
export function weightedMajorityVote(votes: readonly VoteCast[], weights: WeightSource, options: MajorityOptions = {}): VoteResult {
  const { tally, total, count } = tallyVotes(votes, options.members, weigher(weights));
  if (count < quorumOf(options.quorum)) return { outcome: 'no-quorum', tally };
  return decide(tally, total, true);
}

/** Weighted plurality: like `pluralityVote` with weights as in `weightedMajorityVote` (required; a vote's own weight is ignored). */
export function weightedPluralityVote(votes: readonly VoteCast[], weights: WeightSource, options: MajorityOptions = {}): VoteResult {
  const { tally, total, count } = tallyVotes(votes, options.members, weigher(weights));
  if (count < quorumOf(options.quorum)) return { outcome: 'no-quorum', tally };
  return decide(tally, total, false);
}

/** The voting rules, grouped. */
export const Consensus = { majorityVote, pluralityVote, weightedMajorityVote, weightedPluralityVote } as const;

/** A rule a `Ballot` applies on `close()`. */
export type BallotRule = 'majority' | 'plurality' | 'weighted-majority' | 'weighted-plurality';

/** Default cap on voters of a ballot without a member list: 10,000. */
export const DEFAULT_MAX_VOTERS = 10_000;

/** Options of `new Ballot`. */
export interface BallotOptions {
  id?: string;
  /** Who may vote; omitted = anyone (up to `maxVoters`). */
  members?: readonly string[];
  /** Allowed choices; omitted = any string. */
  choices?: readonly string[];
  /** Rule applied by `close()` (default `majority`). */
  rule?: BallotRule;
  /** Where the weighted rules get weights (a table or a trust score); required for them. */
  weights?: WeightSource;
  /** Minimum number of votes (default 1). */
  quorum?: number;
  /** Voters accepted when there is no member list (default `DEFAULT_MAX_VOTERS`). */
  maxVoters?: number;
}

/**
 * A ballot that collects votes and then closes with a result. It refuses a non-member
 * (`PolicyError`), a second vote by the same voter and any vote after close (`ConflictError`
 * naming the state), and a choice not on the list (`ValidationError`).
 */
export class Ballot {
  /** Ballot id. */
  readonly id: string;
  readonly #members: ReadonlySet<string> | null;
  readonly #choices: ReadonlySet<string> | null;
  readonly #rule: BallotRule;
  readonly #weights: WeightSource | undefined;
  readonly #quorum: number | undefined;
  readonly #maxVoters: number;
  readonly #votes = new Map<string, VoteCast>();
  #result: VoteResult | null = null;

  constructor(options: BallotOptions = {}) {
    this.id = options.id ?? uuid4();
    this.#members = options.members ? new Set(options.members) : null;
    this.#choices = options.choices ? new Set(options.choices) : null;
    this.#rule = options.rule ?? 'majority';
    if (!['majority', 'plurality', 'weighted-majority', 'weighted-plurality'].includes(this.#rule)) {
      throw new ValidationError(`unknown ballot rule ${this.#rule}`);
    }
    this.#weights = options.weights;
    if (this.#rule.startsWith('weighted-') && this.#weights === undefined) {
      throw new ValidationError(`ballot rule ${this.#rule} needs weights (a weight table or a trust score): a voter's own claimed weight is never counted`);
    }
    this.#quorum = options.quorum;
    quorumOf(options.quorum);
    this.#maxVoters = positiveIntOption(options.maxVoters, DEFAULT_MAX_VOTERS, 'maxVoters', 'validation');
  }

  /** `open` until `close()`, then `closed`. */
  get state(): 'open' | 'closed' {
    return this.#result ? 'closed' : 'open';
  }

  /** Votes cast so far (copies). */
  get votes(): VoteCast[] {
    return [...this.#votes.values()].map((v) => ({ ...v }));
  }

  /** The result once closed, else `null`. */
  get result(): VoteResult | null {
    return this.#result;
  }

  /** Casts `voter`'s vote. A claimed `weight` is recorded but never counted (the ballot's `weights` decide). */
  vote(voter: string, choice: string, weight?: number): void {
    requireId(voter, 'voter');
    if (typeof choice !== 'string') throw new ValidationError('choice must be a string');
    if (this.#result) throw new ConflictError(`ballot ${this.id} is closed; ${voter} cannot vote`, { currentState: 'closed' });
    if (this.#members && !this.#members.has(voter)) throw new PolicyError(`${voter} is not a member of ballot ${this.id} (open)`);
    if (this.#votes.has(voter)) throw new ConflictError(`${voter} already voted in ballot ${this.id}`, { currentState: 'open' });
    if (this.#choices && !this.#choices.has(choice)) throw new ValidationError(`${JSON.stringify(choice)} is not a choice of ballot ${this.id}`);
    if (!this.#members && this.#votes.size >= this.#maxVoters) throw new LimitExceededError(`ballot ${this.id} has ${this.#maxVoters} voters`);
    if (weight !== undefined) checkWeight(weight, voter);
    this.#votes.set(voter, weight === undefined ? { voter, choice } : { voter, choice, weight });
  }

  /** Closes the ballot and returns the result (idempotent). */
  close(): VoteResult {
    if (this.#result) return this.#result;
    const votes = [...this.#votes.values()];
    const opts = { quorum: this.#quorum };
    switch (this.#rule) {
      case 'majority':
        this.#result = majorityVote(votes, opts);
        break;
      case 'plurality':
        this.#result = pluralityVote(votes, opts);
        break;
      case 'weighted-majority':
        this.#result = weightedMajorityVote(votes, this.#weights!, opts);
        break;
      case 'weighted-plurality':
        this.#result = weightedPluralityVote(votes, this.#weights!, opts);
        break;
    }
    return this.#result!;
  }
}

function tallyVotes(
  votes: readonly VoteCast[],
  members: readonly string[] | undefined,
  weightOf: (v: VoteCast) => number,
): { tally: Tally; total: number; count: number } {
  if (!Array.isArray(votes as unknown)) throw new ValidationError('votes must be an array');
  const allowed = members ? new Set(members) : null;
  const seen = new Set<string>();
  const tally: Tally = Object.create(null) as Tally;
  let total = 0;
  for (const v of votes) {
    if (!v || typeof v.voter !== 'string' || typeof v.choice !== 'string') throw new ValidationError('a vote is { voter: string, choice: string }');
    if (allowed && !allowed.has(v.voter)) throw new PolicyError(`${v.voter} is not a member and cannot vote`);
    if (seen.has(v.voter)) throw new ValidationError(`${v.voter} voted more than once`);
    seen.add(v.voter);
    const w = weightOf(v);
    tally[v.choice] = (tally[v.choice] ?? 0) + w;
    total += w;
  }
  return { tally, total, count: seen.size };
}

function decide(tally: Tally, total: number, needMajority: boolean): VoteResult {
  let best = -Infinity;
  let leaders: string[] = [];
  for (const choice of Object.keys(tally)) {
    const n = tally[choice]!;
    if (n > best) {
      best = n;
      leaders = [choice];
    } else if (n === best) leaders.push(choice);
  }
  if (leaders.length === 0 || best <= 0) return { outcome: needMajority ? 'no-majority' : 'no-quorum', tally };
  if (leaders.length > 1) return { outcome: 'tie', tied: leaders.sort(), tally };
  if (needMajority && !(best > total / 2)) return { outcome: 'no-majority', tally };
  return { outcome: 'winner', winner: leaders[0]!, tally };
}

// The weight of a vote comes from the source only; `v.weight` (the voter's own claim) is never read.
function weigher(weights: WeightSource | undefined): (v: VoteCast) => number {
  if (weights === undefined || weights === null)
    throw new ValidationError("weighted votes need weights (a weight table or a trust score); a vote's own weight is not counted");
  if (typeof weights === 'function') return (v) => checkWeight(weights(v.voter), v.voter);
  if (typeof weights !== 'object') throw new ValidationError('weights must be a table or a function of the voter');
  const get =
    weights instanceof Map
      ? (k: string) => (weights as ReadonlyMap<string, number>).get(k)
      : (k: string) => (Object.hasOwn(weights, k) ? (weights as Record<string, number>)[k] : undefined);
  return (v) => {
    const w = get(v.voter);
    return w === undefined ? 0 : checkWeight(w, v.voter);
  };
}

function checkWeight(w: number, voter: string): number {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new ValidationError(`weight of ${voter} must be a finite number >= 0`);
  return w;
}

function quorumOf(q: number | undefined): number {
  if (q === undefined) return 1;
  if (!Number.isSafeInteger(q) || q < 0) throw new ValidationError('quorum must be an integer >= 0');
  return q;
}

/** Default cap on open ballots in a `BallotBox`: 1,000. */
export const DEFAULT_MAX_BALLOTS = 1_000;

/**
 * Ballots by id (what the runtime's executor drives with `VoteCast` decisions). Bounded: when
 * full, the oldest closed ballot is dropped; if none is closed, `open` throws `LimitExceededError`.
 */
export class BallotBox {
  readonly #ballots = new Map<string, Ballot>();
  readonly #max: number;

  /** @param maxBallots - ballots held (default `DEFAULT_MAX_BALLOTS`). */
  constructor(maxBallots?: number) {
    this.#max = positiveIntOption(maxBallots, DEFAULT_MAX_BALLOTS, 'maxBallots', 'validation');
  }

  /** Opens a ballot; a duplicate id → `ConflictError`. */
  open(options: BallotOptions = {}): Ballot {
    const ballot = new Ballot(options);
    if (this.#ballots.has(ballot.id)) throw new ConflictError(`ballot ${ballot.id} already exists`, { currentState: this.#ballots.get(ballot.id)!.state });
    if (this.#ballots.size >= this.#max) {
      const closed = [...this.#ballots.values()].find((b) => b.state === 'closed');
      if (!closed) throw new LimitExceededError(`${this.#max} ballots are open`);
      this.#ballots.delete(closed.id);
    }
    this.#ballots.set(ballot.id, ballot);
    return ballot;
  }

  /** The ballot, or `NotFoundError`. */
  get(ballotId: string): Ballot {
    const b = this.#ballots.get(ballotId);
    if (!b) throw new NotFoundError(`no ballot ${ballotId}`);
    return b;
  }

  /** Casts a vote in ballot `ballotId` (see `Ballot.vote`). */
  vote(ballotId: string, voter: string, choice: string, weight?: number): void {
    this.get(ballotId).vote(voter, choice, weight);
  }

  /** Closes ballot `ballotId` and returns its result. */
  close(ballotId: string): VoteResult {
    return this.get(ballotId).close();
  }
}
