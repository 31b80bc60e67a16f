import { throwIfAborted, type Agent, type Decision, type Message } from '@converge/core';
import type { DecisionEntry, ReplayLog } from './replay-log.js';
import { dataEqual } from './tagged-json.js';

/** One recorded decision batch that the agent did not reproduce. */
export interface ReplayMismatch {
  /** 0-based index of the decide call among those replayed. */
  step: number;
  /** `seq` of the decision entry in the log. */
  seq: number;
  /** The recorded decisions. */
  expected: Decision[];
  /** What the agent decided now (empty when it could not be run). */
  actual: Decision[];
  /** Why the step could not be replayed (missing input, `decide` threw), if so. */
  error?: string;
}

/** What `replay` found. */
export interface ReplayReport {
  /** Decide calls replayed. */
  steps: number;
  mismatches: ReplayMismatch[];
}

/** Options of `replay`. */
export interface ReplayOptions {
  /** Replay only the decisions recorded for this agent id (default: every decision entry). */
  agentId?: string;
  /** Stops between steps. */
  signal?: AbortSignal;
  /**
   * Called before each replayed `decide` with its entry, e.g. to set the agent's clock to the
   * entry's `at` (the time the agent saw when it was recorded).
   */
  beforeStep?: (entry: DecisionEntry) => void;
}

/**
 * Feeds each recorded `decide` call's input messages (and tasks and outcomes, if recorded) to
 * `agent.decide`, in order, and compares the result with the recorded decisions
 * (structurally: key order ignored, `Float64`/`bigint`/bytes/`Map` kept distinct). A step whose
 * inputs were evicted from the log, or whose `decide` throws, is reported as a mismatch with
 * `error`. The agent is not started and nothing is executed or sent.
 */
export async function replay(log: ReplayLog, agent: Pick<Agent, 'decide'>, options: ReplayOptions = {}): Promise<ReplayReport> {
  const entries = log.entries();
  const messages = new Map<string, Message>();
  const mismatches: ReplayMismatch[] = [];
  let steps = 0;
  for (const entry of entries) {
    throwIfAborted(options.signal);
    if (entry.kind === 'message') {
      messages.set(entry.message.id, entry.message);
      continue;
    }
    if (options.agentId !== undefined && entry.agentId !== options.agentId) continue;
    const step = steps++;
    const missing = entry.inputs.filter((id) => !messages.has(id));
    if (missing.length > 0) {
      mismatches.push({ step, seq: entry.seq, expected: entry.decisions, actual: [], error: `input messages not in the log: ${missing.join(', ')}` });
      continue;
    }
    let actual: Decision[];
    try {
      const outcomes = entry.outcomes ?? [];
      options.beforeStep?.(entry);
      actual = await agent.decide(
        entry.inputs.map((id) => messages.get(id)!),
        entry.tasks ?? [],
        { outcomes, droppedOutcomes: 0 },
      );
    } catch (err) {
      mismatches.push({ step, seq: entry.seq, expected: entry.decisions, actual: [], error: `decide threw: ${(err as Error)?.message ?? String(err)}` });
      continue;
    }
    if (!dataEqual(entry.decisions, actual)) mismatches.push({ step, seq: entry.seq, expected: entry.decisions, actual });
  }
  return { steps, mismatches };
}
