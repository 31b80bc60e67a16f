import { NotStartedError, exponentialBackoff, type Agent, type Decision, type Message, type Task, type TraceContext } from '@converge/core';
import type { Startable } from '@converge/core';
import { Inbox, type InboxDropReason, type QueueByteBudget } from './inbox.js';
import { Intake } from './intake.js';
import { RuntimeTelemetry } from './telemetry.js';
import { TurnTracing } from './turn-tracing.js';
import { DiscoveryRegistration } from './registration.js';
import { Checkpoints } from './checkpoints.js';
import { Scheduler } from './scheduler.js';
import { StandardExecutor, isLostRace } from './standard-executor.js';
import type { ExecutionContext, ExecutionResult, Executor } from './executor.js';
import type { TaskLease } from '@converge/core';
import type { TaskFailedEvent } from './ports.js';
import { LeaseKeeper } from './lease-keeper.js';
import { TurnGuard } from './decision-cap.js';
import { RUNTIME_DEFAULTS, type AgentRuntimeOptions } from './runtime-options.js';
import { hashOf, waitUntilNot, withTimeout } from './runtime-util.js';
import { OutcomeBuffer, logOutcomes, outcomesOf } from './outcomes.js';
import { RuntimeMeters, exportCounters } from './runtime-metrics.js';
import { attachTaskTrace } from './task-trace.js';
import { watchPoolQuestions } from './pool-outcomes.js';
import { runtimeHealth } from './runtime-health.js';
import { offerBoardOf, type OfferBoard } from './offer-board.js';
import type { HealthChecks } from '@converge/core';

export { RUNTIME_DEFAULTS, type AgentRuntimeOptions } from './runtime-options.js';

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'halted' | 'stopped';

const POOL_DECISIONS: ReadonlySet<string> = new Set(['JoinPool', 'LeavePool', 'CreatePool']);

/** Longest the loop runs turns back to back (all microtasks) before it yields to the event loop, ms. */
const YIELD_AFTER_MS = 1;

/**
 * Runs one agent: an event-driven loop that wakes at once when a message arrives, a task
 * is submitted in one of the agent's pools, or a lease needs attention; feeds the agent's
 * `decide` and executes its decisions. An exception in `decide` or in executing a decision
 * is logged, counted and traced, and the loop goes on.
 */
export class AgentRuntime implements Startable {
  /** The agent this runtime drives. */
  readonly agent: Agent;
  /** Messages received and not yet handed to `decide`. */
  readonly inbox: Inbox;
  /** What wakes the loop. */
  readonly scheduler: Scheduler;
  /** What carries out decisions. */
  readonly executor: Executor;
  /** Health and readiness checks: the runtime's own (`runtime`) and the pluggable ones. */
  readonly health: HealthChecks;
  readonly #o: AgentRuntimeOptions;
  readonly #telemetry: RuntimeTelemetry;
  readonly #tracing: TurnTracing;
  readonly #registration: DiscoveryRegistration;
  readonly #checkpoints: Checkpoints;
  readonly #intakeStage: Intake;
  readonly #guard: TurnGuard;
  readonly #leases = new Map<string, TaskLease>();
  #leaseKeeper: LeaseKeeper | undefined;
  #intakeController = new AbortController();
  #loopController = new AbortController();
  #turnController = new AbortController();
  #state: State = 'idle';
  #ready = false;
  #loop: Promise<void> | undefined;
  #intake: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];
  #poolIds: string[] = [];
  #taskOffset = 0;
  #lastTurnAt = 0;
  /** `performance.now()` when the loop last yielded to the event loop. */
  #yieldedAt = 0;
  #agentHash = -1;
  #busySince = 0;
  #turns = 0;
  #errorStreak = 0;
  /** Consecutive turns woken only by outcomes whose decisions all failed (backs the wake-up off). */
  #outcomeStreak = 0;
  readonly #outcomes: OutcomeBuffer;
  readonly #meters: RuntimeMeters;
  #sweeping = false;
  /** The board of the runtimes sharing the task manager; what it offered this turn, then the claims it holds. */
  #board: OfferBoard | undefined;
  #offered: Task[] = [];
  #claims: Set<string> | undefined;
  readonly #wake = (): void => this.scheduler.notify();
  #unsubscribe: (() => void)[] = [];
  #onTaskEvent = (task: Task) => void (this.#inPools(task) && this.scheduler.notify());
  #onTaskFailed = (event: TaskFailedEvent) => void (event.retryAt !== null && this.#inPools(event.task) && this.scheduler.notifyAt(event.retryAt));

  /** @param options - see `AgentRuntimeOptions`; only `agent` is required. */
  constructor(options: AgentRuntimeOptions) {
    this.#o = options;
    this.agent = options.agent;
    const trace = options.propagateTraceContext;
    this.#telemetry = new RuntimeTelemetry(this.agent.id, options);
    this.#tracing = new TurnTracing(this.agent, options, trace, (stage, err) => this.#telemetry.error(stage, err));
    this.#registration = new DiscoveryRegistration(this.agent, options);
    this.#checkpoints = new Checkpoints(this.agent, options.checkpointStore);
    const { limits } = options;
    const byteBudget =
      limits && typeof limits.reserveQueueBytes === 'function' && typeof limits.releaseQueueBytes === 'function' ? (limits as QueueByteBudget) : undefined;
    this.inbox = options.inbox ?? new Inbox({ limits: byteBudget });
    this.#intakeStage = new Intake({
      agentId: this.agent.id,
      inbox: this.inbox,
      telemetry: this.#telemetry,
      batchSize: options.batchSize ?? RUNTIME_DEFAULTS.batchSize,
      errorRetryMs: RUNTIME_DEFAULTS.errorRetryMs,
      verifier: options.verifier,
      verifierPool: options.verifierPool,
      replayLog: options.replayLog,
      logger: options.logger,
    });
    this.scheduler = options.scheduler ?? new Scheduler();
    this.executor =
      options.executor ??
      new StandardExecutor({
        logger: options.logger,
        metrics: options.metrics,
        ...(trace ? { decorateMessage: (init) => trace.attachTraceContext(init), decorateTask: (t) => attachTaskTrace(t, trace) } : {}),
        ...options.executorOptions,
        transport: options.transport,
        taskManager: options.taskManager,
        poolManager: options.poolManager,
        policy: options.policy,
        limits: options.limits,
      });
    this.#guard = new TurnGuard({
      inbox: this.inbox,
      agentId: this.agent.id,
      maxDecisionsPerTurn: options.maxDecisionsPerTurn,
      maxDecideAttempts: options.maxDecideAttempts,
      count: (name, labels, value) => this.#telemetry.count(name, labels, value),
      logger: options.logger,
    });
    this.#outcomes = new OutcomeBuffer(options.maxOutcomes ?? RUNTIME_DEFAULTS.maxOutcomes, (n) =>
      this.#telemetry.count('converge_runtime_outcomes_dropped_total', {}, n),
    );
    this.health = runtimeHealth(this, options);
    this.#meters = new RuntimeMeters(options.metrics);
    this.inbox.onMessage = () => (this.#meters.depth(this.inbox.size), this.scheduler.notify());
    this.inbox.onDrop = (reason: InboxDropReason) => this.#telemetry.count('converge_inbox_dropped_total', { reason });
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
    return this.#intakeStage.rejected;
  }

  /** Errors so far by stage (decide, execute, receive, …); each was logged and counted. */
  get errors(): ReadonlyMap<string, number> {
    return this.#telemetry.errors;
  }

  /** Decision outcomes waiting for the agent's next turn. */
  get pendingOutcomes(): number {
    return this.#outcomes.size;
  }

  /** Decision outcomes dropped so far because more than `maxOutcomes` were waiting. */
  get droppedOutcomes(): number {
    return this.#outcomes.dropped;
  }

  /** Loop turns completed so far. */
  get turns(): number {
    return this.#turns;
  }

  /** Time of the last completed loop turn (Unix ms), 0 before the first. */
  get lastTurnAt(): number {
    return this.#lastTurnAt;
  }

  /** Whether the agent is registered in discovery now. */
  get registered(): boolean {
    return this.#registration.registered;
  }

  /**
   * Starts the transport, restores a checkpoint, registers in discovery, calls the agent's
   * `onStart` and runs the loop. If any step throws, what was started is undone and the error
   * is rethrown (the runtime can be started again). A stopped runtime can be started again.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle' && this.#state !== 'stopped') return;
    this.#state = 'starting';
    this.#stopping = undefined;
    this.#intakeController = new AbortController();
    this.#loopController = new AbortController();
    this.#turnController = new AbortController();
    this.#outcomes.clear(); // outcomes of a previous run concern claims already handed back
    this.#outcomeStreak = 0;
    const { transport, taskManager } = this.#o;
    try {
      await transport?.start();
      await this.#intakeStage.start();
      await this.#checkpoints.restore();
      await this.#registration.register();
      await this.#refreshPools();
      await this.agent.onStart();
    } catch (err) {
      await this.#unregister();
      if (this.#o.ownsTransport !== false) await transport?.stop().catch(() => undefined);
      this.#state = 'stopped';
      throw err;
    }
    this.#subscribe();
    if (taskManager) {
      this.#leaseKeeper = new LeaseKeeper({
        taskManager,
        leases: this.#leases,
        onEvent: (event, lease, error) => {
          this.#telemetry.count('converge_runtime_lease_events_total', { event });
          if (event === 'lost') this.#o.logger?.warn({ agentId: this.agentId, taskId: lease.taskId, err: error }, 'lease lost');
          this.scheduler.notify();
        },
      });
      this.#leaseKeeper.start();
      const sweep = this.#o.sweepIntervalMs ?? RUNTIME_DEFAULTS.sweepIntervalMs;
      if (sweep > 0) this.#every(sweep, () => void this.#sweep());
      const metricsEvery = this.#o.metricsIntervalMs ?? RUNTIME_DEFAULTS.metricsIntervalMs;
      if (this.#o.metrics && taskManager.stats && metricsEvery > 0) this.#every(metricsEvery, () => this.collectMetrics());
    }
    const cpEvery = this.#o.checkpointIntervalMs ?? RUNTIME_DEFAULTS.checkpointIntervalMs;
    if (this.#o.checkpointStore && cpEvery > 0)
      this.#every(cpEvery, () => void this.#checkpoints.save().catch((err) => this.#telemetry.error('checkpoint', err)));
    const refreshEvery = this.#o.discoveryRefreshMs ?? RUNTIME_DEFAULTS.discoveryRefreshMs;
    if (this.#o.discovery && refreshEvery > 0)
      this.#every(refreshEvery, () => void this.#registration.refresh().catch((err) => this.#telemetry.error('discovery', err)));
    this.#state = 'running';
    if (transport) this.#intake = this.#intakeStage.run(transport, this.#intakeController.signal);
    this.#loop = this.#runLoop();
    this.#ready = true;
    this.scheduler.notify();
  }

  /**
   * Stops gracefully, within about `stopTimeoutMs`: stops intake at once, lets the turn in
   * progress finish and drains the inbox through `decide` (with no tasks on offer); past the
   * timeout it aborts the turn's signal (tool calls abort, the rest of the batch is skipped)
   * and counts what is left in the inbox as dropped (`stopped`). Then it hands back every
   * claim still held (`taskManager.release`, or `fail` without it), unregisters from
   * discovery, saves a checkpoint, calls the agent's `onStop` and stops the transport.
   * After `halt()`, `stop()` only releases resources (timers, transport): the claims and the
   * registration stay as a crash leaves them. Concurrent calls share one stop.
   */
  stop(): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'stopped') return this.#stopping ?? Promise.resolve();
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'starting') await waitUntilNot(() => this.#state === 'starting');
    const crashed = this.#state === 'halted';
    if (!crashed) this.#state = 'stopping';
    this.#ready = false;
    this.#intakeController.abort();
    this.scheduler.notify();
    this.#clearTimers();
    const limit = this.#o.stopTimeoutMs ?? RUNTIME_DEFAULTS.stopTimeoutMs;
    const settled = await withTimeout(Promise.allSettled([this.#loop, this.#intake]), limit);
    // Past the grace period: abort what is in flight (tools, sends that wait) and move on.
    this.#turnController.abort(new NotStartedError('the runtime stopped'));
    this.#loopController.abort();
    if (!settled) this.#telemetry.error('stop', new Error(`the turn in progress did not finish within ${limit} ms`));
    this.inbox.discard('stopped');
    this.#meters.depth(this.inbox.size);
    this.#board?.forget(this.agentId);
    if (!crashed) {
      await this.#handBackLeases();
      await this.#unregister();
      await this.#checkpoints.save().catch((err) => this.#telemetry.error('checkpoint', err));
      try {
        await this.agent.onStop();
      } catch (err) {
        this.#telemetry.error('onStop', err);
      }
    }
    this.collectMetrics();
    if (this.#o.ownsTransport !== false) {
      try {
        await this.#o.transport?.stop();
      } catch (err) {
        this.#telemetry.error('transportStop', err);
      }
    }
    this.#state = 'stopped';
  }

  /**
   * Halts at once without any cleanup, as a crash would: claims stay held until their leases
   * expire, nothing is unregistered, the transport is left as it is, the rest of the turn in
   * progress is skipped. For fault tests. `stop()` afterwards releases timers and the transport.
   */
  halt(): void {
    if (this.#state !== 'running' && this.#state !== 'stopping') return;
    this.#state = 'halted';
    this.#ready = false;
    this.#intakeController.abort();
    this.#loopController.abort();
    this.#turnController.abort(new NotStartedError('the runtime halted'));
    this.#clearTimers();
  }

  /**
   * Whether the runtime is working: running, its intake still reading the transport (it
   * stops if the transport was stopped under it), and no turn stuck for longer than `stuckTurnMs`.
   */
  isHealthy(): boolean {
    if (this.#state !== 'running') return false;
    if (this.#o.transport && !this.#intakeStage.alive) return false;
    const stuck = this.#o.stuckTurnMs ?? RUNTIME_DEFAULTS.stuckTurnMs;
    return this.#busySince === 0 || Date.now() - this.#busySince < stuck;
  }

  /**
   * Whether the runtime takes work now: start-up completed (transport up, registered), not
   * stopping, and the inbox not full.
   */
  isReady(): boolean {
    return this.#ready && this.#state === 'running' && !this.inbox.full;
  }

  /**
   * Exports the task manager's `stats()` as `converge_taskmanager_events_total{event}` (no-op
   * without `metrics` or a task manager with `stats`). Runs on a timer (`metricsIntervalMs`);
   * call it before a scrape for fresh values. Idempotent: runtimes sharing one task manager
   * and one collector export the same values, not their sum.
   */
  collectMetrics(): void {
    const stats = this.#o.taskManager?.stats?.();
    if (!stats || !this.#o.metrics) return;
    try {
      exportCounters(stats as unknown as Record<string, unknown>, this.#telemetry.counter('converge_taskmanager_events_total', ['event'])!);
    } catch (err) {
      this.#telemetry.error('metrics', err);
    }
  }

  /** Throws `NotStartedError` unless running (for callers that need a live runtime). */
  assertRunning(): void {
    if (this.#state !== 'running') throw new NotStartedError('the runtime is not running');
  }

  async #runLoop(): Promise<void> {
    const signal = this.#loopController.signal;
    const tick = this.#o.tickIntervalMs ?? RUNTIME_DEFAULTS.tickIntervalMs;
    while (this.#state === 'running') {
      let worked: boolean;
      try {
        worked = await this.scheduler.waitForWork({ timeoutMs: tick, signal });
      } catch {
        return; // aborted: halted
      }
      if (this.#state !== 'running') break;
      if (!worked) await this.#refreshPools();
      await this.#guardedTurn(false);
      // A turn whose work all resolved as microtasks (an in-memory store, say) would never let
      // timers and sockets run: yield to the event loop once turns have run for YIELD_AFTER_MS
      // without one (short turns share a yield; a long one yields at once).
      const now = performance.now();
      if (now - this.#yieldedAt >= YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.#yieldedAt = performance.now();
      }
    }
    // Stopping: hand what is already in the inbox to decide (no new tasks), as time allows.
    while (this.#state === 'stopping' && this.inbox.size + this.inbox.held > 0 && !this.#turnController.signal.aborted) {
      await this.#guardedTurn(true);
    }
  }

  async #guardedTurn(draining: boolean): Promise<void> {
    this.#busySince = Date.now();
    try {
      await this.#turn(draining);
    } catch (err) {
      this.#telemetry.error('turn', err);
    } finally {
      this.#lastTurnAt = Date.now();
      this.#meters.turn(this.#lastTurnAt - this.#busySince);
      this.#meters.depth(this.inbox.size);
      this.#busySince = 0;
      this.#turns++;
    }
  }

  async #turn(draining: boolean): Promise<void> {
    if (!draining) await this.#tick();
    // Held, not consumed: the batch is committed only once decide returned (see TurnGuard).
    const messages = this.#guard.take(this.#o.batchSize ?? RUNTIME_DEFAULTS.batchSize);
    const tasks = draining ? [] : await this.#pendingTasks();
    let results: ExecutionResult[] = [];
    try {
      const parent = this.#tracing.parentOf(messages, tasks);
      const decisions = await this.#decide(messages, tasks, parent, draining);
      if (decisions === undefined) return;
      this.#narrowOffer(decisions);
      if (decisions.length > 0 && this.#state !== 'halted') results = await this.#execute(decisions, parent);
    } finally {
      this.#releaseOffer();
    }
    this.#wakeAfterTurn(results, draining);
  }

  async #tick(): Promise<void> {
    try {
      await this.agent.onTick();
    } catch (err) {
      this.#telemetry.error('onTick', err);
    }
  }

  /**
   * Calls `decide` with the batch, the tasks on offer and the previous turn's outcomes (like the
   * batch's messages, they are not handed over again if it throws). Returns the capped
   * decisions, or `undefined` when decide threw (handled here: the batch is retried later).
   */
  async #decide(messages: readonly Message[], tasks: Task[], parent: TraceContext | undefined, draining: boolean): Promise<Decision[] | undefined> {
    const context = this.#outcomes.take();
    let decisions: Decision[];
    try {
      decisions = await this.#tracing.decide(messages, tasks, context, parent);
      if (!Array.isArray(decisions)) throw new TypeError('decide must return an array of decisions');
    } catch (err) {
      // The batch stays in the inbox and is retried (a poison message alone, then dropped and
      // counted after maxDecideAttempts), after a growing delay or the delay the error asked
      // for, so a decide that always throws cannot spin the CPU.
      this.#telemetry.error('decide', err);
      this.#errorStreak++;
      const defer = this.#guard.failed(messages, err, !draining);
      if (defer !== undefined) this.scheduler.notifyAt(Date.now() + defer);
      else if (this.inbox.size > 0 || this.inbox.held > 0 || tasks.length > 0) this.#wakeAfterError();
      return undefined;
    }
    this.#guard.succeeded(messages);
    decisions = this.#guard.cap(decisions);
    this.#errorStreak = 0;
    this.#tracing.record(decisions, messages, tasks, context.outcomes);
    return decisions;
  }

  /** Executes the turn's decisions and keeps their outcomes for the next turn. */
  async #execute(decisions: Decision[], parent: TraceContext | undefined): Promise<ExecutionResult[]> {
    const ctx: ExecutionContext = {
      agentId: this.agentId,
      identity: this.agent.identity,
      capabilities: this.agent.capabilities.names(),
      leases: this.#leases,
      signal: this.#turnController.signal,
    };
    let results: ExecutionResult[] = [];
    let failure: unknown;
    try {
      results = await this.#tracing.execute(this.executor, decisions, ctx, parent);
    } catch (err) {
      failure = err;
      this.#telemetry.error('execute', err);
    }
    // (Re-read after the await: a halt meanwhile drops the outcomes, as a crash would.)
    if ((this.#state as State) !== 'halted') this.#keepOutcomes(decisions, results, failure);
    this.#leaseKeeper?.reschedule();
    if (results.some((r) => r.ok && POOL_DECISIONS.has(r.decision.type))) await this.#refreshPools();
    return results;
  }

  /**
   * An agent whose decisions took effect (or lost a race for a task: others may be left) gets
   * another turn at once; one whose decisions were all refused or failed sleeps until a
   * message, a task or a lease event wakes it (re-deciding at once would repeat them).
   */
  #wakeAfterTurn(results: readonly ExecutionResult[], draining: boolean): void {
    if (this.inbox.size > 0 || this.inbox.held > 0 || results.some((r) => r.ok || isLostRace(r.error))) {
      this.#outcomeStreak = 0;
      this.scheduler.notify();
    } else if (this.#outcomes.size > 0 && !draining) {
      // Outcomes alone also wake the agent (it has not heard them yet). Only ADDS a wake-up:
      // every message, task and lease notification still wakes the loop as before. An agent
      // that repeats what keeps failing gets its next outcome-only turns after a growing delay
      // (as after a failing decide), so it cannot spin the CPU.
      this.#outcomeStreak++;
      if (this.#outcomeStreak === 1) this.scheduler.notify();
      else this.scheduler.notifyAt(Date.now() + backoffMs(this.#outcomeStreak - 1));
    }
  }

  #keepOutcomes(decisions: readonly Decision[], results: readonly ExecutionResult[], failure: unknown): void {
    const outcomes = outcomesOf(decisions, results, failure);
    logOutcomes(this.#o.logger, this.agentId, outcomes);
    this.#meters.outcomes(outcomes);
    this.#outcomes.push(outcomes);
  }

  async #pendingTasks(): Promise<Task[]> {
    const tm = this.#o.taskManager;
    if (!tm) return [];
    let all: Task[];
    try {
      // The manager's whole window (`agentListLimit`), not just one batch: the rotation below
      // needs it to spread agents apart (listing it is cheap, its records are cached).
      all = await tm.listPendingTasksForAgent(this.agentId, this.#poolIds, this.agent.capabilities.names());
    } catch (err) {
      this.#telemetry.error('listTasks', err);
      return [];
    }
    if (all.length === 0) return all;
    // Agents sharing a pool would all race for the head of the list: a rotating window per
    // agent spreads their claims, and the tasks offered to another agent's turn in progress
    // are left to it (the board of the runtimes sharing this task manager).
    const max = this.#o.taskBatchSize ?? RUNTIME_DEFAULTS.taskBatchSize;
    const n = all.length;
    if (n > max) {
      if (this.#agentHash < 0) this.#agentHash = hashOf(this.agentId);
      this.#taskOffset = (this.#taskOffset + max + (this.#agentHash % n)) % n;
    } else this.#taskOffset = 0;
    this.#board ??= offerBoardOf(tm);
    this.#offered = this.#board.pick(this.agentId, all, max, this.#taskOffset, Date.now(), this.#wake);
    return this.#offered;
  }

  /** After decide: the turn holds on to the offered tasks it decided to claim only (see `OfferBoard`). */
  #narrowOffer(decisions: readonly Decision[]): void {
    if (this.#offered.length === 0) return;
    const claims = new Set<string>();
    for (const d of decisions) {
      const taskId = d?.type === 'ClaimTask' ? (d as { taskId?: unknown }).taskId : undefined;
      if (typeof taskId === 'string') claims.add(taskId);
    }
    this.#board!.narrow(this.agentId, this.#offered, claims);
    this.#offered = [];
    this.#claims = claims;
  }

  /** At the end of a turn: lets go of whatever it still holds (see `OfferBoard`). */
  #releaseOffer(): void {
    if (this.#offered.length > 0)
      this.#board?.release(
        this.agentId,
        this.#offered.map((t) => t.id),
      );
    if (this.#claims !== undefined) this.#board?.release(this.agentId, this.#claims);
    this.#offered = [];
    this.#claims = undefined;
  }

  async #refreshPools(): Promise<void> {
    const pm = this.#o.poolManager;
    if (!pm) return;
    try {
      this.#poolIds = (await pm.getPoolsForAgent(this.agentId)).map((p) => p.id);
    } catch (err) {
      this.#telemetry.error('pools', err);
    }
  }

  #inPools(task: Task): boolean {
    return task.poolId === null || task.poolId === undefined || this.#poolIds.includes(task.poolId);
  }

  #subscribe(): void {
    // A pool question this agent voted on (or asked) closed: its result is an outcome of the next turn.
    const off = watchPoolQuestions(this.#o.poolManager, this.agentId, (o) => void (this.#outcomes.push([o]), this.scheduler.notify()));
    if (off) this.#unsubscribe.push(off);
    const tm = this.#o.taskManager;
    if (!tm?.on) return;
    tm.on('submitted', this.#onTaskEvent);
    tm.on('released', this.#onTaskEvent);
    tm.on('failed', this.#onTaskFailed);
    this.#unsubscribe.push(() => {
      tm.off?.('submitted', this.#onTaskEvent);
      tm.off?.('released', this.#onTaskEvent);
      tm.off?.('failed', this.#onTaskFailed);
    });
  }

  async #sweep(): Promise<void> {
    // One sweep at a time: on a slow store a sweep can outlast the interval.
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.#o.taskManager?.releaseExpiredClaims();
    } catch (err) {
      this.#telemetry.error('sweep', err);
    } finally {
      this.#sweeping = false;
    }
  }

  async #handBackLeases(): Promise<void> {
    const tm = this.#o.taskManager;
    if (!tm) return;
    for (const lease of [...this.#leases.values()]) {
      try {
        if (tm.release) await tm.release(this.agentId, lease.taskId, lease);
        else await tm.fail(lease.taskId, 'agent stopped', this.agentId, lease);
        this.#telemetry.count('converge_runtime_claims_returned_total', {});
      } catch (err) {
        this.#telemetry.error('handBack', err);
      }
      this.#leases.delete(lease.taskId);
    }
  }

  async #unregister(): Promise<void> {
    try {
      await this.#registration.unregister();
    } catch (err) {
      this.#telemetry.error('unregister', err);
    }
  }

  #wakeAfterError(): void {
    this.scheduler.notifyAt(Date.now() + backoffMs(this.#errorStreak));
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref?.();
    this.#timers.push(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#leaseKeeper?.stop();
    this.scheduler.cancelTimer();
    for (const u of this.#unsubscribe.splice(0)) u();
  }
}

/** The delay before the turn after `streak` consecutive failures: doubling from `errorRetryMs` up to `maxErrorRetryMs`. */
function backoffMs(streak: number): number {
  return exponentialBackoff(streak - 1, RUNTIME_DEFAULTS.errorRetryMs, RUNTIME_DEFAULTS.maxErrorRetryMs);
}
