/**
 * A remote A2A agent working in a Converge pool: a local agent (its own identity, the remote's
 * skills as its capabilities) that claims the pool's tasks it can do, delegates each to the
 * remote agent through its tool, and reports the outcome: all through decisions and outcomes,
 * so leases, fencing, retries and the runtime's policies apply as to any worker.
 */
import {
  Agent,
  Decisions,
  type AgentOptions,
  type CoreDecision,
  type DecideContext,
  type Decision,
  type Message,
  type Task,
  type Tool,
  type WireRecord,
  type WireValue,
} from '@converge/core';
import type { A2ARemoteAgent } from './client.js';

/** Default most tasks an `A2APeerAgent` holds at once (claimed and not yet reported): 16. */
export const DEFAULT_A2A_PEER_MAX_IN_FLIGHT = 16;
/** Key of the tool params that names the Converge task a delegation is for. */
export const PEER_TASK_PARAM = 'convergeTaskId';

/** Options of `A2APeerAgent`. */
export interface A2APeerAgentOptions extends Omit<AgentOptions, 'capabilities'> {
  /** The connected remote agent (see `connectA2AAgent`). */
  remote: A2ARemoteAgent;
  /** Name of its tool (default the remote's `tool()` name); register `peer.tool()` under it and allow it. */
  toolName?: string;
  /** Time one delegation may take, ms (the executor's tool timeout caps it). */
  timeoutMs?: number;
  /** Tasks held at once (default `DEFAULT_A2A_PEER_MAX_IN_FLIGHT`). */
  maxInFlight?: number;
}

/**
 * Claims the tasks on offer (the runtime offers those whose required capabilities are among
 * the remote's skills), then, once a claim is won, invokes the remote's tool with the task
 * (`text`: objective, `data`: inputs, `skill`: the first required capability); an `ok` outcome
 * is reported as the task's result, any other fails the task (retried by the queue's rules).
 */
export class A2APeerAgent extends Agent {
  /** The tool name this agent invokes. */
  readonly toolName: string;
  readonly #remote: A2ARemoteAgent;
  readonly #timeoutMs: number | undefined;
  readonly #max: number;
  readonly #tool: Tool;
  /** Tasks claimed (or being claimed) and not yet reported. */
  readonly #held = new Map<string, Task>();

  constructor(options: A2APeerAgentOptions) {
    super({ ...options, capabilities: options.remote.skills() });
    this.#remote = options.remote;
    this.#tool = options.toolName ? options.remote.tool(options.toolName) : options.remote.tool();
    this.toolName = this.#tool.name;
    this.#timeoutMs = options.timeoutMs;
    this.#max = options.maxInFlight ?? DEFAULT_A2A_PEER_MAX_IN_FLIGHT;
  }

  /** The tool to register in the runtime's `ToolRegistry` (and its `toolAllowlist`). */
  tool(): Tool {
    return this.#tool;
  }

  /** Tasks held now. */
  get inFlight(): number {
    return this.#held.size;
  }

  decide(_messages: readonly Message[], tasks: readonly Task[], context: DecideContext): Decision[] {
    const out: Decision[] = [];
    for (const o of context.outcomes) {
      const d = o.decision as CoreDecision;
      if (d.type === 'ClaimTask') {
        const task = this.#held.get(d.taskId);
        if (!task) continue;
        if (o.status !== 'ok') this.#held.delete(d.taskId);
        else out.push(Decisions.invokeTool(this.toolName, this.#paramsOf(task), this.#timeoutMs));
      } else if (d.type === 'InvokeTool' && d.tool === this.toolName) {
        const id = d.params[PEER_TASK_PARAM];
        if (typeof id !== 'string' || !this.#held.delete(id)) continue;
        if (o.status === 'ok') out.push(Decisions.reportTask(id, (o.result ?? null) as WireValue));
        else out.push(Decisions.failTask(id, `a2a ${o.status}: ${o.error?.message ?? 'no result'}`));
      }
    }
    for (const t of tasks) {
      if (this.#held.size >= this.#max) break;
      if (this.#held.has(t.id)) continue;
      this.#held.set(t.id, t);
      out.push(Decisions.claimTask(t.id));
    }
    return out;
  }

  #paramsOf(task: Task): WireRecord {
    const skills = this.#remote.skills();
    const skill = task.requiredCapabilities.find((c) => skills.includes(c));
    return { text: task.objective, data: task.inputs, ...(skill ? { skill } : {}), [PEER_TASK_PARAM]: task.id };
  }
}
