/**
 * `@converge/cli`: the `converge` command, and its pieces for programmatic use.
 * @packageDocumentation
 */
export { main } from './main.js';
export { runWorkload, type RunIO } from './run.js';
export { resolveConfig, readConfigFile, readEnv, readFlags, helpText, RunConfigSchema, type RunConfig } from './config.js';
export { RUN_OPTIONS, envName, type OptionSpec, type OptionKind } from './options.js';
export { summaryTable, workerSummaryTable, percentile, type RunSummary, type WorkerSummary } from './summary.js';
export { runCoordinator } from './distributed/coordinator-role.js';
export { runWorker } from './distributed/worker-role.js';
export { doneKey, type DoneRecord } from './distributed/shared.js';
export { storeNamespace, engineNames, EngineUnavailableError } from './stack.js';
export { WorkerAgent, expectedSum, reservationOf, AUCTION_NAMESPACE, type WorkerAgentOptions, type SumInputs } from './workload/agents.js';
export { CoordinatorAgent, type CoordinatorOptions, type AssignmentMode } from './workload/coordinator.js';
export { runScenario, type ScenarioSummary } from './scenarios/run-scenario.js';
export { ScenarioRegistry, builtinScenarios } from './scenarios/registry.js';
export { SCENARIO_NAMES, type ScenarioName } from './scenarios/names.js';
export { ScenarioWorld, type AgentRow, type ScenarioTotals, type AddAgentOptions, type WorldAgent } from './scenarios/world.js';
export type { Scenario, ScenarioResult, ScenarioRunOptions } from './scenarios/types.js';
export { scenarioTable } from './scenarios/report.js';
export { cliLogger } from './logging.js';
export { logTaskStates, type TaskStateSource } from './task-log.js';
export {
  engineBench,
  engineTable,
  queueClaimReport,
  cyclesPerSecond,
  QUEUE_WORKERS,
  type BenchQueue,
  type EngineFigure,
  type EngineBenchOptions,
} from './engine-bench.js';
export { rawSkipLocked, rawLuaCas } from './engine-raw.js';
export { dropNamespace } from './distributed/drop-namespace.js';
export { benchCommand, BENCH_DEFAULT_SECONDS, BENCH_DEFAULT_TASKS } from './bench-command.js';
export {
  openTaskQueue,
  queuePort,
  runClaimLoop,
  queueNames,
  type OpenedQueue,
  type ClaimLoopStats,
  type ClaimLoopOptions,
  type QueuePortOptions,
} from './distributed/queue.js';
