import type { ScenarioWorld } from './world.js';

/** What a scenario is run with (from `converge run`'s settings). */
export interface ScenarioRunOptions {
  /** Tasks the scenario submits (`--tasks`). */
  tasks: number;
  /** Worker agents (`--agents`); a scenario may add agents with special parts. */
  agents: number;
  /** Pool the scenario's work goes to (`--pool-id`). */
  poolId: string;
  /** Lease length of the scenario's tasks (`--claim-ttl-ms`). */
  claimTtlMs: number;
  /** Longest the scenario waits for its work (`--timeout-ms`, capped by the scenario). */
  timeoutMs: number;
  /** Aborted on SIGINT/SIGTERM: the scenario stops waiting and reports what happened. */
  signal?: AbortSignal;
}

/** What a scenario reports beside the world's per-agent rows and totals. */
export interface ScenarioResult {
  /** Tasks the scenario meant to run. */
  tasks: number;
  /** Completed tasks whose result was wrong. */
  wrong: number;
  /** Submit-to-completion latencies, ms. */
  latencies: number[];
  /** Auctions handed out (the summary's `auctioned`). */
  auctioned?: number;
  /** Scenario-specific figures (auctions by type, agreements, decisions, revocations…). */
  details: Record<string, unknown>;
  /** The scenario's own expectations, each named, and whether it held. */
  checks: Record<string, boolean>;
}

/** One scenario of `converge run --scenario NAME`. */
export interface Scenario {
  /** Its `--scenario` name. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Adds its agents to `world`, starts them, drives the work and reports. */
  run(world: ScenarioWorld, options: ScenarioRunOptions): Promise<ScenarioResult>;
}
