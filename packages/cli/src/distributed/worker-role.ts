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
import {
  DISCOVERY_POLL_MS,
  DISCOVERY_REFRESH_MS,
  DISCOVERY_TTL_MS,
  discoverRole,
  doneKey,
  openSharedStack,
  roleMetadata,
  sleep,
  type DoneRecord,
} from './shared.js';
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
  const { store, poolManager, transports, logger, metrics } = stack;
  const queue = stack.queue.queue;
  const stats = newClaimLoopStats();
  const meters = new QueueMetrics(metrics, config.poolId);
  const claiming = new AbortController();
  const loops: Promise<void>[] = [];
  const runtimes: AgentRuntime[] = [];
  const agentIds: string[] = [];
  const t0 = Date.now();
  // `--metrics-port`: /metrics, /healthz and /readyz of this process.
  let phase: RunPhase = 'starting';
  const server =
    config.metricsPort === undefined
      ? undefined
      : await serveRunEndpoints(
          config.metricsPort,
          metrics,
          runHealthChecks(runtimes, store, () => phase),
        ).catch(async (err) => {
          await stack.close();
          throw err;
        });
  try {
    // The coordinator: found through the shared discovery store.
    const registry = new IdentityRegistry();
    const coordinators = new Set<string>();
    const learn = (found: AgentDescriptor[]) => {
      for (const d of found) {
        if (!d.publicKey) continue;
        if (!registry.has(d.id)) registry.register(d.publicKey);
        coordinators.add(d.id);
      }
    };
    let coordinator: AgentDescriptor | undefined;
    process.stderr.write(`converge: worker waiting for the coordinator of pool ${config.poolId} on ${stack.storeLabel}\n`);
    while (!coordinator) {
      if (io.signal?.aborted) return summary('signal', '', 0);
      if (Date.now() - t0 > config.timeoutMs) return summary('timeout', '', 0);
      const found = await discoverRole(stack.discoveryStore, config.poolId, 'coordinator');
      learn(found);
      coordinator = found.at(-1);
      if (!coordinator) await sleep(DISCOVERY_POLL_MS, io.signal);
    }
    const coordinatorId = coordinator.id;

    // The workers: transports, runtimes, pool membership.
    const discovery = new DiscoveryService({ store: stack.discoveryStore, ttlMs: DISCOVERY_TTL_MS });
    await discovery.start();
    const verifier = new MessageVerifier({ registry, metrics });
    const workers: Agent[] = [];
    for (let i = 0; i < config.agents; i++) {
      const options = { identity: Identity.generate(), coordinatorId, notifyCoordinator: false };
      workers.push(WorkerClass ? new WorkerClass(options) : new WorkerAgent(options));
    }
    // One port for every runtime of the process: one sweep per interval, not one per agent.
    const sweepIntervalMs = Math.max(50, Math.floor(config.claimTtlMs / 2));
    const port = queuePort(queue, undefined, { meters, sweepGapMs: sweepIntervalMs });
    for (let i = 0; i < workers.length; i++) {
      const agent = workers[i]!;
      agentIds.push(agent.id);
      const transport = await transports.create(agent.id, i + 1);
      transports.connect(transport, coordinatorId, coordinator.endpoints);
      runtimes.push(
        new AgentRuntime({
          agent,
          transport,
          // Messages (calls for bids) and the sweep go through the runtime; claims through the loops below.
          taskManager: port,
          poolManager,
          discovery: discoveryPort(discovery, transports.endpoints(transport)),
          metadata: roleMetadata('worker', config.poolId),
          discoveryRefreshMs: DISCOVERY_REFRESH_MS,
          verifier,
          logger: logger.child({ agentId: agent.id.slice(0, 12), role: 'worker' }),
          metrics,
          ...stack.telemetry.runtimeOptions(agent, 'worker', stack.telemetry.env()),
          sweepIntervalMs,
        }),
      );
    }
    for (const w of workers) await poolManager.joinPool(w.id, config.poolId);
    for (const rt of runtimes) await rt.start();
    for (const agent of workers) {
      loops.push(
        runClaimLoop(queue, agent, {
          poolId: config.poolId,
          maxClaims: CLAIMS_PER_CALL,
          waitMs: CLAIM_WAIT_MS,
          signal: claiming.signal,
          stats,
          logger,
          meters,
        }),
      );
    }
    phase = 'running';
    process.stderr.write(`converge: worker running ${workers.length} agent(s) for coordinator ${coordinatorId}\n`);

    // Until the coordinator's done record (from a coordinator this process knows), a signal or the deadline.
    let wake: (() => void) | undefined;
    const unwatchDone = store.watch?.(doneKey(config.poolId), () => wake?.()) ?? (() => {});
    let stoppedBy: WorkerSummary['stopped_by'] = 'timeout';
    let lastDiscovery = Date.now();
    let lastProgress = Date.now();
    for (;;) {
      if (io.signal?.aborted) {
        stoppedBy = 'signal';
        break;
      }
      const done = await store.get<DoneRecord>(doneKey(config.poolId));
      if (done && coordinators.has(done.coordinatorId)) {
        stoppedBy = 'coordinator';
        break;
      }
      if (Date.now() - t0 > config.timeoutMs) break;
      const now = Date.now();
      if (now - lastDiscovery >= 2 * DISCOVERY_POLL_MS) {
        // A restarted coordinator has a new identity: learn its key too.
        lastDiscovery = now;
        learn(await discoverRole(stack.discoveryStore, config.poolId, 'coordinator').catch(() => []));
      }
      if (now - lastProgress >= 1_000) {
        lastProgress = now;
        io.stderr.write(`progress: ${stats.completed} tasks completed by this worker\n`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, DONE_POLL_MS);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
        io.signal?.addEventListener('abort', wake, { once: true });
      });
      if (wake) io.signal?.removeEventListener('abort', wake);
    }
    unwatchDone();
    phase = 'stopping';
    claiming.abort();
    await Promise.allSettled(loops);
    await Promise.allSettled(runtimes.map((r) => r.stop()));
    return summary(
      stoppedBy,
      coordinatorId,
      runtimes.reduce((n, r) => n + r.rejectedMessages, 0),
      stats.completed,
    );
  } finally {
    claiming.abort();
    await Promise.allSettled(loops);
    await Promise.allSettled(runtimes.map((r) => r.stop()));
    await server?.close();
    await stack.close();
  }

  function summary(stoppedBy: WorkerSummary['stopped_by'], coordinatorId: string, rejected: number, completed = 0): WorkerSummary {
    const durationMs = Date.now() - t0;
    return {
      role: 'worker',
      agents: config.agents,
      agent_ids: agentIds,
      completed,
      claims: stats.claims,
      conflicts: stats.conflicts,
      coordinator: coordinatorId,
      duration_ms: durationMs,
      tasks_per_s: Number((completed / Math.max(0.001, durationMs / 1000)).toFixed(1)),
      rejected_messages: rejected,
      transport: config.transport.startsWith('nats://') ? 'nats' : config.transport,
      store: stack.storeLabel,
      stopped_by: stoppedBy,
    };
  }
}
