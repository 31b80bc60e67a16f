import type { Agent, DecisionPolicy, Store } from '@converge/core';
import type { Transport } from '@converge/core';
import type { Logger, Metrics } from '@converge/core';
import type { Inbox, QueueByteBudget } from './inbox.js';
import type { Scheduler } from './scheduler.js';
import type { ExecutorLimits, StandardExecutorOptions } from './standard-executor.js';
import type { Executor } from './executor.js';
import type { PoolManagerPort, TaskManagerPort } from './ports.js';
import type { RuntimeHooksOptions } from './service-ports.js';
import type { RuntimeHealthOptions } from './runtime-health.js';

/** Options of `AgentRuntime`. Only `agent` is required. */
export interface AgentRuntimeOptions extends RuntimeHooksOptions, RuntimeHealthOptions {
  agent: Agent;
  /** Where messages come from and go to. Stopped by `stop()` unless `ownsTransport` is false. */
  transport?: Transport;
  /** Whether `stop()` stops the transport (default true). */
  ownsTransport?: boolean;
  /** Default: `new Inbox({ limits })` (10,000 messages, `reject`, bytes accounted when `limits` has a byte budget). */
  inbox?: Inbox;
  scheduler?: Scheduler;
  /** Defaults to a `StandardExecutor` on the given transport, managers, `policy`, `limits` and `executorOptions`. */
  executor?: Executor;
  poolManager?: PoolManagerPort;
  taskManager?: TaskManagerPort;
  /** The safety policy of the default executor (e.g. an `ActionPolicy`); ignored with `executor`. */
  policy?: DecisionPolicy;
  /**
   * Resource limits (a `ResourceLimits` from `@converge/policy`): the default executor's tool
   * slots and message rate, and the default inbox's byte budget (`reserveQueueBytes`).
   */
  limits?: ExecutorLimits & Partial<QueueByteBudget>;
  /** More options of the default executor (tools, allowlist, protocols…); ignored with `executor`. */
  executorOptions?: Omit<StandardExecutorOptions, 'transport' | 'taskManager' | 'poolManager' | 'policy' | 'limits'>;
  logger?: Logger;
  metrics?: Metrics;
  /** Most messages handed to one `decide` call (default 256). */
  batchSize?: number;
  /** Most pending tasks handed to one `decide` call (default 64). */
  taskBatchSize?: number;
  /**
   * Longest the loop sleeps with nothing signalled (default 1,000 ms). Not a poll interval:
   * work wakes the loop at once. The idle tick refreshes pool membership (changes made by
   * others) and catches work no event announced (tasks submitted by another process).
   */
  tickIntervalMs?: number;
  /** How often expired claims of any agent are returned to pending (default 1,000 ms; 0 = never). */
  sweepIntervalMs?: number;
  /** Longest `stop()` waits for the turn in progress and the inbox drain (default 10,000 ms). */
  stopTimeoutMs?: number;
  /** Store of checkpoints (agents that implement `snapshot()`/`restore()`). */
  checkpointStore?: Store;
  /** Checkpoint period, ms (default 30,000 when a checkpoint store is given; 0 = only at stop). */
  checkpointIntervalMs?: number;
  /** Discovery registration refresh period, ms (default 20,000: a third of discovery's 60 s TTL). */
  discoveryRefreshMs?: number;
  /** How often `TaskManager.stats()` is exported as metrics, ms (default 5,000; 0 = only by `collectMetrics()`). */
  metricsIntervalMs?: number;
  /** A turn running longer than this makes `isHealthy()` false (default 30,000 ms). */
  stuckTurnMs?: number;
  /**
   * Most decisions of one `decide` call that are executed (default 10,000); the rest are
   * refused, logged and counted (`converge_runtime_decisions_refused_total{reason="turn_cap"}`).
   */
  maxDecisionsPerTurn?: number;
  /**
   * Failed `decide` calls with the same oldest message before that batch is dropped (default 3;
   * counted `converge_inbox_dropped_total{reason="decide_failed"}`). A failed turn consumes no
   * message: the batch stays queued, its oldest message is retried alone.
   */
  maxDecideAttempts?: number;
  /**
   * Most decision outcomes held for the agent's next turn (default 1,024); past it the oldest
   * are dropped, counted (`converge_runtime_outcomes_dropped_total`) and reported to the agent
   * as `context.droppedOutcomes`.
   */
  maxOutcomes?: number;
}

/** Runtime defaults (also in docs/LIMITS.md). */
export const RUNTIME_DEFAULTS = {
  batchSize: 256,
  taskBatchSize: 64,
  tickIntervalMs: 1_000,
  sweepIntervalMs: 1_000,
  stopTimeoutMs: 10_000,
  checkpointIntervalMs: 30_000,
  discoveryRefreshMs: 20_000,
  metricsIntervalMs: 5_000,
  stuckTurnMs: 30_000,
  maxOutcomes: 1_024,
  /** First delay before the turn after a failed `decide` (doubles per consecutive failure). */
  errorRetryMs: 10,
  /** Largest delay between turns after consecutive `decide` failures. */
  maxErrorRetryMs: 1_000,
} as const;
