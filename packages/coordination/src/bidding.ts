import {
  ConflictError,
  LimitExceededError,
  NotFoundError,
  ValidationError,
  noopMetrics,
  uuid4,
  registerMetrics,
  type MetricHandles,
  type Metrics,
  positiveIntOptions,
  nonNegativeOption,
} from '@converge/core';
import { requireId, type Clock } from './common.js';

/** Auction formats. */
export type AuctionType = 'first-price' | 'second-price' | 'english' | 'dutch';

/** `open` takes bids; `closed` takes none; `resolved` has a result. */
export type AuctionState = 'open' | 'closed' | 'resolved';

/** Options of `openAuction`. */
export interface AuctionOptions {
  id?: string;
  type: AuctionType;
  /** Lowest acceptable clearing price (every type). */
  reservePrice?: number;
  /** English: each bid must be at least the current price plus this (default 0: strictly higher). */
  minIncrement?: number;
  /** English: the auction closes after this long without a bid (default `DEFAULT_QUIET_PERIOD_MS`). */
  quietPeriodMs?: number;
  /** English: lowest first bid (default 0). Dutch: the opening price (required). */
  startPrice?: number;
  /** Dutch: price drop per `intervalMs` (required). */
  decrement?: number;
  /** Dutch: time between price drops (default `DEFAULT_DUTCH_INTERVAL_MS`). */
  intervalMs?: number;
  /** Dutch: the price never falls below this (default 0; the reserve too is a floor). */
  floorPrice?: number;
  /** Unix ms at which the auction closes by itself (every type). */
  closesAt?: number;
}

/** A bid as recorded. `seq` is the arrival order within the auction. */
export interface Bid {
  agentId: string;
  amount: number;
  at: number;
  seq: number;
}

/** What `resolve` returns. */
export type AuctionResult = { winner: string; price: number; bids: Bid[] } | { winner: null; reason: 'reserve-not-met' | 'no-bids'; bids: Bid[] };

/** A snapshot of an auction. Sealed bids are not shown before resolution (only their count). */
export interface AuctionInfo {
  id: string;
  type: AuctionType;
  state: AuctionState;
  openedAt: number;
  bidCount: number;
  /** English: the highest bid; Dutch: the price now; sealed: `null`. */
  currentPrice: number | null;
  /** English: the agent holding the highest bid; Dutch: the acceptor; sealed: `null`. */
  leader: string | null;
}

/** Options of `new BiddingProtocol`. */
export interface BiddingOptions {
  clock?: Clock;
  /** Auctions held (default `DEFAULT_MAX_AUCTIONS`). */
  maxAuctions?: number;
  /** Bids per auction (default `DEFAULT_MAX_BIDS`). */
  maxBids?: number;
  /**
   * Where the protocol registers `converge_auction_clearing_price{type}` (histogram of the
   * prices of won auctions, `AUCTION_PRICE_BUCKETS`) and `converge_auctions_resolved_total{type,outcome}`
   * (outcome: won, no-bids, reserve-not-met). Default: none recorded.
   */
  metrics?: Metrics;
}

/** Default capacity of a `BiddingProtocol` (its `maxAuctions` and `maxBids` options), frozen. */
export const BIDDING_DEFAULTS = Object.freeze({ maxAuctions: 10_000, maxBids: 10_000 });
/** Default cap on auctions held (the oldest resolved one is evicted first): 10,000. */
export const DEFAULT_MAX_AUCTIONS = BIDDING_DEFAULTS.maxAuctions;
/** Default cap on bids per auction: 10,000. */
export const DEFAULT_MAX_BIDS = BIDDING_DEFAULTS.maxBids;

/** Default timings of an auction (its `quietPeriodMs` and `intervalMs` options), frozen. */
export const AUCTION_DEFAULTS = Object.freeze({ quietPeriodMs: 30_000, intervalMs: 1_000 });
/** Default English quiet period: 30 s. */
export const DEFAULT_QUIET_PERIOD_MS = AUCTION_DEFAULTS.quietPeriodMs;
/** Default Dutch price-drop interval: 1 s. */
export const DEFAULT_DUTCH_INTERVAL_MS = AUCTION_DEFAULTS.intervalMs;

/** Bucket bounds of `converge_auction_clearing_price` (price units, 0.1 to 10,000). */
export const AUCTION_PRICE_BUCKETS: readonly number[] = Object.freeze([0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 10_000]);

/** The metrics of a BiddingProtocol. */
const AUCTION_METRICS = {
  prices: {
    kind: 'histogram',
    name: 'converge_auction_clearing_price',
    help: 'Clearing price of each won auction, by auction type',
    labelNames: ['type'],
    buckets: AUCTION_PRICE_BUCKETS,
  },
  outcomes: {
    kind: 'counter',
    name: 'converge_auctions_resolved_total',
    help: 'Auctions resolved, by type and outcome (won, no-bids, reserve-not-met)',
    labelNames: ['type', 'outcome'],
  },
} as const;

/** Counters of a BiddingProtocol. */
export interface BiddingStats {
  opened: number;
  bids: number;
  /** Bids or accepts refused (closed auction, second sealed bid, too low, wrong type). */
  refused: number;
  resolved: number;
  /** Resolved auctions dropped to make room. */
  evicted: number;
}

interface Auction {
  options: AuctionOptions;
  id: string;
  state: AuctionState;
  openedAt: number;
  lastBidAt: number;
  bids: Bid[];
  bidders: Set<string>;
  result: AuctionResult | null;
}

const SEALED = new Set<AuctionType>(['first-price', 'second-price']);

/**
 * Auctions: sealed first-price and second-price (Vickrey), English (ascending) and Dutch
 * (descending), each with an optional reserve price.
 *
 * Tie-breaking (deterministic): among equal amounts the earliest bid (clock time) wins; at
 * the same time, the lexicographically smallest agent id (code-unit order). Time-based
 * closes (English quiet period, Dutch clock, `closesAt`) are applied with the injected clock
 * whenever an auction is touched.
 */
export class BiddingProtocol {
  readonly #clock: Clock;
  readonly #maxAuctions: number;
  readonly #maxBids: number;
  readonly #auctions = new Map<string, Auction>();
  readonly #stats: BiddingStats = { opened: 0, bids: 0, refused: 0, resolved: 0, evicted: 0 };
  readonly #metrics: MetricHandles<typeof AUCTION_METRICS>;

  constructor(options: BiddingOptions = {}) {
    this.#metrics = registerMetrics(options.metrics ?? noopMetrics, AUCTION_METRICS);
    this.#clock = options.clock ?? Date.now;
    ({ maxAuctions: this.#maxAuctions, maxBids: this.#maxBids } = positiveIntOptions(options, BIDDING_DEFAULTS, 'validation'));
  }

  /** A snapshot of the counters. */
  stats(): BiddingStats {
    return { ...this.#stats };
  }

  /** Opens an auction; returns its snapshot. Bad options → `ValidationError`; duplicate id → `ConflictError`. */
  openAuction(options: AuctionOptions): AuctionInfo {
    const o = { ...options };
    if (!['first-price', 'second-price', 'english', 'dutch'].includes(o.type)) throw new ValidationError(`unknown auction type ${String(o.type)}`);
    for (const k of ['reservePrice', 'minIncrement', 'startPrice', 'decrement', 'floorPrice'] as const) nonNegativeOption(o[k], 0, k, 'validation');
    Object.assign(o, positiveIntOptions(o, AUCTION_DEFAULTS, 'validation'));
    if (o.type === 'dutch' && (o.startPrice === undefined || o.decrement === undefined)) {
      throw new ValidationError('a dutch auction needs startPrice and decrement');
    }
    if (o.closesAt !== undefined && !Number.isFinite(o.closesAt)) throw new ValidationError('closesAt must be Unix ms');
    const id = o.id === undefined ? uuid4() : requireId(o.id, 'auction id');
    if (this.#auctions.has(id)) throw new ConflictError(`auction ${id} already exists`, { currentState: this.#auctions.get(id)!.state });
    this.#makeRoom();
    const now = this.#clock();
    const a: Auction = { options: o, id, state: 'open', openedAt: now, lastBidAt: now, bids: [], bidders: new Set(), result: null };
    this.#auctions.set(id, a);
    this.#stats.opened++;
    return this.#info(a);
  }

  /** The auction's snapshot (time-based closes applied). Unknown → `NotFoundError`. */
  getAuction(auctionId: string): AuctionInfo {
    return this.#info(this.#get(auctionId));
  }

  /**
   * Places a bid. Sealed: one bid per agent (a second → `ConflictError`). English: at least
   * the current price + `minIncrement` and strictly above it (else `ConflictError`). Dutch
   * auctions take `accept`, not bids (`ValidationError`). Closed → `ConflictError` naming the state.
   */
  bid(auctionId: string, agentId: string, amount: number): Bid {
    requireId(agentId, 'agentId');
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) throw new ValidationError('a bid amount is a finite number >= 0');
    const a = this.#get(auctionId);
    const type = a.options.type;
    if (a.state !== 'open') throw this.#refuse(new ConflictError(`auction ${auctionId} is ${a.state}; bid by ${agentId} refused`, { currentState: a.state }));
    if (type === 'dutch') throw this.#refuse(new ValidationError(`auction ${auctionId} is dutch: call accept()`));
    if (SEALED.has(type) && a.bidders.has(agentId)) {
      throw this.#refuse(new ConflictError(`${agentId} already bid in sealed auction ${auctionId}`, { currentState: a.state }));
    }
    if (type === 'english') {
      const top = a.bids.length > 0 ? a.bids[a.bids.length - 1]!.amount : null;
      const min = top === null ? (a.options.startPrice ?? 0) : top + (a.options.minIncrement ?? 0);
      if (amount < min || (top !== null && amount <= top)) {
        throw this.#refuse(
          new ConflictError(`bid ${amount} in auction ${auctionId} is below the minimum ${min} (current ${top ?? 'none'})`, { currentState: a.state }),
        );
      }
    }
    if (a.bids.length >= this.#maxBids) throw this.#refuse(new LimitExceededError(`auction ${auctionId} has ${this.#maxBids} bids`));
    const now = this.#clock();
    const bid: Bid = { agentId, amount, at: now, seq: a.bids.length };
    a.bids.push(bid);
    a.bidders.add(agentId);
    a.lastBidAt = now;
    this.#stats.bids++;
    return { ...bid };
  }

  /** Dutch price at the current clock time (never below the floor or the reserve). */
  currentPrice(auctionId: string): number {
    const a = this.#get(auctionId);
    if (a.options.type !== 'dutch') throw new ValidationError(`auction ${auctionId} is ${a.options.type}, not dutch`);
    return this.#dutchPrice(a, this.#clock());
  }

  /** Dutch: takes the item at the current price; the first acceptance wins and closes the auction. */
  accept(auctionId: string, agentId: string): Bid {
    requireId(agentId, 'agentId');
    const a = this.#get(auctionId);
    if (a.options.type !== 'dutch') throw this.#refuse(new ValidationError(`auction ${auctionId} is ${a.options.type}: call bid()`));
    if (a.state !== 'open')
      throw this.#refuse(new ConflictError(`auction ${auctionId} is ${a.state}; accept by ${agentId} refused`, { currentState: a.state }));
    const now = this.#clock();
    const bid: Bid = { agentId, amount: this.#dutchPrice(a, now), at: now, seq: 0 };
    a.bids.push(bid);
    a.bidders.add(agentId);
    a.state = 'closed';
    this.#stats.bids++;
    return { ...bid };
  }

  /** Closes bidding (idempotent; a resolved auction stays resolved). */
  close(auctionId: string): AuctionInfo {
    const a = this.#get(auctionId);
    if (a.state === 'open') a.state = 'closed';
    return this.#info(a);
  }

  /** Closes the auction if open and returns its result (the same result on every call). */
  resolve(auctionId: string): AuctionResult {
    const a = this.#get(auctionId);
    if (a.result) return copyResult(a.result);
    a.state = 'resolved';
    a.result = this.#compute(a);
    this.#stats.resolved++;
    const type = a.options.type;
    if (a.result.winner !== null) this.#metrics.prices.observe({ type }, a.result.price);
    this.#metrics.outcomes.inc({ type, outcome: a.result.winner !== null ? 'won' : a.result.reason });
    return copyResult(a.result);
  }

  #compute(a: Auction): AuctionResult {
    const bids = a.bids.map((b) => ({ ...b }));
    if (bids.length === 0) return { winner: null, reason: 'no-bids', bids };
    const reserve = a.options.reservePrice;
    const ranked = [...bids].sort(rank);
    const top = ranked[0]!;
    if (reserve !== undefined && top.amount < reserve) return { winner: null, reason: 'reserve-not-met', bids };
    let price = top.amount;
    if (a.options.type === 'second-price') {
      const second = ranked[1]?.amount;
      price = second === undefined ? (reserve ?? top.amount) : Math.max(second, reserve ?? 0);
    }
    return { winner: top.agentId, price, bids };
  }

  #dutchPrice(a: Auction, now: number): number {
    const o = a.options;
    const steps = Math.floor(Math.max(0, now - a.openedAt) / o.intervalMs!);
    const floor = Math.max(o.floorPrice ?? 0, o.reservePrice ?? 0);
    return Math.max(floor, o.startPrice! - steps * o.decrement!);
  }

  #get(auctionId: string): Auction {
    const a = this.#auctions.get(auctionId);
    if (!a) throw new NotFoundError(`no auction ${auctionId}`);
    if (a.state === 'open') {
      const now = this.#clock();
      if (a.options.closesAt !== undefined && now >= a.options.closesAt) a.state = 'closed';
      else if (a.options.type === 'english' && now - a.lastBidAt >= a.options.quietPeriodMs!) a.state = 'closed';
    }
    return a;
  }

  #info(a: Auction): AuctionInfo {
    const t = a.options.type;
    let currentPrice: number | null = null;
    let leader: string | null = null;
    const last = a.bids[a.bids.length - 1];
    if (t === 'english' && last) [currentPrice, leader] = [last.amount, last.agentId];
    if (t === 'dutch') [currentPrice, leader] = last ? [last.amount, last.agentId] : [this.#dutchPrice(a, this.#clock()), null];
    return { id: a.id, type: t, state: a.state, openedAt: a.openedAt, bidCount: a.bids.length, currentPrice, leader };
  }

  #makeRoom(): void {
    if (this.#auctions.size < this.#maxAuctions) return;
    for (const [id, a] of this.#auctions) {
      if (a.state === 'resolved') {
        this.#auctions.delete(id);
        this.#stats.evicted++;
        return;
      }
    }
    throw new LimitExceededError(`${this.#maxAuctions} auctions are unresolved; none can be evicted`);
  }

  #refuse<E extends Error>(err: E): E {
    this.#stats.refused++;
    return err;
  }
}

// Highest amount first; then earliest; then smallest agent id; then arrival order.
function rank(x: Bid, y: Bid): number {
  if (x.amount !== y.amount) return y.amount - x.amount;
  if (x.at !== y.at) return x.at - y.at;
  if (x.agentId !== y.agentId) return x.agentId < y.agentId ? -1 : 1;
  return x.seq - y.seq;
}

function copyResult(r: AuctionResult): AuctionResult {
  return { ...r, bids: r.bids.map((b) => ({ ...b })) };
}
