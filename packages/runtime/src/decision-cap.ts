// What one loop turn may consume and produce: the batch of messages handed to `decide`
// (consumed only once `decide` returned, so a failed turn loses no message) and the number of
// decisions executed (capped, the excess refused and counted).
import { positiveIntOption, type Decision, type Message } from '@converge/core';
import type { Logger } from '@converge/core';
import type { Inbox } from './inbox.js';

/** Defaults of the per-turn bounds (also in docs/LIMITS.md). */
export const TURN_DEFAULTS = {
  /**
   * Most decisions of one `decide` call executed; the rest are refused and counted. Above the
   * CLI coordinator's largest turn (500 tasks, auctions calling every worker for bids: 1,050
   * decisions with 12 workers), far below a runaway `decide` (200k decisions held the loop 2.4 s).
   */
  maxDecisionsPerTurn: 10_000,
  /** Failed `decide` calls with the same oldest message before its batch is given up (counted). */
  maxDecideAttempts: 3,
  /** Longest a `decide` that asked to be retried later (`retryAfterMs`) is put off, ms. */
  maxDeferMs: 60_000,
} as const;

/** Options of `TurnGuard`. */
export interface TurnGuardOptions {
  inbox: Inbox;
  agentId: string;
  /** Default `TURN_DEFAULTS.maxDecisionsPerTurn` (10,000). */
  maxDecisionsPerTurn?: number;
  /** Default `TURN_DEFAULTS.maxDecideAttempts` (3). */
  maxDecideAttempts?: number;
  /** Counts a metric of the runtime (`RuntimeTelemetry.count`). */
  count: (name: string, labels: Record<string, string>, value?: number) => void;
  logger?: Logger;
}

/**
 * The delay a `decide` error asks for (`retryAfterMs`, as `LLMRateLimitError` and
 * `LLMBudgetError` carry): such an error means "not now", not "this input is bad".
 */
export function retryAfterOf(err: unknown): number | undefined {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, TURN_DEFAULTS.maxDeferMs) : undefined;
}

/**
 * Bounds one loop turn. `take` takes the batch (the inbox holds it); `succeeded` commits it
 * once `decide` returned; `failed` leaves it held for the next turn. After a failure the oldest
 * message is decided alone, so one message that makes `decide` throw is isolated from the
 * others; after `maxDecideAttempts` consecutive failures with the same oldest message the
 * failing batch is dropped, logged and counted (`converge_inbox_dropped_total{reason="decide_failed"}`),
 * never silently and never retried forever. An error carrying `retryAfterMs` is not an
 * attempt: the batch waits that long (at most `maxDeferMs`).
 */
export class TurnGuard {
  /** See `TurnGuardOptions.maxDecisionsPerTurn`. */
  readonly maxDecisionsPerTurn: number;
  /** See `TurnGuardOptions.maxDecideAttempts`. */
  readonly maxDecideAttempts: number;
  readonly #o: TurnGuardOptions;
  #failedHead: Message | undefined;
  #attempts = 0;
  #overCap = 0;

  /** @throws ConfigError on a limit that is not a positive integer. */
  constructor(options: TurnGuardOptions) {
    this.#o = options;
    this.maxDecisionsPerTurn = positiveIntOption(options.maxDecisionsPerTurn, TURN_DEFAULTS.maxDecisionsPerTurn, 'maxDecisionsPerTurn');
    this.maxDecideAttempts = positiveIntOption(options.maxDecideAttempts, TURN_DEFAULTS.maxDecideAttempts, 'maxDecideAttempts');
  }

  /** Decisions refused so far for being over `maxDecisionsPerTurn`. */
  get refusedOverCap(): number {
    return this.#overCap;
  }

  /** The turn's batch, held by the inbox until committed: up to `batchSize` messages, the oldest alone after a failure. */
  take(batchSize: number): Message[] {
    const batch = this.#o.inbox.take(this.#failedHead !== undefined ? 1 : batchSize);
    if (batch[0] !== this.#failedHead) this.#reset();
    return batch;
  }

  /** `decide` returned: the batch is consumed. */
  succeeded(messages: readonly Message[]): void {
    this.#o.inbox.commit(messages);
    this.#reset();
  }

  /**
   * `decide` threw on `messages`. Returns the delay the error asked for (`retryAfterMs`, when
   * `canDefer`), or `undefined` for the runtime's growing error backoff.
   */
  failed(messages: readonly Message[], err: unknown, canDefer = true): number | undefined {
    // While the runtime drains at stop nothing waits: a deferral counts as an attempt there.
    const defer = canDefer ? retryAfterOf(err) : undefined;
    if (defer !== undefined || messages.length === 0) return defer;
    if (this.#failedHead !== messages[0]) {
      this.#failedHead = messages[0];
      this.#attempts = 0;
    }
    if (++this.#attempts >= this.maxDecideAttempts) {
      const n = this.#o.inbox.commit(messages, 'decide_failed');
      this.#o.logger?.warn({ agentId: this.#o.agentId, messages: n, attempts: this.#attempts, err }, 'messages dropped: decide failed on them every attempt');
      this.#reset();
    }
    return undefined;
  }

  /** The decisions to execute: the first `maxDecisionsPerTurn`; the rest are refused, logged and counted. */
  cap(decisions: Decision[]): Decision[] {
    const max = this.maxDecisionsPerTurn;
    if (decisions.length <= max) return decisions;
    const over = decisions.length - max;
    this.#overCap += over;
    this.#o.count('converge_runtime_decisions_refused_total', { reason: 'turn_cap' }, over);
    this.#o.logger?.warn({ agentId: this.#o.agentId, decisions: decisions.length, max, refused: over }, 'decisions over the per-turn cap refused');
    return decisions.slice(0, max);
  }

  #reset(): void {
    this.#failedHead = undefined;
    this.#attempts = 0;
  }
}
