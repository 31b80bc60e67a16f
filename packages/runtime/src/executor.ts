import type { Decision, Identity } from '@converge/core';
import type { TaskLease } from '@converge/core';

/** What an executor knows about the agent it acts for. */
export interface ExecutionContext {
  /** The acting agent's id (fingerprint). */
  agentId: string;
  /** The acting agent's identity; messages are signed with it. */
  identity: Identity;
  /**
   * What the acting agent can do (its capability names): a `ClaimTask` is checked against the
   * task's required capabilities with these (none when omitted).
   */
  capabilities?: readonly string[];
  /** Leases the agent holds, by task id; claims add to it, reports and failures remove. */
  leases: Map<string, TaskLease>;
  /** Aborted when the runtime stops; long-running handlers should give up. */
  signal?: AbortSignal;
}

/** The outcome of one decision. */
export type ExecutionResult =
  | { decision: Decision; ok: true; value?: unknown }
  | { decision: Decision; ok: false; outcome: 'refused' | 'conflict' | 'error' | 'unknown' | 'skipped'; error: Error };

/** Carries out decisions. `StandardExecutor` is the full implementation. */
export interface Executor {
  execute(decisions: readonly Decision[], context: ExecutionContext): Promise<ExecutionResult[]>;
}

/** A handler for one decision type (custom types are registered with `executor.register`). */
export type DecisionHandler<D extends Decision = Decision> = (decision: D, context: ExecutionContext) => unknown;
