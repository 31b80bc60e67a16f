import type { Store } from '@converge/core';
import { HealthChecks, serveMetrics, type MetricsCollector, type MetricsServer } from '@converge/observability';
import type { AgentRuntime } from '@converge/runtime';

/** Where a run is: probes answer differently while it starts, runs and stops. */
export type RunPhase = 'starting' | 'running' | 'stopping';

/** Store key the readiness check reads (any answer, even "absent", proves the store answers). */
export const PROBE_KEY = 'converge:probe';

/**
 * The checks of a `converge run` process:
 * - health `agents`: every runtime healthy once running (starting and stopping pass: a process
 *   that is coming up or draining is alive, and a liveness probe must not kill it for that);
 * - readiness `agents`: running and every runtime ready; readiness `store`: the store answers.
 */
export function runHealthChecks(runtimes: readonly AgentRuntime[], store: Store, phase: () => RunPhase): HealthChecks {
  const health = new HealthChecks();
  health.addHealthCheck('agents', () => {
    const p = phase();
    if (p !== 'running') return { ok: true, detail: p };
    const sick = runtimes.filter((r) => !r.isHealthy()).length;
    return sick === 0 ? { ok: true, detail: `${runtimes.length} healthy` } : { ok: false, detail: `${sick} of ${runtimes.length} not healthy` };
  });
  health.addReadyCheck('agents', () => {
    const p = phase();
    if (p !== 'running') return { ok: false, detail: p };
    const busy = runtimes.filter((r) => !r.isReady()).length;
    return busy === 0 ? { ok: true, detail: `${runtimes.length} ready` } : { ok: false, detail: `${busy} of ${runtimes.length} not ready` };
  });
  health.addReadyCheck('store', async () => {
    await store.get(PROBE_KEY);
    return true;
  });
  return health;
}

/** Serves `/metrics`, `/healthz` and `/readyz` on `port` (`--metrics-port`). */
export function serveRunEndpoints(port: number, collector: MetricsCollector, health: HealthChecks): Promise<MetricsServer> {
  return serveMetrics({ port, collector, health });
}
