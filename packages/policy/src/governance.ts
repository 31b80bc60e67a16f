/**
 * Governance models: whether a proposal put to the members of a pool is approved. Every model
 * ignores votes by non-members and counts each voter's first vote only, and says so in its
 * result.
 */
import { ConfigError, ValidationError, type PolicySpec } from '@converge/core';
import { checkNumber, checkStringList } from './common.js';
import type { TrustModel } from './trust.js';

/** One vote on a proposal. */
export interface GovernanceVote {
  /** Fingerprint of the voter. */
  voter: string;
  /** For or against. */
  approve: boolean;
  /** Self-declared weight: the built-in models ignore it (a voter cannot vouch for itself). */
  weight?: number;
  /** The chamber the vote is cast in (`BicameralGovernance`), for voters who sit in both. */
  chamber?: string;
  /** A veto (`VetoGovernance`): counts only from a veto holder; a veto is also a vote against. */
  veto?: boolean;
}

/** A proposal with the votes cast on it so far. */
export interface GovernanceProposal {
  /** Identifier of the proposal. */
  id: string;
  /** What is proposed, e.g. `pool.update`. */
  action: string;
  /** Fingerprint of the proposer. */
  proposer: string;
  /** The votes cast, in the order they were cast (a voter's first vote counts). */
  votes: readonly GovernanceVote[];
}

/** The counted votes. Weights are vote counts, or trust for `EmpiricalGovernance`. */
export interface GovernanceTally {
  /** Weight for. */
  approve: number;
  /** Weight against. */
  reject: number;
  /** Number of counted votes. */
  counted: number;
}

/** The outcome of `decide`. */
export interface GovernanceDecision {
  /** Whether the proposal passes. */
  approved: boolean;
  /** Why, in words (for logs and the proposer). */
  reason: string;
  /** The counted votes (for bicameral models: of both chambers together). */
  tally: GovernanceTally;
  /** Voters whose votes were ignored because they are not members. */
  nonMemberVoters: string[];
  /** Voters who voted more than once (their first vote counted). */
  duplicateVoters: string[];
  /** Members whose votes this model does not count (not the dictator, in no chamber). */
  uncountedVoters: string[];
  /** Vetoes ignored because their voter holds no veto. */
  ignoredVetoes: string[];
}

/** A way of deciding proposals. */
export interface GovernanceModel {
  /** Decides `proposal` among `members` (fingerprints); pure: it does not keep the votes. */
  decide(proposal: GovernanceProposal, members: readonly string[]): GovernanceDecision;
}

/** Votes after validation, membership filtering and de-duplication. */
interface Screened {
  votes: GovernanceVote[];
  nonMemberVoters: string[];
  duplicateVoters: string[];
}

/** Validates the inputs and keeps each member's first vote; the building block of every model. */
function screen(proposal: GovernanceProposal, members: readonly string[], perChamber = false): Screened {
  if (!proposal || typeof proposal !== 'object' || !Array.isArray(proposal.votes as unknown)) throw new ValidationError('proposal must have a votes array');
  if (!Array.isArray(members as unknown) || !members.every((m) => typeof m === 'string')) throw new ValidationError('members must be an array of strings');
  const memberSet = new Set(members);
  const seen = new Set<string>();
  const nonMembers = new Set<string>();
  const duplicates = new Set<string>();
  const votes: GovernanceVote[] = [];
  for (const v of proposal.votes) {
    if (!v || typeof v !== 'object' || typeof v.voter !== 'string' || typeof v.approve !== 'boolean') {
      throw new ValidationError(`proposal ${String(proposal.id)}: each vote needs a string voter and a boolean approve`);
    }
    if (!memberSet.has(v.voter)) {
      nonMembers.add(v.voter);
      continue;
    }
    // Bicameral voters may vote once per chamber; everywhere else, once.
    const key = perChamber && v.chamber !== undefined ? `${v.voter}\u0000${String(v.chamber)}` : v.voter;
    if (seen.has(key)) {
      duplicates.add(v.voter);
      continue;
    }
    seen.add(key);
    votes.push(v);
  }
  return { votes, nonMemberVoters: [...nonMembers], duplicateVoters: [...duplicates] };
}

function result(s: Screened, approved: boolean, reason: string, tally: GovernanceTally, extra: Partial<GovernanceDecision> = {}): GovernanceDecision {
  return {
    approved,
    reason,
    tally,
    nonMemberVoters: s.nonMemberVoters,
    duplicateVoters: s.duplicateVoters,
    uncountedVoters: [],
    ignoredVetoes: [],
    ...extra,
  };
}

/** Whether `approve` exceeds `threshold` of `approve + reject` (exact for the common thresholds). */
function passes(t: GovernanceTally, threshold: number): boolean {
  const total = t.approve + t.reject;
  return total > 0 && t.approve > threshold * total;
}

function countHeads(votes: readonly GovernanceVote[]): GovernanceTally {
  let approve = 0;
  for (const v of votes) if (v.approve) approve++;
  return { approve, reject: votes.length - approve, counted: votes.length };
}

function checkThreshold(t: number | undefined, fallback = 0.5): number {
  // Below 1, or nothing could ever pass (approve must *exceed* threshold × total).
  const value = checkNumber('threshold', t ?? fallback, 0, 1);
  if (value >= 1) throw new ConfigError('threshold must be below 1 (approval must exceed it)', { key: 'threshold' });
  return value;
}

/** Options of `DemocraticGovernance`. */
export interface DemocraticGovernanceOptions {
  /** Share of the votes cast that approval must exceed (default 0.5: a simple majority; a tie fails). */
  threshold?: number;
  /** Share of the members who must vote, in (0, 1] (default: none). */
  quorum?: number;
}

/**
 * One member, one vote: approved when more than `threshold` of the votes cast approve and,
 * with a `quorum`, at least that share of the members voted.
 */
export class DemocraticGovernance implements GovernanceModel {
  readonly #threshold: number;
  readonly #quorum: number | undefined;

  /** @throws ConfigError on a threshold outside [0, 1) or a quorum outside (0, 1]. */
  constructor(options: DemocraticGovernanceOptions = {}) {
    this.#threshold = checkThreshold(options.threshold);
    this.#quorum = options.quorum === undefined ? undefined : checkNumber('quorum', options.quorum, Number.MIN_VALUE, 1);
  }

  /** See the class description. */
  decide(proposal: GovernanceProposal, members: readonly string[]): GovernanceDecision {
    const s = screen(proposal, members);
    const tally = countHeads(s.votes);
    const memberCount = new Set(members).size;
    if (this.#quorum !== undefined && tally.counted < this.#quorum * memberCount) {
      return result(s, false, `quorum not reached: ${tally.counted} of ${memberCount} members voted`, tally);
    }
    if (tally.counted === 0) return result(s, false, 'no votes from members', tally);
    const ok = passes(tally, this.#threshold);
    return result(s, ok, `${tally.approve} of ${tally.counted} votes approve (must exceed ${this.#threshold})`, tally);
  }
}

/** Options of `DictatorialGovernance`. */
export interface DictatorialGovernanceOptions {
  /** Fingerprint of the only voter that counts. */
  dictator: string;
}

/** Only the dictator's vote counts (and the dictator must be a member). */
export class DictatorialGovernance implements GovernanceModel {
  readonly #dictator: string;

  /** @throws ConfigError without a dictator. */
  constructor(options: DictatorialGovernanceOptions) {
    if (typeof options?.dictator !== 'string' || options.dictator.length === 0)
      throw new ConfigError('dictator must be a non-empty string', { key: 'dictator' });
    this.#dictator = options.dictator;
  }

  /** See the class description. */
  decide(proposal: GovernanceProposal, members: readonly string[]): GovernanceDecision {
    const s = screen(proposal, members);
    const mine = s.votes.filter((v) => v.voter === this.#dictator);
    const uncountedVoters = [...new Set(s.votes.filter((v) => v.voter !== this.#dictator).map((v) => v.voter))];
    const tally = countHeads(mine.slice(0, 1));
    if (!members.includes(this.#dictator)) return result(s, false, 'the dictator is not a member', tally, { uncountedVoters });
    if (mine.length === 0) return result(s, false, 'the dictator has not voted', tally, { uncountedVoters });
    const approved = mine[0].approve;
    return result(s, approved, approved ? 'the dictator approves' : 'the dictator rejects', tally, { uncountedVoters });
  }
}

/** Options of `BicameralGovernance`. */
export interface BicameralGovernanceOptions {
  /** The members of each chamber (a member may sit in both). */
  chambers: { upper: readonly string[]; lower: readonly string[] };
  /** Share of each chamber's votes that approval must exceed (default 0.5). */
  threshold?: number;
}

/**
 * Two chambers, each deciding by majority of its votes cast (above `threshold`); a proposal
 * passes only if both approve. A vote counts in the chamber named by its `chamber`, or, without
 * one, in every chamber its voter sits in. Chamber seats of non-members do not count.
 */
export class BicameralGovernance implements GovernanceModel {
  readonly #upper: ReadonlySet<string>;
  readonly #lower: ReadonlySet<string>;
  readonly #threshold: number;

  /** @throws ConfigError on missing chambers or a bad threshold. */
  constructor(options: BicameralGovernanceOptions) {
    if (!options?.chambers) throw new ConfigError('chambers must be { upper, lower }', { key: 'chambers' });
    this.#upper = new Set(checkStringList('chambers.upper', options.chambers.upper));
    this.#lower = new Set(checkStringList('chambers.lower', options.chambers.lower));
    this.#threshold = checkThreshold(options.threshold);
  }

  /** See the class description. */
  decide(proposal: GovernanceProposal, members: readonly string[]): GovernanceDecision {
    const s = screen(proposal, members, true);
    const chamberVotes = (name: 'upper' | 'lower', seats: ReadonlySet<string>): GovernanceVote[] => {
      const seen = new Set<string>();
      const out: GovernanceVote[] = [];
      for (const v of s.votes) {
        if (!seats.has(v.voter) || (v.chamber !== undefined && v.chamber !== name)) continue;
        if (seen.has(v.voter)) {
          // An unmarked vote and one marked for this chamber: the first counts.
          if (!s.duplicateVoters.includes(v.voter)) s.duplicateVoters.push(v.voter);
          continue;
        }
        seen.add(v.voter);
        out.push(v);
      }
      return out;
    };
    const upper = countHeads(chamberVotes('upper', this.#upper));
    const lower = countHeads(chamberVotes('lower', this.#lower));
    const uncountedVoters = [...new Set(s.votes.filter((v) => !this.#upper.has(v.voter) && !this.#lower.has(v.voter)).map((v) => v.voter))];
    const tally = { approve: upper.approve + lower.approve, reject: upper.reject + lower.reject, counted: upper.counted + lower.counted };
    const upOk = passes(upper, this.#threshold);
    const lowOk = passes(lower, this.#threshold);
    const reason = `upper ${upper.approve}/${upper.counted} ${upOk ? 'approves' : 'does not approve'}, lower ${lower.approve}/${lower.counted} ${lowOk ? 'approves' : 'does not approve'}`;
    return result(s, upOk && lowOk, reason, tally, { uncountedVoters });
  }
}

/** Options of `VetoGovernance`. */
export interface VetoGovernanceOptions {
  /** Members whose veto (`veto: true`) rejects a proposal outright. */
  vetoHolders: readonly string[];
  /** The model that decides when nobody vetoes. */
  base: GovernanceModel;
}

/**
 * Any veto holder (who is a member) can reject a proposal with a `veto: true` vote; otherwise
 * `base` decides. A veto from anyone else is ignored as a veto (and listed in
 * `ignoredVetoes`) but still counts as a vote against.
 */
export class VetoGovernance implements GovernanceModel {
  readonly #holders: ReadonlySet<string>;
  readonly #base: GovernanceModel;

  /** @throws ConfigError on a bad holder list or a base without `decide`. */
  constructor(options: VetoGovernanceOptions) {
    this.#holders = new Set(checkStringList('vetoHolders', options?.vetoHolders));
    if (!options.base || typeof options.base.decide !== 'function') throw new ConfigError('base must be a GovernanceModel', { key: 'base' });
    this.#base = options.base;
  }

  /** See the class description. */
  decide(proposal: GovernanceProposal, members: readonly string[]): GovernanceDecision {
    const s = screen(proposal, members);
    let vetoedBy: string | undefined;
    const counted = new Set<GovernanceVote>();
    for (const v of s.votes) {
      if (v.veto === true && this.#holders.has(v.voter)) {
        vetoedBy ??= v.voter;
        counted.add(v);
      }
    }
    // Every other veto (non-holder, non-member, or a holder's second vote) is ignored and listed.
    const ignoredVetoes = proposal.votes.filter((v) => v.veto === true && !counted.has(v)).map((v) => v.voter);
    // The base sees each veto as the vote against that it also is.
    const votes = proposal.votes.map((v) => (v && v.veto === true ? { ...v, approve: false } : v));
    const base = this.#base.decide({ ...proposal, votes }, members);
    if (vetoedBy !== undefined) return { ...base, approved: false, reason: `vetoed by ${vetoedBy}`, ignoredVetoes };
    return { ...base, ignoredVetoes: [...base.ignoredVetoes, ...ignoredVetoes] };
  }
}

/** Options of `EmpiricalGovernance`. */
export interface EmpiricalGovernanceOptions {
  /** Where the weights come from. */
  trust: TrustModel;
  /** Share of the trust-weighted votes that approval must exceed (default 0.5). */
  threshold?: number;
}

/**
 * Votes weighted by the voter's trust score (self-declared weights are ignored): approved when
 * the trust behind "yes" exceeds `threshold` of the trust behind all counted votes.
 */
export class EmpiricalGovernance implements GovernanceModel {
  readonly #trust: TrustModel;
  readonly #threshold: number;

  /** @throws ConfigError without a trust model or on a bad threshold. */
  constructor(options: EmpiricalGovernanceOptions) {
    if (!options?.trust || typeof options.trust.score !== 'function') throw new ConfigError('trust must be a TrustModel', { key: 'trust' });
    this.#trust = options.trust;
    this.#threshold = checkThreshold(options.threshold);
  }

  /** See the class description. */
  decide(proposal: GovernanceProposal, members: readonly string[]): GovernanceDecision {
    const s = screen(proposal, members);
    let approve = 0;
    let reject = 0;
    for (const v of s.votes) {
      // Trust can be configured below zero; a negative weight would flip a vote, so floor at 0.
      const w = Math.max(0, this.#trust.score(v.voter));
      if (v.approve) approve += w;
      else reject += w;
    }
    const tally = { approve, reject, counted: s.votes.length };
    if (approve + reject === 0) return result(s, false, 'no trust behind any counted vote', tally);
    const ok = passes(tally, this.#threshold);
    return result(s, ok, `trust ${approve.toFixed(3)} for, ${reject.toFixed(3)} against (must exceed ${this.#threshold} of the total)`, tally);
  }
}

/** Options of `governanceFromSpec`. */
export interface GovernanceFromSpecOptions {
  /** The trust model `{ type: 'empirical' }` needs. */
  trust?: TrustModel;
}

/**
 * Builds a governance model from a pool's plain-data spec: `{ type: 'democratic', threshold?,
 * quorum? }`, `{ type: 'dictatorial', dictator }`, `{ type: 'bicameral', chambers, threshold? }`,
 * `{ type: 'veto', vetoHolders, base: <spec> }`, `{ type: 'empirical', threshold? }` (with
 * `options.trust`). An unknown type throws `ConfigError`.
 */
export function governanceFromSpec(spec: PolicySpec, options: GovernanceFromSpecOptions = {}): GovernanceModel {
  return buildGovernance(spec, options, 0);
}

/** Largest nesting of `veto` specs accepted by `governanceFromSpec`. */
export const MAX_GOVERNANCE_SPEC_DEPTH = 4;

function buildGovernance(spec: PolicySpec, options: GovernanceFromSpecOptions, depth: number): GovernanceModel {
  if (!spec || typeof spec !== 'object' || typeof spec.type !== 'string') throw new ConfigError('governance spec must have a string type', { key: 'type' });
  const num = (k: string): number | undefined => {
    const v = spec[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw new ConfigError(`${k} must be a number`, { key: k });
    return v;
  };
  switch (spec.type) {
    case 'democratic':
      return new DemocraticGovernance({ threshold: num('threshold'), quorum: num('quorum') });
    case 'dictatorial':
      return new DictatorialGovernance({ dictator: spec.dictator as string });
    case 'bicameral':
      return new BicameralGovernance({ chambers: spec.chambers as BicameralGovernanceOptions['chambers'], threshold: num('threshold') });
    case 'veto':
      // Nesting is bounded: a spec is data and may come from anywhere.
      if (depth >= MAX_GOVERNANCE_SPEC_DEPTH) throw new ConfigError('veto specs nest too deeply', { key: 'base' });
      return new VetoGovernance({ vetoHolders: spec.vetoHolders as string[], base: buildGovernance(spec.base as PolicySpec, options, depth + 1) });
    case 'empirical':
      if (!options.trust) throw new ConfigError('empirical governance needs options.trust', { key: 'trust' });
      return new EmpiricalGovernance({ trust: options.trust, threshold: num('threshold') });
    default:
      throw new ConfigError(`unknown governance type ${JSON.stringify(spec.type)}`, { key: 'type' });
  }
}
