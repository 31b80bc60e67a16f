import type { Logger, MetricCounter, Metrics } from '@converge/core';

/** What `RuntimeTelemetry` reports to. */
export interface RuntimeTelemetryOptions {
  /** Where errors are logged. */
  logger?: Logger;
  /** Where the runtime's counters go (none without it). */
  metrics?: Metrics;
}

/**
 * The runtime's error and counter accounting: every error of a stage is logged once and
 * counted once (`converge_runtime_errors_total{stage}` and `errors`), every counter of the
 * runtime is registered up front (so a scrape, and docs/METRICS.md, lists them all).
 */
export class RuntimeTelemetry {
  readonly #agentId: string;
  readonly #o: RuntimeTelemetryOptions;
  readonly #counters = new Map<string, MetricCounter>();
  readonly #errors = new Map<string, number>();

  /** @param agentId - the agent named in log lines. */
  constructor(agentId: string, options: RuntimeTelemetryOptions) {
    this.#agentId = agentId;
    this.#o = options;
    if (options.metrics) for (const [name, labels] of Object.entries(RUNTIME_COUNTER_LABELS)) this.counter(name, [...labels]);
  }

  /** Errors so far by stage (decide, execute, receive, …). */
  get errors(): ReadonlyMap<string, number> {
    return this.#errors;
  }

  /** Logs and counts an error of one stage; the loop goes on. */
  error(stage: string, err: unknown): void {
    this.#errors.set(stage, (this.#errors.get(stage) ?? 0) + 1);
    this.count('converge_runtime_errors_total', { stage });
    this.#o.logger?.error({ agentId: this.#agentId, stage, err }, `runtime ${stage} failed`);
  }

  /** Increments a counter of the runtime's (no-op without a metrics collector). */
  count(name: string, labels: Record<string, string>, value = 1): void {
    this.counter(name, Object.keys(labels))?.inc(labels, value);
  }

  /** The counter `name` (created on first use with its help text), or `undefined` without metrics. */
  counter(name: string, labelNames: string[]): MetricCounter | undefined {
    const metrics = this.#o.metrics;
    if (!metrics) return undefined;
    let c = this.#counters.get(name);
    if (!c) {
      c = metrics.counter({ name, help: RUNTIME_METRICS_HELP[name] ?? name, labelNames });
      this.#counters.set(name, c);
    }
    return c;
  }
}

/** Label names of the runtime's counters (registered up front when the runtime has `metrics`). */
export const RUNTIME_COUNTER_LABELS: Readonly<Record<string, readonly string[]>> = {
  converge_runtime_errors_total: ['stage'],
  converge_runtime_messages_received_total: [],
  converge_runtime_messages_rejected_total: ['reason'],
  converge_inbox_dropped_total: ['reason'],
  converge_runtime_decisions_refused_total: ['reason'],
  converge_runtime_lease_events_total: ['event'],
  converge_runtime_claims_returned_total: [],
  converge_runtime_outcomes_dropped_total: [],
  converge_taskmanager_events_total: ['event'],
};

/** Help texts of the runtime's metrics (see the package README). */
export const RUNTIME_METRICS_HELP: Readonly<Record<string, string>> = {
  converge_runtime_errors_total: 'Errors in the agent runtime loop, by stage; the loop goes on',
  converge_runtime_messages_received_total: 'Messages accepted into agent inboxes',
  converge_runtime_messages_rejected_total:
    'Incoming messages the runtime itself refused (addressed to another agent), by reason; the verifier counts its own refusals (converge_messages_rejected_total)',
  converge_inbox_dropped_total: 'Messages an inbox dropped, by reason (drop-oldest, drop-newest, too-large, stopped, decide_failed)',
  converge_runtime_decisions_refused_total: 'Decisions the runtime refused before execution, by reason (turn_cap)',
  converge_runtime_lease_events_total: 'Task lease heartbeats, by event (renewed, lost)',
  converge_runtime_claims_returned_total: 'Claims handed back to pending by a stopping runtime',
  converge_runtime_outcomes_dropped_total: 'Decision outcomes dropped because more were waiting for an agent than maxOutcomes (oldest first)',
  converge_taskmanager_events_total: 'Counters of the TaskManager the runtime drives (TaskManager.stats()), by event',
};
