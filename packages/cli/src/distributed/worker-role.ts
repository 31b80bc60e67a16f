import { runHealthChecks, serveRunEndpoints, type RunPhase } from '../probes.js';
import { Identity, type Agent } from '@converge/core';
import { DiscoveryService, IdentityRegistry, MessageVerifier, type AgentDescriptor } from '@converge/network';
import { AgentRuntime } from '@converge/runtime';
import type { RunConfig } from '../config.js';
import type { RunIO } from '../run.js';
import type { WorkerSummary } from '../summary.js';
import { WorkerAgent } from '../workload/agents.js';
import { loadWorkerClass } from '../workload/plan.js';
import { discoveryPort } from './coordinator-role.js';
import { discoverRole, DISCOVERY_POLL_MS, DISCOVERY_REFRESH_MS, DISCOVERY_RUNNING_POLL_MS, DISCOVERY_TTL_MS } from './shared.js';
import { doneKey, openSharedStack, roleMetadata, sleep } from './shared.js';
import type { DoneRecord, SharedStack } from './shared.js';
import { newClaimLoopStats, queuePort, runClaimLoop } from './queue.js';
import { QueueMetrics } from './queue-metrics.js';

/** Most tasks one agent claims at once (the default worker's claims per turn). */
const CLAIMS_PER_CALL = 16;
/** How long one claim waits for work before the loop looks again (ms). */
const CLAIM_WAIT_MS = 1_000;

/** How often a worker process checks the coordinator's done record (250 ms; a watch wakes it sooner). */
const DONE_POLL_MS = 250;

/**
 * `converge run --role worker`: waits for the pool's coordinator to appear in the shared
 * discovery store (its public key goes into the identity registry, so its messages verify),
 * runs `config.agents` worker agents that join the pool and bid in its auctions, each with a
 * claim loop on the pool's task queue (the store's engine's own, see `openTaskQueue`: leases
 * and fencing make each task complete once), and stops — finishing the reports in flight —
 * when the coordinator writes its done record, on a signal, or at `timeoutMs`.
 */
export async function runWorker(config: RunConfig, io: RunIO): Promise<WorkerSummary> {
  const WorkerClass = config.agent ? await loadWorkerClass(config.agent) : undefined;
  const stack = await openSharedStack(config);
  const run = new WorkerRun(config, io, stack);
  try {
    await run.serveProbes();
    return await run.execute(WorkerClass);
  } finally {
    await run.close();
  }
}

/** A worker agent class (`--agent`), or the default `WorkerAgent`. */
type WorkerClass = NonNullable<Awaited<ReturnType<typeof loadWorkerClass>>>;

/** One worker process: its stack, runtimes and claim loops, and the steps of `execute`. */
class WorkerRun {
  readonly #config: RunConfig;
  readonly #io: RunIO;
  readonly #stack: SharedStack;
  readonly #stats = newClaimLoopStats();
  readonly #meters: QueueMetrics;
  readonly #claiming = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #runtimes: AgentRuntime[] = [];
  readonly #agentIds: string[] = [];
  /** Keys of the coordinators found (a restarted one has a new identity). */
  readonly #registry = new IdentityRegistry();
  readonly #coordinators = new Set<string>();
  readonly #t0 = Date.now();
  #phase: RunPhase = 'starting';
  #server: { close(): Promise<void> } | undefined;
  #coordinatorId = '';

  constructor(config: RunConfig, io: RunIO, stack: SharedStack) {
    this.#config = config;
    this.#io = io;
    this.#stack = stack;
    this.#meters = new QueueMetrics(stack.metrics, config.poolId);
  }

  /** `--metrics-port`: /metrics, /healthz and /readyz of this process. */
  async serveProbes(): Promise<void> {
    const { metricsPort } = this.#config;
    if (metricsPort === undefined) return;
    this.#server = await serveRunEndpoints(
      metricsPort,
      this.#stack.metrics,
      runHealthChecks(this.#runtimes, this.#stack.store, () => this.#phase),
    );
  }

  /** Finds the coordinator, runs the agents until the done record, a signal or the time-out; the summary. */
  async execute(WorkerClass: WorkerClass | undefined): Promise<WorkerSummary> {
    const coordinator = await this.#findCoordinator();
    if (typeof coordinator === 'string') return this.#summary(coordinator);
    this.#coordinatorId = coordinator.id;
    const workers = await this.#startAgents(coordinator, WorkerClass);
    this.#startClaimLoops(workers);
    this.#phase = 'running';
    process.stderr.write(`converge: worker running ${workers.length} agent(s) for coordinator ${coordinator.id}\n`);
    const stoppedBy = await this.#waitForDone();
    this.#phase = 'stopping';
    await this.#stopAgents();
    return this.#summary(stoppedBy);
  }

  /** Registers the keys of the coordinators found (their messages verify) and remembers their ids. */
  #learn(found: AgentDescriptor[]): void {
    for (const d of found) {
      if (!d.publicKey) continue;
      if (!this.#registry.has(d.id)) this.#registry.register(d.publicKey);
      this.#coordinators.add(d.id);
    }
  }

  /** Polls the shared discovery store for the pool's coordinator; what stopped the wait when none came. */
  async #findCoordinator(): Promise<AgentDescriptor | 'signal' | 'timeout'> {
    const { config, io, stack } = { config: this.#config, io: this.#io, stack: this.#stack };
    process.stderr.write(`converge: worker waiting for the coordinator of pool ${config.poolId} on ${stack.storeLabel}\n`);
    for (;;) {
      if (io.signal?.aborted) return 'signal';
      if (Date.now() - this.#t0 > config.timeoutMs) return 'timeout';
      const found = await discoverRole(stack.discoveryStore, config.poolId, 'coordinator');
      this.#learn(found);
      const coordinator = found.at(-1);
      if (coordinator) return coordinator;
      await sleep(DISCOVERY_POLL_MS, io.signal);
    }
  }

  /** The worker agents: transports, runtimes (sharing one queue port), pool membership, started. */
  async #startAgents(coordinator: AgentDescriptor, WorkerClass: WorkerClass | undefined): Promise<Agent[]> {
    const { config, stack } = { config: this.#config, stack: this.#stack };
    const discovery = new DiscoveryService({ store: stack.discoveryStore, ttlMs: DISCOVERY_TTL_MS });
    await discovery.start();
    const verifier = new MessageVerifier({ registry: this.#registry, metrics: stack.metrics });
    const workers: Agent[] = [];
    for (let i = 0; i < config.agents; i++) {
      const options = { identity: Identity.generate(), coordinatorId: coordinator.id, notifyCoordinator: false };
      workers.push(WorkerClass ? new WorkerClass(options) : new WorkerAgent(options));
    }
    // One port for every runtime of the process: one sweep per interval, not one per agent.
    const sweepIntervalMs = Math.max(50, Math.floor(config.claimTtlMs / 2));
    const port = queuePort(stack.queue.queue, undefined, { meters: this.#meters, sweepGapMs: sweepIntervalMs });
    for (const [i, agent] of workers.entries()) {
      this.#agentIds.push(agent.id);
      const transport = await stack.transports.create(agent.id, i + 1);
      stack.transports.connect(transport, coordinator.id, coordinator.endpoints);
      this.#runtimes.push(
        new AgentRuntime({
          agent,
          transport,
          // Messages (calls for bids) and the sweep go through the runtime; claims through the claim loops.
          taskManager: port,
          poolManager: stack.poolManager,
          discovery: discoveryPort(discovery, stack.transports.endpoints(transport)),
          metadata: roleMetadata('worker', config.poolId),
          discoveryRefreshMs: DISCOVERY_REFRESH_MS,
          verifier,
          logger: stack.logger.child({ agentId: agent.id.slice(0, 12), role: 'worker' }),
          metrics: stack.metrics,
          ...stack.telemetry.runtimeOptions(agent, 'worker', stack.telemetry.env()),
          sweepIntervalMs,
        }),
      );
    }
    for (const w of workers) await stack.poolManager.joinPool(w.id, config.poolId);
    for (const rt of this.#runtimes) await rt.start();
    return workers;
  }

  /** One claim loop per agent on the pool's queue. */
  #startClaimLoops(workers: Agent[]): void {
    for (const agent of workers) {
      this.#loops.push(
        runClaimLoop(this.#stack.queue.queue, agent, {
          poolId: this.#config.poolId,
          maxClaims: CLAIMS_PER_CALL,
          waitMs: CLAIM_WAIT_MS,
          signal: this.#claiming.signal,
          stats: this.#stats,
          logger: this.#stack.logger,
          meters: this.#meters,
        }),
      );
    }
  }

  /** Waits for the done record of a coordinator this process knows, a signal or the deadline; progress lines meanwhile. */
  async #waitForDone(): Promise<WorkerSummary['stopped_by']> {
    const { config, io, stack } = { config: this.#config, io: this.#io, stack: this.#stack };
    const wakeUp = new EventTarget();
    const unwatchDone = stack.store.watch?.(doneKey(config.poolId), () => wakeUp.dispatchEvent(new Event('wake'))) ?? (() => {});
    let lastDiscovery = Date.now();
    let lastProgress = Date.now();
    try {
      for (;;) {
        if (io.signal?.aborted) return 'signal';
        const done = await stack.store.get<DoneRecord>(doneKey(config.poolId));
        if (done && this.#coordinators.has(done.coordinatorId)) return 'coordinator';
        const now = Date.now();
        if (now - this.#t0 > config.timeoutMs) return 'timeout';
        // A restarted coordinator has a new identity: learn its key too (at once when a done
        // record names a coordinator not known yet, else every DISCOVERY_RUNNING_POLL_MS).
        if (now - lastDiscovery >= DISCOVERY_RUNNING_POLL_MS || (done && now - lastDiscovery >= DISCOVERY_POLL_MS)) {
          lastDiscovery = now;
          this.#learn(await discoverRole(stack.discoveryStore, config.poolId, 'coordinator').catch(() => []));
        }
        if (now - lastProgress >= 1_000) {
          lastProgress = now;
          io.stderr.write(`progress: ${this.#stats.completed} tasks completed by this worker\n`);
        }
        await wakeOrTimeout(DONE_POLL_MS, wakeUp, io.signal);
      }
    } finally {
      unwatchDone();
    }
  }

  /** Ends the claim loops (their reports in flight finish) and the runtimes. */
  async #stopAgents(): Promise<void> {
    this.#claiming.abort();
    await Promise.allSettled(this.#loops);
    await Promise.allSettled(this.#runtimes.map((r) => r.stop()));
  }

  #summary(stoppedBy: WorkerSummary['stopped_by']): WorkerSummary {
    const durationMs = Date.now() - this.#t0;
    const completed = this.#stats.completed;
    return {
      role: 'worker',
      agents: this.#config.agents,
      agent_ids: this.#agentIds,
      completed,
      claims: this.#stats.claims,
      conflicts: this.#stats.conflicts,
      coordinator: this.#coordinatorId,
      duration_ms: durationMs,
      tasks_per_s: Number((completed / Math.max(0.001, durationMs / 1000)).toFixed(1)),
      rejected_messages: this.#runtimes.reduce((n, r) => n + r.rejectedMessages, 0),
      transport: this.#config.transport.startsWith('nats://') ? 'nats' : this.#config.transport,
      store: this.#stack.storeLabel,
      stopped_by: stoppedBy,
    };
  }

  /** Releases the loops, runtimes, the probe server and the stack (whatever state the run ended in). */
  async close(): Promise<void> {
    await this.#stopAgents();
    await this.#server?.close();
    await this.#stack.close();
  }
}

/** Resolves after `ms`, at a `wake` event of `target`, or when `signal` aborts. */
function wakeOrTimeout(ms: number, target: EventTarget, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      target.removeEventListener('wake', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    target.addEventListener('wake', done, { once: true });
    signal?.addEventListener('abort', done, { once: true });
  });
}
