import { noopMetrics, registerMetrics, type MetricCounter, type MetricHandles, type Metrics, type Outcome } from '@converge/core';

/** Bucket bounds of `converge_runtime_turn_duration_seconds` (1 ms to 10 s). */
export const TURN_DURATION_BUCKETS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** The metrics of `RuntimeMeters`. */
const RUNTIME_METRICS = {
  depth: { kind: 'gauge', name: 'converge_inbox_depth', help: 'Messages queued in agent inboxes (sum over the runtimes of this process)' },
  turn: {
    kind: 'histogram',
    name: 'converge_runtime_turn_duration_seconds',
    help: 'Duration of one agent turn (onTick, decide, execute), seconds',
    buckets: TURN_DURATION_BUCKETS,
  },
  outcomes: { kind: 'counter', name: 'converge_runtime_outcomes_total', help: 'Decision outcomes handed to agents, by status', labelNames: ['status'] },
} as const;

/**
 * The runtime's own gauges and histograms (its counters go through `RuntimeTelemetry.count`):
 * - `converge_inbox_depth` (gauge): messages queued in the inboxes of this process's runtimes
 *   sharing the `Metrics` (each runtime adds its own depth, so the series is their sum)
 * - `converge_runtime_turn_duration_seconds` (histogram): one agent turn (onTick, decide, execute)
 * - `converge_runtime_outcomes_total{status}` (counter): decision outcomes handed to agents, by status
 */
export class RuntimeMeters {
  readonly #m: MetricHandles<typeof RUNTIME_METRICS>;
  #lastDepth = 0;

  constructor(metrics: Metrics = noopMetrics) {
    this.#m = registerMetrics(metrics, RUNTIME_METRICS);
  }

  /** Reports this runtime's inbox depth now (the gauge moves by the change since the last report). */
  depth(n: number): void {
    const delta = n - this.#lastDepth;
    if (delta === 0) return;
    this.#lastDepth = n;
    if (delta > 0) this.#m.depth.inc(undefined, delta);
    else this.#m.depth.dec(undefined, -delta);
  }

  /** Records one turn that took `ms` milliseconds. */
  turn(ms: number): void {
    this.#m.turn.observe(undefined, Math.max(0, ms) / 1000);
  }

  /** Counts the outcomes of one turn by status. */
  outcomes(list: readonly Outcome[]): void {
    for (const o of list) this.#m.outcomes.inc({ status: o.status });
  }
}

/**
 * Adds to `counter` what `stats` gained since the counter was last brought up to date (so
 * runtimes sharing one task manager and one collector export the same values, not their sum).
 * Needs a counter that can read a series back (`MetricsCollector`'s `get`); a no-op otherwise.
 */
export function exportCounters(stats: Readonly<Record<string, unknown>>, counter: MetricCounter): void {
  const readable = counter as MetricCounter & { get?(labels: { event: string }): number };
  if (typeof readable.get !== 'function') return;
  for (const [event, value] of Object.entries(stats)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const delta = value - readable.get({ event });
    if (delta > 0) counter.inc({ event }, delta);
  }
}
