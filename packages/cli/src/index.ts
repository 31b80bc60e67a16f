/**
 * `@converge/cli`: the `converge` command, and its pieces for programmatic use.
 * @packageDocumentation
 */
export { main } from './main.js';
export { runWorkload, type RunIO } from './run.js';
export { resolveConfig, readConfigFile, readEnv, readFlags, helpText, RunConfigSchema, type RunConfig } from './config.js';
export { RUN_OPTIONS, envName, type OptionSpec, type OptionKind } from './options.js';
export { summaryTable, percentile, type RunSummary } from './summary.js';
export { WorkerAgent, expectedSum, reservationOf, AUCTION_NAMESPACE, type WorkerAgentOptions, type SumInputs } from './workload/agents.js';
export { CoordinatorAgent, type CoordinatorOptions, type AssignmentMode } from './workload/coordinator.js';
