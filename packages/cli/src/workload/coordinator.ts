import {
  Agent,
  Decisions,
  createTopic,
  type AgentOptions,
  type Decision,
  type Message,
  type Metrics,
  type SubmitTask,
  type Task,
  type TaskInit,
  type WireValue,
} from '@converge/core';
import { BiddingProtocol } from '@converge/coordination';
import { AUCTION_NAMESPACE, MAX_IDS_PER_MESSAGE } from './agents.js';

/** Type of the coordinator's batch submit decision (see `CoordinatorOptions.batchSubmit`). */
export const SUBMIT_TASKS = 'SubmitTasks';

/** How the coordinator hands out tasks. */
export type AssignmentMode = 'claim' | 'auction' | 'mixed';

/** Options of the coordinator. */
export interface CoordinatorOptions extends AgentOptions {
  poolId: string;
  /** Task ids and bodies to submit, in order (the driver makes them deterministic). */
  plan: () => Iterable<TaskInit & { id: string }>;
  /** Ids of the workers (found through discovery). */
  workers: () => readonly string[];
  assignment: AssignmentMode;
  /** Whether to start submitting (e.g. once every worker has been discovered); default always. */
  ready?: () => boolean;
  /** Tasks submitted per turn (default 500). */
  submitBatch?: number;
  /**
   * Credit-based flow control: most tasks in flight at once — submitted (or out for auction)
   * and not yet terminal (default unbounded). A turn submits only while in flight < window;
   * each task `settled` reports returns a credit, and the driver wakes the coordinator then.
   */
  window?: number;
  /** How many of the tasks this coordinator submitted have reached a terminal state (the credits returned). */
  settled?: () => number;
  /**
   * Submit a turn's tasks as one `SubmitTasks` decision (`{ type: 'SubmitTasks', tasks }`, a
   * custom decision the driver registers, which submits them concurrently) instead of one
   * `SubmitTask` each (executed one after the other: one round trip each on a remote queue).
   * Default false.
   */
  batchSubmit?: boolean;
  /** How long an auction waits for bids before closing with what it has (default 2,000 ms). */
  auctionTimeoutMs?: number;
  /** How long an auction winner has the task to itself (default 10,000 ms). */
  reservationMs?: number;
  clock?: () => number;
  /** Where the coordinator's auctions register their metrics (clearing prices); default none. */
  metrics?: Metrics;
}

interface OpenAuction {
  task: TaskInit & { id: string };
  openedAt: number;
  bids: number;
}

/**
 * The workload's coordinator: joins the pool, submits the planned tasks in batches and
 * auctions some of them (second-price sealed bid among the workers; the winner gets the task
 * reserved for a while), and counts the workers' "done" messages.
 */
export class CoordinatorAgent extends Agent {
  readonly bidding: BiddingProtocol;
  readonly #o: CoordinatorOptions;
  readonly #clock: () => number;
  readonly #open = new Map<string, OpenAuction>();
  #plan: Iterator<TaskInit & { id: string }> | undefined;
  #index = 0;
  #joined = false;
  /** Tasks submitted so far. */
  submitted = 0;
  /** Tasks handed out by auction so far. */
  auctioned = 0;
  /** Tasks named in the "done" messages received. */
  doneMessages = 0;
  /** Whether every planned task has been submitted. */
  exhausted = false;

  constructor(options: CoordinatorOptions) {
    super(options);
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
    this.bidding = new BiddingProtocol({ clock: this.#clock, ...(options.metrics ? { metrics: options.metrics } : {}) });
  }

  decide(messages: readonly Message[], _tasks: readonly Task[]): Decision[] {
    const out: Decision[] = [];
    if (!this.#joined) {
      out.push(Decisions.joinPool(this.#o.poolId));
      this.#joined = true;
    }
    for (const m of messages) this.#onMessage(m);
    this.#closeAuctions(out);
    this.#submitMore(out);
    if (!this.#o.batchSubmit) return out;
    // Every SubmitTask of the turn, in order, as one SubmitTasks decision.
    const tasks: TaskInit[] = [];
    const rest: Decision[] = [];
    for (const d of out) {
      if (d.type === 'SubmitTask') tasks.push((d as SubmitTask).task);
      else rest.push(d);
    }
    if (tasks.length > 0) rest.push({ type: SUBMIT_TASKS, tasks: tasks as unknown as WireValue });
    return rest;
  }

  #onMessage(m: Message): void {
    const p = m.payload as { type?: string; auctionId?: string; amount?: number; taskIds?: unknown; bids?: unknown } | null;
    if (!p || typeof p !== 'object') return;
    if (p.type === 'done') this.doneMessages += Array.isArray(p.taskIds) ? p.taskIds.length : 1;
    else if (p.type === 'bid') this.#bid(m.sender, p.auctionId, p.amount);
    else if (p.type === 'bids' && Array.isArray(p.bids)) {
      for (const b of (p.bids as unknown[]).slice(0, MAX_IDS_PER_MESSAGE)) {
        const one = b as { auctionId?: unknown; amount?: unknown } | null;
        if (one && typeof one === 'object') this.#bid(m.sender, one.auctionId, one.amount);
      }
    }
  }

  #bid(sender: string, auctionId: unknown, amount: unknown): void {
    if (typeof auctionId !== 'string' || typeof amount !== 'number') return;
    const a = this.#open.get(auctionId);
    if (!a) return;
    try {
      this.bidding.bid(auctionId, sender, amount);
      a.bids++;
    } catch {
      // A second bid from the same worker, or a bid after close: refused by the protocol.
    }
  }

  #closeAuctions(out: Decision[]): void {
    const now = this.#clock();
    const workers = this.#o.workers().length;
    for (const [id, a] of this.#open) {
      if (a.bids < workers && now - a.openedAt < (this.#o.auctionTimeoutMs ?? 2_000)) continue;
      this.bidding.close(id);
      const result = this.bidding.resolve(id);
      const constraints = { ...(a.task.constraints ?? {}) } as Record<string, unknown>;
      if (result.winner) {
        constraints.reservedFor = result.winner;
        constraints.reservedUntil = now + (this.#o.reservationMs ?? 10_000);
        constraints.clearingPrice = result.price;
      }
      out.push(Decisions.submitTask({ ...a.task, constraints: constraints as TaskInit['constraints'] }));
      this.#open.delete(id);
      this.submitted++;
      this.auctioned++;
    }
  }

  #submitMore(out: Decision[]): void {
    if (this.exhausted || (this.#o.ready && !this.#o.ready())) return;
    this.#plan ??= this.#o.plan()[Symbol.iterator]();
    const workers = this.#o.workers();
    const batch = Math.min(this.#o.submitBatch ?? 500, this.credits);
    // The auctions opened this turn: one call for bids per worker names them all.
    const called: string[] = [];
    for (let i = 0; i < batch; i++) {
      const next = this.#plan.next();
      if (next.done) {
        this.exhausted = true;
        break;
      }
      const task = next.value;
      const auction = workers.length > 0 && (this.#o.assignment === 'auction' || (this.#o.assignment === 'mixed' && this.#index % 10 === 0));
      this.#index++;
      if (!auction) {
        out.push(Decisions.submitTask(task));
        this.submitted++;
        continue;
      }
      this.bidding.openAuction({ id: task.id, type: 'second-price' });
      this.#open.set(task.id, { task, openedAt: this.#clock(), bids: 0 });
      called.push(task.id);
    }
    for (let i = 0; i < called.length; i += MAX_IDS_PER_MESSAGE) {
      const auctionIds = called.slice(i, i + MAX_IDS_PER_MESSAGE);
      for (const w of workers) out.push(Decisions.sendMessage(w, { type: 'call-for-bids', auctionIds }, { topics: [createTopic(AUCTION_NAMESPACE)] }));
    }
  }

  /** Tasks in flight: submitted or out for auction, and not yet terminal. */
  get inFlight(): number {
    return this.submitted + this.#open.size - (this.#o.settled?.() ?? 0);
  }

  /** Tasks the window lets this coordinator submit now (`Infinity` without a window). */
  get credits(): number {
    const w = this.#o.window;
    return w === undefined ? Number.POSITIVE_INFINITY : Math.max(0, w - this.inFlight);
  }

  /** Auctions still waiting for bids. */
  get openAuctions(): number {
    return this.#open.size;
  }
}
