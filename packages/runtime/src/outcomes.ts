import {
  EMPTY_DECIDE_CONTEXT,
  errorOutcome,
  okOutcome,
  statusOfError,
  type DecideContext,
  type Decision,
  type Outcome,
  type OutcomeStatus,
  requireInt,
} from '@converge/core';
import type { Logger } from '@converge/core';
import type { ExecutionResult } from './executor.js';

/** Default most outcomes held for one agent between two turns (oldest dropped first, counted). */
export const DEFAULT_MAX_OUTCOMES = 1_024;

/**
 * The outcome status of one execution result: `ok`; `refused` and `conflict` as the executor
 * classed them; an error is `timeout` for a `TimeoutError`, `refused` for a `PolicyError`,
 * `conflict` for a `ConflictError`, `failed` otherwise; an unknown or skipped decision is `failed`.
 */
export function statusOfResult(result: ExecutionResult): OutcomeStatus {
  if (result.ok) return 'ok';
  switch (result.outcome) {
    case 'refused':
    case 'conflict':
      return result.outcome;
    case 'error':
      return statusOfError(result.error);
    default:
      return 'failed';
  }
}

/** The outcome of one execution result. */
export function outcomeOf(result: ExecutionResult): Outcome {
  return result.ok
    ? okOutcome(result.decision, result.value)
    : errorOutcome(result.decision, result.error, statusOfResult(result) as Exclude<OutcomeStatus, 'ok'>);
}

/**
 * One outcome per decision, in order. An executor that threw (`failure`) or returned fewer
 * results than decisions still yields an outcome for each decision: `failed`, with the reason.
 */
export function outcomesOf(decisions: readonly Decision[], results: readonly ExecutionResult[], failure?: unknown): Outcome[] {
  const out = new Array<Outcome>(decisions.length);
  for (let i = 0; i < decisions.length; i++) {
    const r = results[i];
    out[i] = r !== undefined ? outcomeOf(r) : errorOutcome(decisions[i]!, failure ?? new Error('the executor returned no result for this decision'), 'failed');
  }
  return out;
}

/**
 * The outcomes waiting for an agent's next turn, bounded: past `max`, the oldest are dropped
 * and counted (`onDrop`, and `droppedOutcomes` of the next context).
 */
export class OutcomeBuffer {
  /** The bound in force. */
  readonly max: number;
  readonly #onDrop: (n: number) => void;
  #outcomes: Outcome[] = [];
  #dropped = 0;
  #droppedTotal = 0;

  /** @throws ConfigError unless `max` is a positive integer. */
  constructor(max: number = DEFAULT_MAX_OUTCOMES, onDrop: (n: number) => void = () => {}) {
    requireInt(max, 'maxOutcomes');
    this.max = max;
    this.#onDrop = onDrop;
  }

  /** Outcomes waiting now. */
  get size(): number {
    return this.#outcomes.length;
  }

  /** Outcomes dropped by the bound since the buffer was made. */
  get dropped(): number {
    return this.#droppedTotal;
  }

  /** Adds outcomes (in order); drops the oldest past the bound. */
  push(outcomes: readonly Outcome[]): void {
    if (outcomes.length === 0) return;
    for (const o of outcomes) this.#outcomes.push(o);
    const over = this.#outcomes.length - this.max;
    if (over > 0) {
      this.#outcomes.splice(0, over);
      this.#dropped += over;
      this.#droppedTotal += over;
      this.#onDrop(over);
    }
  }

  /** Hands every waiting outcome over (as a `DecideContext`) and empties the buffer. */
  take(): DecideContext {
    if (this.#outcomes.length === 0 && this.#dropped === 0) return EMPTY_DECIDE_CONTEXT;
    const context: DecideContext = { outcomes: this.#outcomes, droppedOutcomes: this.#dropped };
    this.#outcomes = [];
    this.#dropped = 0;
    return context;
  }

  /** Forgets every waiting outcome (not counted as dropped: the runtime stopped). */
  clear(): void {
    this.#outcomes = [];
    this.#dropped = 0;
  }
}

/** Logs each outcome at debug (nothing is built when debug is off: this runs for every decision). */
export function logOutcomes(logger: Logger | undefined, agentId: string, outcomes: readonly Outcome[]): void {
  if (!logger?.isLevelEnabled?.('debug')) return;
  for (const o of outcomes) logger.debug({ agentId, decisionType: o.decision?.type, status: o.status, err: o.error }, 'decision outcome');
}
