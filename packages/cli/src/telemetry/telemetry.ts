import type { Agent } from '@converge/core';
import { MetricsCollector, type Logger } from '@converge/observability';
import type { AgentRuntimeOptions } from '@converge/runtime';
import { resolve } from 'node:path';
import type { RunConfig } from '../config.js';
import { cliLogger } from '../logging.js';
import { startOtlp, type OtlpTracing } from './otlp.js';
import { RunRecorder, type RecordSetup, type TurnEnv } from './record.js';

/** The runtime options telemetry adds to each agent's runtime. */
export type TelemetryRuntimeOptions = Pick<AgentRuntimeOptions, 'tracer' | 'propagateTraceContext' | 'replayLog'>;

/**
 * Everything a `converge run` process reports through: its logger, its metrics (one registry
 * every component registers in, served by `--metrics-port`), span export (`--otlp`) and the
 * replay recording (`--record`).
 */
export interface RunTelemetry {
  readonly logger: Logger;
  readonly metrics: MetricsCollector;
  /** The span exporter of `--otlp`, if on. */
  readonly otlp: OtlpTracing | undefined;
  /** The recorder of `--record`, if on. */
  readonly recorder: RunRecorder | undefined;
  /**
   * A clock and random source for one agent: with `--record`, a `TurnEnv` (the time frozen per
   * turn, a seeded sequence) that a replay rebuilds; otherwise `Date.now` and `Math.random`.
   */
  env(): AgentEnv;
  /**
   * A condition the coordinator reads in its turns (`ready`, `stop`): `flag()` as it is, except
   * with `--record`, where it turns true from the turn after the one that first saw `flag()`,
   * and the moment is recorded, so that a replay sees it at the same step.
   */
  gate(env: AgentEnv, which: 'ready' | 'stop', flag: () => boolean): () => boolean;
  /** The options to spread into `agent`'s `AgentRuntime`; with `--record`, registers the agent and its `env`. */
  runtimeOptions(agent: Agent, role: 'coordinator' | 'worker', env: AgentEnv): TelemetryRuntimeOptions;
  /** Flushes spans, closes the record file and writes its sidecar (`setup`, with `--record`). */
  close(setup?: RecordSetupInput): Promise<void>;
}

/** What a run tells the recorder about its setup (the rest it knows itself). */
export type RecordSetupInput = Omit<RecordSetup, 'version' | 'agents' | 'readyAt' | 'stopAt'>;

/** The setup of a run, for the `--record` sidecar. */
export function recordSetupOf(config: RunConfig, total: number | undefined, existing: ReadonlySet<string>, workers: readonly string[]): RecordSetupInput {
  return {
    poolId: config.poolId,
    assignment: config.assignment,
    claimTtlMs: config.claimTtlMs,
    existing: [...existing],
    workers: [...workers],
    ...(total === undefined ? {} : { total }),
    ...(config.agent ? { agentModule: resolve(config.agent) } : {}),
  };
}

/** What an agent reads of time and chance. */
export type AgentEnv = Pick<TurnEnv, 'now' | 'random'>;

const LIVE_ENV: AgentEnv = { now: Date.now, random: Math.random };

/** Opens the telemetry of a run from its configuration (`serviceName` names the process in traces). */
export function openTelemetry(config: RunConfig, serviceName = 'converge', tty = process.stderr.isTTY === true): RunTelemetry {
  const logger = cliLogger(config, tty);
  const metrics = new MetricsCollector();
  const otlp = config.otlp ? startOtlp(config.otlp, serviceName) : undefined;
  let recorder: RunRecorder | undefined;
  try {
    recorder = config.record ? new RunRecorder(config.record, metrics) : undefined;
  } catch (err) {
    void otlp?.close();
    throw err;
  }
  return {
    logger,
    metrics,
    otlp,
    recorder,
    env: () => (recorder ? recorder.newEnv() : LIVE_ENV),
    gate: (env, which, flag) => {
      if (!recorder) return flag;
      let at: number | null = null;
      return () => {
        if (at === null && flag()) at = which === 'ready' ? recorder.markReady() : recorder.markStop();
        return at !== null && env.now() >= at;
      };
    },
    runtimeOptions: (agent, role, env) => {
      if (recorder) recorder.track(agent, role, env as TurnEnv);
      return {
        ...(otlp ? { tracer: otlp.tracing.withSpan.bind(otlp.tracing), propagateTraceContext: otlp.tracing } : {}),
        ...(recorder ? { replayLog: recorder.port(agent) } : {}),
      };
    },
    close: async (setup) => {
      if (recorder && setup) recorder.close(setup);
      else recorder?.log.close();
      await otlp?.close();
    },
  };
}
