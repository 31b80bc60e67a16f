import { NotStartedError, type Agent, type Decision, type Message, type Store, type Task } from '@converge/core';
import type { Transport } from '@converge/network';
import type { Logger, MetricsCollector } from '@converge/observability';
import { Inbox } from './inbox.js';
import { Scheduler } from './scheduler.js';
import { StandardExecutor } from './standard-executor.js';
import type { ExecutionContext, ExecutionResult, Executor } from './executor.js';
import type { PoolManagerPort, TaskLease, TaskManagerPort } from './ports.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RuntimeHooks, type RuntimeHooksOptions } from './runtime-hooks.js';

/** Options of `AgentRuntime`. Only `agent` is required. */
export interface AgentRuntimeOptions extends RuntimeHooksOptions {
  agent: Agent;
  /** Where messages come from and go to. Stopped by `stop()` unless `ownsTransport` is false. */
  transport?: Transport;
  /** Whether `stop()` stops the transport (default true). */
  ownsTransport?: boolean;
  inbox?: Inbox;
  scheduler?: Scheduler;
  /** Defaults to a `StandardExecutor` on the given transport and managers. */
  executor?: Executor;
  poolManager?: PoolManagerPort;
  taskManager?: TaskManagerPort;
  logger?: Logger;
  metrics?: MetricsCollector;
  /** Most messages handed to one `decide` call (default 256). */
  batchSize?: number;
  /** Most pending tasks handed to one `decide` call (default 64). */
  taskBatchSize?: number;
  /** Longest the loop sleeps with nothing signalled before a tick (default 1,000 ms). */
  tickIntervalMs?: number;
  /** How often expired claims of any agent are returned to pending (default 1,000 ms; 0 = never). */
  sweepIntervalMs?: number;
  /** Longest `stop()` waits for in-flight work (default 10,000 ms). */
  stopTimeoutMs?: number;
  /** Store of checkpoints (agents that implement `snapshot()`/`restore()`). */
  checkpointStore?: Store;
  /** Checkpoint period, ms (default 30,000 when a checkpoint store is given). */
  checkpointIntervalMs?: number;
}

/** Runtime defaults (also in docs/LIMITS.md). */
export const RUNTIME_DEFAULTS = {
  batchSize: 256,
  taskBatchSize: 64,
  tickIntervalMs: 1_000,
  sweepIntervalMs: 1_000,
  stopTimeoutMs: 10_000,
  checkpointIntervalMs: 30_000,
  /** Delay before the turn after a failed `decide`. */
  errorRetryMs: 10,
} as const;

/**
 * Runs one agent: an event-driven loop that wakes at once when a message arrives, a task
 * is submitted in one of the agent's pools, or a lease needs attention; feeds the agent's
 * `decide` and executes its decisions. An exception in `decide` or in executing a decision
 * is logged, counted and traced, and the loop goes on.
 */
export class AgentRuntime {
  readonly agent: Agent;
  readonly inbox: Inbox;
  readonly scheduler: Scheduler;
  readonly executor: Executor;
  readonly #o: AgentRuntimeOptions;
  readonly #hooks: RuntimeHooks;
  readonly #leases = new Map<string, TaskLease>();
  #leaseKeeper: LeaseKeeper | undefined;
  #stopController = new AbortController();
  #running = false;
  #started = false;
  #ready = false;
  #loop: Promise<void> | undefined;
  #intake: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];
  #poolIds: string[] = [];
  #taskOffset = 0;
  #lastTurnAt = 0;
  #busySince = 0;
  #turns = 0;
  #onTaskEvent = (task: Task) => {
    if (task.poolId === null || this.#poolIds.includes(task.poolId)) this.scheduler.notify();
  };

  constructor(options: AgentRuntimeOptions) {
    this.#o = options;
    this.agent = options.agent;
    this.inbox = options.inbox ?? new Inbox();
    this.scheduler = options.scheduler ?? new Scheduler();
    this.executor =
      options.executor ??
      new StandardExecutor({ transport: options.transport, taskManager: options.taskManager, poolManager: options.poolManager, logger: options.logger, metrics: options.metrics });
    this.#hooks = new RuntimeHooks(this.agent, options);
    this.inbox.onMessage = () => this.scheduler.notify();
  }

  /** The agent's id. */
  get agentId(): string {
    return this.agent.id;
  }

  /** Leases the agent holds now, by task id (read-only view). */
  get leases(): ReadonlyMap<string, TaskLease> {
    return this.#leases;
  }

  /** Incoming messages rejected by the verifier. */
  get rejectedMessages(): number {
    return this.#hooks.rejected;
  }

  /** Errors so far by stage (decide, execute, receive, …); each was logged and counted. */
  get errors(): ReadonlyMap<string, number> {
    return this.#hooks.errors;
  }

  /** Loop turns completed so far. */
  get turns(): number {
    return this.#turns;
  }

  /** Starts the transport, registers in discovery, restores a checkpoint, and runs the loop. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#running = true;
    this.#stopController = new AbortController();
    const { transport, taskManager } = this.#o;
    await transport?.start();
    await this.#hooks.onStart();
    await this.#refreshPools();
    taskManager?.on?.('submitted', this.#onTaskEvent);
    taskManager?.on?.('released', this.#onTaskEvent);
    if (taskManager) {
      this.#leaseKeeper = new LeaseKeeper({
        taskManager,
        leases: this.#leases,
        onEvent: (event, lease, error) => {
          this.#hooks.count('converge_runtime_lease_events_total', { event });
          if (event === 'lost') this.#o.logger?.warn({ agentId: this.agentId, taskId: lease.taskId, err: error }, 'lease lost');
          this.scheduler.notify();
        },
      });
      this.#leaseKeeper.start();
      const sweep = this.#o.sweepIntervalMs ?? RUNTIME_DEFAULTS.sweepIntervalMs;
      if (sweep > 0) this.#every(sweep, () => void taskManager.releaseExpiredClaims().catch((err) => this.#hooks.error('sweep', err)));
    }
    if (this.#o.checkpointStore) {
      this.#every(this.#o.checkpointIntervalMs ?? RUNTIME_DEFAULTS.checkpointIntervalMs, () => void this.#hooks.checkpoint().catch((err) => this.#hooks.error('checkpoint', err)));
    }
    await this.agent.onStart();
    if (transport) this.#intake = this.#runIntake(transport);
    this.#loop = this.#runLoop();
    this.#ready = true;
    this.scheduler.notify();
  }

  /**
   * Stops gracefully, within `stopTimeoutMs`: stops intake, lets the turn in progress finish,
   * hands back the claims it still holds, unregisters from discovery, saves a checkpoint and
   * stops the transport.
   */
  async stop(): Promise<void> {
    if (!this.#started || !this.#running) return;
    this.#running = false;
    this.#ready = false;
    this.#stopController.abort();
    this.scheduler.notify();
    this.#clearTimers();
    const limit = this.#o.stopTimeoutMs ?? RUNTIME_DEFAULTS.stopTimeoutMs;
    await withTimeout(Promise.allSettled([this.#loop, this.#intake]), limit);
    await this.#handBackLeases();
    await this.#hooks.onStop();
    try {
      await this.agent.onStop();
    } catch (err) {
      this.#hooks.error('onStop', err);
    }
    if (this.#o.ownsTransport !== false) await this.#o.transport?.stop();
  }

  /**
   * Halts at once without any cleanup, as a crash would: claims stay held until their leases
   * expire, nothing is unregistered, the transport is left as it is. For fault tests.
   */
  halt(): void {
    this.#running = false;
    this.#ready = false;
    this.#stopController.abort();
    this.scheduler.notify();
    this.#clearTimers();
  }

  /** Whether the loop is running and not stuck in one turn for longer than 30 s. */
  isHealthy(): boolean {
    if (!this.#running) return false;
    return this.#busySince === 0 || Date.now() - this.#busySince < 30_000;
  }

  /** Whether start-up completed (transport up, registered) and the runtime is not stopping. */
  isReady(): boolean {
    return this.#ready && this.#running;
  }

  /** Time of the last completed loop turn (Unix ms), 0 before the first. */
  get lastTurnAt(): number {
    return this.#lastTurnAt;
  }

  async #runIntake(transport: Transport): Promise<void> {
    const signal = this.#stopController.signal;
    while (this.#running) {
      // Under 'reject' a full inbox stops intake here, so the transport's own bounded queue
      // fills and pushes back on senders, instead of this loop dropping or blocking forever.
      if (this.inbox.overflow === 'reject') await this.inbox.waitForSpace(signal);
      let message: Message | null;
      try {
        message = await transport.receive({ signal });
      } catch (err) {
        if (!this.#running) return;
        this.#hooks.error('receive', err);
        continue;
      }
      if (message === null) {
        if (!transport.started) return;
        continue;
      }
      if (!this.#hooks.accept(message)) continue;
      if (!this.inbox.offer(message)) this.#hooks.count('converge_inbox_dropped_total', { agent: this.agentId.slice(0, 12) });
    }
  }

  async #runLoop(): Promise<void> {
    const signal = this.#stopController.signal;
    const tick = this.#o.tickIntervalMs ?? RUNTIME_DEFAULTS.tickIntervalMs;
    while (this.#running) {
      try {
        await this.scheduler.waitForWork({ timeoutMs: tick, signal });
      } catch {
        break; // aborted: stopping
      }
      if (!this.#running) break;
      this.#busySince = Date.now();
      try {
        await this.#turn(signal);
      } catch (err) {
        this.#hooks.error('turn', err);
      } finally {
        this.#busySince = 0;
        this.#lastTurnAt = Date.now();
        this.#turns++;
      }
      // A turn whose work all resolved as microtasks (an in-memory store, say) would never let
      // timers and sockets run; yield to the event loop between turns.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #turn(signal: AbortSignal): Promise<void> {
    try {
      await this.agent.onTick();
    } catch (err) {
      this.#hooks.error('onTick', err);
    }
    const messages = this.inbox.poll(this.#o.batchSize ?? RUNTIME_DEFAULTS.batchSize);
    const tasks = await this.#pendingTasks();
    let decisions: Decision[];
    try {
      decisions = await this.#hooks.decide(messages, tasks);
    } catch (err) {
      this.#hooks.error('decide', err);
      // Try again soon, not at once: a decide that always throws must not spin the CPU.
      if (this.inbox.size > 0 || tasks.length > 0) this.#wakeSoon();
      return;
    }
    if (!Array.isArray(decisions)) {
      this.#hooks.error('decide', new TypeError('decide must return an array of decisions'));
      return;
    }
    if (decisions.length > 0 && this.#running) {
      const ctx: ExecutionContext = { agentId: this.agentId, identity: this.agent.identity, leases: this.#leases, signal };
      let results: ExecutionResult[] = [];
      try {
        results = await this.#hooks.execute(this.executor, decisions, ctx, messages);
      } catch (err) {
        this.#hooks.error('execute', err);
      }
      this.#leaseKeeper?.reschedule();
      if (results.some((r) => r.ok && ['JoinPool', 'LeavePool', 'CreatePool'].includes(r.decision.type))) await this.#refreshPools();
    }
    // An agent that acted gets another turn at once (it may have more to do); one that
    // returned nothing sleeps until a message, a task or a lease event wakes it.
    if (this.inbox.size > 0 || decisions.length > 0) this.scheduler.notify();
  }

  async #pendingTasks(): Promise<Task[]> {
    const tm = this.#o.taskManager;
    if (!tm) return [];
    let all: Task[];
    try {
      all = await tm.listPendingTasksForAgent(this.agentId, this.#poolIds, this.agent.capabilities.names());
    } catch (err) {
      this.#hooks.error('listTasks', err);
      return [];
    }
    const max = this.#o.taskBatchSize ?? RUNTIME_DEFAULTS.taskBatchSize;
    if (all.length <= max) return all;
    // Agents sharing a pool would all race for the head of the list; a rotating window per
    // agent spreads their claims and keeps lost races rare.
    this.#taskOffset = (this.#taskOffset + max + (hashOf(this.agentId) % all.length)) % all.length;
    const out = all.slice(this.#taskOffset, this.#taskOffset + max);
    if (out.length < max) out.push(...all.slice(0, max - out.length));
    return out;
  }

  async #refreshPools(): Promise<void> {
    const pm = this.#o.poolManager;
    if (!pm) return;
    try {
      this.#poolIds = (await pm.getPoolsForAgent(this.agentId)).map((p) => p.id);
    } catch (err) {
      this.#hooks.error('pools', err);
    }
  }

  async #handBackLeases(): Promise<void> {
    const tm = this.#o.taskManager;
    if (!tm) return;
    this.#leaseKeeper?.stop();
    for (const lease of [...this.#leases.values()]) {
      try {
        if (tm.release) await tm.release(this.agentId, lease.taskId, lease);
        else await tm.fail(lease.taskId, 'agent stopped', this.agentId, lease);
      } catch (err) {
        this.#hooks.error('handBack', err);
      }
      this.#leases.delete(lease.taskId);
    }
    tm.off?.('submitted', this.#onTaskEvent);
    tm.off?.('released', this.#onTaskEvent);
  }

  #wakeSoon(): void {
    const t = setTimeout(() => this.scheduler.notify(), RUNTIME_DEFAULTS.errorRetryMs);
    t.unref?.();
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.#timers.push(t as unknown as NodeJS.Timeout);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#leaseKeeper?.stop();
  }

  /** Throws `NotStartedError` unless running (for callers that need a live runtime). */
  assertRunning(): void {
    if (!this.#running) throw new NotStartedError('the runtime is not running');
  }
}

function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
