import { noopMetrics, registerMetrics, type MetricHandles, type Metrics, type TaskState } from '@converge/core';
import type { TaskRecord } from './records.js';

/** Bucket bounds of the task latency histograms, seconds (1 ms to 5 min). */
export const TASK_LATENCY_BUCKETS: readonly number[] = Object.freeze([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);

/** The metrics of `TaskMeters`. */
const TASK_METRICS = {
  tasks: { kind: 'gauge', name: 'converge_tasks', help: "Tasks by state (net of this manager's transitions)", labelNames: ['state'] },
  claim: { kind: 'histogram', name: 'converge_task_claim_latency_seconds', help: 'Time from submit to a won claim, seconds', buckets: TASK_LATENCY_BUCKETS },
  run: {
    kind: 'histogram',
    name: 'converge_task_run_latency_seconds',
    help: 'Time from claim to the completing report, seconds',
    buckets: TASK_LATENCY_BUCKETS,
  },
  retries: { kind: 'counter', name: 'converge_task_retries_total', help: 'Claimed tasks sent back to pending (failed attempt or expired lease)' },
  dead: { kind: 'counter', name: 'converge_task_dead_letters_total', help: 'Tasks dead-lettered (out of retries)' },
} as const;

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
  readonly #m: MetricHandles<typeof TASK_METRICS>;

  constructor(metrics: Metrics = noopMetrics) {
    this.#m = registerMetrics(metrics, TASK_METRICS);
  }

  /** Accounts one transition this manager won: `from` (`null` for a submit) to `rec.state`, at `now` (Unix ms). */
  moved(from: TaskState | null, rec: TaskRecord, now: number): void {
    const to = rec.state;
    if (from === to) return;
    if (from !== null) this.#m.tasks.dec({ state: from });
    this.#m.tasks.inc({ state: to });
    if (to === 'assigned') this.#m.claim.observe(undefined, Math.max(0, now - rec.submittedAt) / 1000);
    else if (to === 'completed' && rec.claimedAt !== null) this.#m.run.observe(undefined, Math.max(0, now - rec.claimedAt) / 1000);
    else if (to === 'pending' && (from === 'assigned' || from === 'running')) this.#m.retries.inc();
    else if (to === 'failed' && rec.deadLettered) this.#m.dead.inc();
  }
}
