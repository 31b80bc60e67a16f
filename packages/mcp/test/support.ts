// Shared by the MCP tests: a scripted agent run by a real AgentRuntime + StandardExecutor.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, Identity, ToolRegistry, type DecideContext, type Decision, type Message, type Outcome, type Task } from '@converge/core';
import { ResourceLimits } from '@converge/policy';
import { AgentRuntime } from '@converge/runtime';
import type { McpStdioConfig } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (the stdio fixture runs from there, so `tsx` resolves). */
export const repoRoot = resolve(here, '../../..');

/** The stdio fixture server: node --import tsx test/fixtures/stdio-server.ts. */
export function stdioFixture(): McpStdioConfig {
  return { type: 'stdio', command: process.execPath, args: ['--import', 'tsx', resolve(here, 'fixtures/stdio-server.ts')], cwd: repoRoot, stderr: 'inherit' };
}

/** One turn of a scripted agent: the outcomes of the previous turn in, decisions out. */
export type Step = (outcomes: readonly Outcome[]) => Decision[];

/** Runs `steps` in order, one per turn that brings outcomes (the first turn needs none). */
export class ScriptedAgent extends Agent {
  /** Outcomes received, per turn that had any. */
  readonly turns: Outcome[][] = [];
  #next = 0;
  #waiting = false;

  constructor(readonly steps: readonly Step[]) {
    super({ identity: Identity.generate() });
  }

  /** Whether every step has run and its outcomes came back. */
  get done(): boolean {
    return this.#next >= this.steps.length && !this.#waiting;
  }

  decide(_m: readonly Message[], _t: readonly Task[], context: DecideContext): Decision[] {
    if (context.outcomes.length > 0) {
      this.turns.push([...context.outcomes]);
      this.#waiting = false;
    }
    if (this.#waiting || this.#next >= this.steps.length) return [];
    const decisions = this.steps[this.#next++]!(context.outcomes);
    this.#waiting = decisions.length > 0;
    return decisions;
  }
}

/**
 * Runs `agent` in an AgentRuntime whose StandardExecutor has `tools`, `allowlist`, a tool
 * timeout and a ResourceLimits (tool concurrency), until the script is done.
 */
export async function runAgent(
  agent: ScriptedAgent,
  tools: ToolRegistry,
  allowlist: readonly string[],
  options: { toolTimeoutMs?: number } = {},
): Promise<void> {
  const runtime = new AgentRuntime({
    agent,
    limits: new ResourceLimits({ maxConcurrentToolCalls: 2 }),
    executorOptions: { tools, toolAllowlist: allowlist, toolTimeoutMs: options.toolTimeoutMs ?? 10_000 },
    tickIntervalMs: 20,
  });
  await runtime.start();
  try {
    const guard = Date.now() + 30_000; // a hang guard, not a timing goal
    while (!agent.done && Date.now() < guard) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await runtime.stop();
  }
  if (!agent.done) throw new Error(`the agent did not finish its script (${agent.turns.length} turns with outcomes)`);
}

/** The outcome of the `InvokeTool` of `tool` in `outcomes`. */
export function outcomeOfTool(outcomes: readonly Outcome[], tool: string): Outcome {
  const o = outcomes.find((x) => (x.decision as { tool?: string }).tool === tool);
  if (!o) throw new Error(`no outcome for tool ${tool}`);
  return o;
}

/** Waits until `check()` holds (hang guard 10 s). */
export async function until(check: () => boolean, what: string): Promise<void> {
  const guard = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > guard) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
