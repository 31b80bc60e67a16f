// The in-process network a scenario runs in: one store, task and pool managers, the shared
// coordination protocols, a verifier, a trust model fed from task events and rejections, and
// one runtime (and transport) per agent. Everything is an instance of this world: nothing global.
import { setTimeout as delay } from 'node:timers/promises';
import { ConflictError, NotFoundError, type Agent, type Store, type DecisionPolicy, type Pool, type Task, type ToolRegistry } from '@converge/core';
import { IdentityRegistry, MessageVerifier } from '@converge/network';
import type { Transport } from '@converge/core';
import { BallotBox, BiddingProtocol, DelegationProtocol, NegotiationProtocol, PoolManager, TaskManager, TrustFeed } from '@converge/coordination';
import { TrustModel, governanceFromSpec } from '@converge/policy';
import { AgentRuntime, StandardExecutor, statusOfResult, type BiddingPort, type Executor } from '@converge/runtime';
import { MetricsCollector, type Logger } from '@converge/observability';
import type { RunConfig } from '../config.js';
import { logTaskStates } from '../task-log.js';
import { openStore, storeNamespace, transportFactory, type OpenedStore, type TransportFactory } from '../stack.js';

/** Per-agent figures of a scenario run (one row of the summary's `per_agent`). */
export interface AgentRow {
  /** The agent's fingerprint. */
  id: string;
  /** Its name in the scenario (`worker-1`, `auctioneer`, …). */
  name: string;
  /** Its part in the scenario (`worker`, `coordinator`, `crasher`, …). */
  role: string;
  /** Tasks the store recorded as completed by it. */
  tasks_done: number;
  /** Auctions it won. */
  auctions_won: number;
  /** The clearing prices of the auctions it won, in order. */
  clearing_prices: number[];
  /** Its trust score at the end (0 … 1, 0.5 for an agent nothing was learnt about). */
  trust: number;
  /** Messages claiming to come from it that were rejected, by reason. */
  rejected_messages: Record<string, number>;
  /** Outcomes of its decisions, by status (`ok`, `conflict`, `refused`, `failed`, `timeout`). */
  outcomes: Record<string, number>;
}

/** Totals of a scenario run (the summary's `totals`). */
export interface ScenarioTotals {
  /** Failed attempts sent back to pending with a retry time. */
  retries: number;
  /** Claims whose lease expired and were taken back. */
  lease_expiries: number;
  /** Tasks dead-lettered (out of retries). */
  dead_letters: number;
  /** Incoming messages rejected, by reason (verifier and runtime). */
  rejected_by_reason: Record<string, number>;
  /** Calls refused because another agent or a newer lease held the task. */
  conflicts: number;
  /** Decision outcomes, by status. */
  outcomes_by_status: Record<string, number>;
  /** Tasks by final state as the run saw them (`completed`, `dead_lettered`, `cancelled`, `open`). */
  tasks_by_state: Record<string, number>;
  /** Tasks the store recorded as completed more than once (must be 0). */
  completed_twice: number;
}

/** Options of `ScenarioWorld.add`. */
export interface AddAgentOptions {
  /** Name in the summary. */
  name: string;
  /** Part in the scenario. */
  role: string;
  /** Pools it joins before it starts (default: none). */
  pools?: string[];
  /** Tools it may invoke (all of the registry's are allowed). */
  tools?: ToolRegistry;
  /** Per-call tool timeout, ms. */
  toolTimeoutMs?: number;
  /** The safety policy its decisions pass first. */
  policy?: DecisionPolicy;
  /** Wraps its transport (a chaos link). */
  wrapTransport?: (t: Transport) => Transport;
  /** Custom decision handlers of its executor. */
  register?: (executor: StandardExecutor, transport: Transport) => void;
}

/** One agent of the world. */
export interface WorldAgent {
  agent: Agent;
  runtime: AgentRuntime;
  transport: Transport;
  row: AgentRow;
}

/** The row of an agent added with `options`, before it did anything. */
function emptyRow(id: string, options: AddAgentOptions): AgentRow {
  return { id, name: options.name, role: options.role, tasks_done: 0, auctions_won: 0, clearing_prices: [], trust: 0.5, rejected_messages: {}, outcomes: {} };
}

/** Longest a scenario waits for its tasks by default, ms. */
export const DEFAULT_SCENARIO_TIMEOUT_MS = 60_000;

/** A scenario's network: build it with `ScenarioWorld.open`, add agents, `start()`, run, `close()`. */
export class ScenarioWorld {
  readonly config: RunConfig;
  readonly logger: Logger;
  readonly metrics = new MetricsCollector();
  readonly taskManager: TaskManager;
  readonly poolManager: PoolManager;
  readonly registry = new IdentityRegistry();
  readonly verifier: MessageVerifier;
  readonly trust = new TrustModel();
  readonly trustFeed: TrustFeed;
  readonly bidding = new BiddingProtocol();
  readonly negotiation = new NegotiationProtocol();
  readonly ballots = new BallotBox();
  readonly delegation = new DelegationProtocol();
  /** Task ids whose completion the world saw, with the result. */
  readonly completed = new Map<string, Task>();
  /** Task ids dead-lettered. */
  readonly deadLettered = new Set<string>();
  /** Submit-to-completion latencies of completed tasks whose inputs carry `submittedAt`, ms. */
  readonly latencies: number[] = [];
  /** Tasks submitted (ids). */
  readonly submitted = new Set<string>();
  readonly #agents: WorldAgent[] = [];
  /** Every agent's runtime, in order (a live array: agents added later appear in it). */
  readonly runtimes: AgentRuntime[] = [];
  readonly #byId = new Map<string, WorldAgent>();
  readonly #opened: OpenedStore;
  readonly #transports: TransportFactory;
  #tap: (t: Transport) => Transport = (t) => t;
  #completedTwice = 0;
  #cancelled = 0;
  #started = false;
  #closed = false;
  readonly #rejectedBySender = new Map<string, Record<string, number>>();

  private constructor(config: RunConfig, logger: Logger, opened: OpenedStore, transports: TransportFactory, judge: (task: Task) => boolean | undefined) {
    this.config = config;
    this.logger = logger;
    this.#opened = opened;
    this.#transports = transports;
    const store = opened.store;
    this.poolManager = new PoolManager({ store, governance: (spec) => governanceFromSpec(spec, { trust: this.trust }) });
    this.taskManager = new TaskManager({
      store,
      defaults: { claimTtlMs: config.claimTtlMs, retryBaseMs: 20, retryMaxMs: 200 },
      governance: this.poolManager.taskGovernance(),
    });
    this.trustFeed = new TrustFeed({ trust: this.trust, judge: (t) => judge(t as unknown as Task) });
    this.trustFeed.watch(this.taskManager);
    this.verifier = new MessageVerifier({
      registry: this.registry,
      metrics: this.metrics,
      onReject: (sender, reason) => {
        this.trustFeed.messageRejected(sender, reason);
        if (sender === undefined) return;
        const r = this.#rejectedBySender.get(sender) ?? {};
        r[reason] = (r[reason] ?? 0) + 1;
        this.#rejectedBySender.set(sender, r);
      },
    });
    this.#watchTasks();
  }

  /**
   * Opens a world on `config.store` (memory by default) and `config.transport`. `judge` says
   * whether a completed task's result is right (it moves the holder's trust); `tap` wraps every
   * agent's transport last (`--ui` copies the sent messages to its pages).
   */
  static async open(
    config: RunConfig,
    logger: Logger,
    judge: (task: Task) => boolean | undefined = () => undefined,
    tap?: (t: Transport) => Transport,
  ): Promise<ScenarioWorld> {
    const transports = await transportFactory(config);
    const opened = await openStore(config.store, 'store', storeNamespace(config));
    const world = new ScenarioWorld(config, logger, opened, transports, judge);
    if (tap) world.#tap = tap;
    return world;
  }

  /** Creates the pool unless it exists. */
  async pool(spec: Partial<Pool> & { id: string }): Promise<Pool> {
    try {
      return await this.poolManager.getPool(spec.id);
    } catch (err) {
      if (!NotFoundError.is(err)) throw err;
      return this.poolManager.createPool(spec);
    }
  }

  /** The store the world's pools and tasks live in. */
  get store(): Store {
    return this.#opened.store;
  }

  /** The agents added so far, in order. */
  get agents(): readonly WorldAgent[] {
    return this.#agents;
  }

  /** The agent with fingerprint `id`. */
  agent(id: string): WorldAgent | undefined {
    return this.#byId.get(id);
  }

  /** Adds an agent with its own transport and runtime; it starts with `start()` (or at once if started). */
  async add(agent: Agent, options: AddAgentOptions): Promise<WorldAgent> {
    const raw = await this.#transports.create(agent.id, this.#agents.length);
    const transport = this.#tap(options.wrapTransport ? options.wrapTransport(raw) : raw);
    const row = emptyRow(agent.id, options);
    const runtime = new AgentRuntime({
      agent,
      transport,
      taskManager: this.taskManager,
      poolManager: this.poolManager,
      executor: this.#executor(transport, options, row),
      verifier: this.verifier,
      logger: this.logger.child({ agent: options.name }),
      metrics: this.metrics,
      tickIntervalMs: 50,
      // In-process and cheap: expired claims (a crashed agent's) come back within 100 ms of expiry.
      sweepIntervalMs: 100,
      stopTimeoutMs: 2_000,
    });
    const entry: WorldAgent = { agent, runtime, transport, row };
    this.#agents.push(entry);
    this.runtimes.push(runtime);
    this.#byId.set(agent.id, entry);
    this.registry.register(agent.identity);
    for (const p of options.pools ?? []) await this.poolManager.joinPool(agent.id, p);
    if (this.#started) await this.#startOne(entry);
    return entry;
  }

  /** The executor of an agent added with `options`: the world's protocols, counting the status of every outcome in `row`. */
  #executor(transport: Transport, options: AddAgentOptions, row: AgentRow): Executor {
    const standard = new StandardExecutor({
      transport,
      taskManager: this.taskManager,
      poolManager: this.poolManager,
      negotiation: this.negotiation,
      bidding: this.#biddingPort(),
      ballots: this.ballots,
      delegation: this.delegation,
      ...(options.tools ? { tools: options.tools, toolAllowlist: options.tools.names() } : {}),
      ...(options.toolTimeoutMs ? { toolTimeoutMs: options.toolTimeoutMs } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      logger: this.logger.child({ agent: options.name }),
      metrics: this.metrics,
    });
    options.register?.(standard, transport);
    // Counts the status of every outcome this agent's decisions had (the summary's outcomes).
    return {
      execute: async (decisions, ctx) => {
        const results = await standard.execute(decisions, ctx);
        for (const r of results) {
          const s = statusOfResult(r);
          row.outcomes[s] = (row.outcomes[s] ?? 0) + 1;
        }
        return results;
      },
    };
  }

  /** Starts every agent added (each transport learns the others' addresses first). */
  async start(): Promise<void> {
    for (const a of this.#agents) await this.#startOne(a);
    this.#started = true;
  }

  async #startOne(a: WorldAgent): Promise<void> {
    await a.runtime.start();
    this.#connectAll();
  }

  /** Tells every transport again where every other agent is (after a dropped connection). */
  reconnect(): void {
    this.#connectAll();
  }

  #connectAll(): void {
    for (const a of this.#agents) {
      for (const b of this.#agents) {
        if (a !== b) this.#transports.connect(a.transport, b.agent.id, this.#transports.endpoints(b.transport));
      }
    }
  }

  /** Records an auction win (for the per-agent view). */
  auctionWon(agentId: string, price: number): void {
    const row = this.#byId.get(agentId)?.row;
    if (!row) return;
    row.auctions_won++;
    row.clearing_prices.push(price);
  }

  /**
   * Resolves true once `done()` holds, false at `timeoutMs` or when `signal` aborts. Checks
   * every 20 ms (the world is in-process: a check costs a few map lookups).
   */
  waitUntil(done: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        if (done()) finish(true);
        else if (signal?.aborted || Date.now() - t0 > timeoutMs) finish(false);
      }, 20);
      const finish = (v: boolean) => {
        clearInterval(tick);
        resolve(v);
      };
    });
  }

  /** Resolves after `ms` (or at once when `signal` aborts). */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await delay(ms, undefined, signal ? { signal } : {}).catch((err: unknown) => {
      if ((err as Error | undefined)?.name !== 'AbortError') throw err;
    });
  }

  /** Tasks the world saw completed or dead-lettered. */
  get settledCount(): number {
    return this.completed.size + this.deadLettered.size;
  }

  /** Whether every submitted task completed or was dead-lettered. */
  allSettled(): boolean {
    if (this.submitted.size === 0) return false;
    for (const id of this.submitted) if (!this.completed.has(id) && !this.deadLettered.has(id)) return false;
    return true;
  }

  /** Logs a scenario decision (an auction cleared, an agreement, a vote decided) at info. */
  decision(what: string, fields: Record<string, unknown>): void {
    this.logger.info({ scenarioEvent: what, ...fields }, `decision: ${what}`);
  }

  /** Tasks the store recorded as completed by `agents`, together. */
  tasksDoneBy(agents: readonly { id: string }[]): number {
    return agents.reduce((n, a) => n + (this.#byId.get(a.id)?.row.tasks_done ?? 0), 0);
  }

  /** Messages claiming to come from `agentId` that were rejected, over every reason. */
  rejectionsOf(agentId: string): number {
    return Object.values(this.#rejectedBySender.get(agentId) ?? {}).reduce((a, b) => a + b, 0);
  }

  /** The per-agent rows (trust read now). */
  rows(): AgentRow[] {
    return this.#agents.map(({ row }) => ({
      ...row,
      trust: Number(this.trust.score(row.id).toFixed(3)),
      rejected_messages: { ...(this.#rejectedBySender.get(row.id) ?? {}) },
    }));
  }

  /** The totals of the run so far. */
  totals(): ScenarioTotals {
    const s = this.taskManager.stats();
    const rejected: Record<string, number> = {};
    for (const [reason, n] of Object.entries(this.verifier.rejections)) if (n > 0) rejected[reason] = n;
    const runtimeRejected = this.#agents.reduce((n, a) => n + a.runtime.rejectedMessages, 0);
    const verifierRejected = Object.values(this.verifier.rejections).reduce((a, b) => a + b, 0);
    // The runtime refuses a message addressed to another agent before the verifier sees it.
    if (runtimeRejected > verifierRejected) rejected.wrong_recipient = (rejected.wrong_recipient ?? 0) + runtimeRejected - verifierRejected;
    const outcomes: Record<string, number> = {};
    for (const { row } of this.#agents) for (const [k, n] of Object.entries(row.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
    let open = 0;
    for (const id of this.submitted) if (!this.completed.has(id) && !this.deadLettered.has(id)) open++;
    return {
      retries: s.retried,
      lease_expiries: s.released,
      dead_letters: s.deadLettered,
      rejected_by_reason: rejected,
      conflicts: s.conflicts,
      outcomes_by_status: outcomes,
      tasks_by_state: {
        completed: this.completed.size,
        dead_lettered: this.deadLettered.size,
        cancelled: this.#cancelled,
        open: Math.max(0, open - this.#cancelled),
      },
      completed_twice: this.#completedTwice,
    };
  }

  /** Incoming messages rejected by the runtimes. */
  get rejectedMessages(): number {
    return this.#agents.reduce((n, a) => n + a.runtime.rejectedMessages, 0);
  }

  /** Messages accepted into inboxes. */
  get messagesReceived(): number {
    return this.metrics.counter('converge_runtime_messages_received_total', 'Messages accepted into agent inboxes', []).get();
  }

  /** Stops every runtime (gracefully) and closes transports and the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#agents.map((a) => a.runtime.stop()));
    await this.trustFeed.flush().catch(() => {});
    await this.#transports.close();
    await this.#opened.close().catch(() => {});
  }

  // A Dutch auction takes `accept`, not bids: a `SubmitBid` in one accepts the current price
  // when the bid reaches it (a bidder names the most it would pay), else it is refused.
  #biddingPort(): BiddingPort {
    const b = this.bidding;
    return {
      bid: (auctionId, agentId, amount) => {
        const info = b.getAuction(auctionId);
        if (info.type !== 'dutch') return b.bid(auctionId, agentId, amount);
        if (info.state === 'open' && (info.currentPrice ?? Infinity) <= amount) return b.accept(auctionId, agentId);
        throw new ConflictError(`dutch auction ${auctionId} is ${info.state} at ${info.currentPrice}; a bid of ${amount} does not take it`, {
          currentState: info.state,
        });
      },
    };
  }

  #watchTasks(): void {
    const tm = this.taskManager;
    logTaskStates(tm, this.logger, (id) => this.#byId.get(id)?.row.name ?? id.slice(0, 12));
    tm.on('submitted', (t) => {
      this.submitted.add(t.id);
    });
    tm.on('completed', (t) => {
      if (this.completed.has(t.id)) this.#completedTwice++;
      else {
        const at = (t.inputs as { submittedAt?: unknown } | null)?.submittedAt;
        if (typeof at === 'number') this.latencies.push(Math.max(0, Date.now() - at));
      }
      this.completed.set(t.id, t as unknown as Task);
      const row = t.assignedTo ? this.#byId.get(t.assignedTo)?.row : undefined;
      if (row) row.tasks_done++;
    });
    tm.on('failed', (e) => {
      if (e.deadLettered) this.deadLettered.add(e.task.id);
    });
    tm.on('cancelled', () => {
      this.#cancelled++;
    });
  }
}
