import type { RunConfig } from '../config.js';
import type { RunIO } from '../run.js';
import { buildSummary, type RunSummary, type TaskOutcome } from '../summary.js';
import { cliLogger } from '../logging.js';
import { runHealthChecks, serveRunEndpoints, type RunPhase } from '../probes.js';
import { closeLogger } from '@converge/observability';
import { builtinScenarios, type ScenarioRegistry } from './registry.js';
import { ScenarioWorld, type AgentRow, type ScenarioTotals } from './world.js';
import { judgeWork } from './work.js';
import type { ScenarioResult } from './types.js';
import { startUi, type RunUi } from '../ui/index.js';

/** The summary of `converge run --scenario NAME`: the run summary's keys, and what happened. */
export interface ScenarioSummary extends RunSummary {
  /** The scenario run. */
  scenario: string;
  /** Per agent: tasks done, auctions won, clearing prices, trust, rejections, outcomes. */
  per_agent: AgentRow[];
  /** Retries, lease expiries, dead letters, rejections by reason, conflicts, outcomes by status. */
  totals: ScenarioTotals;
  /** What is particular to the scenario (auctions by type, agreements, decisions, revocations…). */
  details: Record<string, unknown>;
  /** The scenario's own expectations, by name. */
  checks: Record<string, boolean>;
  /** Whether every check held (the exit code is 0 only then). */
  checks_passed: boolean;
}

/**
 * How long a scenario waits for its work: `--timeout-ms`, but at most a minute plus 50 ms a
 * task (a scenario whose checks cannot hold should say so, not wait ten minutes).
 */
export function scenarioTimeoutMs(config: Pick<RunConfig, 'timeoutMs' | 'tasks'>): number {
  return Math.min(config.timeoutMs, 60_000 + config.tasks * 50);
}

/**
 * Runs the scenario `config.scenario` in a world of its own and returns its summary. The
 * registry is an argument (default: the built-in scenarios) so embedders can add their own.
 */
export async function runScenario(
  config: RunConfig & { scenario: string },
  io: RunIO,
  registry: ScenarioRegistry = builtinScenarios(),
): Promise<ScenarioSummary> {
  const scenario = registry.get(config.scenario);
  const logger = cliLogger(config, io.tty ?? io.stderr.isTTY === true);
  // `--ui`: the page's server, started first so every agent's transport is tapped.
  const ui: RunUi | undefined =
    config.ui !== undefined
      ? await startUi({ port: config.ui, poolId: config.poolId, transport: config.transport, total: () => config.tasks, stderr: io.stderr, logger })
      : undefined;
  let world: ScenarioWorld;
  try {
    world = await ScenarioWorld.open(config, logger, (t) => judgeWork(t), ui?.tap);
  } catch (err) {
    await ui?.close();
    throw err;
  }
  const t0 = Date.now();
  let phase: RunPhase = 'starting';
  // `--metrics-port`: the world's metrics and the probes, for the scenario's duration.
  let endpoints: { close(): Promise<void> } | undefined;
  try {
    if (config.metricsPort !== undefined)
      endpoints = await serveRunEndpoints(
        config.metricsPort,
        world.metrics,
        runHealthChecks(world.runtimes, world.store, () => phase),
      );
    phase = 'running';
    if (ui) watchWorld(ui, world);
    const result = await scenario.run(world, {
      tasks: config.tasks,
      agents: config.agents,
      poolId: config.poolId,
      claimTtlMs: config.claimTtlMs,
      timeoutMs: scenarioTimeoutMs(config),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    const durationMs = Date.now() - t0;
    // Interrupted means during the work: with --ui a signal after it is the normal end, and the
    // run stays up until then (or --ui-linger seconds).
    const interrupted = io.signal?.aborted === true;
    if (ui && !interrupted) await ui.linger(io.signal, config.uiLinger);
    await world.trustFeed.flush();
    return scenarioSummary(config, scenario.name, world, result, durationMs, interrupted);
  } finally {
    phase = 'stopping';
    await endpoints?.close();
    await ui?.close();
    await world.close();
    await closeLogger(logger).catch(() => {});
  }
}

/** A scenario run's summary: the workload summary of its outcomes, with the scenario's rows, details and checks. */
function scenarioSummary(
  config: RunConfig,
  name: string,
  world: ScenarioWorld,
  result: ScenarioResult,
  durationMs: number,
  interrupted: boolean,
): ScenarioSummary {
  const totals = world.totals();
  const outcomes: TaskOutcome[] = [];
  for (let i = 0; i < world.completed.size - result.wrong; i++) outcomes.push('completed');
  for (let i = 0; i < result.wrong; i++) outcomes.push('wrong');
  for (let i = 0; i < world.deadLettered.size; i++) outcomes.push('failed');
  const base = buildSummary({
    planned: result.tasks,
    outcomes,
    latencies: result.latencies,
    durationMs,
    messagesReceived: world.messagesReceived,
    rejectedMessages: world.rejectedMessages,
    auctioned: result.auctioned ?? 0,
    agents: world.agents.filter((a) => a.row.role !== 'coordinator').length,
    transport: config.transport,
    store: config.store === 'memory' ? 'memory' : config.store.split(':')[0]!,
    interrupted,
    role: 'all',
  });
  const checks = { ...result.checks, lost_none: base.lost === 0, completed_once: totals.completed_twice === 0, wrong_none: result.wrong === 0 };
  return { ...base, scenario: name, per_agent: world.rows(), totals, details: result.details, checks, checks_passed: Object.values(checks).every(Boolean) };
}

/** Shows `world` on the `--ui` page: its tasks, live agents (a crashed agent shows as gone), pools and rejections. */
function watchWorld(ui: RunUi, world: ScenarioWorld): void {
  ui.watch({
    taskManager: world.taskManager,
    agents: () =>
      Promise.resolve(
        world.agents.filter((a) => a.runtime.isHealthy()).map((a) => ({ id: a.agent.id, publicKey: a.agent.identity.publicKey, capabilities: [] })),
      ),
    pools: () => world.poolManager.listPools(),
    roleOf: (id) => world.agent(id)?.row.role ?? 'agent',
    rejected: () => world.rejectedMessages,
  });
}
