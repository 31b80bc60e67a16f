import { Identity, type Agent } from '@converge/core';
import { DiscoveryService, IdentityRegistry, MessageVerifier, VerifierPool } from '@converge/network';
import type { Transport } from '@converge/core';
import { MAX_PAGE_LIMIT, PoolManager, TaskManager } from '@converge/coordination';
import { AgentRuntime } from '@converge/runtime';
import { logTaskStates } from './task-log.js';
import { runHealthChecks, serveRunEndpoints, type RunPhase } from './probes.js';
import type { RunConfig } from './config.js';
import { openStore, storeNamespace, transportFactory, type OpenedStore, type TransportFactory } from './stack.js';
import { loadWorkerClass } from './workload/plan.js';
import { openTelemetry, recordSetupOf, type AgentEnv, type RecordSetupInput, type RunTelemetry } from './telemetry/telemetry.js';
import type { CoordinatorAgent } from './workload/coordinator.js';
import { WorkerAgent } from './workload/agents.js';
import { Workload } from './workload/workload.js';
import type { RunSummary } from './summary.js';
import { createProgress } from './progress.js';
import type { A2AEndpoint } from './a2a-serve.js';
import { startUi, type RunUi } from './ui/index.js';

/** Where `runWorkload` writes and what can stop it. */
export interface RunIO {
  stderr: NodeJS.WriteStream;
  /** Aborting stops the run gracefully; the summary is still returned. */
  signal?: AbortSignal;
  /** Whether stderr is a terminal (progress bar) — default `stderr.isTTY`. */
  tty?: boolean;
}

/** How long a stop request waits for tasks already submitted to finish. */
export const DRAIN_ON_STOP_MS = 5_000;

/**
 * Runs the main job: a coordinator and `config.agents` workers register in discovery, join a
 * pool, win tasks by claim or auction, execute and report them; every result is checked.
 */
export async function runWorkload(config: RunConfig, io: RunIO): Promise<RunSummary> {
  const run = new LocalRun(config, io, openTelemetry(config, 'converge', io.tty ?? io.stderr.isTTY === true));
  try {
    return await run.execute();
  } finally {
    await run.close();
  }
}

/** The stores, managers and discovery of one single-process run. */
interface LocalStack {
  main: OpenedStore;
  taskManager: TaskManager;
  poolManager: PoolManager;
  discovery: DiscoveryService;
  registry: IdentityRegistry;
}

/** The agents of a single-process run: the coordinator first. */
interface LocalAgents {
  coordinator: CoordinatorAgent;
  workers: Agent[];
  envs: AgentEnv[];
  transports: Transport[];
}

/** One `converge run` in one process: its resources, and the steps of `execute`. */
class LocalRun {
  readonly #config: RunConfig;
  readonly #io: RunIO;
  readonly #telemetry: RunTelemetry;
  readonly #opened: OpenedStore[] = [];
  readonly #runtimes: AgentRuntime[] = [];
  // Signatures of incoming messages are verified on worker threads (every core), not the main one.
  readonly #verifierPool = new VerifierPool();
  #transports: TransportFactory | undefined;
  #metricsServer: { close(): Promise<void> } | undefined;
  #a2a: A2AEndpoint | undefined;
  #ui: RunUi | undefined;
  #recordSetup: RecordSetupInput | undefined;
  #phase: RunPhase = 'starting';
  #started = false;
  #stopSubmitting = false;
  #workerIds: string[] = [];
  #wakeQueued = false;
  /** While `#waitForEnd` waits: ends the wait when the workload has drained (called as each task settles). */
  #endIfDrained: (() => void) | undefined;
  readonly #workload: Workload;

  constructor(config: RunConfig, io: RunIO, telemetry: RunTelemetry) {
    this.#config = config;
    this.#io = io;
    this.#telemetry = telemetry;
    const total = config.duration !== undefined ? undefined : config.tasks;
    this.#workload = new Workload({ poolId: config.poolId, total, claimTtlMs: config.claimTtlMs, onCredit: () => this.#onCredit() });
  }

  /** Runs the workload to its end (or a stop request) and returns the summary. */
  async execute(): Promise<RunSummary> {
    const config = this.#config;
    const { metrics } = this.#telemetry;
    this.#transports = await transportFactory(config, { metrics });
    const WorkerClass = config.agent ? await loadWorkerClass(config.agent) : undefined;
    const stack = await this.#openStack();
    await Workload.preparePool(stack.poolManager, config.poolId);
    if (config.ui !== undefined) {
      this.#ui = await startUi({
        port: config.ui,
        poolId: config.poolId,
        transport: config.transport,
        total: () => this.#workload.total ?? this.#workload.accounted,
        stderr: this.#io.stderr,
        logger: this.#telemetry.logger,
      });
    }
    // What this pool already holds (a restart on a persistent store resumes it; a fresh in-memory store holds nothing).
    if (this.#workload.total !== undefined && stack.main.label !== 'memory') {
      await this.#workload.resume((cursor) => stack.taskManager.listTasks({ poolId: config.poolId, limit: MAX_PAGE_LIMIT, ...(cursor ? { cursor } : {}) }));
    }
    logTaskStates(stack.taskManager, this.#telemetry.logger);
    stack.taskManager.on('completed', (t) => this.#workload.judge(t, Date.now()));
    stack.taskManager.on('failed', (e) => this.#workload.judge(e.task, Date.now()));
    const agents = await this.#agents(WorkerClass);
    await this.#startRuntimes(stack, agents);
    await this.#discover(stack, agents);
    const t0 = Date.now();
    this.#started = true;
    this.#phase = 'running';
    this.#runtimes[0]!.scheduler.notify();
    if (config.a2a !== undefined) await this.#serveA2A(stack, agents.coordinator);
    const interrupted = await this.#waitForEnd(t0);
    const durationMs = Date.now() - t0;
    return this.#finish(stack, interrupted, durationMs);
  }

  /** Opens the stores, the task and pool managers, discovery and the metrics endpoints. */
  async #openStack(): Promise<LocalStack> {
    const config = this.#config;
    const namespace = storeNamespace(config);
    const main = await openStore(config.store, 'store', namespace);
    this.#opened.push(main);
    const discoveryStore = config.discoveryStore ? await openStore(config.discoveryStore, 'discoveryStore', namespace) : main;
    if (discoveryStore !== main) this.#opened.push(discoveryStore);
    const store = main.store;
    const { metrics } = this.#telemetry;
    const taskManager = new TaskManager({ store, defaults: { claimTtlMs: config.claimTtlMs }, metrics });
    const poolManager = new PoolManager({ store });
    const discovery = new DiscoveryService({ store: discoveryStore.store });
    await discovery.start?.();
    if (config.metricsPort !== undefined) {
      this.#metricsServer = await serveRunEndpoints(
        config.metricsPort,
        metrics,
        runHealthChecks(this.#runtimes, store, () => this.#phase),
      );
    }
    return { main, taskManager, poolManager, discovery, registry: new IdentityRegistry() };
  }

  /** The coordinator (submitting the workload through its window) and the workers, with their transports. */
  async #agents(WorkerClass: (new (options: Record<string, unknown>) => Agent) | undefined): Promise<LocalAgents> {
    const config = this.#config;
    const telemetry = this.#telemetry;
    const envs: AgentEnv[] = [telemetry.env()];
    const cenv = envs[0]!;
    const coordinator = this.#workload.coordinator({
      identity: Identity.generate(),
      assignment: config.assignment,
      workers: () => this.#workerIds,
      // Not before every agent is discovered and its key registered.
      ready: telemetry.gate(cenv, 'ready', () => this.#started),
      stopped: telemetry.gate(cenv, 'stop', () => this.#stopSubmitting),
      now: cenv.now,
      clock: cenv.now,
      metrics: telemetry.metrics,
      // The window's credits depend on timing, which a replay cannot reproduce: off with --record.
      ...(config.record ? {} : { window: config.window }),
    });
    const workers: Agent[] = [];
    for (let i = 0; i < config.agents; i++) {
      const env = telemetry.env();
      envs.push(env);
      const options = { identity: Identity.generate(), coordinatorId: coordinator.id, clock: env.now, random: env.random };
      workers.push(WorkerClass ? new WorkerClass(options) : new WorkerAgent(options));
    }
    const transports: Transport[] = [];
    const all: Agent[] = [coordinator, ...workers];
    for (let i = 0; i < all.length; i++) {
      const t = await this.#transports!.create(all[i]!.id, i);
      transports.push(this.#ui ? this.#ui.tap(t) : t);
    }
    return { coordinator, workers, envs, transports };
  }

  /** One runtime per agent; the workers join the pool (its admission policy applies) before they start. */
  async #startRuntimes(stack: LocalStack, agents: LocalAgents): Promise<void> {
    const { logger, metrics } = this.#telemetry;
    const factory = this.#transports!;
    const verifier = new MessageVerifier({ registry: stack.registry, metrics });
    const all: Agent[] = [agents.coordinator, ...agents.workers];
    for (let i = 0; i < all.length; i++) {
      const agent = all[i]!;
      const transport = agents.transports[i]!;
      this.#runtimes.push(
        new AgentRuntime({
          agent,
          transport,
          taskManager: stack.taskManager,
          poolManager: stack.poolManager,
          discovery: {
            register: (d) => stack.discovery.register({ ...d, endpoints: factory.endpoints(transport) } as Parameters<DiscoveryService['register']>[0]),
            unregister: (id) => stack.discovery.unregister(id),
          },
          verifier,
          verifierPool: this.#verifierPool,
          logger: logger.child({ agentId: agent.id.slice(0, 12) }),
          metrics,
          ...this.#telemetry.runtimeOptions(agent, i === 0 ? 'coordinator' : 'worker', agents.envs[i]!),
          sweepIntervalMs: Math.max(50, Math.floor(this.#config.claimTtlMs / 2)),
        }),
      );
    }
    for (const w of agents.workers) await stack.poolManager.joinPool(w.id, this.#config.poolId);
    for (const rt of this.#runtimes) await rt.start();
  }

  /** Learns every agent's key (for verification) and address (for routing); shows the run on `--ui`. */
  async #discover(stack: LocalStack, agents: LocalAgents): Promise<void> {
    const { discovery, registry, poolManager } = stack;
    const found = await discovery.query({ capabilities: ['sum'] });
    this.#workerIds = found.map((d) => d.id).filter((id) => agents.workers.some((w) => w.id === id));
    for (const d of await discovery.query({})) {
      if (d.publicKey && !registry.has(d.id)) registry.register(d.publicKey);
      for (const t of agents.transports) this.#transports!.connect(t, d.id, d.endpoints);
    }
    if (this.#workerIds.length !== agents.workers.length) throw new Error(`discovery found ${this.#workerIds.length} of ${agents.workers.length} workers`);
    this.#recordSetup = recordSetupOf(this.#config, this.#workload.total, this.#workload.existing, this.#workerIds);
    this.#ui?.watch({
      taskManager: stack.taskManager,
      agents: () => discovery.query({}),
      pools: () => poolManager.listPools(),
      roleOf: (id) => (id === agents.coordinator.id ? 'coordinator' : 'worker'),
      rejected: () => this.#rejected(),
    });
  }

  /** `--a2a`: the pool served as an A2A agent (loaded only then); the run stays up until interrupted. */
  async #serveA2A(stack: LocalStack, coordinator: CoordinatorAgent): Promise<void> {
    const mod = await import('./a2a-serve.js');
    this.#a2a = await mod.serveA2A({
      port: this.#config.a2a!,
      token: this.#config.a2aToken,
      store: stack.main.store,
      pools: stack.poolManager,
      poolId: this.#config.poolId,
      identity: coordinator.identity,
      tasks: stack.taskManager,
      onSubmit: () => this.#runtimes.forEach((r) => r.scheduler.notify()),
      stderr: this.#io.stderr,
      logger: this.#telemetry.logger,
    });
  }

  /** Waits until every task is terminal, the deadline, or a stop request; returns whether a stop request ended it. */
  async #waitForEnd(t0: number): Promise<boolean> {
    const config = this.#config;
    const io = this.#io;
    const progress = createProgress(io.stderr, { tty: config.progress ?? io.tty ?? io.stderr.isTTY === true });
    const durationMs = config.duration ? config.duration * 1000 : undefined;
    let serving = config.a2a !== undefined;
    let interrupted = false;
    let drainUntil = Number.POSITIVE_INFINITY;
    await new Promise<void>((done) => {
      // Everything submitted (and everything a restart found) has reached a terminal state:
      // checked as each task settles (so the run ends with its last task) and on every tick.
      const endIfDrained = () => {
        if (this.#workload.drained && (this.#stopSubmitting || this.#workload.total !== undefined) && !serving) finish();
      };
      const tick = setInterval(() => {
        progress.update(this.#workload.finished, this.#workload.total);
        const now = Date.now();
        if (durationMs !== undefined && now - t0 >= durationMs) this.#stopSubmitting = true;
        endIfDrained();
        if (now > drainUntil || (now - t0 > config.timeoutMs && !serving)) finish();
      }, 25);
      let ended = false;
      // Idempotent: a tick may find the run drained and timed out at once.
      const finish = () => {
        if (ended) return;
        ended = true;
        this.#endIfDrained = undefined;
        clearInterval(tick);
        io.signal?.removeEventListener('abort', onAbort);
        done();
      };
      this.#endIfDrained = endIfDrained;
      // A stop request: submit nothing more, let the tasks already out finish (bounded), stop.
      const onAbort = () => {
        interrupted = true;
        serving = false;
        this.#stopSubmitting = true;
        drainUntil = Date.now() + DRAIN_ON_STOP_MS;
        this.#runtimes[0]!.scheduler.notify();
      };
      if (io.signal?.aborted) onAbort();
      else io.signal?.addEventListener('abort', onAbort, { once: true });
    });
    progress.update(this.#workload.finished, this.#workload.total);
    progress.stop();
    return interrupted;
  }

  /** Stops submitting and the agents (after `--ui` lingers), and sums the run up. */
  async #finish(stack: LocalStack, interrupted: boolean, durationMs: number): Promise<RunSummary> {
    this.#stopSubmitting = true;
    // --ui: the page keeps showing the finished run until a signal (or --ui-linger).
    if (this.#ui && !interrupted) await this.#ui.linger(this.#io.signal, this.#config.uiLinger);
    this.#phase = 'stopping';
    await this.#a2a?.close();
    this.#a2a = undefined;
    await Promise.allSettled(this.#runtimes.map((r) => r.stop()));
    return this.#workload.summary({
      durationMs,
      interrupted,
      messagesReceived: this.#telemetry.metrics.counter('converge_runtime_messages_received_total', 'Messages accepted into agent inboxes', []).get(),
      rejectedMessages: this.#rejected(),
      agents: this.#config.agents,
      transport: this.#config.transport,
      store: stack.main.label,
      role: 'all',
    });
  }

  /** Releases everything the run opened (whatever state it ended in). */
  async close(): Promise<void> {
    this.#phase = 'stopping';
    await this.#a2a?.close().catch(() => {});
    await Promise.allSettled(this.#runtimes.map((r) => r.stop()));
    await this.#verifierPool.stop();
    await this.#metricsServer?.close();
    await this.#telemetry.close(this.#recordSetup);
    await this.#ui?.close();
    await this.#transports?.close();
    for (const s of this.#opened.reverse()) await s.close().catch(() => {});
  }

  #rejected(): number {
    return this.#runtimes.reduce((n, r) => n + r.rejectedMessages, 0);
  }

  /** A task of this run settled: a credit for the coordinator's window, and maybe the run's end. */
  #onCredit(): void {
    this.#wakeCoordinator();
    this.#endIfDrained?.();
  }

  // One wake-up of the coordinator per burst of completions.
  #wakeCoordinator(): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      this.#runtimes[0]?.scheduler.notify();
    });
  }
}
