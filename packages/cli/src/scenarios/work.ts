// The work the scenarios hand out (sums and sorts of small integer lists), its expected
// results, and the worker most scenarios build on.
import { Agent, Decisions, type AgentOptions, type DecideContext, type Decision, type Message, type Task, type TaskInit, type WireValue } from '@converge/core';
import { reservationOf } from '../workload/agents.js';
import type { ScenarioResult, ScenarioRunOptions } from './types.js';
import type { ScenarioWorld } from './world.js';

/** The kinds of scenario work: the task's objective and the capability it needs. */
export type WorkKind = 'sum' | 'sort';

/** Inputs of a scenario task. */
export interface WorkInputs {
  numbers: number[];
  /** Unix ms it was submitted (for latency). */
  submittedAt: number;
  [key: string]: WireValue;
}

/** The body of scenario task `i` of `kind` (deterministic numbers). */
export function workTask(
  poolId: string,
  scenario: string,
  i: number,
  kind: WorkKind,
  claimTtlMs: number,
  extra: { inputs?: Record<string, WireValue>; constraints?: Record<string, WireValue> } = {},
): TaskInit & { id: string } {
  const numbers = Array.from({ length: 6 }, (_, k) => ((i * 7919 + k * 104729) % 200) - 100);
  return {
    id: `${poolId}:${scenario}:${i}`,
    objective: kind,
    inputs: { numbers, submittedAt: Date.now(), ...(extra.inputs ?? {}) },
    poolId,
    requiredCapabilities: [kind],
    constraints: { claimTtlMs, ...(extra.constraints ?? {}) },
  };
}

/** The kind of task `i` of a plan that alternates: sums at even indexes, sorts at odd ones. */
export function alternatingKind(i: number): WorkKind {
  return i % 2 === 0 ? 'sum' : 'sort';
}

/** The `o.tasks` tasks of `scenario`, alternating sums and sorts, leased for `o.claimTtlMs`. */
export function alternatingPlan(o: ScenarioRunOptions, scenario: string): (TaskInit & { id: string })[] {
  return Array.from({ length: o.tasks }, (_, i) => workTask(o.poolId, scenario, i, alternatingKind(i), o.claimTtlMs));
}

/** The right result of a scenario task. */
export function computeWork(task: Pick<Task, 'objective' | 'inputs'>): WireValue {
  const numbers = (task.inputs as unknown as WorkInputs).numbers ?? [];
  if (task.objective === 'sort') return [...numbers].sort((a, b) => a - b);
  return numbers.reduce((a, b) => a + b, 0);
}

/** Whether `task` completed with the right result (`undefined` for a task that is not scenario work). */
export function judgeWork(task: Pick<Task, 'objective' | 'inputs' | 'result'>): boolean | undefined {
  if (task.objective !== 'sum' && task.objective !== 'sort') return undefined;
  return JSON.stringify(task.result) === JSON.stringify(computeWork(task));
}

/**
 * A scenario's result: the tasks it meant to run, how many of the world's completed tasks have
 * a wrong result, the world's latencies, and the scenario's own `details` and `checks`.
 */
export function workResult(world: ScenarioWorld, o: ScenarioRunOptions, own: Omit<ScenarioResult, 'tasks' | 'wrong' | 'latencies'>): ScenarioResult {
  const wrong = [...world.completed.values()].filter((t) => judgeWork(t) === false).length;
  return { tasks: o.tasks, wrong, latencies: world.latencies, ...own };
}

/** The mean of `values` to two decimals (`null` for none). */
export function meanOf(values: readonly number[]): number | null {
  return values.length ? Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2)) : null;
}

/** Options of `ScenarioWorker`. */
export interface ScenarioWorkerOptions extends AgentOptions {
  /** Most tasks claimed per turn (default 4). */
  maxClaimsPerTurn?: number;
  /** Claims only tasks for which this says yes (default: every task on offer). */
  accepts?: (task: Task) => boolean;
}

/**
 * A worker that claims the tasks on offer (skipping those reserved for another agent),
 * computes them and reports, in one turn. Subclasses add what their scenario needs through
 * `react` (messages and outcomes) and can override `work`.
 */
export class ScenarioWorker extends Agent {
  readonly #max: number;
  readonly #accepts: (task: Task) => boolean;

  constructor(options: ScenarioWorkerOptions = {}) {
    super(options);
    this.#max = options.maxClaimsPerTurn ?? 4;
    this.#accepts = options.accepts ?? (() => true);
  }

  /** The result of `task` (default: the right one). */
  work(task: Task): WireValue {
    return computeWork(task);
  }

  /** Decisions from messages and outcomes (default none). */
  react(_messages: readonly Message[], _context: DecideContext | undefined): Decision[] {
    return [];
  }

  decide(messages: readonly Message[], tasks: readonly Task[], context?: DecideContext): Decision[] {
    const out = this.react(messages, context);
    const now = Date.now();
    let claimed = 0;
    const offset = tasks.length > 0 ? Math.floor(Math.random() * tasks.length) : 0;
    for (let k = 0; k < tasks.length && claimed < this.#max; k++) {
      const task = tasks[(offset + k) % tasks.length]!;
      const r = reservationOf(task);
      if (r && r.agentId !== this.id && r.until > now) continue;
      if (!this.#accepts(task)) continue;
      out.push(Decisions.claimTask(task.id), Decisions.reportTask(task.id, this.work(task)));
      claimed++;
    }
    return out;
  }
}

/** A coordinator that submits a plan of tasks, `perTurn` a turn (default 8). */
export class Submitter extends Agent {
  readonly #plan: (TaskInit & { id: string })[];
  readonly #perTurn: number;
  #next = 0;

  constructor(plan: (TaskInit & { id: string })[], perTurn = 8) {
    super();
    this.#plan = plan;
    this.#perTurn = perTurn;
  }

  /** Whether every task has been submitted. */
  get done(): boolean {
    return this.#next >= this.#plan.length;
  }

  decide(_messages: readonly Message[], _tasks: readonly Task[], _context?: DecideContext): Decision[] {
    const out: Decision[] = [];
    for (let k = 0; k < this.#perTurn && this.#next < this.#plan.length; k++) out.push(Decisions.submitTask(this.#plan[this.#next++]!));
    return out;
  }
}
