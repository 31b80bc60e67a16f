import { runHealthChecks, serveRunEndpoints, type RunPhase } from '../probes.js';
import { Identity, MAX_LIST_LIMIT, NotFoundError, type Task } from '@converge/core';
import { DiscoveryService, IdentityRegistry, MessageVerifier } from '@converge/network';
import { AgentRuntime } from '@converge/runtime';
import type { RunConfig } from '../config.js';
import type { RunIO } from '../run.js';
import { buildSummary, type RunSummary, type TaskOutcome } from '../summary.js';
import { createProgress } from '../progress.js';
import { CoordinatorAgent } from '../workload/coordinator.js';
import { expectedSum, type SumInputs } from '../workload/agents.js';
import { taskBody, taskId } from '../workload/plan.js';
import { DISCOVERY_POLL_MS, DISCOVERY_REFRESH_MS, DISCOVERY_TTL_MS, discoverRole, doneKey, openSharedStack, roleMetadata, sleep, type DoneRecord } from './shared.js';
import { queuePort, registerSubmitTasks } from './queue.js';
import { QueueMetrics } from './queue-metrics.js';

/** How long a stop request waits for tasks already submitted to finish. */
const DRAIN_ON_STOP_MS = 5_000;
/** Task records read at once when checking outcomes in the queue. */
const READ_CONCURRENCY = 64;
/** Every outstanding task is re-read this often (the queue's watch is only a hint). */
const RECONCILE_MS = 3_000;
/** How often the coordinator's loop looks for outcomes the watch marked (ms). */
const OUTCOME_POLL_MS = 10;
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
  const { store, poolManager, transports, logger, metrics } = stack;
  const queue = stack.queue.queue;
  let runtime: AgentRuntime | undefined;
  // `--metrics-port`: /metrics, /healthz and /readyz of this process.
  const probed: AgentRuntime[] = [];
  let phase: RunPhase = 'starting';
  const server = config.metricsPort === undefined ? undefined : await serveRunEndpoints(config.metricsPort, metrics, runHealthChecks(probed, store, () => phase)).catch(async (err) => {
    await stack.close();
    throw err;
  });
  try {
    try {
      await poolManager.getPool(config.poolId);
    } catch (err) {
      if (!NotFoundError.is(err)) throw err;
      await poolManager.createPool({ id: config.poolId });
    }
    // A done record of an earlier run would stop the new run's workers at once.
    await store.delete(doneKey(config.poolId));

    // What the pool already holds (a restarted coordinator resumes): the queue's listing.
    const total = config.tasks;
    const outcome = new Map<string, TaskOutcome>();
    const latencies: number[] = [];
    const existing = new Set<string>();
    const idPrefix = taskId(config.poolId, 0).slice(0, -1);
    const isWorkloadTask = (id: string): boolean => {
      if (!id.startsWith(idPrefix)) return false;
      const i = Number(id.slice(idPrefix.length));
      return Number.isSafeInteger(i) && i >= 0 && i < total && taskId(config.poolId, i) === id;
    };
    /** Records a terminal task's outcome; true when it is newly known. */
    const judge = (t: Task, observedAt: number | null): boolean => {
      if (outcome.has(t.id)) return false;
      if (t.state === 'completed') {
        const inputs = t.inputs as unknown as SumInputs;
        outcome.set(t.id, t.result === expectedSum(inputs) ? 'completed' : 'wrong');
        if (observedAt !== null) latencies.push(observedAt - inputs.submittedAt);
        return true;
      }
      if (t.state === 'failed' || t.state === 'cancelled') {
        outcome.set(t.id, 'failed');
        return true;
      }
      return false;
    };
    for (let cursor: string | null | undefined; cursor !== null; ) {
      const page = await queue.list({ poolId: config.poolId, limit: MAX_LIST_LIMIT, ...(cursor ? { cursor } : {}) });
      for (const t of page.tasks) {
        if (!isWorkloadTask(t.id)) continue;
        existing.add(t.id);
        judge(t, null);
      }
      cursor = page.cursor;
    }

    // Outcomes: the queue's watch marks tasks to read; a periodic pass re-reads the rest.
    const outstanding = new Set<string>();
    const dirty = new Set<string>();
    // Credits of the submission window: tasks this run submitted that reached a terminal state.
    let settled = 0;
    for (const id of existing) if (!outcome.has(id)) outstanding.add(id);
    const watching = new AbortController();
    let watchRestarts = 0;
    const watchLoop = (async () => {
      while (!watching.signal.aborted) {
        try {
          for await (const e of queue.watch({ poolId: config.poolId, signal: watching.signal, bufferSize: WATCH_BUFFER })) {
            // (A task whose submit has not returned yet is not outstanding yet: mark it by its id.)
            if ((e.state === 'completed' || e.state === 'failed' || e.state === 'cancelled') && !outcome.has(e.taskId) && isWorkloadTask(e.taskId)) dirty.add(e.taskId);
          }
        } catch (err) {
          // Fell behind (a bounded buffer): counted, logged; the periodic pass covers the gap.
          watchRestarts++;
          logger.warn({ err, watchRestarts }, 'task queue watch ended; watching again');
        }
        if (!watching.signal.aborted) await sleep(50, watching.signal);
      }
    })();

    // The coordinator agent and its runtime; discovery and keys of the workers come from the store.
    const registry = new IdentityRegistry();
    let workerIds: string[] = [];
    let index = 0;
    let stopSubmitting = false;
    let readyLatch = false;
    // The summary's duration runs from the first submission (not from the wait for workers).
    let workStartedAt: number | undefined;
    const coordinator: CoordinatorAgent = new CoordinatorAgent({
      identity: Identity.generate(),
      poolId: config.poolId,
      assignment: config.assignment,
      workers: () => workerIds,
      // Once enough workers have shown up; workers that die later do not stop the submissions.
      ready: () => {
        if (!readyLatch && workerIds.length >= config.minWorkers) {
          readyLatch = true;
          workStartedAt = Date.now();
        }
        return readyLatch;
      },
      // An auction winner that dies holds its reservation no longer than a lease would.
      reservationMs: Math.min(10_000, 2 * config.claimTtlMs),
      metrics,
      window: config.window,
      settled: () => settled,
      batchSubmit: true,
      plan: function* () {
        for (;;) {
          if (stopSubmitting || index >= total) return;
          const body = taskBody(config.poolId, index++, config.claimTtlMs);
          if (!existing.has(body.id)) yield body;
        }
      },
    });
    const discovery = new DiscoveryService({ store: stack.discoveryStore, ttlMs: DISCOVERY_TTL_MS });
    await discovery.start();
    const transport = await transports.create(coordinator.id, 0);
    const meters = new QueueMetrics(metrics, config.poolId);
    const port = queuePort(queue, (t) => {
      if (!outcome.has(t.id)) outstanding.add(t.id);
    }, { meters });
    runtime = new AgentRuntime({
      agent: coordinator,
      transport,
      taskManager: port,
      poolManager,
      discovery: discoveryPort(discovery, transports.endpoints(transport)),
      metadata: roleMetadata('coordinator', config.poolId),
      discoveryRefreshMs: DISCOVERY_REFRESH_MS,
      verifier: new MessageVerifier({ registry, metrics }),
      logger: logger.child({ agentId: coordinator.id.slice(0, 12), role: 'coordinator' }),
      metrics,
      ...stack.telemetry.runtimeOptions(coordinator, 'coordinator', stack.telemetry.env()),
      sweepIntervalMs: Math.max(50, Math.floor(config.claimTtlMs / 2)),
    });
    registerSubmitTasks(runtime.executor, port, logger);
    await runtime.start();
    const rt = runtime;
    probed.push(rt);
    phase = 'running';
    process.stderr.write(`converge: coordinator ${coordinator.id} of pool ${config.poolId} on ${stack.storeLabel}, waiting for ${config.minWorkers} worker agent(s)\n`);

    const refreshWorkers = async (): Promise<void> => {
      const found = await discoverRole(stack.discoveryStore, config.poolId, 'worker');
      for (const d of found) {
        if (d.publicKey && !registry.has(d.id)) registry.register(d.publicKey);
        transports.connect(transport, d.id, d.endpoints);
      }
      const before = workerIds.length;
      workerIds = found.filter((d) => registry.has(d.id)).map((d) => d.id);
      if (workerIds.length !== before) rt.scheduler.notify();
    };

    const progress = createProgress(io.stderr, { tty: config.progress ?? io.tty ?? io.stderr.isTTY === true });
    const t0 = Date.now();
    let interrupted = false;
    let timedOut = false;
    let drainUntil = Number.POSITIVE_INFINITY;
    const onAbort = () => {
      interrupted = true;
      stopSubmitting = true;
      drainUntil = Date.now() + DRAIN_ON_STOP_MS;
      rt.scheduler.notify();
    };
    if (io.signal?.aborted) onAbort();
    else io.signal?.addEventListener('abort', onAbort, { once: true });

    // Reads the records of `ids` (READ_CONCURRENCY at a time) and judges the terminal ones;
    // every credit returned wakes the coordinator at once.
    const readOutcomes = async (ids: string[]): Promise<void> => {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < ids.length) {
          const id = ids[next++]!;
          let t: Task;
          try {
            t = await queue.get(id);
          } catch (err) {
            if (NotFoundError.is(err)) continue;
            throw err;
          }
          if (!judge(t, Date.now())) continue;
          outstanding.delete(t.id);
          if (!existing.has(t.id)) {
            settled++;
            rt.scheduler.notify();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ids.length) }, lane));
    };

    let lastDiscovery = 0;
    let refreshing: Promise<void> | undefined;
    let lastReconcile = Date.now();
    let lastCount = -1;
    for (;;) {
      const now = Date.now();
      // Discovery in the background (a listing of the store can be slow): outcomes keep flowing.
      if (refreshing === undefined && now - lastDiscovery >= DISCOVERY_POLL_MS) {
        refreshing = refreshWorkers()
          .catch((err) => logger.warn({ err }, 'discovery refresh failed'))
          .finally(() => {
            lastDiscovery = Date.now();
            refreshing = undefined;
          });
      }
      if (dirty.size > 0) {
        const ids = [...dirty];
        dirty.clear();
        await readOutcomes(ids).catch((err) => logger.warn({ err }, 'reading task outcomes failed'));
      }
      if (now - lastReconcile >= RECONCILE_MS && outstanding.size > 0) {
        lastReconcile = now;
        await readOutcomes([...outstanding]).catch((err) => logger.warn({ err }, 'reading task outcomes failed'));
      }
      meters.depth(outstanding.size);
      if (outcome.size !== lastCount) {
        lastCount = outcome.size;
        progress.update(outcome.size, total);
      }
      const submittedAll = coordinator.exhausted && coordinator.openAuctions === 0;
      if (submittedAll && outcome.size >= coordinator.submitted + existing.size) break;
      if (Date.now() > drainUntil) break;
      if (Date.now() - t0 > config.timeoutMs) {
        timedOut = true;
        break;
      }
      await sleep(dirty.size > 0 ? 0 : OUTCOME_POLL_MS);
    }
    io.signal?.removeEventListener('abort', onAbort);
    watching.abort();
    await watchLoop;
    await refreshing;
    const durationMs = Date.now() - (workStartedAt ?? t0);
    progress.update(outcome.size, total);
    progress.stop();
    stopSubmitting = true;
    phase = 'stopping';

    let completed = 0;
    for (const v of outcome.values()) if (v === 'completed') completed++;
    // Tell the workers (they watch this key) that the workload is over.
    if (!interrupted && !timedOut) {
      const done: DoneRecord = { coordinatorId: coordinator.id, completed, tasks: total, at: Date.now() };
      await store.put(doneKey(config.poolId), done as unknown as Record<string, number | string>);
    }
    await rt.stop();
    const planned = interrupted ? coordinator.submitted + existing.size : total;
    return buildSummary({
      planned,
      outcomes: outcome.values(),
      latencies,
      durationMs,
      messagesReceived: metrics.counter('converge_runtime_messages_received_total', 'Messages accepted into agent inboxes', []).get(),
      rejectedMessages: rt.rejectedMessages,
      auctioned: coordinator.auctioned,
      agents: workerIds.length,
      transport: config.transport.startsWith('nats://') ? 'nats' : config.transport,
      store: stack.storeLabel,
      interrupted,
      role: 'coordinator',
    });
  } finally {
    await runtime?.stop().catch(() => {});
    await server?.close();
    await stack.close();
  }
}

/** The runtime's discovery port on a `DiscoveryService`, advertising `endpoints`. */
export function discoveryPort(discovery: DiscoveryService, endpoints: string[]) {
  return {
    register: (d: Parameters<DiscoveryService['register']>[0]) => discovery.register({ ...d, endpoints }),
    unregister: (id: string) => discovery.unregister(id),
    refresh: (id: string) => discovery.refresh(id),
  };
}
