import { noopMetrics, type MetricCounter, type MetricGauge, type MetricHistogram, type Metrics, type TaskState } from '@converge/core';
import type { TaskRecord } from './records.js';

/** Bucket bounds of the task latency histograms, seconds (1 ms to 5 min). */
export const TASK_LATENCY_BUCKETS: readonly number[] = Object.freeze([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);

/**
 * The metrics a `TaskManager` registers when given `metrics` (no-ops otherwise), from the
 * transitions this manager makes:
 * - `converge_tasks{state}` (gauge): the net of this manager's transitions into and out of
 *   each state. In one process that owns the queue it is the number of tasks in each state; when
 *   several processes share a store, each one's series are its share and their sum is the queue's.
 * - `converge_task_claim_latency_seconds` (histogram): submit → each won claim
 * - `converge_task_run_latency_seconds` (histogram): claim → completing report
 * - `converge_task_retries_total` (counter): claimed tasks sent back to pending (failed attempt or expired lease)
 * - `converge_task_dead_letters_total` (counter): tasks out of retries
 */
export class TaskMeters {
  readonly #tasks: MetricGauge;
  readonly #claim: MetricHistogram;
  readonly #run: MetricHistogram;
  readonly #retries: MetricCounter;
  readonly #dead: MetricCounter;

  constructor(metrics: Metrics = noopMetrics) {
    this.#tasks = metrics.gauge({ name: 'converge_tasks', help: "Tasks by state (net of this manager's transitions)", labelNames: ['state'] });
    this.#claim = metrics.histogram({
      name: 'converge_task_claim_latency_seconds',
      help: 'Time from submit to a won claim, seconds',
      buckets: TASK_LATENCY_BUCKETS,
    });
    this.#run = metrics.histogram({
      name: 'converge_task_run_latency_seconds',
      help: 'Time from claim to the completing report, seconds',
      buckets: TASK_LATENCY_BUCKETS,
    });
    this.#retries = metrics.counter({ name: 'converge_task_retries_total', help: 'Claimed tasks sent back to pending (failed attempt or expired lease)' });
    this.#dead = metrics.counter({ name: 'converge_task_dead_letters_total', help: 'Tasks dead-lettered (out of retries)' });
  }

  /** Accounts one transition this manager won: `from` (`null` for a submit) to `rec.state`, at `now` (Unix ms). */
  moved(from: TaskState | null, rec: TaskRecord, now: number): void {
    const to = rec.state;
    if (from === to) return;
    if (from !== null) this.#tasks.dec({ state: from });
    this.#tasks.inc({ state: to });
    if (to === 'assigned') this.#claim.observe(undefined, Math.max(0, now - rec.submittedAt) / 1000);
    else if (to === 'completed' && rec.claimedAt !== null) this.#run.observe(undefined, Math.max(0, now - rec.claimedAt) / 1000);
    else if (to === 'pending' && (from === 'assigned' || from === 'running')) this.#retries.inc();
    else if (to === 'failed' && rec.deadLettered) this.#dead.inc();
  }
}
