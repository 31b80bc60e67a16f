import { ConflictError, LimitExceededError, NotFoundError, PolicyError, ValidationError, uuid4, type WireValue, positiveIntOptions } from '@converge/core';
import { requireId, type Clock } from './common.js';

/** States of a negotiation session. `accepted`, `rejected` and `expired` are terminal. */
export type NegotiationState = 'proposed' | 'countered' | 'accepted' | 'rejected' | 'expired';

/** One proposal or counter-proposal. */
export interface NegotiationOffer {
  by: string;
  terms: WireValue;
  at: number;
}

/** A negotiation session (a snapshot: mutating it changes nothing). */
export interface NegotiationSession {
  id: string;
  /** Who opened the session. */
  initiator: string;
  /** Everyone who may act, the initiator included. */
  participants: string[];
  state: NegotiationState;
  /** The offer on the table (the latest proposal or counter). */
  current: NegotiationOffer;
  /** Every offer, oldest first. */
  history: NegotiationOffer[];
  /** Who accepted the offer on the table so far. */
  acceptedBy: string[];
  /** Who rejected, and why, once rejected. */
  rejectedBy: string | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  /** Unix ms after which an open session expires (renewed by each counter). */
  expiresAt: number;
}

/** Default lifetime and caps of a `NegotiationProtocol` (its options of the same names), frozen. */
export const NEGOTIATION_DEFAULTS = Object.freeze({ ttlMs: 300_000, maxSessions: 10_000, maxRounds: 100, maxParticipants: 100 });
/** Default session lifetime without activity: 5 minutes. */
export const DEFAULT_NEGOTIATION_TTL_MS = NEGOTIATION_DEFAULTS.ttlMs;
/** Default number of sessions held (open or finished): 10,000. */
export const DEFAULT_MAX_SESSIONS = NEGOTIATION_DEFAULTS.maxSessions;
/** Default number of offers in one session: 100. */
export const DEFAULT_MAX_ROUNDS = NEGOTIATION_DEFAULTS.maxRounds;
/** Default number of participants in one session: 100. */
export const DEFAULT_MAX_PARTICIPANTS = NEGOTIATION_DEFAULTS.maxParticipants;

/** Options of `new NegotiationProtocol`. */
export interface NegotiationOptions {
  clock?: Clock;
  /** Sessions held; when full, the oldest finished session is evicted (default `DEFAULT_MAX_SESSIONS`). */
  maxSessions?: number;
  /** Lifetime of an open session since its latest offer (default `DEFAULT_NEGOTIATION_TTL_MS`). */
  ttlMs?: number;
  /** Offers per session (default `DEFAULT_MAX_ROUNDS`). */
  maxRounds?: number;
  /** Participants per session (default `DEFAULT_MAX_PARTICIPANTS`). */
  maxParticipants?: number;
}

/** Counters of a NegotiationProtocol. */
export interface NegotiationStats {
  proposed: number;
  countered: number;
  accepted: number;
  rejected: number;
  expired: number;
  /** Finished sessions dropped to make room. */
  evicted: number;
  /** Calls refused (`ConflictError` or `PolicyError`). */
  refused: number;
}

const TERMINAL: ReadonlySet<NegotiationState> = new Set(['accepted', 'rejected', 'expired']);

/**
 * Negotiation sessions as a state machine:
 * `proposed` →(counter)→ `countered` →(counter)→ … →(accept | reject | ttl)→ `accepted` |
 * `rejected` | `expired`.
 *
 * Rules: only participants act; nobody accepts (or counters) the offer they made themselves;
 * an offer is accepted once every participant other than its author has accepted it (a
 * counter resets the acceptances); nothing happens after a terminal state (`ConflictError`
 * naming it). Sessions live in memory, bounded: when full, the oldest finished session is
 * evicted; if none is finished, `propose` throws `LimitExceededError` (live sessions are
 * never dropped silently).
 */
export class NegotiationProtocol {
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #max: number;
  readonly #maxRounds: number;
  readonly #maxParticipants: number;
  readonly #sessions = new Map<string, NegotiationSession>();
  // Finished sessions in the order they finished: eviction takes the first.
  readonly #finished = new Set<string>();
  readonly #stats: NegotiationStats = { proposed: 0, countered: 0, accepted: 0, rejected: 0, expired: 0, evicted: 0, refused: 0 };

  constructor(options: NegotiationOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    ({
      ttlMs: this.#ttl,
      maxSessions: this.#max,
      maxRounds: this.#maxRounds,
      maxParticipants: this.#maxParticipants,
    } = positiveIntOptions(options, NEGOTIATION_DEFAULTS, 'validation'));
  }

  /** A snapshot of the counters. */
  stats(): NegotiationStats {
    return { ...this.#stats };
  }

  /** Number of sessions held. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Opens a session: `from` proposes `terms` to `participants` (`from` is added to them). */
  propose(from: string, participants: readonly string[], terms: WireValue, options: { id?: string } = {}): NegotiationSession {
    requireId(from, 'from');
    if (!Array.isArray(participants)) throw new ValidationError('participants must be an array');
    const all = [...new Set([from, ...participants.map((p) => requireId(p, 'participant'))])];
    if (all.length < 2) throw new ValidationError('a negotiation needs at least one participant besides the proposer');
    if (all.length > this.#maxParticipants) throw new LimitExceededError(`more than ${this.#maxParticipants} participants`);
    const id = options.id === undefined ? uuid4() : requireId(options.id, 'session id');
    if (this.#sessions.has(id)) throw new ConflictError(`negotiation ${id} already exists`, { currentState: this.#sessions.get(id)!.state });
    this.#makeRoom();
    const now = this.#clock();
    const offer = { by: from, terms, at: now };
    const s: NegotiationSession = {
      id,
      initiator: from,
      participants: all,
      state: 'proposed',
      current: offer,
      history: [offer],
      acceptedBy: [],
      rejectedBy: null,
      reason: null,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + this.#ttl,
    };
    this.#sessions.set(id, s);
    this.#stats.proposed++;
    return snapshot(s);
  }

  /** Puts a counter-offer on the table (state `countered`; acceptances reset). */
  counter(sessionId: string, from: string, terms: WireValue): NegotiationSession {
    const s = this.#open(sessionId, from, 'counter');
    if (s.current.by === from) throw this.#refuse(new ConflictError(`${from} cannot counter their own offer in ${sessionId}`, { currentState: s.state }));
    if (s.history.length >= this.#maxRounds) throw this.#refuse(new LimitExceededError(`negotiation ${sessionId} reached ${this.#maxRounds} offers`));
    const now = this.#clock();
    s.current = { by: from, terms, at: now };
    s.history.push(s.current);
    s.acceptedBy = [];
    s.state = 'countered';
    s.updatedAt = now;
    s.expiresAt = now + this.#ttl;
    this.#stats.countered++;
    return snapshot(s);
  }

  /** `by` accepts the offer on the table; the session is `accepted` once all other participants have. */
  accept(sessionId: string, by: string): NegotiationSession {
    const s = this.#open(sessionId, by, 'accept');
    if (s.current.by === by) throw this.#refuse(new ConflictError(`${by} cannot accept their own offer in ${sessionId}`, { currentState: s.state }));
    if (!s.acceptedBy.includes(by)) s.acceptedBy.push(by);
    s.updatedAt = this.#clock();
    if (s.participants.every((p) => p === s.current.by || s.acceptedBy.includes(p))) this.#finish(s, 'accepted');
    return snapshot(s);
  }

  /** `by` rejects: the session ends `rejected`. */
  reject(sessionId: string, by: string, reason?: string): NegotiationSession {
    const s = this.#open(sessionId, by, 'reject');
    s.rejectedBy = by;
    s.reason = reason ?? null;
    s.updatedAt = this.#clock();
    this.#finish(s, 'rejected');
    return snapshot(s);
  }

  /** The session (expired first if its time is up). Unknown or evicted → `NotFoundError`. */
  getSession(sessionId: string): NegotiationSession {
    return snapshot(this.#get(sessionId));
  }

  /** Expires every open session whose time is up; returns how many. */
  sweep(): number {
    const before = this.#stats.expired;
    for (const s of this.#sessions.values()) this.#checkExpiry(s);
    return this.#stats.expired - before;
  }

  #get(sessionId: string): NegotiationSession {
    const s = this.#sessions.get(sessionId);
    if (!s) throw new NotFoundError(`no negotiation ${sessionId}`);
    this.#checkExpiry(s);
    return s;
  }

  #open(sessionId: string, who: string, action: string): NegotiationSession {
    requireId(who, 'agent id');
    const s = this.#get(sessionId);
    if (!s.participants.includes(who))
      throw this.#refuse(new PolicyError(`${who} is not a participant of negotiation ${sessionId} (${s.state}) and cannot ${action}`));
    if (TERMINAL.has(s.state)) throw this.#refuse(new ConflictError(`negotiation ${sessionId} is ${s.state}; cannot ${action}`, { currentState: s.state }));
    return s;
  }

  #checkExpiry(s: NegotiationSession): void {
    if (!TERMINAL.has(s.state) && this.#clock() >= s.expiresAt) this.#finish(s, 'expired');
  }

  #finish(s: NegotiationSession, state: 'accepted' | 'rejected' | 'expired'): void {
    s.state = state;
    this.#finished.add(s.id);
    this.#stats[state]++;
  }

  #makeRoom(): void {
    if (this.#sessions.size < this.#max) return;
    if (this.#finished.size === 0) this.sweep();
    const oldest = this.#finished.values().next();
    if (oldest.done) throw new LimitExceededError(`${this.#max} negotiations are open; none can be evicted`);
    this.#finished.delete(oldest.value);
    this.#sessions.delete(oldest.value);
    this.#stats.evicted++;
  }

  #refuse<E extends Error>(err: E): E {
    this.#stats.refused++;
    return err;
  }
}

// Copies the session's own arrays and offers so callers never hold the live session; the
// terms values themselves are shared (they are the callers' plain data: treat as immutable).
function snapshot(s: NegotiationSession): NegotiationSession {
  return {
    ...s,
    participants: [...s.participants],
    current: { ...s.current },
    history: s.history.map((o) => ({ ...o })),
    acceptedBy: [...s.acceptedBy],
  };
}
