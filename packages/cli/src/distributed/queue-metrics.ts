// Task metrics of the split roles on a task queue (the native queues have no TaskManager whose
// counters the runtime exports): what the coordinator submitted and still waits for, and what
// each worker claimed, reported, failed or had refused, with the task latency. Through core's
// Metrics contract, so /metrics of `--metrics-port` shows them.
import { noopMetrics, type MetricCounter, type MetricGauge, type MetricHistogram, type Metrics, type QueuedTask } from '@converge/core';
import { TASK_LATENCY_BUCKETS } from '@converge/coordination';

/** How a worker's attempt at a claimed task ended. */
export type QueueReportOutcome = 'completed' | 'failed' | 'refused' | 'error';

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
  readonly #depth: MetricGauge;
  readonly #submits: MetricCounter;
  readonly #claims: MetricCounter;
  readonly #reports: MetricCounter;
  readonly #latency: MetricHistogram;

  constructor(metrics: Metrics = noopMetrics, poolId = '') {
    this.#pool = { pool: poolId };
    this.#depth = metrics.gauge({
      name: 'converge_queue_depth',
      help: 'Tasks the coordinator submitted to the task queue and has not yet seen terminal',
      labelNames: ['pool'],
    });
    this.#submits = metrics.counter({ name: 'converge_queue_submits_total', help: 'Tasks submitted to the task queue by this process', labelNames: ['pool'] });
    this.#claims = metrics.counter({
      name: 'converge_queue_claims_total',
      help: "Tasks claimed from the task queue by this process's claim loops",
      labelNames: ['pool'],
    });
    this.#reports = metrics.counter({
      name: 'converge_queue_reports_total',
      help: 'Claimed tasks ended by this process: completed, failed, refused (stale lease) or error',
      labelNames: ['pool', 'outcome'],
    });
    this.#latency = metrics.histogram({
      name: 'converge_queue_task_latency_seconds',
      help: 'Time from submit to the completing report (the queue record stamps), seconds',
      labelNames: ['pool'],
      buckets: TASK_LATENCY_BUCKETS,
    });
  }

  /** The coordinator's outstanding tasks now. */
  depth(n: number): void {
    this.#depth.set(this.#pool, n);
  }

  /** One task submitted. */
  submitted(): void {
    this.#submits.inc(this.#pool);
  }

  /** `n` tasks claimed. */
  claimed(n: number): void {
    if (n > 0) this.#claims.inc(this.#pool, n);
  }

  /** One attempt ended; a completed record also feeds the latency histogram. */
  ended(outcome: QueueReportOutcome, record?: QueuedTask): void {
    this.#reports.inc({ ...this.#pool, outcome });
    if (outcome === 'completed' && record) this.#latency.observe(this.#pool, Math.max(0, record.updatedAt - record.submittedAt) / 1000);
  }
}
