/**
 * `@converge/runtime`: the event-driven agent runtime, its bounded inbox, the scheduler that
 * wakes it, and the executors that carry out decisions.
 * @packageDocumentation
 */
export { AgentRuntime, RUNTIME_DEFAULTS, type AgentRuntimeOptions } from './runtime.js';
export { Inbox, DEFAULT_INBOX_SIZE, type InboxOptions, type InboxDropReason, type QueueByteBudget } from './inbox.js';
export { Scheduler } from './scheduler.js';
export {
  StandardExecutor,
  DEFAULT_TOOL_TIMEOUT_MS,
  EXECUTE_YIELD_EVERY,
  isLostRace,
  type StandardExecutorOptions,
  type ExecutorLimits,
} from './standard-executor.js';
export type { Executor, ExecutionContext, ExecutionResult, DecisionHandler } from './executor.js';
export { OutcomeBuffer, DEFAULT_MAX_OUTCOMES, outcomeOf, outcomesOf, statusOfResult, logOutcomes } from './outcomes.js';
export { runtimeHealth, type RuntimeHealthOptions, type RuntimeProbe } from './runtime-health.js';
export { LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
export { TurnGuard, TURN_DEFAULTS, retryAfterOf, type TurnGuardOptions } from './decision-cap.js';
export { RUNTIME_METRICS_HELP, RUNTIME_COUNTER_LABELS } from './telemetry.js';
export { carriesTraceContext } from './turn-tracing.js';
export { RuntimeMeters, TURN_DURATION_BUCKETS } from './runtime-metrics.js';
export type {
  DiscoveryPort,
  VerifierPort,
  VerdictPort,
  ReplayPort,
  SpanRunner,
  SpanHandle,
  TraceContextPort,
  Checkpointable,
  RuntimeHooksOptions,
} from './service-ports.js';
export { questionOutcome, watchPoolQuestions } from './pool-outcomes.js';
export type {
  TaskFailedEvent,
  TaskManagerPort,
  PoolManagerPort,
  PoolQuestionView,
  NegotiationPort,
  BiddingPort,
  BallotsPort,
  DelegationPort,
} from './ports.js';
export { UnknownDecisionError, NotConfiguredError, SkippedDecisionError, EndpointNotAllowedError } from './errors.js';
export { EndpointGuard } from './endpoint-guard.js';
