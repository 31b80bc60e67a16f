// `market`: every task is auctioned, cycling through every auction type the coordination
// package has (first-price, second-price, English, Dutch), among workers with different
// capabilities and prices; the winner gets the task reserved for it.
import { Agent, Decisions, type Decision, type DecideContext, type Message, type Task, type TaskInit } from '@converge/core';
import type { AuctionInfo, AuctionOptions, AuctionType, BiddingProtocol } from '@converge/coordination';
import { ScenarioWorker, alternatingPlan, meanOf, workResult, type WorkKind } from './work.js';
import type { ScenarioWorld } from './world.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** The auction types, in the order tasks cycle through them. */
export const AUCTION_TYPES: readonly AuctionType[] = ['first-price', 'second-price', 'english', 'dutch'];

/** Auctions open at once. */
const MAX_OPEN_AUCTIONS = 16;
/** Longest an auction stays open, ms. */
const AUCTION_WINDOW_MS = 1_500;
/** Lowest price any auction clears at. */
const RESERVE_PRICE = 10;
/** How long a winner has its task to itself, ms. */
const RESERVATION_MS = 5_000;

/** The settings of an auction of `type` for the market. */
function auctionOptions(id: string, type: AuctionType, now: number): AuctionOptions {
  const base = { id, type, reservePrice: RESERVE_PRICE, closesAt: now + AUCTION_WINDOW_MS };
  if (type === 'english') return { ...base, startPrice: RESERVE_PRICE, minIncrement: 5, quietPeriodMs: 400 };
  if (type === 'dutch') return { ...base, startPrice: 300, decrement: 15, intervalMs: 25, floorPrice: RESERVE_PRICE };
  return base;
}

interface Open {
  task: TaskInit & { id: string };
  type: AuctionType;
  openedAt: number;
  bidders: number;
}

/** Per-type tally of the market. */
export interface AuctionTally {
  opened: number;
  cleared: number;
  unsold: number;
  prices: number[];
}

/**
 * The market's auctioneer: opens auctions on the world's `BiddingProtocol` (opening one is
 * the auctioneer's act, not a decision type), calls the capable workers to bid by message,
 * resolves each auction when its type says it is over, and submits the task reserved for the
 * winner at the clearing price (unsold: submitted open to every capable worker).
 */
class Auctioneer extends Agent {
  readonly #world: ScenarioWorld;
  readonly #plan: (TaskInit & { id: string })[];
  readonly #open = new Map<string, Open>();
  readonly #workers: () => { id: string; kinds: readonly string[] }[];
  readonly tally: Record<string, AuctionTally> = {};
  #next = 0;

  constructor(world: ScenarioWorld, plan: (TaskInit & { id: string })[], workers: () => { id: string; kinds: readonly string[] }[]) {
    super();
    this.#world = world;
    this.#plan = plan;
    this.#workers = workers;
    for (const t of AUCTION_TYPES) this.tally[t] = { opened: 0, cleared: 0, unsold: 0, prices: [] };
  }

  /** Whether every task has been put up and every auction resolved. */
  get done(): boolean {
    return this.#next >= this.#plan.length && this.#open.size === 0;
  }

  decide(_messages: readonly Message[], _tasks: readonly Task[], _context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    const b = this.#world.bidding;
    const now = Date.now();
    for (const [id, a] of this.#open) {
      const info = b.getAuction(id);
      const sealed = a.type === 'first-price' || a.type === 'second-price';
      const over = info.state !== 'open' || (sealed && info.bidCount >= a.bidders) || now - a.openedAt >= AUCTION_WINDOW_MS;
      if (!over) continue;
      out.push(this.#settle(b, a, now));
      this.#open.delete(id);
    }
    while (this.#open.size < MAX_OPEN_AUCTIONS && this.#next < this.#plan.length) {
      const task = this.#plan[this.#next]!;
      const type = AUCTION_TYPES[this.#next % AUCTION_TYPES.length]!;
      this.#next++;
      const capable = this.#workers().filter((w) => task.requiredCapabilities?.every((c) => w.kinds.includes(c)));
      b.openAuction(auctionOptions(task.id, type, now));
      this.tally[type]!.opened++;
      this.#open.set(task.id, { task, type, openedAt: now, bidders: capable.length });
      for (const w of capable) out.push(Decisions.sendMessage(w.id, { type: 'call-for-bids', auctionId: task.id, auctionType: type }));
    }
    return out;
  }

  #settle(b: BiddingProtocol, a: Open, now: number): Decision {
    b.close(a.task.id);
    const result = b.resolve(a.task.id);
    const tally = this.tally[a.type]!;
    const constraints = { ...(a.task.constraints ?? {}) } as Record<string, unknown>;
    if (result.winner) {
      tally.cleared++;
      tally.prices.push(result.price);
      constraints.reservedFor = result.winner;
      constraints.reservedUntil = now + RESERVATION_MS;
      constraints.clearingPrice = result.price;
      this.#world.auctionWon(result.winner, result.price);
      this.#world.decision('auction cleared', {
        auctionId: a.task.id,
        auctionType: a.type,
        winner: this.#world.agent(result.winner)?.row.name,
        price: result.price,
        bids: result.bids.length,
      });
    } else {
      tally.unsold++;
      this.#world.decision('auction unsold', { auctionId: a.task.id, auctionType: a.type, reason: 'reason' in result ? result.reason : 'unknown' });
    }
    return Decisions.submitTask({ ...a.task, constraints: constraints as TaskInit['constraints'] });
  }
}

/**
 * A market worker: values every task at its own price; bids it sealed, raises English
 * auctions by the minimum increment while the price is below it, and takes a Dutch auction
 * as soon as the price falls to it. Reads the public state of English and Dutch auctions.
 */
class MarketWorker extends ScenarioWorker {
  /** The most this worker pays for a task. */
  readonly price: number;
  readonly #auction: (id: string) => AuctionInfo | undefined;
  readonly #watching = new Map<string, { type: AuctionType; value: number }>();
  readonly #random: () => number;

  constructor(price: number, kinds: WorkKind[], auction: (id: string) => AuctionInfo | undefined, random: () => number = Math.random) {
    super({ capabilities: kinds });
    this.price = price;
    this.#auction = auction;
    this.#random = random;
  }

  /** What one task is worth to this worker now: its price, give or take 40 % (its appetite varies). */
  #value(): number {
    return Math.max(RESERVE_PRICE, Math.round(this.price * (0.6 + 0.8 * this.#random())));
  }

  override react(messages: readonly Message[]): Decision[] {
    const out: Decision[] = [];
    for (const m of messages) {
      const p = m.payload as { type?: string; auctionId?: string; auctionType?: AuctionType } | null;
      if (p?.type !== 'call-for-bids' || typeof p.auctionId !== 'string' || !p.auctionType) continue;
      if (p.auctionType === 'first-price' || p.auctionType === 'second-price') out.push(Decisions.submitBid(p.auctionId, this.#value()));
      else this.#watching.set(p.auctionId, { type: p.auctionType, value: this.#value() });
    }
    for (const [id, { type, value }] of this.#watching) {
      const info = this.#auction(id);
      if (!info || info.state !== 'open') {
        this.#watching.delete(id);
        continue;
      }
      if (type === 'english') {
        if (info.leader === this.id) continue;
        const next = info.currentPrice === null ? RESERVE_PRICE : info.currentPrice + 5;
        if (next <= value) out.push(Decisions.submitBid(id, next));
      } else if ((info.currentPrice ?? Infinity) <= value) {
        out.push(Decisions.submitBid(id, value));
        this.#watching.delete(id);
      }
    }
    return out;
  }
}

/** The capabilities of market worker `i`: both kinds, sums only, sorts only, in turn. */
function kindsOf(i: number): WorkKind[] {
  return i % 3 === 0 ? ['sum', 'sort'] : i % 3 === 1 ? ['sum'] : ['sort'];
}

/** The `market` scenario. */
export function marketScenario(): Scenario {
  return {
    name: 'market',
    description: 'every task auctioned (first-price, second-price, english, dutch) among workers with different capabilities and prices',
    run: runMarket,
  };
}

/** One auction type's line of the market's details. */
interface AuctionTypeFigures {
  opened: number;
  cleared: number;
  unsold: number;
  mean_price: number | null;
  min_price: number | null;
  max_price: number | null;
}

async function runMarket(world: ScenarioWorld, o: ScenarioRunOptions): Promise<ScenarioResult> {
  await world.pool({ id: o.poolId });
  const auction = (id: string) => {
    try {
      return world.bidding.getAuction(id);
    } catch {
      return undefined;
    }
  };
  const workers = Array.from({ length: Math.max(2, o.agents) }, (_, i) => new MarketWorker(80 + 20 * i, kindsOf(i), auction));
  const plan = alternatingPlan(o, 'market');
  const auctioneer = new Auctioneer(world, plan, () => workers.map((w) => ({ id: w.id, kinds: w.capabilities.names() })));
  await world.add(auctioneer, { name: 'auctioneer', role: 'coordinator', pools: [o.poolId] });
  for (let i = 0; i < workers.length; i++) {
    await world.add(workers[i]!, {
      name: `worker-${i + 1}`,
      role: `worker ${workers[i]!.capabilities.names().join('+')} @${workers[i]!.price}`,
      pools: [o.poolId],
    });
  }
  await world.start();
  await world.waitUntil(() => auctioneer.done && world.settledCount >= o.tasks, o.timeoutMs, o.signal);
  return marketResult(world, o, auctioneer.tally);
}

/** The auctions by type, and whether every type cleared with a price. */
function marketResult(world: ScenarioWorld, o: ScenarioRunOptions, tally: Record<string, AuctionTally>): ScenarioResult {
  const byType: Record<string, AuctionTypeFigures> = {};
  for (const [type, t] of Object.entries(tally)) {
    byType[type] = {
      opened: t.opened,
      cleared: t.cleared,
      unsold: t.unsold,
      mean_price: meanOf(t.prices),
      min_price: t.prices.length ? Math.min(...t.prices) : null,
      max_price: t.prices.length ? Math.max(...t.prices) : null,
    };
  }
  const cleared = Object.values(tally).reduce((n, t) => n + t.cleared, 0);
  const checks: Record<string, boolean> = { all_tasks_done: world.completed.size === o.tasks };
  if (o.tasks >= AUCTION_TYPES.length)
    for (const type of AUCTION_TYPES) checks[`${type}_cleared_with_price`] = (byType[type]?.cleared ?? 0) > 0 && byType[type]!.mean_price !== null;
  return workResult(world, o, { auctioned: cleared, details: { auctions: byType }, checks });
}
