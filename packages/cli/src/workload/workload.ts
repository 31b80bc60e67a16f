// The workload of `converge run`, one object for the single process (`runWorkload`) and the
// coordinator role (`runCoordinator`): the pool it runs in, what a restart finds there, the
// coordinator that submits it through the window, the judging of every finished task, and the
// summary. Where the finished tasks come from (a TaskManager's events, a queue's watch and
// reads) is the driver's business.
import { NotFoundError, type Pool, type Task } from '@converge/core';
import { buildSummary, type RunSummary, type TaskOutcome } from '../summary.js';
import { expectedSum, type SumInputs } from './agents.js';
import { CoordinatorAgent, type CoordinatorOptions } from './coordinator.js';
import { planTasks, taskId } from './plan.js';

/** What `Workload.preparePool` needs of a pool manager. */
export interface WorkloadPools {
  getPool(poolId: string): Promise<Pool>;
  createPool(pool: { id: string }): Promise<unknown>;
}

/** One page of tasks, as `TaskManager.listTasks` and `TaskQueue.list` return them. */
export interface WorkloadTaskPage {
  tasks: readonly Task[];
  cursor: string | null;
}

/** What the summary needs beyond the workload's own counts. */
export interface WorkloadRunFacts {
  durationMs: number;
  interrupted: boolean;
  messagesReceived: number;
  rejectedMessages: number;
  agents: number;
  transport: string;
  store: string;
  role: 'all' | 'coordinator';
}

/** Options of `new Workload`. */
export interface WorkloadOptions {
  poolId: string;
  /** Tasks planned (`undefined`: unbounded, until the run stops submitting). */
  total: number | undefined;
  /** Lease length written into every task. */
  claimTtlMs: number;
  /** Called once for each task of this run (not found by a restart) that reached a terminal state: a credit of the window. */
  onCredit?: () => void;
}

/** The planned tasks of one run, their outcomes and the run's summary. */
export class Workload {
  readonly poolId: string;
  readonly total: number | undefined;
  /** Workload tasks the pool already held when the run started (a restart resumes). */
  readonly existing = new Set<string>();
  readonly #claimTtlMs: number;
  readonly #outcomes = new Map<string, TaskOutcome>();
  readonly #latencies: number[] = [];
  readonly #onCredit: () => void;
  readonly #idPrefix: string;
  #settled = 0;
  #coordinator: CoordinatorAgent | undefined;

  constructor(options: WorkloadOptions) {
    this.poolId = options.poolId;
    this.total = options.total;
    this.#claimTtlMs = options.claimTtlMs;
    this.#onCredit = options.onCredit ?? (() => {});
    this.#idPrefix = taskId(options.poolId, 0).slice(0, -1);
  }

  /** The run's pool, created when it does not exist yet. */
  static async preparePool(pools: WorkloadPools, poolId: string): Promise<void> {
    try {
      await pools.getPool(poolId);
    } catch (err) {
      if (!NotFoundError.is(err)) throw err;
      await pools.createPool({ id: poolId });
    }
  }

  /** Whether `id` names one of this workload's planned tasks. */
  owns(id: string): boolean {
    if (!id.startsWith(this.#idPrefix)) return false;
    const i = Number(id.slice(this.#idPrefix.length));
    return Number.isSafeInteger(i) && i >= 0 && (this.total === undefined || i < this.total) && taskId(this.poolId, i) === id;
  }

  /** Reads what the pool already holds, page by page (`page(cursor)`), and judges the finished tasks. */
  async resume(page: (cursor: string | undefined) => Promise<WorkloadTaskPage>): Promise<void> {
    for (let cursor: string | null | undefined; cursor !== null;) {
      const p = await page(cursor ?? undefined);
      for (const t of p.tasks) {
        if (!this.owns(t.id)) continue;
        this.existing.add(t.id);
        this.judge(t, null);
      }
      cursor = p.cursor;
    }
  }

  /**
   * Judges a task seen in a terminal state (its result checked against the expected sum) and
   * returns whether it is newly known; `observedAt` (ms) adds its submit-to-finish latency. A
   * task of this run (not one a restart found) returns a credit of the window.
   */
  judge(t: Task, observedAt: number | null): boolean {
    if (this.#outcomes.has(t.id) || !this.owns(t.id)) return false;
    const inputs = t.inputs as unknown as SumInputs;
    if (t.state === 'completed') {
      this.#outcomes.set(t.id, t.result === expectedSum(inputs) ? 'completed' : 'wrong');
      if (observedAt !== null) this.#latencies.push(observedAt - inputs.submittedAt);
    } else if (t.state === 'failed' || t.state === 'cancelled') this.#outcomes.set(t.id, 'failed');
    else return false;
    if (!this.existing.has(t.id)) {
      this.#settled++;
      this.#onCredit();
    }
    return true;
  }

  /** Whether a task's outcome is known. */
  judged(id: string): boolean {
    return this.#outcomes.has(id);
  }

  /** Tasks whose outcome is known. */
  get finished(): number {
    return this.#outcomes.size;
  }

  /** Tasks completed with the right result. */
  get completed(): number {
    let n = 0;
    for (const v of this.#outcomes.values()) if (v === 'completed') n++;
    return n;
  }

  /**
   * The coordinator agent submitting this workload: its plan (skipping what a restart found,
   * until `stopped()`) and its window's credits are the workload's.
   */
  coordinator(options: Omit<CoordinatorOptions, 'poolId' | 'plan' | 'settled'> & { stopped: () => boolean; now?: () => number }): CoordinatorAgent {
    const { stopped, now = Date.now, ...rest } = options;
    const plan = planTasks({ poolId: this.poolId, claimTtlMs: this.#claimTtlMs, total: this.total, existing: this.existing, now, stopped });
    this.#coordinator = new CoordinatorAgent({ ...rest, poolId: this.poolId, plan, settled: () => this.#settled });
    return this.#coordinator;
  }

  /** Tasks submitted by this run plus those a restart found. */
  get accounted(): number {
    return (this.#coordinator?.submitted ?? 0) + this.existing.size;
  }

  /** Whether everything submitted (and found) has finished and nothing more will be submitted. */
  get drained(): boolean {
    const c = this.#coordinator;
    // With a total, the plan is spent once total tasks are accounted for (the coordinator learns
    // it only on its next turn).
    const spent = c !== undefined && (c.exhausted || (this.total !== undefined && this.accounted >= this.total));
    return spent && c.openAuctions === 0 && this.finished >= this.accounted;
  }

  /** The run's summary. */
  summary(facts: WorkloadRunFacts): RunSummary {
    const { durationMs, interrupted, messagesReceived, rejectedMessages, agents, transport, store, role } = facts;
    const planned = interrupted || this.total === undefined ? this.accounted : this.total;
    return buildSummary({
      planned,
      outcomes: this.#outcomes.values(),
      latencies: this.#latencies,
      durationMs,
      messagesReceived,
      rejectedMessages,
      auctioned: this.#coordinator?.auctioned ?? 0,
      agents,
      transport,
      store,
      interrupted,
      role,
    });
  }
}
