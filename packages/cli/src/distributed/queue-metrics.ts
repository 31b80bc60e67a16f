// Task metrics of the split roles on a task queue (the native queues have no TaskManager whose
// counters the runtime exports): what the coordinator submitted and still waits for, and what
// each worker claimed, reported, failed or had refused, with the task latency. Through core's
// Metrics contract, so /metrics of `--metrics-port` shows them.
import { noopMetrics, registerMetrics, type MetricHandles, type Metrics, type QueuedTask } from '@converge/core';
import { TASK_LATENCY_BUCKETS } from '@converge/coordination';

/** How a worker's attempt at a claimed task ended. */
export type QueueReportOutcome = 'completed' | 'failed' | 'refused' | 'error';

/** The metrics of `QueueMetrics`, every one labelled by `pool`. */
const QUEUE_METRICS = {
  depth: {
    kind: 'gauge',
    name: 'converge_queue_depth',
    help: 'Tasks the coordinator submitted to the task queue and has not yet seen terminal',
    labelNames: ['pool'],
  },
  submits: { kind: 'counter', name: 'converge_queue_submits_total', help: 'Tasks submitted to the task queue by this process', labelNames: ['pool'] },
  claims: {
    kind: 'counter',
    name: 'converge_queue_claims_total',
    help: "Tasks claimed from the task queue by this process's claim loops",
    labelNames: ['pool'],
  },
  reports: {
    kind: 'counter',
    name: 'converge_queue_reports_total',
    help: 'Claimed tasks ended by this process: completed, failed, refused (stale lease) or error',
    labelNames: ['pool', 'outcome'],
  },
  latency: {
    kind: 'histogram',
    name: 'converge_queue_task_latency_seconds',
    help: 'Time from submit to the completing report (the queue record stamps), seconds',
    labelNames: ['pool'],
    buckets: TASK_LATENCY_BUCKETS,
  },
} as const;

/**
 * The queue metrics of one process, all labelled by `pool`:
 * - `converge_queue_depth` (gauge): tasks the coordinator submitted and has not yet seen terminal
 * - `converge_queue_submits_total` (counter): tasks submitted by this process
 * - `converge_queue_claims_total` (counter): tasks claimed by this process's claim loops
 * - `converge_queue_reports_total{outcome}` (counter): attempts ended by report (`completed`),
 *   fail (`failed`), a refused report (`refused`: the lease was no longer current) or an error
 * - `converge_queue_task_latency_seconds` (histogram): submit → the completing report, from the
 *   queue's own stamps of the completed record
 */
export class QueueMetrics {
  readonly #pool: { pool: string };
  readonly #m: MetricHandles<typeof QUEUE_METRICS>;

  constructor(metrics: Metrics = noopMetrics, poolId = '') {
    this.#pool = { pool: poolId };
    this.#m = registerMetrics(metrics, QUEUE_METRICS);
  }

  /** The coordinator's outstanding tasks now. */
  depth(n: number): void {
    this.#m.depth.set(this.#pool, n);
  }

  /** One task submitted. */
  submitted(): void {
    this.#m.submits.inc(this.#pool);
  }

  /** `n` tasks claimed. */
  claimed(n: number): void {
    if (n > 0) this.#m.claims.inc(this.#pool, n);
  }

  /** One attempt ended; a completed record also feeds the latency histogram. */
  ended(outcome: QueueReportOutcome, record?: QueuedTask): void {
    this.#m.reports.inc({ ...this.#pool, outcome });
    if (outcome === 'completed' && record) this.#m.latency.observe(this.#pool, Math.max(0, record.updatedAt - record.submittedAt) / 1000);
  }
}
