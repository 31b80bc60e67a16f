import { noopMetrics, registerMetrics, type MetricHandles, type Metrics } from '@converge/core';

/** The outcome of one MCP tool call, as counted. */
export type McpCallOutcome =
  | 'ok'
  | 'tool_error'
  | 'failed'
  | 'timeout'
  | 'refused_changed'
  | 'refused_unpinned'
  | 'refused_removed'
  | 'refused_invalid'
  | 'refused_input'
  | 'refused_too_large';

/** Why a listed definition (or a listing, or a message) was refused, as counted. */
export type McpDefinitionRefusal = 'changed' | 'unpinned' | 'invalid' | 'list_too_large' | 'message_too_large';

/** A toolset's counters: calls by outcome, refused definitions by reason, listings done. */
export interface McpToolsetStats {
  calls: Record<McpCallOutcome, number>;
  definitionsRefused: Record<McpDefinitionRefusal, number>;
  listings: number;
}

const OUTCOMES: readonly McpCallOutcome[] = [
  'ok',
  'tool_error',
  'failed',
  'timeout',
  'refused_changed',
  'refused_unpinned',
  'refused_removed',
  'refused_invalid',
  'refused_input',
  'refused_too_large',
];
const REFUSALS: readonly McpDefinitionRefusal[] = ['changed', 'unpinned', 'invalid', 'list_too_large', 'message_too_large'];

/** The metrics of a toolset, registered by `ToolsetCounters`. */
const TOOLSET_METRICS = {
  calls: { kind: 'counter', name: 'converge_mcp_tool_calls_total', help: 'MCP tool calls, by server and outcome', labelNames: ['server', 'outcome'] },
  refused: {
    kind: 'counter',
    name: 'converge_mcp_definitions_refused_total',
    help: 'MCP tool definitions (or listings) refused, by server and reason',
    labelNames: ['server', 'reason'],
  },
} as const;

/**
 * The counters of one toolset, mirrored to `converge_mcp_tool_calls_total{server,outcome}` and
 * `converge_mcp_definitions_refused_total{server,reason}` when `metrics` is given.
 */
export class ToolsetCounters {
  readonly #calls = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<McpCallOutcome, number>;
  readonly #refused = Object.fromEntries(REFUSALS.map((r) => [r, 0])) as Record<McpDefinitionRefusal, number>;
  #listings = 0;
  readonly #metrics: MetricHandles<typeof TOOLSET_METRICS>;

  /** @param server - the `server` label. */
  constructor(
    readonly server: string,
    metrics: Metrics = noopMetrics,
  ) {
    this.#metrics = registerMetrics(metrics, TOOLSET_METRICS);
  }

  /** Counts one call. */
  call(outcome: McpCallOutcome): void {
    this.#calls[outcome]++;
    this.#metrics.calls.inc({ server: this.server, outcome });
  }

  /** Counts one refused definition (or listing). */
  definitionRefused(reason: McpDefinitionRefusal): void {
    this.#refused[reason]++;
    this.#metrics.refused.inc({ server: this.server, reason });
  }

  /** Counts one complete listing. */
  listing(): void {
    this.#listings++;
  }

  /** A copy of the counters. */
  snapshot(): McpToolsetStats {
    return { calls: { ...this.#calls }, definitionsRefused: { ...this.#refused }, listings: this.#listings };
  }
}
