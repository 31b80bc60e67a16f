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
