import { Identity, NotFoundError, type Agent, type Task } from '@converge/core';
import { DiscoveryService, IdentityRegistry, MessageVerifier, VerifierPool } from '@converge/network';
import type { Transport } from '@converge/core';
import { PoolManager, TaskManager } from '@converge/coordination';
import { AgentRuntime } from '@converge/runtime';
import { logTaskStates } from './task-log.js';
import { runHealthChecks, serveRunEndpoints, type RunPhase } from './probes.js';
import type { RunConfig } from './config.js';
import { openStore, storeNamespace, transportFactory, type OpenedStore } from './stack.js';
import { loadWorkerClass, planTasks } from './workload/plan.js';
import { openTelemetry } from './telemetry/telemetry.js';
import { recordSetupOf, type AgentEnv, type RecordSetupInput } from './telemetry/telemetry.js';
import { CoordinatorAgent } from './workload/coordinator.js';
import { WorkerAgent, expectedSum, type SumInputs } from './workload/agents.js';
import { buildSummary, type RunSummary, type TaskOutcome } from './summary.js';
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
const DRAIN_ON_STOP_MS = 5_000;

/**
 * Runs the main job: a coordinator and `config.agents` workers register in discovery, join a
 * pool, win tasks by claim or auction, execute and report them; every result is checked.
 */
export async function runWorkload(config: RunConfig, io: RunIO): Promise<RunSummary> {
  const telemetry = openTelemetry(config, 'converge', io.tty ?? io.stderr.isTTY === true);
  const { logger, metrics } = telemetry;
  const opened: OpenedStore[] = [];
  const runtimes: AgentRuntime[] = [];
  // Signatures of incoming messages are verified on worker threads (every core), not the main one.
  const verifierPool = new VerifierPool();
  let metricsServer: { close(): Promise<void> } | undefined;
  // --a2a: the pool served as an A2A agent (loaded only then); the run stays up until interrupted.
  let a2a: A2AEndpoint | undefined;
  let isA2ATask: ((t: Task) => boolean) | undefined;
  let serving = config.a2a !== undefined;
  let ui: RunUi | undefined;
  let phase: RunPhase = 'starting';
  let recordSetup: RecordSetupInput | undefined;
  const transports = await transportFactory(config, { metrics });
  const WorkerClass = config.agent ? await loadWorkerClass(config.agent) : undefined;
  try {
    const namespace = storeNamespace(config);
    const main = await openStore(config.store, 'store', namespace);
    opened.push(main);
    const discoveryStore = config.discoveryStore ? await openStore(config.discoveryStore, 'discoveryStore', namespace) : main;
    if (discoveryStore !== main) opened.push(discoveryStore);
    const store = main.store;
    const taskManager = new TaskManager({ store, defaults: { claimTtlMs: config.claimTtlMs }, metrics });
    const poolManager = new PoolManager({ store });
    const discovery = new DiscoveryService({ store: discoveryStore.store });
    await discovery.start?.();
    const registry = new IdentityRegistry();
    if (config.metricsPort !== undefined) {
      metricsServer = await serveRunEndpoints(config.metricsPort, metrics, runHealthChecks(runtimes, store, () => phase));
    }
    try {
      await poolManager.getPool(config.poolId);
    } catch (err) {
      if (!NotFoundError.is(err)) throw err;
      await poolManager.createPool({ id: config.poolId });
    }

    // What this pool already holds (a restart on a persistent store resumes it).
    const unlimited = config.duration !== undefined;
    const total = unlimited ? undefined : config.tasks;
    let submittedSoFar = (): number => 0;
    if (config.ui !== undefined) {
      ui = await startUi({ port: config.ui, poolId: config.poolId, transport: config.transport, total: () => total ?? submittedSoFar(), stderr: io.stderr, logger });
    }
    const latencies: number[] = [];
    const outcome = new Map<string, TaskOutcome>();
    const existing = new Set<string>();
    // (A fresh in-memory store holds nothing: no need to look.)
    if (!unlimited && main.label !== 'memory') {
      for (let i = 0; i < config.tasks; i++) {
        const id = `${config.poolId}:task:${i}`;
        try {
          const t = await taskManager.getTask(id);
          existing.add(id);
          if (t.state === 'completed') outcome.set(id, t.result === expectedSum(t.inputs as unknown as SumInputs) ? 'completed' : 'wrong');
          else if (t.state === 'failed' || t.state === 'cancelled') outcome.set(id, 'failed');
        } catch (err) {
          if (!NotFoundError.is(err)) throw err;
        }
      }
    }
    // Credits of the submission window: tasks of this run that reached a terminal state.
    let settled = 0;
    let wakeQueued = false;
    const returnCredit = (id: string) => {
      if (existing.has(id)) return;
      settled++;
      if (wakeQueued) return;
      wakeQueued = true; // one wake-up of the coordinator per burst of completions
      queueMicrotask(() => {
        wakeQueued = false;
        runtimes[0]?.scheduler.notify();
      });
    };
    const record = (t: Task, state: 'completed' | 'failed') => {
      if (t.poolId !== config.poolId || outcome.has(t.id) || isA2ATask?.(t)) return;
      returnCredit(t.id);
      const inputs = t.inputs as unknown as SumInputs;
      if (state === 'completed') {
        outcome.set(t.id, t.result === expectedSum(inputs) ? 'completed' : 'wrong');
        latencies.push(Date.now() - inputs.submittedAt);
      } else outcome.set(t.id, 'failed');
    };
    logTaskStates(taskManager, logger);
    taskManager.on('completed', (t) => record(t, 'completed'));
    taskManager.on('failed', (e) => {
      if (e.deadLettered || e.task.state === 'failed') record(e.task, 'failed');
    });

    // The agents: identities, transports, runtimes; each registers in discovery on start.
    let started = false;
    let workerIds: string[] = [];
    let stopSubmitting = false;
    const envs: AgentEnv[] = [telemetry.env()];
    const cenv = envs[0]!;
    const coordinator = new CoordinatorAgent({
      identity: Identity.generate(),
      poolId: config.poolId,
      assignment: config.assignment,
      workers: () => workerIds,
      // Not before every agent is discovered and its key registered.
      ready: telemetry.gate(cenv, 'ready', () => started),
      plan: planTasks({ poolId: config.poolId, claimTtlMs: config.claimTtlMs, total, existing, now: cenv.now, stopped: telemetry.gate(cenv, 'stop', () => stopSubmitting) }),
      clock: cenv.now,
      metrics,
      // The window's credits depend on timing, which a replay cannot reproduce: off with --record.
      ...(config.record ? {} : { window: config.window }),
      settled: () => settled,
    });
    const workers: Agent[] = [];
    for (let i = 0; i < config.agents; i++) {
      const env = telemetry.env();
      envs.push(env);
      const options = { identity: Identity.generate(), coordinatorId: coordinator.id, clock: env.now, random: env.random };
      workers.push(WorkerClass ? new WorkerClass(options) : new WorkerAgent(options));
    }
    const agents: Agent[] = [coordinator, ...workers];
    const agentTransports: Transport[] = [];
    submittedSoFar = () => coordinator.submitted + existing.size;
    for (let i = 0; i < agents.length; i++) {
      const t = await transports.create(agents[i]!.id, i);
      agentTransports.push(ui ? ui.tap(t) : t);
    }
    const verifier = new MessageVerifier({ registry, metrics });
    for (let i = 0; i < agents.length; i++) {
      const agent = agents[i]!;
      runtimes.push(
        new AgentRuntime({
          agent,
          transport: agentTransports[i],
          taskManager,
          poolManager,
          discovery: {
            register: (d) => discovery.register({ ...d, endpoints: transports.endpoints(agentTransports[i]!) } as Parameters<DiscoveryService['register']>[0]),
            unregister: (id) => discovery.unregister(id),
          },
          verifier,
          verifierPool,
          logger: logger.child({ agentId: agent.id.slice(0, 12) }),
          metrics,
          ...telemetry.runtimeOptions(agent, i === 0 ? 'coordinator' : 'worker', envs[i]!),
          sweepIntervalMs: Math.max(50, Math.floor(config.claimTtlMs / 2)),
        }),
      );
    }
    // Workers join the pool (its admission policy applies) before they start looking for work.
    for (const w of workers) await poolManager.joinPool(w.id, config.poolId);
    for (const rt of runtimes) await rt.start();

    // Discovery: learn every agent's key (for verification) and address (for routing).
    const found = await discovery.query({ capabilities: ['sum'] });
    workerIds = found.map((d) => d.id).filter((id) => workers.some((w) => w.id === id));
    for (const d of await discovery.query({})) {
      if (d.publicKey && !registry.has(d.id)) registry.register(d.publicKey);
      for (const t of agentTransports) transports.connect(t, d.id, d.endpoints);
    }
    if (workerIds.length !== workers.length) throw new Error(`discovery found ${workerIds.length} of ${workers.length} workers`);
    recordSetup = recordSetupOf(config, total, existing, workerIds);
    ui?.watch({
      taskManager,
      agents: () => discovery.query({}),
      pools: () => poolManager.listPools(),
      roleOf: (id) => (id === coordinator.id ? 'coordinator' : 'worker'),
      rejected: () => runtimes.reduce((n, r) => n + r.rejectedMessages, 0),
    });
    const t0 = Date.now();
    started = true;
    phase = 'running';
    runtimes[0]!.scheduler.notify();
    if (config.a2a !== undefined) {
      const mod = await import('./a2a-serve.js');
      isA2ATask = mod.isA2ATask;
      a2a = await mod.serveA2A({
        port: config.a2a, token: config.a2aToken, store, pools: poolManager, poolId: config.poolId, identity: coordinator.identity,
        onSubmit: () => runtimes.forEach((r) => r.scheduler.notify()), stderr: io.stderr, logger,
      });
    }

    // Wait for every task to reach a terminal state, the deadline, or a stop request.
    const progress = createProgress(io.stderr, { tty: config.progress ?? io.tty ?? io.stderr.isTTY === true });
    const durationMs = config.duration ? config.duration * 1000 : undefined;
    let interrupted = false;
    let drainUntil = Number.POSITIVE_INFINITY;
    await new Promise<void>((done) => {
      const tick = setInterval(() => {
        const finished = outcome.size;
        progress.update(finished, total);
        const now = Date.now();
        if (durationMs !== undefined && now - t0 >= durationMs) stopSubmitting = true;
        // Everything submitted (and everything a restart found) has reached a terminal state.
        const submittedAll = coordinator.exhausted && coordinator.openAuctions === 0;
        const drained = submittedAll && finished >= coordinator.submitted + existing.size;
        if (drained && (stopSubmitting || total !== undefined) && !serving) finish();
        else if (now > drainUntil || (now - t0 > config.timeoutMs && !serving)) finish();
      }, 25);
      const finish = () => {
        clearInterval(tick);
        io.signal?.removeEventListener('abort', onAbort);
        done();
      };
      // A stop request: submit nothing more, let the tasks already out finish (bounded), stop.
      const onAbort = () => {
        interrupted = true;
        serving = false;
        stopSubmitting = true;
        drainUntil = Date.now() + DRAIN_ON_STOP_MS;
        runtimes[0]!.scheduler.notify();
      };
      if (io.signal?.aborted) onAbort();
      else io.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const durationMsActual = Date.now() - t0;
    progress.update(outcome.size, total);
    progress.stop();
    stopSubmitting = true;
    // --ui: the page keeps showing the finished run until a signal (or --ui-linger).
    if (ui && !interrupted) await ui.linger(io.signal, config.uiLinger);
    phase = 'stopping';
    await a2a?.close();
    a2a = undefined;
    await Promise.allSettled(runtimes.map((r) => r.stop()));

    const planned = interrupted || total === undefined ? coordinator.submitted + existing.size : total;
    return buildSummary({
      planned,
      outcomes: outcome.values(),
      latencies,
      durationMs: durationMsActual,
      messagesReceived: metrics.counter('converge_runtime_messages_received_total', 'Messages accepted into agent inboxes', []).get(),
      rejectedMessages: runtimes.reduce((n, r) => n + r.rejectedMessages, 0),
      auctioned: coordinator.auctioned,
      agents: config.agents,
      transport: config.transport,
      store: main.label,
      interrupted,
      role: 'all',
    });
  } finally {
    phase = 'stopping';
    await a2a?.close().catch(() => {});
    await Promise.allSettled(runtimes.map((r) => r.stop()));
    await verifierPool.stop();
    await metricsServer?.close();
    await telemetry.close(recordSetup);
    await ui?.close();
    await transports.close();
    for (const s of opened.reverse()) await s.close().catch(() => {});
  }
}
