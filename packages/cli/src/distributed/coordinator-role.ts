import { runHealthChecks, serveRunEndpoints, type RunPhase } from '../probes.js';
import { Identity, MAX_LIST_LIMIT, NotFoundError, type TaskQueue } from '@converge/core';
import { DiscoveryService, IdentityRegistry, MessageVerifier } from '@converge/network';
import type { Transport } from '@converge/core';
import { AgentRuntime } from '@converge/runtime';
import type { RunConfig } from '../config.js';
import { DRAIN_ON_STOP_MS, type RunIO } from '../run.js';
import type { RunSummary } from '../summary.js';
import { createProgress } from '../progress.js';
import type { CoordinatorAgent } from '../workload/coordinator.js';
import { Workload } from '../workload/workload.js';
import { discoverRole, DISCOVERY_POLL_MS, DISCOVERY_REFRESH_MS, DISCOVERY_RUNNING_POLL_MS, DISCOVERY_TTL_MS } from './shared.js';
import { doneKey, openSharedStack, roleMetadata, sleep } from './shared.js';
import type { DoneRecord, SharedStack } from './shared.js';
import { queuePort, registerSubmitTasks } from './queue.js';
import { QueueMetrics } from './queue-metrics.js';

/** Task records read at once when checking outcomes in the queue: 256 (PostgreSQL's queue reads them in a few statements). */
const READ_CONCURRENCY = 256;
/** Every outstanding task is re-read this often (the queue's watch is only a hint). */
const RECONCILE_MS = 3_000;
/** How often the coordinator's loop updates its progress and looks whether the workload is done (ms). */
const OUTCOME_POLL_MS = 10;
/** The states whose tasks the coordinator reads to judge. */
const TERMINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);
/** Events the coordinator's queue watch buffers before it is restarted (the reconcile pass covers a gap). */
const WATCH_BUFFER = 65_536;

/**
 * `converge run --role coordinator`: submits the workload's tasks to the pool's task queue
 * (the store's engine's own queue, see `openTaskQueue`) through the bounded window
 * `--window`, auctions some among the workers it discovers, waits until every task is
 * terminal — reading outcomes from the queue, since workers in other processes complete them — checks
 * each result, writes the done record workers watch for, and returns the summary.
 */
export async function runCoordinator(config: RunConfig, io: RunIO): Promise<RunSummary> {
  const stack = await openSharedStack(config);
  const run = new CoordinatorRun(config, io, stack);
  try {
    return await run.execute();
  } finally {
    await run.close();
  }
}

/** The discovery port of the runtime on a `DiscoveryService`, advertising `endpoints`. */
export function discoveryPort(discovery: DiscoveryService, endpoints: string[]) {
  return {
    register: (d: Parameters<DiscoveryService['register']>[0]) => discovery.register({ ...d, endpoints }),
    unregister: (id: string) => discovery.unregister(id),
    refresh: (id: string) => discovery.refresh(id),
  };
}

/**
 * The outcomes of a coordinator's tasks, which workers in other processes finish: a task the
 * queue's watch sees finish is read at once (up to `READ_CONCURRENCY` reads in flight, each
 * returning its credit as it lands, not after a whole pass); a periodic pass re-reads every
 * outstanding one (the watch is only a hint).
 */
class OutcomeReader {
  readonly #queue: TaskQueue;
  readonly #workload: Workload;
  readonly #logger: SharedStack['logger'];
  /** Tasks submitted (or found) whose outcome is not known yet. */
  readonly outstanding = new Set<string>();
  /** Tasks the watch saw finish, waiting for a read. */
  readonly #dirty = new Set<string>();
  readonly #watching = new AbortController();
  #watchLoop: Promise<void> = Promise.resolve();
  #watchRestarts = 0;
  #reading = 0;

  constructor(queue: TaskQueue, workload: Workload, logger: SharedStack['logger']) {
    this.#queue = queue;
    this.#workload = workload;
    this.#logger = logger;
  }

  /** Starts watching `poolId` (restarting a watch that fell behind: the reconcile pass covers a gap). */
  watch(poolId: string): void {
    const signal = this.#watching.signal;
    this.#watchLoop = (async () => {
      while (!signal.aborted) {
        try {
          for await (const e of this.#queue.watch({ poolId, signal, bufferSize: WATCH_BUFFER })) {
            // (A task whose submit has not returned yet is not outstanding yet: mark it by its id.)
            if (TERMINAL.has(e.state) && !this.#workload.judged(e.taskId) && this.#workload.owns(e.taskId)) {
              this.#dirty.add(e.taskId);
              this.#pump();
            }
          }
        } catch (err) {
          this.#watchRestarts++;
          this.#logger.warn({ err, watchRestarts: this.#watchRestarts }, 'task queue watch ended; watching again');
        }
        if (!signal.aborted) await sleep(50, signal);
      }
    })();
  }

  /** Ends the watch. */
  async stop(): Promise<void> {
    this.#watching.abort();
    await this.#watchLoop;
  }

  /** Reads marked tasks while fewer than `READ_CONCURRENCY` reads are in flight (a failed read is left to the reconcile pass). */
  #pump(): void {
    while (this.#reading < READ_CONCURRENCY && this.#dirty.size > 0) {
      const id = this.#dirty.values().next().value!;
      this.#dirty.delete(id);
      this.#reading++;
      void this.#readOne(id)
        .catch((err: unknown) => this.#logger.warn({ err }, 'reading task outcomes failed'))
        .finally(() => {
          this.#reading--;
          this.#pump();
        });
    }
  }

  /** Reads the records of `ids` (READ_CONCURRENCY at a time) and judges the terminal ones. */
  async read(ids: string[]): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < ids.length) await this.#readOne(ids[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, lane));
  }

  async #readOne(id: string): Promise<void> {
    const t = await this.#queue.get(id).catch((err: unknown) => {
      if (NotFoundError.is(err)) return undefined;
      throw err;
    });
    if (t !== undefined && this.#workload.judge(t, Date.now())) this.outstanding.delete(t.id);
  }
}

/** One coordinator process: its stack, runtime and the steps of `execute`. */
class CoordinatorRun {
  readonly #config: RunConfig;
  readonly #io: RunIO;
  readonly #stack: SharedStack;
  readonly #workload: Workload;
  readonly #outcomes: OutcomeReader;
  readonly #registry = new IdentityRegistry();
  readonly #probed: AgentRuntime[] = [];
  #meters: QueueMetrics | undefined;
  #runtime: AgentRuntime | undefined;
  #server: { close(): Promise<void> } | undefined;
  #phase: RunPhase = 'starting';
  #workerIds: string[] = [];
  #stopSubmitting = false;
  #readyLatch = false;
  /** The summary's duration runs from the first submission (not from the wait for workers). */
  #workStartedAt: number | undefined;
  #interrupted = false;
  #drainUntil = Number.POSITIVE_INFINITY;

  constructor(config: RunConfig, io: RunIO, stack: SharedStack) {
    this.#config = config;
    this.#io = io;
    this.#stack = stack;
    // Every credit returned wakes the coordinator at once.
    this.#workload = new Workload({
      poolId: config.poolId,
      total: config.tasks,
      claimTtlMs: config.claimTtlMs,
      onCredit: () => this.#runtime?.scheduler.notify(),
    });
    this.#outcomes = new OutcomeReader(stack.queue.queue, this.#workload, stack.logger);
  }

  /** Runs the workload to its end (or a stop request, or the time-out) and returns the summary. */
  async execute(): Promise<RunSummary> {
    const { config, stack } = { config: this.#config, stack: this.#stack };
    // `--metrics-port`: /metrics, /healthz and /readyz of this process.
    if (config.metricsPort !== undefined)
      this.#server = await serveRunEndpoints(
        config.metricsPort,
        stack.metrics,
        runHealthChecks(this.#probed, stack.store, () => this.#phase),
      );
    await Workload.preparePool(stack.poolManager, config.poolId);
    // A done record of an earlier run would stop the new run's workers at once.
    await stack.store.delete(doneKey(config.poolId));
    // What the pool already holds (a restarted coordinator resumes): the queue's listing.
    const queue = stack.queue.queue;
    await this.#workload.resume((cursor) => queue.list({ poolId: config.poolId, limit: MAX_LIST_LIMIT, ...(cursor ? { cursor } : {}) }));
    for (const id of this.#workload.existing) if (!this.#workload.judged(id)) this.#outcomes.outstanding.add(id);
    this.#outcomes.watch(config.poolId);
    const coordinator = this.#coordinator();
    const transport = await this.#startRuntime(coordinator);
    process.stderr.write(
      `converge: coordinator ${coordinator.id} of pool ${config.poolId} on ${stack.storeLabel}, waiting for ${config.minWorkers} worker agent(s)\n`,
    );
    const { timedOut, t0 } = await this.#waitForOutcomes(transport);
    await this.#outcomes.stop();
    const durationMs = Date.now() - (this.#workStartedAt ?? t0);
    this.#stopSubmitting = true;
    this.#phase = 'stopping';
    // Tell the workers (they watch this key) that the workload is over.
    if (!this.#interrupted && !timedOut) {
      const done: DoneRecord = { coordinatorId: coordinator.id, completed: this.#workload.completed, tasks: config.tasks, at: Date.now() };
      await stack.store.put(doneKey(config.poolId), done as unknown as Record<string, number | string>);
    }
    const rt = this.#runtime!;
    await rt.stop();
    return this.#workload.summary({
      durationMs,
      interrupted: this.#interrupted,
      rejectedMessages: rt.rejectedMessages,
      agents: this.#workerIds.length,
      messagesReceived: stack.metrics.counter('converge_runtime_messages_received_total', 'Messages accepted into agent inboxes', []).get(),
      transport: config.transport.startsWith('nats://') ? 'nats' : config.transport,
      store: stack.storeLabel,
      role: 'coordinator',
    });
  }

  /** The coordinator agent: submits once enough workers showed up (workers that die later do not stop it). */
  #coordinator(): CoordinatorAgent {
    const config = this.#config;
    return this.#workload.coordinator({
      identity: Identity.generate(),
      assignment: config.assignment,
      workers: () => this.#workerIds,
      ready: () => {
        if (!this.#readyLatch && this.#workerIds.length >= config.minWorkers) {
          this.#readyLatch = true;
          this.#workStartedAt = Date.now();
        }
        return this.#readyLatch;
      },
      stopped: () => this.#stopSubmitting,
      // An auction winner that dies holds its reservation no longer than a lease would.
      reservationMs: Math.min(10_000, 2 * config.claimTtlMs),
      metrics: this.#stack.metrics,
      window: config.window,
      batchSubmit: true,
    });
  }

  /** The coordinator's runtime on the queue; discovery and keys of the workers come from the store. */
  async #startRuntime(coordinator: CoordinatorAgent): Promise<Transport> {
    const { config, stack } = { config: this.#config, stack: this.#stack };
    const discovery = new DiscoveryService({ store: stack.discoveryStore, ttlMs: DISCOVERY_TTL_MS });
    await discovery.start();
    const transport = await stack.transports.create(coordinator.id, 0);
    const meters = new QueueMetrics(stack.metrics, config.poolId);
    this.#meters = meters;
    const port = queuePort(
      stack.queue.queue,
      (t) => {
        if (!this.#workload.judged(t.id)) this.#outcomes.outstanding.add(t.id);
      },
      { meters },
    );
    const rt = new AgentRuntime({
      agent: coordinator,
      transport,
      taskManager: port,
      poolManager: stack.poolManager,
      discovery: discoveryPort(discovery, stack.transports.endpoints(transport)),
      metadata: roleMetadata('coordinator', config.poolId),
      discoveryRefreshMs: DISCOVERY_REFRESH_MS,
      verifier: new MessageVerifier({ registry: this.#registry, metrics: stack.metrics }),
      logger: stack.logger.child({ agentId: coordinator.id.slice(0, 12), role: 'coordinator' }),
      metrics: stack.metrics,
      ...stack.telemetry.runtimeOptions(coordinator, 'coordinator', stack.telemetry.env()),
      sweepIntervalMs: Math.max(50, Math.floor(config.claimTtlMs / 2)),
    });
    this.#runtime = rt;
    registerSubmitTasks(rt.executor, port, stack.logger);
    await rt.start();
    this.#probed.push(rt);
    this.#phase = 'running';
    return transport;
  }

  /** Learns the workers in the shared discovery store: their keys, addresses, and the ids the coordinator hands out to. */
  async #refreshWorkers(transport: Transport): Promise<void> {
    const { discoveryStore, transports } = this.#stack;
    const found = await discoverRole(discoveryStore, this.#config.poolId, 'worker');
    for (const d of found) {
      if (d.publicKey && !this.#registry.has(d.id)) this.#registry.register(d.publicKey);
      transports.connect(transport, d.id, d.endpoints);
    }
    const before = this.#workerIds.length;
    this.#workerIds = found.filter((d) => this.#registry.has(d.id)).map((d) => d.id);
    if (this.#workerIds.length !== before) this.#runtime!.scheduler.notify();
  }

  /** Loops until every task is judged, a stop request has drained, or the time-out; discovery runs beside it. */
  async #waitForOutcomes(transport: Transport): Promise<{ timedOut: boolean; t0: number }> {
    const config = this.#config;
    const logger = this.#stack.logger;
    const outcomes = this.#outcomes;
    const progress = createProgress(this.#io.stderr, { tty: config.progress ?? this.#io.tty ?? this.#io.stderr.isTTY === true });
    const t0 = Date.now();
    const onAbort = () => this.#onAbort();
    if (this.#io.signal?.aborted) onAbort();
    else this.#io.signal?.addEventListener('abort', onAbort, { once: true });
    let lastDiscovery = 0;
    let refreshing: Promise<void> | undefined;
    let lastReconcile = Date.now();
    let timedOut = false;
    let shown = -1;
    const warn = (err: unknown) => logger.warn({ err }, 'reading task outcomes failed');
    for (;;) {
      const now = Date.now();
      // Discovery in the background (a listing of the store can be slow): outcomes keep flowing.
      // Once enough workers came, less often (see DISCOVERY_RUNNING_POLL_MS).
      const discoveryGap = this.#readyLatch ? DISCOVERY_RUNNING_POLL_MS : DISCOVERY_POLL_MS;
      if (refreshing === undefined && now - lastDiscovery >= discoveryGap) {
        refreshing = this.#refreshWorkers(transport)
          .catch((err) => logger.warn({ err }, 'discovery refresh failed'))
          .finally(() => {
            lastDiscovery = Date.now();
            refreshing = undefined;
          });
      }
      if (now - lastReconcile >= RECONCILE_MS && outcomes.outstanding.size > 0) {
        lastReconcile = now;
        await outcomes.read([...outcomes.outstanding]).catch(warn);
      }
      this.#meters?.depth(outcomes.outstanding.size);
      if (this.#workload.finished !== shown) progress.update((shown = this.#workload.finished), config.tasks);
      if (this.#workload.drained || Date.now() > this.#drainUntil) break;
      if (Date.now() - t0 > config.timeoutMs) {
        timedOut = true;
        break;
      }
      await sleep(OUTCOME_POLL_MS);
    }
    this.#io.signal?.removeEventListener('abort', onAbort);
    await refreshing;
    progress.update(this.#workload.finished, config.tasks);
    progress.stop();
    return { timedOut, t0 };
  }

  // A stop request: submit nothing more, let the tasks already out finish (bounded), stop.
  #onAbort(): void {
    this.#interrupted = true;
    this.#stopSubmitting = true;
    this.#drainUntil = Date.now() + DRAIN_ON_STOP_MS;
    this.#runtime?.scheduler.notify();
  }

  /** Releases the runtime, the probe server and the stack (whatever state the run ended in). */
  async close(): Promise<void> {
    await this.#runtime?.stop().catch(() => {});
    await this.#outcomes.stop();
    await this.#server?.close();
    await this.#stack.close();
  }
}
